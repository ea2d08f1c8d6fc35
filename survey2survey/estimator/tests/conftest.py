# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fixtures for the estimator tests: tiny simulated pairs and one small fitted estimator."""

import numpy as np
import pytest
from astropy.nddata import CCDData

from survey2survey.tests.helpers import make_wcs as _make_wcs

N_TRAIN = 12
N_TEST = 6
SIZE = 40
BIG = 96
N_LEARN = 48

# Small settings that learn the SDSS -> DES look (mostly: denoising) in seconds on 2 cores.
FAST = dict(epochs=4, batch_size=8, seed=0)


def make_wcs(shape=(40, 40), *args, **kwargs):
    """A north-up TAN WCS at the SDSS pixel scale (40x40 by default)."""
    return _make_wcs(shape, *args, **kwargs)


@pytest.fixture(scope="session")
def pairs():
    """Simulated SDSS/DES pairs: 40x40 SDSS cutouts, DES on its native grid."""
    from survey2survey.datasets import make_survey_pairs

    return make_survey_pairs(N_TRAIN + N_TEST, source_size=SIZE, seed=3, processes=1,
                             progress=False)


@pytest.fixture(scope="session")
def big_pairs():
    """Simulated SDSS/DES pairs with 96x96 SDSS cutouts (sky around the galaxies)."""
    from survey2survey.datasets import make_survey_pairs

    return make_survey_pairs(N_TRAIN + N_TEST, source_size=BIG, seed=3, processes=1,
                             progress=False)


@pytest.fixture(scope="session")
def learned():
    """
    The default estimator trained on 48 simulated pairs of 40x40 (12 epochs, ~15 s), with
    32 held-out pairs; targets rendered on the SDSS grid, so truths need no alignment.
    """
    from survey2survey import Survey2Survey
    from survey2survey.datasets import make_survey_pairs

    train = make_survey_pairs(48, source_size=SIZE, seed=11, target_grid="source",
                              processes=1, progress=False)
    heldout = make_survey_pairs(32, source_size=SIZE, seed=12, target_grid="source",
                                processes=1, progress=False)
    s2s = Survey2Survey("aecnn", epochs=12, batch_size=8, seed=0)
    return s2s.fit(train, validation=0.1, progress=False), heldout


@pytest.fixture(scope="session")
def fitted(big_pairs):
    """A small AECNN estimator (paper optimiser, 4 epochs) fitted on the 96x96 training pairs."""
    from survey2survey import Survey2Survey

    s2s = Survey2Survey("aecnn", **FAST)
    return s2s.fit(big_pairs[:N_TRAIN], validation=0, progress=False)


@pytest.fixture
def ccd_r():
    """A single-band r CCDData in nanomaggies with a WCS."""
    rng = np.random.default_rng(1)
    return CCDData(rng.normal(0, 0.03, (40, 40)) + 0.5, unit="nmgy", wcs=make_wcs(),
                   meta={"FILTER": "r"})
