# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
A sample field in SDSS frame format, shipped with the package, and the code that makes it.

`sample_sdss_frames` returns the paths of three small frame files (g, r, i) that
follow the SDSS frame data model exactly (four HDUs: image in nanomaggies,
calibration vector, sky table, asTrans; bzip2-compressed; float values kept to
10 significant bits as SDSS's FLOATCOMPRESS does) with simulated content: a
GalSim scene seen with SDSS's PSF and noise. Real frames are 2048 x 1489
pixels (~3 MB each); these are 200 x 200 to keep the package small.

`simulate_sdss_frames` renders such a field; `sdss_frame_hdulist` writes any
image in the frame layout. ``benchmarks/make_sample_frames.py`` regenerates the
shipped files with a fixed seed.
"""

import bz2
import io
from importlib.resources import files
from pathlib import Path

import numpy as np
from astropy.io import fits
from scipy.ndimage import map_coordinates

from ..exceptions import InvalidDataError
from ..io import sdss_ccd_noise
from ..surveys import SDSS
from ..utils._validation import check_int, parse_bands
from ..utils._wcs import wcs_to_header
from .render import make_wcs, render_scene
from .scenes import Scene, _deproject, draw_scene

__all__ = ["SAMPLE_FRAME", "sample_sdss_frames", "simulate_sdss_frames", "sdss_frame_hdulist",
           "sdss_frame_name", "frame_bytes", "REAL_FRAME", "real_sdss_frames"]

#: The shipped sample: run, camcol, field, bands, shape, centre (a Stripe 82 position), seed.
SAMPLE_FRAME = dict(run=999999, camcol=3, field=1, bands="gri", shape=(200, 200),
                    ra=20.0, dec=0.0, seed=2021)

_SKY_BINNING = 8  # the sky grid of a frame is binned 8x8 (256 columns for 2048)
_CAMERA_ROW = {"r": 1, "i": 2, "u": 3, "z": 4, "g": 5}  # SDSS camera rows, riuzg
_MANTISSA_BITS = 10  # FLOATCOMPRESS keeps 10 significant binary digits


def sdss_frame_name(band, run, camcol, field):
    """``frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2``, the SDSS frame file name."""
    return f"frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2"


def sample_sdss_frames():
    """
    Paths of the sample SDSS frame files shipped with survey2survey (g, r, i).

    The content is simulated (see `simulate_sdss_frames`, seed
    ``SAMPLE_FRAME['seed']``); the files follow the SDSS frame data model, at
    200 x 200 pixels instead of a real frame's 2048 x 1489.

    Returns
    -------
    paths : list of `pathlib.Path`
        ``frame-g-...``, ``frame-r-...``, ``frame-i-...`` ``.fits.bz2``.

    Examples
    --------
    >>> from survey2survey.datasets import sample_sdss_frames
    >>> from survey2survey.io import read_cutout
    >>> [p.name for p in sample_sdss_frames()][0]
    'frame-g-999999-3-0001.fits.bz2'
    >>> read_cutout(sample_sdss_frames())
    <Cutout SDSS bands='gri' shape=(200, 200) unit=nmgy>
    """
    folder = files("survey2survey.datasets").joinpath("data")
    names = [sdss_frame_name(b, SAMPLE_FRAME["run"], SAMPLE_FRAME["camcol"],
                             SAMPLE_FRAME["field"]) for b in SAMPLE_FRAME["bands"]]
    return [Path(str(folder.joinpath(name))) for name in names]


#: The real SDSS frames shipped, cut small: run, camcol, field, bands, the pixels kept
#: (``[y0:y0 + size, x0:x0 + size]`` of each 2048 x 1489 frame) and the isolated star near
#: the centre (pixel of the r frame).
REAL_FRAME = dict(run=2583, camcol=2, field=136, bands="gri", x0=1878, y0=645, size=96,
                  star_r=(48.0, 48.0))


def real_sdss_frames():
    """
    Paths of real SDSS frame files (g, r, i of run 2583, camcol 2, field 136), cut small.

    Public SDSS DR frame files (as distributed with the prob-ml/bliss test data),
    each cut to the same 96 x 96 pixels ``REAL_FRAME`` names: the image (HDU0,
    its header and WCS kept, ``CRPIX`` moved), the calibration vector (HDU1) and
    the sky grid (HDU2) cut to match, asTrans (HDU3) as it was. As on the sky,
    the three bands' pixel grids are offset (g by about 11 pixels from r): the
    same pixel index is not the same sky position; see
    `~survey2survey.alignment.register_bands`. 14 kB each.

    Returns
    -------
    paths : list of `pathlib.Path`
        ``frame-g-002583-2-0136.fits.bz2``, ``frame-r-...``, ``frame-i-...``.

    Examples
    --------
    >>> from survey2survey.datasets import real_sdss_frames
    >>> from survey2survey.io import read_cutout
    >>> frames = read_cutout(real_sdss_frames())
    >>> frames
    <Cutout SDSS bands='gri' shape=(96, 96) unit=nmgy>
    >>> from survey2survey.alignment import is_registered
    >>> is_registered(frames)
    False
    """
    folder = files("survey2survey.datasets").joinpath("data")
    names = [sdss_frame_name(b, REAL_FRAME["run"], REAL_FRAME["camcol"], REAL_FRAME["field"])
             for b in REAL_FRAME["bands"]]
    return [Path(str(folder.joinpath(name))) for name in names]


def _float_compress(image, bits=_MANTISSA_BITS):
    """Round to ``bits`` significant binary digits (SDSS's FLOATCOMPRESS), as float32."""
    mantissa, exponent = np.frexp(np.asarray(image, dtype=np.float64))
    return np.ldexp(np.round(mantissa * 2.0**bits) / 2.0**bits, exponent).astype(np.float32)


def _astrans(wcs, band, camcol, field, shape):
    """HDU3: the asTrans row, ``mu = a + b row + c col``, ``nu = d + e row + f col``.

    For an equatorial great circle (``INCL = 0``) mu and nu are RA and Dec;
    the coefficients are the linear expansion of the image's TAN WCS at pixel
    (row, col) = (0, 0).
    """
    ra, dec = wcs.pixel_to_world_values([0.0, 1.0, 0.0], [0.0, 0.0, 1.0])  # x = col, y = row
    (ra0, ra_col, ra_row), (dec0, dec_col, dec_row) = np.asarray(ra), np.asarray(dec)
    zero = np.zeros(1)
    columns = [
        fits.Column("FIELD", "J", array=np.array([field], dtype=np.int32)),
        fits.Column("MJD", "D", array=np.array([51075.0])),
        fits.Column("AIRMASS", "D", array=np.array([1.2])),
        fits.Column("A", "D", unit="deg", array=np.array([ra0])),
        fits.Column("B", "D", unit="deg/pix", array=np.array([ra_row - ra0])),
        fits.Column("C", "D", unit="deg/pix", array=np.array([ra_col - ra0])),
        fits.Column("D", "D", unit="deg", array=np.array([dec0])),
        fits.Column("E", "D", unit="deg/pix", array=np.array([dec_row - dec0])),
        fits.Column("F", "D", unit="deg/pix", array=np.array([dec_col - dec0])),
    ]
    columns += [fits.Column(name, "D", array=zero) for name in
                ("DROW0", "DROW1", "DROW2", "DROW3", "DCOL0", "DCOL1", "DCOL2", "DCOL3",
                 "CSROW", "CSCOL", "RICUT", "MUERR", "NUERR")]
    hdu = fits.BinTableHDU.from_columns(columns)
    hdu.header["NODE"] = (0.0, "[deg] RA of the great circle's ascending node")
    hdu.header["INCL"] = (0.0, "[deg] inclination of the great circle")
    hdu.header["EQUINOX"] = 2000.0
    hdu.header["CAMCOL"] = camcol
    hdu.header["FILTER"] = band
    hdu.header["NROWS"] = shape[0]
    hdu.header["NCOLS"] = shape[1]
    return hdu


def sdss_frame_hdulist(image, wcs, band, *, run, camcol, field, calibration, allsky,
                       xinterp, yinterp, header=None):
    """
    An image in the SDSS frame layout (DR8 and later): the four HDUs of a frame file.

    Parameters
    ----------
    image : array-like, shape ``(ny, nx)``
        Calibrated, sky-subtracted image in nanomaggies (HDU0, written as float32).
    wcs : `~astropy.wcs.WCS`
        Its TAN WCS (written with a CD matrix).
    band : {'u', 'g', 'r', 'i', 'z'}
        The filter.
    run, camcol, field : int
        The frame's run, camera column (1-6) and field.
    calibration : array-like, shape ``(nx,)``
        Nanomaggies per count of each column (HDU1).
    allsky : array-like, 2-D
        The sky in counts on a coarse grid (HDU2 ``ALLSKY``).
    xinterp, yinterp : array-like, shapes ``(nx,)`` and ``(ny,)``
        Where each image column and row falls on the sky grid (``XINTERP``,
        ``YINTERP``).
    header : dict or `~astropy.io.fits.Header`, optional
        Extra HDU0 cards.

    Returns
    -------
    hdul : `~astropy.io.fits.HDUList`

    Raises
    ------
    survey2survey.exceptions.InvalidDataError
        If the arrays do not fit the image.
    """
    image = np.asarray(image, dtype=np.float32)
    ny, nx = image.shape
    calibration = np.asarray(calibration, dtype=np.float32)
    allsky = np.asarray(allsky, dtype=np.float32)
    xinterp = np.asarray(xinterp, dtype=np.float32)
    yinterp = np.asarray(yinterp, dtype=np.float32)
    if calibration.shape != (nx,) or xinterp.shape != (nx,) or yinterp.shape != (ny,) \
            or allsky.ndim != 2:
        msg = (f"calibration {calibration.shape}, xinterp {xinterp.shape}, yinterp "
               f"{yinterp.shape} and allsky {allsky.shape} do not fit a {ny}x{nx} image")
        raise InvalidDataError(msg)
    run = check_int(run, "run", minimum=0)
    camcol = check_int(camcol, "camcol", minimum=1, maximum=6)
    field = check_int(field, "field", minimum=0)
    nmgy = float(np.mean(calibration))
    primary = fits.Header()
    for key, value, comment in [
        ("ORIGIN", "SDSS", ""), ("TELESCOP", "2.5m", ""), ("TIMESYS", "TAI", ""),
        ("RUN", run, "Run number"), ("FRAME", field, "Frame sequence number within the run"),
        ("CAMROW", _CAMERA_ROW[band], "Row in the imaging camera"),
        ("CAMCOL", camcol, "Column in the imaging camera"),
        ("CCDLOC", 10 * _CAMERA_ROW[band] + camcol, "Survey location of CCD (rowCol)"),
        ("STRIPE", 82, "Stripe index number"), ("STRIP", "N", "Strip in the stripe"),
        ("FLAVOR", "science", "Flavor of this run"), ("SYS_SCN", "mean", ""),
        ("EQNX_SCN", 2000.0, ""), ("NODE", 0.0, "[deg] RA of the great circle's node"),
        ("INCL", 0.0, "[deg] Great circle's inclination wrt cel. eq."),
        ("OBJECT", "82 N", ""), ("EXPTIME", "53.907456", "Exposure time (seconds)"),
        ("CCDMODE", "DRIFT", ""), ("SOFTBIAS", 1000, "software bias added to all DN"),
        ("BUNIT", "nanomaggy", "1 nanomaggy = 3.631e-6 Jy"),
        ("FILTER", band, "filter used"), ("EQUINOX", 2000.0, ""),
        ("RADECSYS", "ICRS", "International Celestial Ref. System"),
    ]:
        primary[key] = (value, comment)
    primary.update(wcs_to_header(wcs))
    primary["NMGY"] = (nmgy, "Calibration factor [nMgy per count]")
    primary["NMGYIVAR"] = (1.0 / (0.01 * nmgy) ** 2, "Calibration factor inverse variance")
    if header is not None:
        primary.update(fits.Header(header))
    sky = fits.BinTableHDU.from_columns([
        fits.Column("ALLSKY", f"{allsky.size}E", dim=f"({allsky.shape[1]},{allsky.shape[0]})",
                    array=allsky[np.newaxis]),
        fits.Column("XINTERP", f"{nx}E", array=xinterp[np.newaxis]),
        fits.Column("YINTERP", f"{ny}E", array=yinterp[np.newaxis]),
    ])
    return fits.HDUList([fits.PrimaryHDU(image, header=primary), fits.ImageHDU(calibration),
                         sky, _astrans(wcs, band, camcol, field, image.shape)])


def frame_bytes(hdul):
    """The bzip2-compressed FITS bytes of ``hdul`` (how SDSS distributes frames)."""
    buffer = io.BytesIO()
    hdul.writeto(buffer)
    return bz2.compress(buffer.getvalue(), compresslevel=9)


def simulate_sdss_frames(seed=0, *, bands="gri", shape=(200, 200), ra=20.0, dec=0.0,
                         run=999999, camcol=3, field=1):
    """
    Simulated SDSS frames of one field, following the SDSS frame data model.

    A random scene (`~survey2survey.datasets.draw_scene`: a central galaxy,
    neighbours and stars) centred on (``ra``, ``dec``) is rendered without
    noise by `~survey2survey.datasets.render_scene` with SDSS's PSF and zero
    point, on one north-up TAN grid for every band. Each band is then observed
    as the data model describes a frame: counts ``truth / calib + sky``,
    Poisson noise in electrons (the CCD's gain from
    `~survey2survey.io.sdss_ccd_noise`), Gaussian dark noise (its dark
    variance), sky subtracted, calibrated back to nanomaggies and rounded to 10
    significant bits. The calibration is set so that the sky noise equals the
    ``SDSS`` survey's (`~survey2survey.surveys.Survey`).

    Parameters
    ----------
    seed : int, optional
        Seed of the scene and the noise.
    bands : str or sequence of str, optional
        SDSS bands.
    shape : tuple of int, optional
        ``(ny, nx)`` (a real frame is ``(1489, 2048)``).
    ra, dec : float, optional
        Field centre, degrees (default: a Stripe 82 position).
    run, camcol, field : int, optional
        Frame identifiers written in the headers and used for the CCD noise.

    Returns
    -------
    frames : dict
        Band -> `~astropy.io.fits.HDUList` (see `sdss_frame_hdulist`).

    Raises
    ------
    survey2survey.exceptions.MissingDependencyError
        If GalSim is not installed.

    Examples
    --------
    >>> from survey2survey.datasets import simulate_sdss_frames
    >>> frames = simulate_sdss_frames(1, bands='r', shape=(40, 50))
    >>> [hdu.name for hdu in frames['r']], frames['r'][0].data.shape
    (['PRIMARY', '', '', ''], (40, 50))
    """
    bands = SDSS.check_bands(parse_bands(bands))
    seed = check_int(seed, "seed", minimum=0)
    ny, nx = (check_int(n, "shape", minimum=8) for n in shape)
    rng = np.random.default_rng(seed)
    scale = SDSS.pixel_scale.value
    drawn = draw_scene(rng, bands, field=float(max(nx, ny) * scale))
    east = np.array([o["east"] for o in drawn.objects])
    north = np.array([o["north"] for o in drawn.objects])
    ras, decs = _deproject(ra, dec, east, north)
    objects = [dict(o, ra=float(r), dec=float(d))
               for o, r, d in zip(drawn.objects, ras, decs, strict=True)]
    scene = Scene(ra=float(ra), dec=float(dec), bands=drawn.bands, objects=objects)
    wcs = make_wcs(ra, dec, SDSS.pixel_scale, (ny, nx))
    truth = render_scene(scene, SDSS, wcs, (ny, nx), bands=bands, noise=False)
    grid = (int(np.ceil(ny / _SKY_BINNING)) + 1, int(np.ceil(nx / _SKY_BINNING)) + 1)
    xinterp = (np.arange(nx) + 0.5) / _SKY_BINNING - 0.5
    yinterp = (np.arange(ny) + 0.5) / _SKY_BINNING - 0.5
    frames = {}
    for band in bands:
        gain, dark_variance = sdss_ccd_noise(band, camcol, run)
        # nanomaggies per count: sky noise (gain e-/count) equal to the survey's
        nmgy = gain / SDSS.effective_gain(band)
        columns = np.linspace(-1, 1, nx)
        calibration = nmgy * (1 + 0.004 * columns + 0.002 * np.cos(3 * columns))  # flat field
        sky_counts = SDSS.sky_level(band).value / nmgy
        gy, gx = np.mgrid[0:grid[0], 0:grid[1]]
        allsky = sky_counts * (1 + 0.01 * gx / grid[1] - 0.005 * gy / grid[0])
        rows, cols = np.meshgrid(yinterp, xinterp, indexing="ij")
        sky = map_coordinates(allsky, [rows, cols], order=1, mode="nearest")
        expected = np.clip(truth[band].truth / calibration + sky, 0, None)
        counts = (rng.poisson(gain * expected) / gain
                  + rng.normal(0.0, np.sqrt(dark_variance), expected.shape))
        image = _float_compress((counts - sky) * calibration)
        extra = {"COMMENT": "Simulated with survey2survey (GalSim scene, SDSS PSF and noise); "
                            "not an SDSS observation"}
        frames[band] = sdss_frame_hdulist(
            image, wcs, band, run=run, camcol=camcol, field=field, calibration=calibration,
            allsky=allsky, xinterp=xinterp, yinterp=yinterp, header=extra)
    return frames
