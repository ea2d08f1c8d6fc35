# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Regression tests for estimator edge cases: refits, scoring, same-survey pairs, files."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey import Survey2Survey
from survey2survey.estimator import _inputs
from survey2survey.exceptions import InvalidOptionError, NotFittedError, TrainingDataError
from survey2survey.io import write_cutout

from .conftest import N_TRAIN


def _small(**kwargs):
    return Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, seed=2, **kwargs)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
def test_failed_refit_keeps_the_previous_model(pairs):
    """A refit that fails while training leaves the previous fitted model whole and in use."""
    s2s = _small().fit(pairs[:6], validation=0, progress=False)
    before = s2s.transform(pairs[N_TRAIN].source).data
    codec = s2s.codec_.to_dict()
    with pytest.raises(TrainingDataError):
        s2s.fit(pairs[:2], validation=0.99, progress=False)
    assert s2s.is_fitted and s2s.codec_.to_dict() == codec
    assert_array_equal(s2s.transform(pairs[N_TRAIN].source).data, before)
    with pytest.raises(NotFittedError):
        _small().transform(pairs[N_TRAIN].source)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
def test_score_on_pairs_with_target_output_grid(pairs):
    """score takes a SurveyPairs alone and compares on the source grid for any output_grid."""
    s2s = _small(output_grid="target").fit(pairs[:6], validation=0, progress=False)
    table = s2s.score_table(pairs[N_TRAIN:N_TRAIN + 2])
    assert len(table) == 2 and 0 < s2s.score(pairs[N_TRAIN:N_TRAIN + 2]) <= 1
    assert s2s.transform(pairs[N_TRAIN].source).shape != pairs[N_TRAIN].source.shape


def test_same_survey_targets_use_the_target_noise_scale(pairs):
    """With one Survey on both sides, training targets are still scaled by the target noise."""
    sources = [p.source for p in pairs[:6]]
    brighter = [c.with_data(10 * c.data) for c in sources]
    s2s = Survey2Survey("aecnn", source="sdss", target="sdss", bands="r", epochs=1, seed=2)
    s2s.fit(sources, brighter, validation=0, progress=False)
    y = brighter[0].select("r").data
    codec = s2s.codec_
    assert_allclose(codec.encode_target(y), (y / codec.tau[:, None, None]).astype(np.float32))
    assert_allclose(codec.tau, 10 * codec.sigma, rtol=0.05)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
def test_mc_dropout_uncertainty_is_reproducible(pairs):
    """Two identical uncertainty requests give identical spreads."""
    s2s = _small(dropout=0.2).fit(pairs[:6], validation=0, progress=False)
    first = s2s.transform(pairs[N_TRAIN].source, uncertainty=True, n_samples=4)
    again = s2s.transform(pairs[N_TRAIN].source, uncertainty=True, n_samples=4)
    assert_array_equal(first["r"].uncertainty.array, again["r"].uncertainty.array)


def test_compressed_fits_in_directories_are_found(pairs, tmp_path):
    """.fits.gz and .fits.fz files in an input directory are inputs too."""
    write_cutout(pairs[0].source, tmp_path / "a.fits.gz")
    write_cutout(pairs[1].source, tmp_path / "b.fits")
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in _inputs.as_list(tmp_path, "inputs")] == ["a.fits.gz", "b.fits"]


def test_paper_mode_refuses_target_grid(pairs):
    """8-bit composites cannot be resampled flux-conservingly: refused, not ignored."""
    with pytest.raises(InvalidOptionError, match="output_grid='source'"):
        Survey2Survey("aecnn", mode="paper", output_grid="target").fit(pairs[:2])
