# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`extract_cutout`: a cutout at a sky position from a large frame or tile, every band, WCS kept."""

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.nddata import CCDData, Cutout2D
from astropy.nddata.utils import NoOverlapError as AstropyNoOverlapError
from astropy.nddata.utils import PartialOverlapError

from ..exceptions import InvalidOptionError, NoOverlapError
from ..utils._resample import images_registered, reference_band_name, register_images
from ..utils._validation import check_choice
from ..utils._wcs import pixel_scale_arcsec
from .cutout import Cutout
from .fits import read_cutout

__all__ = ["extract_cutout"]

_MODES = ("partial", "trim", "strict")


def _cut(array, cut, fill):
    """``array`` cut to the same pixels as the `~astropy.nddata.Cutout2D` ``cut``."""
    out = np.full(cut.shape, fill, dtype=np.result_type(array.dtype, type(fill)))
    out[cut.slices_cutout] = array[cut.slices_original]
    return out


def extract_cutout(source, position, size, *, bands=None, mode="partial", register=True,
                   **read_options):
    """
    Cut a cutout centred on a sky position out of a larger frame or tile, in every band.

    Each band is cut with `astropy.nddata.Cutout2D` on its own WCS (SDSS frames
    of one field differ by a few pixels between bands), so every band is
    centred on the same sky position; its WCS, mask and uncertainty are cut
    with it and its header is kept. Cut on their own grids, the bands are
    still offset by up to half a pixel (colour fringes); with ``register``
    (the default) every band is instead resampled, flux-conserving, onto the
    grid of the reference band's cut (``'r'``, else the middle band; see
    `~survey2survey.alignment.register_bands`), from a slightly larger cut of
    its own.

    Parameters
    ----------
    source : anything `~survey2survey.io.read_cutout` reads
        The frame or tile (a path, HDUList, `~survey2survey.io.Cutout`, list
        of single-band files...).
    position : `~astropy.coordinates.SkyCoord` or tuple
        The centre: a sky position, or ``(x, y)`` pixel coordinates (0-based)
        of the first band.
    size : int, `~astropy.units.Quantity` or tuple
        ``(ny, nx)`` or one number for a square: pixels (each band's own), or
        angles (``64 * u.arcsec``).
    bands : str or sequence of str, optional
        Bands to read and cut (default: all of them).
    mode : {'partial', 'trim', 'strict'}, optional
        What happens at the edge of the frame (as in `~astropy.nddata.Cutout2D`):
        ``'partial'`` (default) keeps the requested size and fills pixels
        beyond the edge with NaN, masked; ``'trim'`` returns only the part
        inside; ``'strict'`` refuses a cutout that does not fit.
    register : bool, optional
        Put every band on the reference band's pixel grid (default True); with
        False each band keeps its own grid.
    **read_options
        Passed to `~survey2survey.io.read_cutout` (``unit``, ``format``,
        ``sdss_uncertainty``...).

    Returns
    -------
    cutout : `~survey2survey.io.Cutout`
        A new cutout; its cutout-level metadata records ``CUTRA``/``CUTDEC``
        (the position asked for, deg).

    Raises
    ------
    survey2survey.exceptions.NoOverlapError
        If the position lies outside a band (with ``mode='strict'``: if the
        cutout does not fit inside it).
    survey2survey.exceptions.InvalidOptionError
        For an unknown ``mode``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from survey2survey.datasets import sample_sdss_frames
    >>> from survey2survey.io import extract_cutout, read_cutout
    >>> frames = read_cutout(sample_sdss_frames())
    >>> centre = frames['r'].wcs.pixel_to_world(99.5, 99.5)
    >>> small = extract_cutout(frames, centre, 20 * u.arcsec)
    >>> small.shape, small.bands
    ((51, 51), ('g', 'r', 'i'))
    """
    check_choice(mode, _MODES, "mode")
    cutout = read_cutout(source, bands, **read_options)
    if isinstance(position, SkyCoord):
        sky = position
    else:
        try:
            x, y = (float(v) for v in position)
        except (TypeError, ValueError):
            msg = f"position must be a SkyCoord or an (x, y) pixel pair; got {position!r}"
            raise InvalidOptionError(msg) from None
        sky = cutout[cutout.bands[0]].wcs.pixel_to_world(x, y)
    out = {}
    where = read_options.get("what", "the input")
    reference = None
    if register and len(cutout) > 1:
        # bands already on one grid are cut alike: nothing to resample
        reference = None if images_registered(cutout) else reference_band_name(cutout.bands)
    if reference is not None:
        out[reference] = _cut_band(cutout, reference, sky, size, mode, where)
    for band in cutout.bands:
        if band == reference:
            continue
        band_size = size if reference is None else _margin_size(out[reference], cutout[band])
        out[band] = _cut_band(cutout, band, sky, band_size,
                              mode if reference is None else "partial", where)
    meta = cutout.meta.copy()
    icrs = sky.icrs
    meta["CUTRA"] = (float(icrs.ra.deg), "[deg] RA of the cutout centre asked for")
    meta["CUTDEC"] = (float(icrs.dec.deg), "[deg] Dec of the cutout centre asked for")
    if reference is not None:
        out, shift = register_images(out, reference, min_coverage=0.0)
        if shift is not None:
            meta["REGREF"] = (reference, "bands resampled onto this band's pixel grid")
            meta["REGMAXSH"] = (round(shift, 4), "[pix] largest band shift registered")
    return Cutout({b: out[b] for b in cutout.bands}, meta=meta)


#: Pixels added on each side of a band's cut before it is resampled onto the reference's.
_MARGIN = 3


def _margin_size(reference, image):
    """``(ny, nx)`` pixels of ``image`` covering the reference cut with a margin."""
    ratio = pixel_scale_arcsec(reference.wcs) / pixel_scale_arcsec(image.wcs)
    ny, nx = reference.shape
    return (int(np.ceil(ny * ratio)) + 2 * _MARGIN, int(np.ceil(nx * ratio)) + 2 * _MARGIN)


def _cut_band(cutout, band, sky, size, mode, where):
    """One band cut around ``sky`` on its own grid, as a new CCDData."""
    image = cutout[band]
    if not np.all(np.isfinite(image.wcs.world_to_pixel(sky))):
        msg = (f"{sky.to_string('decimal', precision=6)} is not on the projection of band "
               f"{band!r} of {where} (too far from it)")
        raise NoOverlapError(msg)
    try:
        cut = Cutout2D(image.data, sky, size, wcs=image.wcs, mode=mode, fill_value=np.nan,
                       copy=True)
    except (AstropyNoOverlapError, PartialOverlapError) as exc:
        msg = (f"a {size!r} cutout at {sky.to_string('decimal', precision=6)} does not "
               f"{'fit in' if isinstance(exc, PartialOverlapError) else 'overlap'} band "
               f"{band!r} of {where} ({exc})")
        raise NoOverlapError(msg) from exc
    except ValueError as exc:
        msg = f"size must be pixels or an angle, one value or (ny, nx); got {size!r} ({exc})"
        raise InvalidOptionError(msg) from exc
    outside = np.ones(cut.shape, dtype=bool)
    outside[cut.slices_cutout] = False
    mask = outside | ~np.isfinite(cut.data)
    if image.mask is not None:
        mask |= _cut(np.asarray(image.mask, dtype=bool), cut, True)
    uncertainty = None
    if image.uncertainty is not None:
        uncertainty = image.uncertainty.__class__(
            _cut(np.asarray(image.uncertainty.array), cut, np.nan),
            unit=image.uncertainty.unit)
    return CCDData(cut.data, unit=image.unit, wcs=cut.wcs, mask=mask,
                   uncertainty=uncertainty, meta=image.meta.copy())
