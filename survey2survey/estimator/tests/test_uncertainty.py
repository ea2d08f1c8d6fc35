# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Calibrated per-pixel uncertainty: the likelihood fit, the estimator verb, persistence."""

import warnings

import numpy as np
import pytest
from astropy.utils.exceptions import AstropyUserWarning

from survey2survey import Survey2Survey
from survey2survey.estimator._posterior import PosteriorModel
from survey2survey.estimator._uncertainty import UncertaintyModel
from survey2survey.exceptions import InvalidDataError, InvalidOptionError
from survey2survey.metrics import uncertainty_coverage


def test_likelihood_fit_recovers_known_scales():
    """Residuals with sigma**2 = (2 p)**2 + (3 s)**2 + t**2 give a = 2, k = 3."""
    rng = np.random.default_rng(0)
    shape = (40, 1, 32, 32)
    p = rng.uniform(0.5, 2.0, shape)
    s = rng.uniform(0.0, 1.0, shape)
    t = rng.uniform(0.5, 1.5, shape)
    residual = rng.normal(0, np.sqrt((2 * p) ** 2 + (3 * s) ** 2 + t ** 2))
    model = UncertaintyModel.fit(list(residual), list(t), list(p), list(s),
                                 list(np.zeros(shape, bool)))
    assert model.input_scale[0] == pytest.approx(2.0, rel=0.05)
    assert model.spread_scale[0] == pytest.approx(3.0, rel=0.05)
    restored = UncertaintyModel.from_dict(model.to_dict(), 1)
    assert np.array_equal(restored.apply(p[0], s[0]), model.apply(p[0], s[0]))
    with pytest.raises(ValueError, match="bands"):
        UncertaintyModel.from_dict(model.to_dict(), 3)
    with pytest.raises(ValueError, match="non-negative"):
        UncertaintyModel([-1.0], [0.0])


def test_too_few_pixels_refused():
    one = [np.zeros((1, 4, 4))]
    with pytest.raises(InvalidDataError, match="too few"):
        UncertaintyModel.fit(one, one, one, None, [np.zeros((1, 4, 4), bool)])


@pytest.fixture(scope="module")
def calibrated(learned, tmp_path_factory):
    """The learned estimator calibrated on half of its held-out pairs, saved and reloaded."""
    s2s, heldout = learned
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        s2s = Survey2Survey.load(s2s.save(tmp_path_factory.mktemp("cal") / "m.s2s"))
        s2s.calibrate_uncertainty(heldout[:16], progress=False)
        path = s2s.save(tmp_path_factory.mktemp("cal") / "calibrated.s2s")
    return s2s, Survey2Survey.load(path), heldout[16:]


def test_calibrated_uncertainty_covers_68_percent_of_the_truth(calibrated):
    """On pairs not used for calibration, |output - truth| < sigma for ~68% of pixels."""
    s2s, _, test = calibrated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        outputs = s2s.transform([p.source for p in test], uncertainty=True, progress=False)
    def planes(arrays):
        return np.concatenate(arrays)  # every band of every cutout, (N * C, ny, nx)

    coverage, spread = uncertainty_coverage(
        planes([o.data for o in outputs]), planes([p.target_truth.data for p in test]),
        planes([o.uncertainty_array for o in outputs]))
    assert 0.6 < coverage < 0.76, coverage
    assert 0.7 < spread < 1.3, spread
    assert isinstance(s2s.uncertainty_model_, PosteriorModel)


def test_calibration_is_saved_and_hashed(calibrated):
    s2s, loaded, test = calibrated
    assert loaded.uncertainty_model_.to_dict() == s2s.uncertainty_model_.to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        a = s2s.transform(test[0].source, uncertainty=True, progress=False)
        b = loaded.transform(test[0].source, uncertainty=True, progress=False)
    assert np.array_equal(a.uncertainty_array, b.uncertainty_array)
    assert a.meta["S2SHASH"] == b.meta["S2SHASH"]


def test_uncalibrated_model_without_dropout_needs_dropout(learned):
    """Without calibration the uncertainty is the MC-dropout spread, which needs dropout."""
    s2s, heldout = learned
    with pytest.raises(Exception, match="dropout"):
        s2s.transform(heldout[0].source, uncertainty=True, progress=False)


def test_calibration_refusals(learned, pairs):
    s2s, heldout = learned
    no_sigma = [p.target.with_data(p.target.data, uncertainty=None) for p in heldout[:4]]
    with pytest.raises(InvalidDataError, match="uncertainty"):
        s2s.calibrate_uncertainty([p.source for p in heldout[:4]], no_sigma, progress=False)
    paper = Survey2Survey(mode="paper", epochs=1).fit(pairs[:4], validation=0,
                                                      progress=False)
    with pytest.raises(InvalidOptionError, match="flux"):
        paper.calibrate_uncertainty(pairs[4:8], progress=False)
