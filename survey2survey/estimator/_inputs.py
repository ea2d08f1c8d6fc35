# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Private helpers of the estimator: input lists, unit conversion, in-painting, cropping."""

import os
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.convolution import Gaussian2DKernel, interpolate_replace_nans
from astropy.io import fits
from astropy.nddata import NDData
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS

from ..exceptions import InputError, InvalidDataError, PixelScaleError, UnitError
from ..io import ZERO_POINT_KEYS, Cutout, header_zero_point, read_cutout
from ..io.groups import FITS_SUFFIXES  # longest first (.fits.bz2, .fits...), case-insensitive
from ..utils._wcs import pixel_scale_arcsec

__all__ = ["FITS_SUFFIXES", "PIXEL_SCALE_TOLERANCE", "is_single",
           "is_pairs", "as_list", "conversion_factor", "to_survey_unit",
            "check_pixel_scale", "register_input", "read_in_survey_unit", "inpaint",
            "center_crop", "check_encoded"]

#: largest relative difference between an input's pixel scale and the model's source survey's
PIXEL_SCALE_TOLERANCE = 0.02


def is_single(obj):
    """Whether ``obj`` is one cutout (as opposed to a list of cutouts)."""
    if isinstance(obj, (str, os.PathLike, Cutout, NDData, fits.HDUList, fits.PrimaryHDU,
                        fits.ImageHDU, fits.CompImageHDU, dict, bytes, bytearray)):
        return True
    if (isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], (WCS, fits.Header))
            and not isinstance(obj[0], NDData)):
        return True  # (array, wcs)
    return False


def is_pairs(obj):
    """Whether ``obj`` is a sequence of pair objects with ``.source`` and ``.target``."""
    if isinstance(obj, (str, bytes, os.PathLike, dict)) or not hasattr(obj, "__len__"):
        return False
    try:
        first = obj[0]
    except (IndexError, TypeError, KeyError):
        return False
    return hasattr(first, "source") and hasattr(first, "target")


def as_list(obj, what):
    """A list of single-cutout inputs from a list, a directory of FITS files or one cutout."""
    if obj is None:
        msg = f"{what} is None"
        raise InputError(msg)
    if isinstance(obj, (str, os.PathLike)) and Path(obj).is_dir():
        files = sorted(p for p in Path(obj).iterdir()
                       if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES))
        if not files:
            msg = f"{what} directory {str(obj)!r} holds no FITS file"
            raise InputError(msg)
        return files
    if is_single(obj):
        return [obj]
    try:
        items = list(obj)
    except TypeError:
        msg = f"{what} must be a cutout or a list of cutouts, got {type(obj).__name__}"
        raise InputError(msg) from None
    if not items:
        msg = f"{what} is an empty list"
        raise InvalidDataError(msg)
    return items


def conversion_factor(image, survey, band, what):
    """
    Factor taking one band (a CCDData) to ``survey.flux_unit``, or None if it has no unit.

    A zero-point card (``MAGZERO``...) defines the calibration; where the unit
    also defines one (maggies, janskys) the two must agree to 0.1%.
    """
    unit = image.unit
    has_unit = unit is not None and unit != u.dimensionless_unscaled
    zero_point = header_zero_point(image.meta)
    try:
        from_unit = survey.unit_factor(unit, band) if has_unit else None
    except UnitError:
        from_unit = None
        if zero_point is None:
            msg = (f"{what} band {band!r} is in {unit!s}, which cannot be converted to the "
                   f"{survey.name} flux unit {survey.flux_unit!s} (and it has no MAGZERO card)")
            raise UnitError(msg) from None
    if zero_point is None:
        return from_unit
    from_zero_point = survey.unit_factor(unit, band, zero_point=zero_point)
    if from_unit is not None and not np.isclose(from_unit, from_zero_point, rtol=1e-3):
        msg = (f"{what} band {band!r}: its unit {unit!s} and its zero point {zero_point} "
               f"disagree about its calibration (factors {from_unit:.6g} and "
               f"{from_zero_point:.6g} to {survey.flux_unit!s})")
        raise UnitError(msg)
    return from_zero_point


def to_survey_unit(cutouts, survey, what):
    """
    New cutouts with every band in ``survey.flux_unit``.

    Bands with neither a unit nor a zero point are assumed to be in the survey's
    unit, with one `~astropy.utils.exceptions.AstropyUserWarning` for the whole list.
    """
    out = []
    assumed = 0
    for k, cutout in enumerate(cutouts):
        name = f"{what}[{k}]" if len(cutouts) > 1 else what
        factors = {}
        for band in cutout.bands:
            factor = conversion_factor(cutout[band], survey, band, name)
            if factor is None:
                assumed += 1
                factor = 1.0
            factors[band] = factor
        if all(f == 1.0 for f in factors.values()) and all(
                cutout[b].unit == survey.flux_unit for b in cutout.bands):
            out.append(cutout)
            continue
        scale = np.array([factors[b] for b in cutout.bands])[:, None, None]
        sigma = cutout.uncertainty_array
        scaled = cutout.data * scale
        if all(cutout[b].data.dtype == np.float32 for b in cutout.bands):
            scaled = scaled.astype(np.float32)  # float32 in, float32 out
        converted = cutout.with_data(
            scaled, unit=survey.flux_unit, mask=cutout.mask,
            uncertainty=None if sigma is None else sigma * scale)
        for band in converted.bands:
            meta = converted[band].meta
            for key in ZERO_POINT_KEYS:
                if key in meta:
                    del meta[key]
            meta["MAGZERO"] = (survey.zero_point[band], "AB zero point: m = ZP - 2.5 log10(f)")
        out.append(converted)
    if assumed:
        msg = (f"{assumed} band image(s) of {what} carry no unit; assumed to be in the "
               f"{survey.name} flux unit ({survey.flux_unit})")
        warnings.warn(msg, AstropyUserWarning, stacklevel=3)
    return out


def _name(items, k, what):
    if isinstance(items[k], (str, os.PathLike)):
        return f"{what} {os.fspath(items[k])!r}"
    return f"{what}[{k}]" if len(items) > 1 else what


def check_pixel_scale(cutout, survey, what, *, resample=False):
    """
    ``cutout`` if its pixels have the survey's scale (within 2%), resampled if asked, else raise.

    Raises
    ------
    survey2survey.exceptions.PixelScaleError
        If a band's pixel scale differs from ``survey.pixel_scale`` and
        ``resample`` is False; the message says how to fix it.
    """
    expected = survey.pixel_scale.to_value(u.arcsec / u.pix)
    scales = {band: pixel_scale_arcsec(cutout[band].wcs) for band in cutout.bands}
    wrong = {b: s for b, s in scales.items() if abs(s / expected - 1) > PIXEL_SCALE_TOLERANCE}
    if not wrong:
        return cutout
    if resample:
        from ..alignment import regrid

        return regrid(cutout, survey.pixel_scale, conserve_flux=True)
    band, scale = next(iter(wrong.items()))
    msg = (f"{what} band {band!r} has {scale:.4g} arcsec pixels but the model expects "
           f"{survey.name}'s {expected:.4g} arcsec (within {100 * PIXEL_SCALE_TOLERANCE:.0f}%): "
           f"resample it first (survey2survey.alignment.regrid(cutout, "
           f"{survey.name}.pixel_scale)) or pass resample=True")
    raise PixelScaleError(msg)


def register_input(cutout, what):
    """
    ``cutout`` with every band on one grid: its bands registered onto the reference band.

    Bands with different WCS (SDSS frames of one field are offset by up to ~11
    pixels) are resampled, flux-conserving, onto the grid of
    `~survey2survey.alignment.reference_band` (``'r'``, else the middle band)
    by `~survey2survey.alignment.register_bands`; a band that does not cover
    half of that grid is refused, naming the input.
    """
    if len(cutout) < 2:
        return cutout
    from ..alignment import is_registered, register_bands
    from ..exceptions import AlignmentError

    if is_registered(cutout):
        return cutout
    try:
        return register_bands(cutout)
    except AlignmentError as exc:
        msg = f"{what}: its bands have different pixel grids and cannot be registered: {exc}"
        raise type(exc)(msg) from exc


def read_in_survey_unit(items, bands, survey, what, *, pixel_scale=False, resample=False):
    """
    Read every item with `~survey2survey.io.read_cutout`, in ``survey``'s flux unit.

    Bands on different pixel grids are registered first (`register_input`).

    With ``pixel_scale``, each cutout must have the survey's pixel scale (see
    `check_pixel_scale`; ``resample`` regrids those that do not).
    """
    cutouts = [register_input(read_cutout(item, bands, what=_name(items, k, what),
                                          assign_bands=False), _name(items, k, what))
               for k, item in enumerate(items)]
    if pixel_scale:
        cutouts = [check_pixel_scale(c, survey, _name(items, k, what), resample=resample)
                   for k, c in enumerate(cutouts)]
    return to_survey_unit(cutouts, survey, what)


def inpaint(data, mask):
    """
    ``data`` ``(n_bands, ny, nx)`` with masked pixels filled from their neighbours.

    Small holes are filled by `~astropy.convolution.interpolate_replace_nans`
    with a Gaussian kernel; what that cannot reach takes the band's median.
    """
    data = np.array(data, dtype=float, copy=True)
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return data
    kernel = Gaussian2DKernel(x_stddev=1.5)
    for k in range(data.shape[0]):
        if not mask[k].any():
            continue
        band = np.where(mask[k], np.nan, data[k])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyUserWarning)
            filled = interpolate_replace_nans(band, kernel)
        holes = ~np.isfinite(filled)
        if holes.any():
            filled[holes] = np.median(data[k][~mask[k]])
        data[k] = filled
    return data


def center_crop(array, shape):
    """The central ``shape`` of the last two axes of ``array``."""
    ny, nx = array.shape[-2:]
    ty, tx = shape
    y0, x0 = (ny - ty) // 2, (nx - tx) // 2
    return array[..., y0:y0 + ty, x0:x0 + tx]


def check_encoded(arrays, cutouts, what):
    """
    Refuse inputs whose encoded values overflow the network's float32 arithmetic.

    Pixel values near the float32 limit (3.4e38, a wrong unit or calibration)
    become infinite when encoded; the message says so, naming the input and its
    largest value, rather than blaming NaN in a batch.
    """
    limit = float(np.finfo(np.float32).max)
    for k, (array, cutout) in enumerate(zip(arrays, cutouts, strict=True)):
        array = np.asarray(array)
        if np.isfinite(array).all() and float(np.abs(array).max(initial=0)) <= limit:
            continue
        data = np.abs(np.asarray(cutout.data, dtype=float))
        data = data[~np.asarray(cutout.mask, dtype=bool)] if cutout.mask is not None else data
        peak = float(np.nanmax(data)) if data.size else float("nan")
        name = f"{what}[{k}]" if len(cutouts) > 1 else what
        msg = (f"{name} has pixel values up to {peak:.4g} (in the source unit), which overflow "
               "the network's float32 arithmetic (beyond 3.4e38) once encoded; check its unit "
               "and calibration cards (BUNIT, MAGZERO, BSCALE) or mask those pixels")
        raise InvalidDataError(msg)

