# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Aperture weights shared by the photometric and truth-based metrics.

The weights of a circle or a set of annuli are computed once per image shape
with photutils (`~photutils.aperture.CircularAperture`, exact overlap) and
applied to a whole ``(N, ny, nx)`` batch with one matrix product.
"""

from functools import lru_cache

import numpy as np
from photutils.aperture import CircularAperture
from scipy import sparse

__all__ = ["circle_weights", "annulus_matrix", "weighted_sums", "scalar_or_array"]


@lru_cache(maxsize=32)
def circle_weights(shape, center, radius, method):
    """Flattened photutils aperture weights of one circle (exact pixel overlap)."""
    mask = CircularAperture(center, r=radius).to_mask(method=method)
    weights = mask.to_image(shape).ravel()
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=16)
def annulus_matrix(shape, center, edges):
    """Sparse ``(n_annuli, ny*nx)`` weights: circle(edges[k+1]) - circle(edges[k])."""
    rows = []
    previous = np.zeros(shape[0] * shape[1])
    for radius in edges:
        current = previous if radius == 0 else circle_weights(shape, center, radius, "exact")
        if radius != edges[0]:
            rows.append(current - previous)
        previous = current
    matrix = np.array(rows)
    matrix[np.abs(matrix) < 1e-14] = 0.0
    return sparse.csr_matrix(matrix)


def weighted_sums(stack, weights):
    """``sum(w * x)`` per image, NaN pixels left out."""
    flat = stack.reshape(len(stack), -1)
    if np.isnan(flat).any():
        flat = np.nan_to_num(flat, nan=0.0)
    return flat @ weights


def scalar_or_array(values, single):
    """A float for a single image's result, the ``(N,)`` array for a batch."""
    return float(values[0]) if single else values
