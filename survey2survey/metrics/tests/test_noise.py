# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Noise statistics: power spectrum, empty-aperture noise, aperture coverage."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from survey2survey.exceptions import MetricError
from survey2survey.metrics import aperture_coverage, empty_aperture_noise, noise_power_spectrum


@pytest.fixture
def white():
    return np.random.default_rng(0).normal(0, 2, (6, 64, 64))


def test_white_noise_has_a_flat_spectrum_and_correlated_noise_does_not(white):
    assert np.allclose(noise_power_spectrum(white, scales=(2, 4, 8, 16)), 4.0, rtol=0.12)
    smooth = np.stack([gaussian_filter(w, 1.0) for w in white])
    power = noise_power_spectrum(smooth, scales=(2, 4, 8, 16))
    assert power[0] < 0.2 * power[-1]


def test_masked_pixels_are_left_out(white):
    polluted = white.copy()
    polluted[:, 20:30, 20:30] += 500.0
    mask = np.zeros(white.shape, bool)
    mask[:, 20:30, 20:30] = True
    clean = noise_power_spectrum(polluted, mask=mask, scales=(4, 8))
    assert np.allclose(clean, 4.0, rtol=0.2)
    noise = empty_aperture_noise(polluted, [3.0], mask=mask)
    assert noise[0] == pytest.approx(2.0 * np.sqrt(np.pi * 9), rel=0.15)


def test_correlated_noise_has_more_aperture_noise(white):
    smooth = np.stack([gaussian_filter(w, 1.0) for w in white])
    smooth *= 2.0 / smooth.std()  # same pixel variance as white
    assert np.all(empty_aperture_noise(smooth, [2, 4]) > 1.5 * empty_aperture_noise(white,
                                                                                      [2, 4]))


def test_bad_arguments_are_refused(white):
    with pytest.raises(MetricError, match="scales"):
        noise_power_spectrum(white, scales=(1,))
    with pytest.raises(MetricError, match="radii"):
        empty_aperture_noise(white, [0])
    with pytest.raises(MetricError, match="one shape"):
        aperture_coverage([1, 2], [1])
    with pytest.raises(MetricError, match="no error"):
        aperture_coverage([1.0], [0.0])
    assert np.isnan(empty_aperture_noise(white, [2], mask=np.ones(white.shape, bool))[0])
