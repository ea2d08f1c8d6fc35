# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the photometric-fidelity measurements."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey2survey.exceptions import MetricError
from survey2survey.metrics import (
    aperture_magnitude_errors,
    fidelity_summary,
    point_source_residuals,
    uncertainty_coverage,
)


def _gaussians(n, fluxes, sigma=2.0, size=41):
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    profile = np.exp(-(x ** 2 + y ** 2) / (2 * sigma ** 2))
    profile /= profile.sum()
    return np.array([f * profile for f in fluxes[:n]])


def test_magnitude_errors_of_a_known_bias_and_blur():
    """A 5% brighter copy is -0.053 mag everywhere; a blurred one loses core flux only."""
    truth = _gaussians(3, [100.0, 200.0, 400.0])
    errors = aperture_magnitude_errors(1.05 * truth, truth, [2, 5, 15])
    assert errors.shape == (3, 3)
    assert_allclose(errors, -2.5 * np.log10(1.05), atol=1e-9)
    blurred = _gaussians(3, [100.0, 200.0, 400.0], sigma=3.0)
    errors = aperture_magnitude_errors(blurred, truth, [2, 15])
    assert (errors[:, 0] > 0.2).all() and (np.abs(errors[:, 1]) < 0.01).all()


def test_summary_bias_nmad_groups_and_failures():
    """Bias is the median, scatter the NMAD; non-positive fluxes are counted, not averaged."""
    rng = np.random.default_rng(1)
    errors = np.column_stack([rng.normal(0.02, 0.01, 2000), rng.normal(-0.01, 0.05, 2000)])
    errors[0, 0] = np.nan
    bright = np.arange(2000) < 1000
    table = fidelity_summary(errors, ["4as", "8as"], groups={"bright": bright, "faint": ~bright})
    assert list(table["group"]) == ["all", "bright", "faint"] * 2
    row = table[(table["aperture"] == "4as") & (table["group"] == "all")][0]
    assert row["n"] == 1999 and row["n_failed"] == 1
    assert_allclose(row["bias"], 0.02, atol=2e-3)
    assert_allclose(row["nmad"], 0.01, rtol=0.1)
    with pytest.raises(MetricError, match="names"):
        fidelity_summary(errors, ["only one"])
    with pytest.raises(MetricError, match="selects"):
        fidelity_summary(errors, groups={"bad": [True, False]})


def test_point_source_residuals():
    """Residuals are relative to each star's true peak; cores off the image give NaN."""
    truth = _gaussians(2, [100.0, 100.0], sigma=1.0)
    image = truth.copy()
    image[1] *= 0.9
    ratios = point_source_residuals(image, truth, [(0, 20, 20), (1, 20, 20), (0, 0.5, 20)])
    assert_allclose(ratios[:2], [0.0, 0.1], atol=1e-12)
    assert np.isnan(ratios[2])


def test_uncertainty_coverage_detects_miscalibration():
    """Calibrated sigmas cover 68%; sigmas twice too small cover far less."""
    rng = np.random.default_rng(2)
    truth = np.zeros((10, 32, 32))
    image = truth + rng.normal(0, 1.0, truth.shape)
    coverage, spread = uncertainty_coverage(image, truth, np.ones_like(truth))
    assert abs(coverage - 0.683) < 0.02 and abs(spread - 1) < 0.05
    coverage, spread = uncertainty_coverage(image, truth, 0.5 * np.ones_like(truth))
    assert coverage < 0.45 and abs(spread - 2) < 0.1
    with pytest.raises(MetricError, match="positive uncertainty"):
        uncertainty_coverage(image, truth, np.zeros_like(truth))
