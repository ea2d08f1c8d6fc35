# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the invertible asinh normalisation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey2survey.estimator._normalization import AsinhNormalizer
from survey2survey.exceptions import InvalidDataError, NotFittedError, ShapeMismatchError


def _flux(seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, [0.02, 0.03, 0.04], (8, 16, 16, 3)).transpose(0, 3, 1, 2)
    return noise + 50 * rng.random((8, 3, 16, 16)) ** 60


def test_flux_round_trip_is_exact():
    """inverse(transform(f)) returns the fluxes to 1e-6 relative."""
    flux = _flux()
    norm = AsinhNormalizer("gri").fit(flux)
    back = norm.inverse(norm.transform(flux))
    assert_allclose(back, flux, rtol=1e-6, atol=1e-12)
    assert_allclose(back.sum(axis=(-1, -2)), flux.sum(axis=(-1, -2)), rtol=1e-6)


def test_fitted_parameters_per_band():
    """beta follows each band's robust noise; the training data map to about [0, 1]."""
    flux = _flux()
    norm = AsinhNormalizer("gri").fit(flux)
    assert_allclose(norm.beta, [0.02, 0.03, 0.04], rtol=0.25)
    y = norm.transform(flux)
    assert 0.0 < np.percentile(y, 1) and np.percentile(y, 99) < 1.0


def test_json_round_trip():
    """Parameters survive to_json/from_json exactly."""
    norm = AsinhNormalizer("gri", margin=0.1).fit(_flux())
    again = AsinhNormalizer.from_json(norm.to_json())
    assert again == norm
    assert_allclose(again.transform(_flux(1)), norm.transform(_flux(1)), rtol=0, atol=0)


def test_mask_and_nan_ignored():
    """Masked and non-finite pixels do not change the fit; the input is not modified."""
    flux = _flux()
    dirty = flux.copy()
    dirty[0, :, :4, :4] = 1e6
    dirty[1, :, 0, 0] = np.nan
    mask = np.zeros(dirty.shape, bool)
    mask[0, :, :4, :4] = True
    before = dirty.copy()
    clean = AsinhNormalizer("gri").fit(flux[2:])
    fitted = AsinhNormalizer("gri").fit(dirty[2:], mask=mask[2:])
    assert fitted == clean
    AsinhNormalizer("gri").fit(dirty, mask=mask)
    assert_allclose(dirty, before, equal_nan=True)


def test_errors():
    """Unfitted use, wrong band counts and empty bands raise specific errors."""
    with pytest.raises(NotFittedError, match="not fitted"):
        AsinhNormalizer("gri").transform(_flux())
    with pytest.raises(ShapeMismatchError, match="3, ny, nx"):
        AsinhNormalizer("gri").fit(np.zeros((2, 2, 8, 8)))
    with pytest.raises(InvalidDataError, match="band 'r'"):
        bad = _flux()
        bad[:, 1] = np.nan
        AsinhNormalizer("gri").fit(bad)
    with pytest.raises(InvalidDataError, match="not a JSON"):
        AsinhNormalizer.from_json("{nope")
    with pytest.raises(ValueError, match="beta must be positive"):
        AsinhNormalizer("r", beta=[-1.0])
