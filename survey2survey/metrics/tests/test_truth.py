# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey2survey.exceptions import ShapeMismatchError
from survey2survey.metrics import (
    flux_error,
    magnitude_error,
    residual_rms,
    snr_gain,
    truth_signal_to_noise,
)


def _truth():
    y, x = np.mgrid[:32, :32]
    return 100.0 * np.exp(-((x - 15.5) ** 2 + (y - 15.5) ** 2) / 8.0)


def test_perfect_image():
    """The truth itself has zero errors and infinite truth S/N."""
    truth = _truth()
    assert flux_error(truth, truth, r_max=12) == 0.0
    assert magnitude_error(truth, truth, r_max=12) == 0.0
    assert residual_rms(truth, truth, r_max=12) == 0.0
    assert truth_signal_to_noise(truth, truth, r_max=12) == np.inf


def test_known_noise_scores():
    """White noise of sigma gives residual RMS sigma and the matching truth S/N."""
    rng = np.random.default_rng(0)
    truth = _truth()
    noisy = truth + rng.normal(0, 2.0, (5, 32, 32))
    rms = residual_rms(noisy, truth, r_max=15)
    assert rms.shape == (5,)
    assert_allclose(rms, 2.0, rtol=0.1)
    inside = np.hypot(*(np.mgrid[:32, :32] - 15.5)) <= 15
    expected = truth[inside].sum() / np.sqrt(((noisy[0] - truth)[inside] ** 2).sum())
    assert_allclose(truth_signal_to_noise(noisy, truth, r_max=15)[0], expected)
    less = truth + rng.normal(0, 1.0, (5, 32, 32))
    assert_allclose(np.median(snr_gain(less, truth, noisy, truth, r_max=15)), 2.0, rtol=0.15)


def test_flux_and_magnitude_error_scale():
    """A 10% brighter image has flux error 0.1 and magnitude error -2.5 log10(1.1)."""
    truth = _truth()
    assert_allclose(flux_error(1.1 * truth, truth, r_max=12), 0.1)
    assert_allclose(magnitude_error(1.1 * truth, truth, r_max=12), -2.5 * np.log10(1.1))


def test_shape_mismatch():
    """Image and truth of different shapes raise ShapeMismatchError."""
    with pytest.raises(ShapeMismatchError, match="image and truth"):
        residual_rms(np.ones((32, 32)), np.ones((30, 30)), r_max=5)
