# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Checks of the metrics' inputs: matching shapes, aperture centres and radii."""

import numpy as np

from ..exceptions import ApertureError, ShapeMismatchError
from ..utils._images import as_stack

__all__ = ["as_stack", "check_same_shape", "resolve_center", "check_aperture"]


def check_same_shape(a, b, *, names=("a", "b")):
    """Raise `~survey2survey.exceptions.ShapeMismatchError` unless two stacks have one shape."""
    if a.shape[1:] != b.shape[1:] or (a.shape[0] != b.shape[0]
                                      and 1 not in (a.shape[0], b.shape[0])):
        msg = (f"{names[0]} and {names[1]} must have the same shape, got "
               f"{a.shape if a.shape[0] > 1 else a.shape[1:]} and "
               f"{b.shape if b.shape[0] > 1 else b.shape[1:]}")
        raise ShapeMismatchError(msg)


def resolve_center(center, shape):
    """
    The aperture centre as an ``(x, y)`` float tuple (default: the image centre).

    The image centre is ``((nx - 1) / 2, (ny - 1) / 2)`` in the zero-based pixel
    convention of photutils (pixel centres at integers).
    """
    ny, nx = shape
    if center is None:
        return ((nx - 1) / 2.0, (ny - 1) / 2.0)
    try:
        x, y = (float(c) for c in center)
    except (TypeError, ValueError):
        msg = f"center must be an (x, y) pair of pixel coordinates, got {center!r}"
        raise ApertureError(msg) from None
    if not (np.isfinite(x) and np.isfinite(y)):
        msg = f"center must be finite, got {center!r}"
        raise ApertureError(msg)
    return (x, y)


def check_aperture(center, radius, shape, *, what="r_max"):
    """
    Raise `~survey2survey.exceptions.ApertureError` unless the circle lies in the image.

    The image spans ``-0.5 .. n - 0.5`` in each axis, so a radius of 75 pix
    about the centre of a 150x150 image fits exactly (the paper's aperture).
    """
    radius = float(radius)
    if not np.isfinite(radius) or radius <= 0:
        msg = f"{what} must be a positive radius in pixels, got {radius!r}"
        raise ApertureError(msg)
    ny, nx = shape
    x, y = center
    tol = 1e-9
    if (x - radius < -0.5 - tol or x + radius > nx - 0.5 + tol
            or y - radius < -0.5 - tol or y + radius > ny - 0.5 + tol):
        msg = (f"the aperture of radius {what}={radius:g} pix about (x, y)=({x:g}, {y:g}) "
               f"does not fit in the {ny}x{nx} image")
        raise ApertureError(msg)
    return radius
