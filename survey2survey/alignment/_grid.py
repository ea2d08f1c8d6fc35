# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Private helpers for the alignment code: pixel grids (a celestial WCS plus a shape).

A *grid* is a ``(wcs, shape)`` pair with ``shape = (ny, nx)``. These helpers turn
whatever the user gives as a target (a cutout, an HDU, a header, a WCS) into a
grid, measure grids (pixel area, centre) and build scaled grids for `regrid`.
"""

import os
import warnings
from collections.abc import Mapping

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import NDData
from astropy.wcs import WCS
from astropy.wcs.utils import wcs_to_celestial_frame

from ..exceptions import BandMismatchError, InputError, InvalidDataError, UnitError
from ..io import Cutout, read_cutout
from ..surveys import Survey, get_survey
from ..utils._resample import flip_x, has_distortion, parity  # noqa: F401 (moved there)
from ..utils._wcs import celestial_wcs, pixel_scale_arcsec

__all__ = []

# Celestial WCS keywords (FITS WCS papers I-II, SIP): matched exactly, so that cards such as
# PSF or PCOUNT are kept
def _check_shape(shape, what):
    """Validate a ``(ny, nx)`` shape and return it as a tuple of Python ints."""
    try:
        values = tuple(shape)
        ok = len(values) == 2 and all(float(v) == int(v) and int(v) > 0 for v in values)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        msg = f"{what} shape must be two positive integers (ny, nx), got {shape!r}"
        raise InputError(msg)
    return tuple(int(v) for v in values)


def _grid_from_hdulist(hdul, what):
    """The grid of the first image HDU of an HDUList that has a 2-D (or higher) image."""
    for hdu in hdul:
        if (isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
                and hdu.data is not None and hdu.data.ndim >= 2):
            return celestial_wcs(hdu.header, what=what), hdu.data.shape[-2:]
    msg = f"{what} holds no image HDU to take a pixel grid from"
    raise InvalidDataError(msg)


def target_grid(onto, *, what="onto"):
    """
    The ``(wcs, (ny, nx))`` grid described by ``onto``.

    ``onto`` may be a `~survey2survey.io.Cutout`, `~astropy.nddata.NDData` /
    `~astropy.nddata.CCDData`, FITS HDU, `~astropy.io.fits.HDUList` or path, a
    ``(WCS, shape)`` tuple, a `~astropy.io.fits.Header` with ``NAXIS1``/``NAXIS2``,
    or a `~astropy.wcs.WCS` whose ``pixel_shape`` is set. Multi-band inputs give
    the grid of their first band. The data of ``onto`` are never needed.
    """
    if isinstance(onto, tuple) and len(onto) == 2 and isinstance(onto[0], WCS):
        return celestial_wcs(onto[0], what=what), _check_shape(onto[1], what)
    if isinstance(onto, fits.Header):
        if "NAXIS1" not in onto or "NAXIS2" not in onto:
            msg = (f"{what} is a FITS header without NAXIS1/NAXIS2; the output shape is "
                   f"needed: pass a (WCS, (ny, nx)) tuple or a header with NAXIS1 and NAXIS2")
            raise InputError(msg)
        shape = _check_shape((onto["NAXIS2"], onto["NAXIS1"]), what)
        return celestial_wcs(onto, what=what), shape
    if isinstance(onto, WCS):
        if onto.pixel_shape is None:
            msg = (f"{what} is a WCS without pixel_shape; pass a (WCS, (ny, nx)) tuple or set "
                   f"wcs.pixel_shape = (nx, ny)")
            raise InputError(msg)
        return celestial_wcs(onto, what=what), _check_shape(onto.pixel_shape[1::-1], what)
    if isinstance(onto, Cutout):
        band = onto.bands[0]
        return celestial_wcs(onto[band].wcs, what=f"{what} band {band!r}"), onto[band].shape
    if isinstance(onto, NDData):
        data = np.asarray(onto.data)
        if data.ndim < 2:
            msg = f"{what} is an NDData of shape {data.shape}; a 2-D image is needed"
            raise InvalidDataError(msg)
        wcs = onto.wcs
        meta = onto.meta if onto.meta is not None else {}
        if wcs is None and hasattr(meta, "get") and "CTYPE1" in meta:
            wcs = fits.Header(meta)
        return celestial_wcs(wcs, what=what), data.shape[-2:]
    if isinstance(onto, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        return _grid_from_hdulist([onto], what)
    if isinstance(onto, (str, os.PathLike, fits.HDUList, Mapping, list, tuple)):
        try:
            cutout = read_cutout(onto, what=what)
        except BandMismatchError:
            # images without FILTER/BAND cards still describe a perfectly good grid
            if isinstance(onto, fits.HDUList):
                return _grid_from_hdulist(onto, what)
            if isinstance(onto, (str, os.PathLike)):
                with fits.open(onto, memmap=False) as hdul:
                    return _grid_from_hdulist(hdul, what)
            raise
        return target_grid(cutout, what=what)
    msg = (f"cannot take a pixel grid from {what} of type {type(onto).__name__}; expected a "
           f"Cutout, NDData/CCDData, HDU, HDUList, FITS path, (WCS, (ny, nx)) tuple, FITS header "
           f"with NAXIS1/NAXIS2, or a WCS with pixel_shape set")
    raise InputError(msg)


def grid_centre(wcs, shape):
    """The `~astropy.coordinates.SkyCoord` of the centre of a grid of ``shape`` (ny, nx)."""
    ny, nx = shape
    return wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)


def _same_frame(wcs1, wcs2):
    """Whether two celestial WCSs share one sky frame and axis order (so values compare)."""
    try:
        frame1, frame2 = wcs_to_celestial_frame(wcs1), wcs_to_celestial_frame(wcs2)
    except ValueError:
        return False
    return frame1.is_equivalent_frame(frame2) and wcs1.wcs.lng == wcs2.wcs.lng


def covered_fraction(wcs_in, shape_in, wcs_out, shape_out, *, samples=None):
    """
    Fraction of the pixel centres of the output grid that fall inside the input image.

    Only coordinates are transformed (no resampling), so this is cheap: a few
    milliseconds for a 150x150 grid. Frames (ICRS, Galactic ...) are converted.
    With ``samples``, only a ``samples x samples`` sub-grid of pixel centres
    (edges included) is tested: a quick, approximate answer.
    """
    ny, nx = shape_out
    if samples is None:
        y, x = np.mgrid[0:ny, 0:nx]
    else:
        x, y = np.meshgrid(np.linspace(0, nx - 1, min(nx, samples)),
                           np.linspace(0, ny - 1, min(ny, samples)))
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # points far from a projection's tangent point give NaN, which count as outside
        warnings.simplefilter("ignore", RuntimeWarning)
        if _same_frame(wcs_in, wcs_out):
            xi, yi = wcs_in.wcs_world2pix(*wcs_out.wcs_pix2world(x, y, 0), 0)
        else:
            xi, yi = wcs_in.world_to_pixel(wcs_out.pixel_to_world(x, y))
    ny_in, nx_in = shape_in
    inside = ((xi >= -0.5) & (xi < nx_in - 0.5) & (yi >= -0.5) & (yi < ny_in - 0.5))
    return float(np.count_nonzero(inside) / inside.size)


def as_pixel_scale(pixel_scale):
    """
    A pixel scale in arcsec/pix (float) from a Quantity, a `Survey` or a survey name.

    Angles without ``/pix`` are read as per pixel.
    """
    given = pixel_scale
    if isinstance(pixel_scale, str):
        pixel_scale = get_survey(pixel_scale)
    if isinstance(pixel_scale, Survey):
        pixel_scale = pixel_scale.pixel_scale
    if not isinstance(pixel_scale, u.Quantity):
        msg = (f"pixel_scale must be a Quantity in arcsec/pix (e.g. 0.263 * u.arcsec / u.pix) "
               f"or a Survey, got {given!r}")
        raise UnitError(msg)
    try:
        value = pixel_scale.to_value(u.arcsec / u.pix)
    except u.UnitConversionError:
        try:
            value = pixel_scale.to_value(u.arcsec)
        except u.UnitConversionError:
            msg = f"pixel_scale must be an angle per pixel, got {given!r}"
            raise UnitError(msg) from None
    if np.ndim(value) != 0 or not np.isfinite(value) or value <= 0:
        msg = f"pixel_scale must be one positive, finite angle per pixel, got {given!r}"
        raise InputError(msg)
    return float(value)


def scaled_grid(wcs, shape, pixel_scale):
    """
    A grid of pixel side ``pixel_scale`` (arcsec) covering the sky area of ``(wcs, shape)``.

    The new WCS keeps the projection, reference value and orientation of ``wcs``:
    its linear matrix is scaled by ``new/old`` and its reference pixel shifted so
    that the new grid's centre maps to the sky position of the old grid's centre.
    The shape is ``round(old_shape * old_scale / new_scale)``. Distortion terms
    (SIP, lookup tables) are not carried over.
    """
    factor = pixel_scale / pixel_scale_arcsec(wcs)
    ny, nx = shape
    new_shape = (max(1, int(round(ny / factor))), max(1, int(round(nx / factor))))
    new = wcs.deepcopy()
    new.sip = None
    new.cpdis1 = new.cpdis2 = None
    new.det2im1 = new.det2im2 = None
    new.wcs.ctype = [c[:-4] if c.endswith("-SIP") else c for c in new.wcs.ctype]
    if new.wcs.has_cd():
        new.wcs.cd = np.asarray(new.wcs.cd) * factor
    else:
        new.wcs.cdelt = np.asarray(new.wcs.cdelt) * factor
    old_centre = np.array([(nx - 1) / 2, (ny - 1) / 2])
    new_centre = np.array([(new_shape[1] - 1) / 2, (new_shape[0] - 1) / 2])
    # linear guess (exact for an undistorted WCS), then one correction step so the centre
    # lands on the old centre's sky position even when the old WCS had distortions
    new.wcs.crpix = new_centre + 1 - (old_centre + 1 - np.asarray(wcs.wcs.crpix)) / factor
    new.wcs.set()
    sky = grid_centre(wcs, shape)
    xc, yc = new.world_to_pixel(sky)
    new.wcs.crpix = np.asarray(new.wcs.crpix) + new_centre - np.array([xc, yc], dtype=float)
    new.wcs.set()
    new.pixel_shape = new_shape[::-1]
    return new, new_shape
