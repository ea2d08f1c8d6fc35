# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Synthetic cutouts for the alignment tests: analytic Gaussian sources on TAN WCSs."""

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS

from survey2survey.io import read_cutout

#: sky position every test grid is centred on
CENTRE = SkyCoord(150.0, 2.0, unit="deg")
#: a source position off the grid centre and off the pixel grid
SOURCE = SkyCoord(150.0 + 1.3 / 3600, 2.0 - 0.7 / 3600, unit="deg")
DES_SCALE, SDSS_SCALE = 0.263, 0.396
#: grids covering about the same 25" on the sky
DES_SHAPE, SDSS_SHAPE = (96, 96), (64, 64)


def make_wcs(scale, shape, *, rotation=0.0, flip=False, centre=CENTRE):
    """A TAN WCS of ``scale`` arcsec/pix centred on ``centre``, rotated (deg) and/or flipped."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [centre.ra.deg, centre.dec.deg]
    wcs.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]
    theta = np.deg2rad(rotation)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cd = rot @ np.diag([-scale / 3600, scale / 3600])
    if flip:
        cd = cd @ np.diag([-1.0, 1.0])
    wcs.wcs.cd = cd
    wcs.pixel_shape = shape[::-1]
    return wcs


def gaussian_image(wcs, shape, *, position=SOURCE, sigma=1.5, flux=100.0):
    """A circular Gaussian of ``sigma`` arcsec at sky ``position``, summing to ``flux``."""
    x0, y0 = wcs.world_to_pixel(position)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    offsets = wcs.pixel_scale_matrix @ np.vstack([(x - x0).ravel(), (y - y0).ravel()]) * 3600
    image = np.exp(-(offsets ** 2).sum(axis=0) / (2 * sigma ** 2)).reshape(shape)
    return flux * image / image.sum()


def make_cutout(scale, shape, *, bands="r", unit="nmgy", sigma=1.5, flux=100.0, **wcs_kwargs):
    """A cutout with the same Gaussian source in every band."""
    wcs = make_wcs(scale, shape, **wcs_kwargs)
    image = gaussian_image(wcs, shape, sigma=sigma, flux=flux)
    return read_cutout((np.stack([image] * len(bands)), wcs), bands=bands, unit=unit)


@pytest.fixture
def des_cutout():
    """A one-band 96x96 cutout at DES pixel scale holding a 100 nmgy Gaussian."""
    return make_cutout(DES_SCALE, DES_SHAPE)


@pytest.fixture
def sdss_grid():
    """A 64x64 SDSS-scale (WCS, shape) grid on the same sky area."""
    return make_wcs(SDSS_SCALE, SDSS_SHAPE), SDSS_SHAPE
