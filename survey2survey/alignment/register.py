# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Per-band registration: put every band of a multi-band cutout on one band's pixel grid.

The bands of one field are often taken on different grids: SDSS frames of
one run, camcol and field are offset by up to ~11 pixels between bands (the
drift scan images the five filters one after the other), and per-band files
of other surveys may have their own WCS. A translator sees a ``(band, y, x)``
array and assumes its planes are registered; `register_bands` resamples
every band whose WCS differs onto the grid of one *reference band*, with
``reproject`` (flux-conserving), so that a pixel is the same sky position in
every band.
"""

from ..io import Cutout, read_cutout
from ..utils._resample import (
    REGISTER_TOLERANCE,
    images_registered,
    reference_band_name,
    register_images,
)
from .align import _check_method

__all__ = ["register_bands", "reference_band", "is_registered", "REGISTER_TOLERANCE"]

# REGISTER_TOLERANCE (imported): bands whose grids agree to this many pixels (at the corners
# and centre) are registered.


def reference_band(bands):
    """
    The band the others are registered onto: ``'r'`` when present, else the middle band.

    ``r`` is the band SDSS astrometry is tied to and lies in the middle of
    ``gri``; for other band sets the middle one (``bands[len(bands) // 2]``)
    is the least far, in wavelength, from the others.

    Examples
    --------
    >>> from survey2survey.alignment import reference_band
    >>> reference_band('gri'), reference_band('griz'), reference_band('JHK')
    ('r', 'r', 'H')
    """
    return reference_band_name(bands)


def is_registered(cutout, *, tolerance=REGISTER_TOLERANCE):
    """Whether every band of ``cutout`` has the first band's shape and (to ``tolerance`` px) WCS."""
    return images_registered(cutout, tolerance=tolerance)


def register_bands(cutout, *, reference=None, method="auto", min_coverage=0.5,
                   tolerance=REGISTER_TOLERANCE):
    """
    Resample the bands of a cutout onto one band's pixel grid, conserving flux.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout` or anything `~survey2survey.io.read_cutout` accepts
        A multi-band cutout whose bands may have different WCS or shapes.
    reference : str, optional
        The band whose grid the others are put on; by default `reference_band`
        (``'r'`` when present, else the middle band).
    method : {'auto', 'interp', 'adaptive', 'exact'}, optional
        The `~survey2survey.alignment.align` method, always with
        ``conserve_flux=True``. ``'auto'`` (default): ``'interp'`` (bilinear
        `reproject.reproject_interp`, the fastest) for a band whose pixel
        scale is the reference's to 1%, as for the bands of one survey (a
        shift and a tiny rotation), else ``'adaptive'`` (anti-aliased).
    min_coverage : float, optional
        Smallest accepted fraction of the reference grid a resampled band must
        cover; pixels it does not cover are masked.
    tolerance : float, optional
        Bands whose grid matches the reference's to this many pixels are kept
        as they are (not resampled).

    Returns
    -------
    registered : `~survey2survey.io.Cutout`
        A copy of the input when its bands already share one grid; otherwise a new
        cutout whose bands all have the reference band's WCS and shape. The
        reference band is never resampled; resampled bands get a ``HISTORY``
        card, and the cutout-level metadata ``REGREF`` (the reference band)
        and ``REGMAXSH`` (the largest shift between grids, reference pixels).

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        If ``reference`` is not a band of the cutout.
    survey2survey.exceptions.NoOverlapError
        If a band does not overlap the reference grid.
    survey2survey.exceptions.InsufficientCoverageError
        If a band covers less than ``min_coverage`` of it.

    Notes
    -----
    Flux, measured on isolated stars (1.4 arcsec FWHM, SDSS pixels) in bands
    offset by (3.37, -2.81) and (-10.6, 0.45) pixels: the flux within 4 arcsec
    of a star is kept to 2e-9 (``'interp'``) and 1e-8 (``'adaptive'``). The
    resampling smooths a band a little, like any resampling: within 2 arcsec
    of the star 0.3% of its flux (``'interp'``; 0.6% with ``'adaptive'``)
    moves just outside. The reference band is never resampled.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.alignment import register_bands
    >>> from survey2survey.io import read_cutout
    >>> from survey2survey.tests.helpers import make_wcs
    >>> r, g = make_wcs((20, 20), 0.396), make_wcs((20, 20), 0.396)
    >>> g.wcs.crpix = g.wcs.crpix + [2.5, -1.0]  # g offset from r by (2.5, -1) pixels
    >>> cutout = read_cutout({'g': (np.ones((20, 20)), g), 'r': (np.ones((20, 20)), r)},
    ...                      unit='nmgy')
    >>> registered = register_bands(cutout)
    >>> registered.meta['REGREF'], round(registered.meta['REGMAXSH'], 3)
    ('r', 2.693)
    """
    if method != "auto":
        method = _check_method(method)
    cutout = read_cutout(cutout, what="cutout")
    reference = reference_band(cutout.bands) if reference is None else str(reference)
    images, shift = register_images(cutout, reference, method=method,
                                    min_coverage=min_coverage, tolerance=tolerance)
    if shift is None:
        return cutout
    meta = cutout.meta.copy()
    meta["REGREF"] = (reference, "bands resampled onto this band's pixel grid")
    meta["REGMAXSH"] = (round(shift, 4), "[pix] largest band shift registered")
    return Cutout({b: images[b] for b in cutout.bands}, meta=meta)
