# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Aperture weights shared by the photometric and truth-based metrics.

The weights of a circle, or of the apertures of a photutils radial profile or
curve of growth, are computed once per image shape with photutils (exact
overlap) and applied to a whole ``(N, ny, nx)`` batch with one matrix product.
"""

from functools import lru_cache

import numpy as np
from photutils.aperture import CircularAperture
from scipy import sparse

__all__ = ["circle_weights", "profile_matrix", "weighted_sums", "scalar_or_array"]


@lru_cache(maxsize=32)
def circle_weights(shape, center, radius, method):
    """Flattened photutils aperture weights of one circle (exact pixel overlap)."""
    mask = CircularAperture(center, r=radius).to_mask(method=method)
    weights = mask.to_image(shape).ravel()
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=16)
def profile_matrix(shape, center, edges, kind):
    """
    The apertures of a `photutils.profiles.RadialProfile` (``kind='radial'``: the central
    disc and the annuli between ``edges``) or `photutils.profiles.CurveOfGrowth`
    (``'growth'``: circles of radius ``edges[1:]``) as sparse ``(n, ny*nx)`` exact-overlap
    weights, with photutils' ``radius`` of the profile: applied to a whole batch at once,
    they give what those classes give image by image.
    """
    from photutils.profiles import CurveOfGrowth, RadialProfile

    zeros = np.zeros(shape)
    radii = np.asarray(edges, dtype=float)
    profile = (RadialProfile(zeros, center, radii) if kind == "radial"
               else CurveOfGrowth(zeros, center, radii[1:]))
    rows = np.array([aperture.to_mask(method="exact").to_image(shape).ravel()
                     for aperture in profile.apertures])
    rows[np.abs(rows) < 1e-14] = 0.0
    radius = np.array(profile.radius, dtype=float)
    radius.setflags(write=False)
    return sparse.csr_matrix(rows), radius


def weighted_sums(stack, weights):
    """``sum(w * x)`` per image, NaN pixels left out."""
    flat = stack.reshape(len(stack), -1)
    if np.isnan(flat).any():
        flat = np.nan_to_num(flat, nan=0.0)
    return flat @ weights


def scalar_or_array(values, single):
    """A float for a single image's result, the ``(N,)`` array for a batch."""
    return float(values[0]) if single else values
