# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The paper's image pipeline: Lupton RGB 8-bit composites in, 8-bit out, one averaged layer.

Buncher, Sharma & Carrasco Kind (2021) trained on three-channel 8-bit
composites (g, r, i as blue, green, red, combined with the Lupton et al. 2004
asinh prescription), compared 8-bit reconstructions and reduced every image to
one layer by averaging R, G and B before measuring anything. These helpers
reproduce that exactly, with `~survey2survey.visualization.lupton_rgb` making
the composites; ``Survey2Survey(mode="paper")`` uses them through its codec.
The calibrated-flux pipeline (the default ``mode="flux"``) does not go
through 8 bits.
"""

import numpy as np

from ..exceptions import BandMismatchError, InvalidDataError, ShapeMismatchError

__all__ = ["PAPER_STRETCH", "PAPER_Q", "to_nanomaggies", "composite_to_array",
           "array_to_composite", "average_layer"]

PAPER_STRETCH = 0.5
"""Default linear stretch of the composites, in AB nanomaggies per pixel."""

PAPER_Q = 8.0
"""Default asinh softening ``Q`` of the composites (the Lupton et al. 2004 default)."""


def to_nanomaggies(data, survey, bands):
    """
    Convert ``(..., n_bands, ny, nx)`` fluxes in ``survey``'s unit to AB nanomaggies.

    Composites of both surveys are then made with one physical stretch, as the
    paper's composites were built "to closely match the SDSS colors".

    Parameters
    ----------
    data : array-like
        Fluxes in ``survey.flux_unit``.
    survey : `~survey2survey.surveys.Survey`
        The survey the fluxes come from.
    bands : sequence of str
        The band of each channel (their zero points are used).

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.surveys import DES
    >>> from survey2survey.estimator._paper import to_nanomaggies
    >>> float(to_nanomaggies(np.full((1, 1, 1), 1000.0), DES, 'r')[0, 0, 0])
    1.0
    """
    data = np.asarray(data, dtype=float)
    bands = tuple(bands)
    if data.ndim < 3 or data.shape[-3] != len(bands):
        msg = f"data of shape {data.shape} does not hold the {len(bands)} band(s) {list(bands)}"
        raise BandMismatchError(msg)
    factors = np.array([survey.maggies_per_unit(b) * 1e9 for b in bands])
    return data * factors[:, np.newaxis, np.newaxis]


def composite_to_array(rgb):
    """
    Network input from 8-bit composites: float32 ``(..., 3, ny, nx)`` in [0, 1], bands g, r, i.

    ``rgb`` is ``(..., ny, nx, 3)`` uint8 as returned by `lupton_composite`
    (red, green, blue), so the channel order is reversed to blue-first to match
    the band order.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.estimator._paper import composite_to_array
    >>> composite_to_array(np.full((2, 2, 3), 255, dtype=np.uint8)).shape
    (3, 2, 2)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        msg = f"an RGB composite must have shape (..., ny, nx, 3), got {rgb.shape}"
        raise ShapeMismatchError(msg)
    return (np.moveaxis(rgb, -1, -3)[..., ::-1, :, :] / 255.0).astype(np.float32)


def array_to_composite(values):
    """
    8-bit composite ``(..., ny, nx, 3)`` (red first) from network output ``(..., 3, ny, nx)``.

    Values are clipped to [0, 1], scaled by 255 and rounded, as when the paper
    saved its reconstructions as 8-bit images.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.estimator._paper import array_to_composite, composite_to_array
    >>> rgb = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    >>> bool((array_to_composite(composite_to_array(rgb)) == rgb).all())
    True
    """
    values = np.asarray(values, dtype=float)
    if values.ndim < 3 or values.shape[-3] != 3:
        msg = f"network output must have shape (..., 3, ny, nx), got {values.shape}"
        raise ShapeMismatchError(msg)
    values = np.nan_to_num(values, nan=0.0)
    scaled = np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.moveaxis(scaled[..., ::-1, :, :], -3, -1)


def average_layer(rgb):
    """
    The paper's single analysis layer: the mean of the R, G and B values (0-255), float64.

    Parameters
    ----------
    rgb : array-like, shape ``(..., ny, nx, 3)``
        8-bit composites.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.estimator._paper import average_layer
    >>> rgb = np.zeros((2, 2, 3), dtype=np.uint8); rgb[..., 0] = 255
    >>> float(average_layer(rgb)[0, 0])
    85.0
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        msg = f"an RGB composite must have shape (..., ny, nx, 3), got {rgb.shape}"
        raise ShapeMismatchError(msg)
    if rgb.size == 0:
        msg = "an empty composite has no average layer"
        raise InvalidDataError(msg)
    return rgb.astype(float).mean(axis=-1)
