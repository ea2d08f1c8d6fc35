# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fixtures for the I/O tests: small images with a real TAN WCS."""

import numpy as np
import pytest
from astropy.wcs import WCS


def make_wcs(shape=(16, 20), scale_arcsec=0.396, ra=150.1, dec=2.2):
    """A north-up TAN WCS centred on (ra, dec) with an explicit CD matrix."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]
    scale = scale_arcsec / 3600
    wcs.wcs.cd = [[-scale, 0], [0, scale]]
    wcs.pixel_shape = shape[::-1]
    return wcs


@pytest.fixture
def wcs():
    """A 16x20 TAN WCS at SDSS pixel scale."""
    return make_wcs()


@pytest.fixture
def cube(wcs):
    """A (3, 16, 20) random image cube with its WCS."""
    rng = np.random.default_rng(3)
    return rng.normal(1.0, 0.1, (3, 16, 20)), wcs
