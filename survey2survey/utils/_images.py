# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Turn whatever an image function is given into a float64 ``(N, ny, nx)`` image stack.

Accepted: a 2-D array (one image), a 3-D array (a batch), an
`~astropy.units.Quantity`, an `~astropy.nddata.NDData` / `~astropy.nddata.CCDData`
(masked pixels become NaN), a `~survey2survey.io.Cutout` (bands averaged into
one layer, as the paper reduces R, G, B to one layer), or a list of any of these
(one image each). Inputs are never modified. Used by the metrics and the figures.
"""

import warnings
from collections.abc import Mapping

import numpy as np
from astropy import units as u
from astropy.nddata import NDData

from ..exceptions import InvalidDataError, MetricError, ShapeMismatchError

__all__ = ["as_stack"]


def _is_cutout(image):
    """Whether ``image`` is a multi-band `~survey2survey.io.Cutout` (checked by its interface)."""
    return isinstance(image, Mapping) and hasattr(image, "bands") and hasattr(image, "mask")


def _one_image(image, what):
    """One image as a float64 array, masked pixels NaN (may share memory: never write to it)."""
    if _is_cutout(image):
        data = image.data.astype(float)  # (nb, ny, nx), a new array
        data[image.mask] = np.nan
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Mean of empty slice",
                                    category=RuntimeWarning)
            return np.nanmean(data, axis=0)
    if isinstance(image, NDData):
        data = np.asarray(image.data, dtype=float)
        if image.mask is not None and np.any(image.mask):
            data = data.copy()
            data[np.broadcast_to(np.asarray(image.mask, dtype=bool), data.shape)] = np.nan
        return data
    if isinstance(image, u.Quantity):
        return np.asarray(image.value, dtype=float)
    try:
        return np.asarray(image, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"{what} cannot be read as an image ({type(image).__name__}): {exc}"
        raise MetricError(msg) from None


def as_stack(images, *, what="image", allow_nan=True):
    """
    Convert ``images`` into a float64 stack of shape ``(N, ny, nx)``, read-only use.

    Parameters
    ----------
    images : array-like, Quantity, NDData, Cutout or list of them
        One image (2-D) or a batch (3-D, or a list of 2-D images).
    what : str, optional
        Name used in error messages.
    allow_nan : bool, optional
        If False, any non-finite pixel raises `~survey2survey.exceptions.MetricError`.

    Returns
    -------
    stack : `~numpy.ndarray`
        Float64 array ``(N, ny, nx)``; non-finite and masked pixels are NaN. It
        may share memory with ``images`` (no copy for float64 arrays): read only.
    single : bool
        True when a single image was given (callers return scalars then).

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        When the images of a list differ in shape.
    survey2survey.exceptions.InvalidDataError
        When the data are not 2-D / 3-D or empty.
    survey2survey.exceptions.MetricError
        When an image has no finite pixel (or any non-finite one with
        ``allow_nan=False``).
    """
    if isinstance(images, Mapping) and not _is_cutout(images):
        msg = f"{what} must be an image or a sequence of images, not a mapping"
        raise MetricError(msg)
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            msg = f"{what} is an empty list"
            raise InvalidDataError(msg)
        parts = [_one_image(im, f"{what}[{k}]") for k, im in enumerate(images)]
        shapes = {p.shape for p in parts}
        if len(shapes) != 1:
            msg = f"the images of {what} differ in shape: {sorted(shapes)}"
            raise ShapeMismatchError(msg)
        if parts[0].ndim != 2:
            msg = f"each image of {what} must be 2-D, got shape {parts[0].shape}"
            raise InvalidDataError(msg)
        stack, single = np.stack(parts), False
    else:
        stack = _one_image(images, what)
        single = stack.ndim == 2
        if single:
            stack = stack[np.newaxis]
    if stack.ndim != 3:
        msg = f"{what} must be a 2-D image or a 3-D (N, ny, nx) batch, got shape {stack.shape}"
        raise InvalidDataError(msg)
    if stack.size == 0:
        msg = f"{what} is empty (shape {stack.shape})"
        raise InvalidDataError(msg)
    finite = np.isfinite(stack)
    if not finite.all():
        bad = np.flatnonzero(~finite.any(axis=(1, 2)))
        if bad.size:
            msg = f"{what} has no finite pixel (image(s) {bad[:5].tolist()} all NaN/inf)"
            raise MetricError(msg)
        if not allow_nan:
            msg = (f"{what} has {int((~finite).sum())} non-finite or masked pixel(s); "
                   f"this metric needs complete images")
            raise MetricError(msg)
        stack = np.where(finite, stack, np.nan)  # a new array: the input is never written
    return stack, single
