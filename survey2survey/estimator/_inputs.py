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

from ..exceptions import InputError, InvalidDataError, UnitError
from ..io import Cutout
from ..surveys.survey import maggies_per_unit

__all__ = []

# longest first: the stem of "a.fits.gz" is "a"
FITS_SUFFIXES = (".fits.gz", ".fits.fz", ".fit.gz", ".fits", ".fit", ".fts", ".fz")



def is_single(obj):
    """Whether ``obj`` is one cutout (as opposed to a list of cutouts)."""
    if isinstance(obj, (str, os.PathLike, Cutout, NDData, fits.HDUList, fits.PrimaryHDU,
                        fits.ImageHDU, fits.CompImageHDU, dict)):
        return True
    if (isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], (WCS, fits.Header))
            and not isinstance(obj[0], NDData)):
        return True  # (array, wcs)
    return False


def is_pairs_directory(obj):
    """Whether ``obj`` is a directory in the ``load_pairs`` layout (has ``source/``)."""
    return (isinstance(obj, (str, os.PathLike)) and Path(obj).is_dir()
            and (Path(obj) / "source").is_dir())


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


def conversion_factor(unit, survey, band, what):
    """Factor taking values in ``unit`` to ``survey.flux_unit`` in ``band``; raises UnitError."""
    target = survey.flux_unit
    if unit == target:
        return 1.0
    try:
        return float(unit.to(target))
    except u.UnitConversionError:
        pass
    have = maggies_per_unit(unit)
    if have is not None:
        return float(have / survey.maggies_per_unit(band))
    msg = (f"{what} band {band!r} is in {unit!s}, which cannot be converted to the "
           f"{survey.name} flux unit {target!s}")
    raise UnitError(msg)


def to_survey_unit(cutouts, survey, what):
    """
    New cutouts with every band in ``survey.flux_unit``.

    Unitless bands are assumed to be in the survey's unit, with one
    `~astropy.utils.exceptions.AstropyUserWarning` for the whole list.
    """
    out = []
    assumed = 0
    for k, cutout in enumerate(cutouts):
        name = f"{what}[{k}]" if len(cutouts) > 1 else what
        factors = {}
        for band in cutout.bands:
            unit = cutout[band].unit
            if unit is None or unit == u.dimensionless_unscaled:
                assumed += 1
                factors[band] = 1.0
            else:
                factors[band] = conversion_factor(unit, survey, band, name)
        if all(f == 1.0 for f in factors.values()) and all(
                cutout[b].unit == survey.flux_unit for b in cutout.bands):
            out.append(cutout)
            continue
        scale = np.array([factors[b] for b in cutout.bands])[:, None, None]
        sigma = cutout.uncertainty_array
        out.append(cutout.with_data(
            cutout.data * scale, unit=survey.flux_unit, mask=cutout.mask,
            uncertainty=None if sigma is None else sigma * scale))
    if assumed:
        msg = (f"{assumed} band image(s) of {what} carry no unit; assumed to be in the "
               f"{survey.name} flux unit ({survey.flux_unit})")
        warnings.warn(msg, AstropyUserWarning, stacklevel=3)
    return out


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
