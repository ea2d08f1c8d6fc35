# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Small simulated pairs shared by the dataset tests."""

import pytest

pytest.importorskip("galsim")


@pytest.fixture(scope="session")
def small_pairs():
    """Three tiny gri training pairs (32x32 SDSS, 48x48 DES)."""
    from survey2survey.datasets import make_survey_pairs

    return make_survey_pairs(3, bands="gri", seed=5, source_size=32, processes=1,
                             progress=False)
