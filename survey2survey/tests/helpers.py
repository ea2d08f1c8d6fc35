# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Helpers shared by the test suites of several subpackages."""

from astropy.wcs import WCS

__all__ = ["make_wcs"]


def make_wcs(shape=(16, 20), scale_arcsec=0.396, ra=150.1, dec=2.2):
    """A north-up TAN WCS of ``shape`` centred on (ra, dec) with an explicit CD matrix."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]
    scale = scale_arcsec / 3600
    wcs.wcs.cd = [[-scale, 0], [0, scale]]
    wcs.pixel_shape = shape[::-1]
    return wcs
