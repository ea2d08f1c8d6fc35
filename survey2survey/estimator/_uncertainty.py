# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The calibrated per-pixel uncertainty of a translation (flux mode).

The spread of an ensemble or of MC-dropout samples says how unsure the network
is, not how far its output lies from the sky: most of a translation's error is
the input's own noise, which the flux-conserving head passes through. So the
output uncertainty is modelled, per band, as::

    sigma_out**2 = (a * A * sigma_in)**2 + (k * spread)**2

with ``sigma_in`` the input's uncertainty (or its background noise), ``A`` the
unit conversion and ``(a, k)`` fitted on the residuals ``translation -
target`` of held-out pairs, whose variance also holds the target's own noise
``sigma_target**2``: the Gaussian likelihood fixes ``a / k``, then a common
factor makes 68.27% of the residuals fall within their sigma. Against the
noise-free sky the calibrated sigma then covers about 68% of the pixels
(measured by ``benchmarks/bench_fidelity.py``).
"""

import numpy as np
from astropy.stats import mad_std
from scipy.optimize import minimize

from ..exceptions import InvalidDataError

__all__ = ["UncertaintyModel", "input_noise", "uncertainty_model_from_dict"]

#: pixels per band used in the likelihood fit (a random subset beyond this)
MAX_PIXELS = 400_000
#: the fraction of a Gaussian within one sigma
GAUSSIAN_COVERAGE = 0.6827


def uncertainty_model_from_dict(state, n_bands):
    """
    The calibrated uncertainty model of an archive's state (None: none).

    Archives since 0.3 hold a `~survey2survey.estimator._posterior.PosteriorModel`
    (``kind: posterior``); older ones the per-pixel `UncertaintyModel`, still
    used as it was calibrated.
    """
    if state is None:
        return None
    if state.get("kind") == "posterior":
        from ._posterior import PosteriorModel

        return PosteriorModel.from_dict(state, n_bands)
    return UncertaintyModel.from_dict(state, n_bands)


def input_noise(cutout):
    """
    ``(C, H, W)`` 1-sigma noise of an input in its own unit.

    Its uncertainty where it has one (NaN where it is NaN: an unknown
    noise is never taken for none), else each band's robust background
    noise (`~astropy.stats.mad_std` of the unmasked pixels) everywhere.
    """
    sigma = cutout.uncertainty_array
    if sigma is not None:
        return np.asarray(sigma, dtype=float).copy()
    data = np.asarray(cutout.data, dtype=float)
    good = ~np.asarray(cutout.mask, dtype=bool) & np.isfinite(data)
    noise = [mad_std(band[keep]) if keep.any() else 0.0 for band, keep in zip(data, good,
                                                                               strict=True)]
    return np.broadcast_to(np.array(noise)[:, None, None], data.shape).copy()


class UncertaintyModel:
    """
    ``sigma_out = hypot(a * propagated_input_noise, k * spread)`` per band.

    Parameters
    ----------
    input_scale, spread_scale : sequence of float
        ``a`` and ``k`` per band.
    """

    def __init__(self, input_scale, spread_scale):
        self.input_scale = _scales(input_scale, "input_scale")
        self.spread_scale = _scales(spread_scale, "spread_scale")
        if self.input_scale.shape != self.spread_scale.shape:
            msg = "input_scale and spread_scale need one value per band each"
            raise ValueError(msg)

    def __repr__(self):
        return (f"UncertaintyModel(input_scale={self.input_scale.round(4).tolist()}, "
                f"spread_scale={self.spread_scale.round(4).tolist()})")

    def apply(self, input_noise, spread):
        """``(C, H, W)`` uncertainty from the propagated input noise and the spread (or None)."""
        a = self.input_scale[:, None, None]
        variance = (a * np.asarray(input_noise, dtype=float)) ** 2
        if spread is not None:
            variance = variance + (self.spread_scale[:, None, None] * spread) ** 2
        return np.sqrt(variance)

    @classmethod
    def fit(cls, residuals, target_sigma, input_noise, spreads, masks, *, seed=0):
        """
        Maximum-likelihood ``(a, k)`` per band from lists of ``(C, H, W)`` arrays.

        ``residuals`` are translation minus target, ``target_sigma`` the
        target's own noise, ``input_noise`` the propagated input noise and
        ``spreads`` the model spread (None: ``k`` stays 0); ``masks`` are True
        where a pixel is not used.
        """
        rng = np.random.default_rng(seed)
        n_bands = residuals[0].shape[0]
        a, k = np.zeros(n_bands), np.zeros(n_bands)
        for band in range(n_bands):
            def flat(arrays, band=band):
                return None if arrays is None else np.concatenate(
                    [np.asarray(x[band], dtype=float).ravel() for x in arrays])

            r, t, p, s = (flat(x) for x in (residuals, target_sigma, input_noise, spreads))
            good = (~flat(masks).astype(bool) & np.isfinite(r) & np.isfinite(t)
                    & np.isfinite(p))
            index = np.flatnonzero(good)
            if len(index) < 100:
                msg = "too few unmasked pixels to calibrate the uncertainty"
                raise InvalidDataError(msg)
            if len(index) > MAX_PIXELS:
                index = rng.choice(index, MAX_PIXELS, replace=False)
            a[band], k[band] = _maximum_likelihood(
                r[index], t[index], p[index], None if s is None else s[index])
        return cls(a, k)

    def to_dict(self):
        return {"input_scale": self.input_scale.tolist(),
                "spread_scale": self.spread_scale.tolist()}

    @classmethod
    def from_dict(cls, state, n_bands):
        model = cls(state["input_scale"], state["spread_scale"])
        if len(model.input_scale) != n_bands:
            msg = f"the uncertainty model has {len(model.input_scale)} bands, not {n_bands}"
            raise ValueError(msg)
        return model


def _scales(values, name):
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
        msg = f"{name} must be finite non-negative numbers, got {values.tolist()}"
        raise ValueError(msg)
    return values


def _maximum_likelihood(residual, target_sigma, input_noise, spread):
    """
    ``(a, k)`` for ``residual`` (k = 0 without spread): the Gaussian likelihood fixes
    their ratio, then one common factor makes 68.27% of the residuals fall within
    their sigma (the errors of a translation have heavier tails than a Gaussian, which
    the likelihood alone answers with too wide an uncertainty for most pixels).
    """
    floor = 1e-12 * max(float(np.mean(residual ** 2)), 1e-300)
    t2, p2 = target_sigma ** 2, input_noise ** 2
    s2 = None if spread is None or not np.any(spread > 0) else spread ** 2

    def model_variance(log_scales):
        variance = np.exp(log_scales[0]) * p2
        if s2 is not None:
            variance = variance + np.exp(log_scales[1]) * s2
        return variance

    def negative_log_likelihood(log_scales):
        variance = t2 + model_variance(log_scales) + floor
        return float(np.mean(np.log(variance) + residual ** 2 / variance))

    start = np.zeros(2 if s2 is not None else 1)
    result = minimize(negative_log_likelihood, start, method="Nelder-Mead",
                      options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": 400})
    shape = model_variance(result.x)
    squared = residual ** 2

    def coverage(factor):
        return float(np.mean(squared < t2 + factor ** 2 * shape))

    low, high = 0.0, 1.0
    if coverage(low) >= GAUSSIAN_COVERAGE:
        factor = 0.0
    else:
        while coverage(high) < GAUSSIAN_COVERAGE and high < 1e6:
            high *= 2
        for _ in range(50):
            middle = 0.5 * (low + high)
            low, high = (middle, high) if coverage(middle) < GAUSSIAN_COVERAGE else (low, middle)
        factor = high
    scales = factor * np.sqrt(np.exp(result.x))
    return float(scales[0]), float(scales[1]) if s2 is not None else 0.0
