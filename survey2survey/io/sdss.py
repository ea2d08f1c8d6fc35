# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
SDSS imaging frames (``frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2``, DR8 and later).

A frame file holds, following the SDSS data model
(https://data.sdss.org/datamodel/files/BOSS_PHOTOOBJ/frames/RERUN/RUN/CAMCOL/frame.html):

- HDU0: the calibrated, sky-subtracted image in nanomaggies (2048 x 1489
  float32; ``BUNIT``, ``FILTER``, ``CAMCOL``, ``RUN``, a TAN WCS, ``NMGY`` the
  approximate nanomaggies per count);
- HDU1: the calibration vector, nanomaggies per count for each column
  (flat field times photometric calibration);
- HDU2: a one-row table with the sky in counts on a coarse grid (``ALLSKY``)
  and where each image column and row falls on that grid (``XINTERP``,
  ``YINTERP``), for bilinear interpolation;
- HDU3: the astrometric solution (``asTrans``).

`sdss_frame_counts` undoes the calibration and sky subtraction to rebuild
counts and the per-pixel noise as the data model prescribes;
`~survey2survey.io.read_cutout` does it with ``sdss_uncertainty=True``.
"""

from collections import namedtuple

import numpy as np
from astropy.io import fits
from scipy.ndimage import map_coordinates

from ..exceptions import BandMismatchError, CorruptFileError, InvalidDataError

__all__ = ["SDSS_FRAME_SHAPE", "sdss_ccd_noise", "sdss_frame_counts", "FrameCounts"]

#: Shape ``(ny, nx)`` of a full SDSS frame image.
SDSS_FRAME_SHAPE = (1489, 2048)

_BANDS = "ugriz"
# Gain (electrons per count) and dark variance (counts^2, dark current and read noise) of each
# camera column (rows 1-6) and band (columns u, g, r, i, z), from the SDSS frame data model.
# Two entries changed during the survey: the u gain of camcol 2 (1.595 before run 1100,
# 1.825 after) and five dark variances (before / from run 1500).
_GAIN = np.array([
    [1.62, 3.32, 4.71, 5.165, 4.745],
    [1.595, 3.855, 4.6, 6.565, 5.155],
    [1.59, 3.845, 4.72, 4.86, 4.885],
    [1.6, 3.995, 4.76, 4.885, 4.775],
    [1.47, 4.05, 4.725, 4.64, 3.48],
    [2.17, 4.035, 4.895, 4.76, 4.69],
])
_GAIN_FROM_RUN_1100 = {(2, "u"): 1.825}
_DARK_VARIANCE = np.array([
    [9.61, 15.6025, 1.8225, 7.84, 0.81],
    [12.6025, 1.44, 1.00, 5.76, 1.0],
    [8.7025, 1.3225, 1.3225, 4.6225, 1.0],
    [12.6025, 1.96, 1.3225, 6.25, 9.61],
    [9.3025, 1.1025, 0.81, 7.84, 1.8225],
    [7.0225, 1.8225, 0.9025, 5.0625, 1.21],
])
_DARK_VARIANCE_FROM_RUN_1500 = {(2, "i"): 6.25, (4, "i"): 7.5625, (4, "z"): 12.6025,
                                (5, "z"): 2.1025}

FrameCounts = namedtuple("FrameCounts", ["counts", "sky", "calibration", "sigma", "gain",
                                         "dark_variance"])
FrameCounts.__doc__ = """\
An SDSS frame taken back to counts (see `sdss_frame_counts`).

Attributes
----------
counts : ndarray
    ``dn = img / calib + sky``, in counts (sky included).
sky : ndarray
    The sky interpolated from HDU2, in counts.
calibration : ndarray
    Nanomaggies per count of every pixel (HDU1 repeated along the rows).
sigma : ndarray
    ``img_err = sqrt(dn / gain + darkVariance) * calib``: the 1-sigma noise of
    each pixel of HDU0, in nanomaggies.
gain, dark_variance : float
    The CCD's gain (electrons per count) and dark variance (counts^2)."""


def sdss_ccd_noise(band, camcol, run):
    """
    Gain (e-/count) and dark variance (counts^2) of one SDSS CCD, from the SDSS data model.

    Parameters
    ----------
    band : {'u', 'g', 'r', 'i', 'z'}
        The filter.
    camcol : int
        The camera column, 1 to 6.
    run : int
        The imaging run (the u gain of camcol 2 and some dark variances changed
        with the run number).

    Returns
    -------
    gain, dark_variance : float

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        For a band that is not an SDSS band.
    survey2survey.exceptions.InvalidDataError
        For a camcol outside 1-6 or a negative run.

    Examples
    --------
    >>> from survey2survey.io import sdss_ccd_noise
    >>> sdss_ccd_noise('r', 3, 4263)
    (4.72, 1.3225)
    >>> sdss_ccd_noise('u', 2, 1000)[0], sdss_ccd_noise('u', 2, 2000)[0]
    (1.595, 1.825)
    """
    if band not in _BANDS:
        msg = f"SDSS has no band {band!r}; its bands are {list(_BANDS)}"
        raise BandMismatchError(msg)
    if isinstance(camcol, bool) or not isinstance(camcol, (int, np.integer)) or \
            not 1 <= camcol <= 6:
        msg = f"an SDSS camcol is an integer from 1 to 6, got {camcol!r}"
        raise InvalidDataError(msg)
    if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or run < 0:
        msg = f"an SDSS run is a non-negative integer, got {run!r}"
        raise InvalidDataError(msg)
    camcol, run = int(camcol), int(run)
    column = _BANDS.index(band)
    gain = float(_GAIN[camcol - 1, column])
    if run >= 1100:
        gain = _GAIN_FROM_RUN_1100.get((camcol, band), gain)
    dark = float(_DARK_VARIANCE[camcol - 1, column])
    if run >= 1500:
        dark = _DARK_VARIANCE_FROM_RUN_1500.get((camcol, band), dark)
    return gain, dark


def _card(header, key, what, kind=int):
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        if kind is str and isinstance(value, str) and value.strip():
            return value.strip()
        msg = f"{what} has no valid {key} card (got {value!r}), which an SDSS frame carries"
        raise CorruptFileError(msg)
    return kind(value)


def sdss_frame_counts(frame, *, what="SDSS frame"):
    """
    Rebuild the counts and the per-pixel noise of an SDSS frame, as the SDSS data model says.

    Following the frame data model: the sky grid of HDU2 (``ALLSKY``) is
    interpolated bilinearly at (``YINTERP``, ``XINTERP``) (positions off the
    grid take the nearest edge value, as IDL's ``interpolate`` does), the
    calibration vector of HDU1 is repeated along the rows, then
    ``dn = img / calib + sky``, ``dn_err = sqrt(dn / gain + darkVariance)`` and
    ``img_err = dn_err * calib``, with ``gain`` and ``darkVariance`` for the
    frame's camcol, band and run (`sdss_ccd_noise`). Pixels whose counts come
    out negative (rare: the sky is ~100 counts) count as zero in the shot-noise
    term.

    Parameters
    ----------
    frame : `~astropy.io.fits.HDUList`
        An open frame file (HDU0 to HDU2 are used).
    what : str, optional
        Name used in error messages.

    Returns
    -------
    counts : `FrameCounts`

    Raises
    ------
    survey2survey.exceptions.CorruptFileError
        If the calibration vector or sky table is missing or does not match
        the image (a truncated or incomplete frame file).

    Examples
    --------
    >>> from astropy.io import fits
    >>> from survey2survey.datasets import sample_sdss_frames
    >>> from survey2survey.io import sdss_frame_counts
    >>> with fits.open(sample_sdss_frames()[1]) as frame:
    ...     counts = sdss_frame_counts(frame)
    >>> counts.counts.shape, counts.gain, counts.dark_variance
    ((200, 200), 4.72, 1.3225)
    """
    if len(frame) < 3:
        msg = (f"{what} has {len(frame)} HDU(s); an SDSS frame has the image, the calibration "
               f"vector (HDU1) and the sky (HDU2), then asTrans (HDU3): it is truncated or "
               f"incomplete")
        raise CorruptFileError(msg)
    header = frame[0].header
    image = np.asarray(frame[0].data, dtype=float)
    if image.ndim != 2:
        msg = f"{what} HDU0 is not a 2-D image (shape {image.shape})"
        raise CorruptFileError(msg)
    ny, nx = image.shape
    calib = frame[1].data
    if not isinstance(frame[1], fits.ImageHDU) or calib is None or np.shape(calib) != (nx,):
        msg = (f"{what} HDU1 must be the calibration vector, {nx} values (one per column); "
               f"got {type(frame[1]).__name__} of shape {np.shape(calib)}")
        raise CorruptFileError(msg)
    table = frame[2].data
    names = [] if table is None or not hasattr(table, "names") else [n.upper() for n in
                                                                       table.names]
    if not {"ALLSKY", "XINTERP", "YINTERP"} <= set(names) or len(table) != 1:
        msg = (f"{what} HDU2 must be the one-row sky table with ALLSKY, XINTERP and YINTERP; "
               f"got columns {names}")
        raise CorruptFileError(msg)
    allsky = np.asarray(table["ALLSKY"][0], dtype=float)
    xinterp = np.asarray(table["XINTERP"][0], dtype=float).ravel()
    yinterp = np.asarray(table["YINTERP"][0], dtype=float).ravel()
    if allsky.ndim != 2 or xinterp.shape != (nx,) or yinterp.shape != (ny,):
        msg = (f"{what} sky table does not match the {ny}x{nx} image: ALLSKY {allsky.shape}, "
               f"XINTERP {xinterp.shape}, YINTERP {yinterp.shape}")
        raise CorruptFileError(msg)
    band = _card(header, "FILTER", what, kind=str)
    gain, dark_variance = sdss_ccd_noise(band, _card(header, "CAMCOL", what),
                                         _card(header, "RUN", what))
    rows, columns = np.meshgrid(yinterp, xinterp, indexing="ij")
    sky = map_coordinates(allsky, [rows, columns], order=1, mode="nearest")
    calibration = np.broadcast_to(np.asarray(calib, dtype=float), (ny, nx))
    counts = image / calibration + sky
    dn_err = np.sqrt(np.clip(counts, 0, None) / gain + dark_variance)
    return FrameCounts(counts, sky, np.array(calibration), dn_err * calibration, gain,
                       dark_variance)

