# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fixtures for the I/O tests: small images with a real TAN WCS."""

import numpy as np
import pytest

from survey2survey.tests.helpers import make_wcs


@pytest.fixture
def wcs():
    """A 16x20 TAN WCS at SDSS pixel scale."""
    return make_wcs()


@pytest.fixture
def cube(wcs):
    """A (3, 16, 20) random image cube with its WCS."""
    rng = np.random.default_rng(3)
    return rng.normal(1.0, 0.1, (3, 16, 20)), wcs
