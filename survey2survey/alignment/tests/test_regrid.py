# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of `survey2survey.alignment.regrid`."""

import astropy.units as u
import numpy as np
import pytest
from astropy.wcs import WCS
from numpy.testing import assert_allclose

from survey2survey.alignment import regrid
from survey2survey.alignment._grid import grid_centre
from survey2survey.exceptions import InputError, InvalidOptionError, UnitError
from survey2survey.io import read_cutout
from survey2survey.surveys import DES, SDSS
from survey2survey.utils._wcs import pixel_scale_arcsec

from .conftest import DES_SCALE, DES_SHAPE, SDSS_SCALE, SDSS_SHAPE, make_cutout

METHODS = ["adaptive", "exact", "interp"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("scale_in", "shape_in", "scale_out"), [
    (DES_SCALE, DES_SHAPE, SDSS_SCALE),
    (SDSS_SCALE, SDSS_SHAPE, DES_SCALE),
])
def test_regrid_keeps_centre_and_flux(method, scale_in, shape_in, scale_out):
    """The new grid has the requested scale, the same centre and the same total flux."""
    cutout = make_cutout(scale_in, shape_in, rotation=25)
    out = regrid(cutout, scale_out * u.arcsec / u.pix, method=method)
    wcs_in, wcs_out = cutout.wcs, out.wcs
    expected = tuple(round(n * scale_in / scale_out) for n in shape_in)
    assert out.shape == expected
    assert_allclose(pixel_scale_arcsec(wcs_out), scale_out, rtol=1e-9)
    separation = grid_centre(wcs_in, shape_in).separation(grid_centre(wcs_out, out.shape))
    assert separation < 1e-6 * u.arcsec
    # same orientation: the pixel matrices differ by the scale factor only
    assert_allclose(wcs_out.pixel_scale_matrix,
                    wcs_in.pixel_scale_matrix * scale_out / scale_in, atol=1e-15)
    assert abs(out.data.sum() / cutout.data.sum() - 1) < 0.01
    assert out.meta["PIXSCALE"] == scale_out and out.meta["ALIGNMTH"] == method


def test_regrid_accepts_surveys():
    """A Survey or a survey name gives its pixel scale."""
    cutout = make_cutout(DES_SCALE, DES_SHAPE)
    by_survey = regrid(cutout, SDSS)
    by_name = regrid(cutout, "sdss")
    by_angle = regrid(cutout, 0.396 * u.arcsec)
    assert by_survey.shape == by_name.shape == by_angle.shape == SDSS_SHAPE
    assert_allclose(by_survey.data, by_name.data)
    back = regrid(by_survey, DES)
    assert back.shape == DES_SHAPE


def test_regrid_keeps_pc_form_and_input():
    """A PC/CDELT WCS is scaled correctly and the input is not changed."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [10.0, -30.0]
    wcs.wcs.crpix = [3.0, 7.0]  # off-centre reference pixel
    wcs.wcs.cdelt = [-DES_SCALE / 3600, DES_SCALE / 3600]
    wcs.wcs.pc = [[0.8, -0.6], [0.6, 0.8]]
    data = np.random.default_rng(0).normal(size=(40, 50))
    cutout = read_cutout((data, wcs), bands="g", unit="ct")
    header = cutout["g"].wcs.to_header_string()
    out = regrid(cutout, 2 * DES_SCALE * u.arcsec / u.pix, method="exact")
    assert out.shape == (20, 25)
    centre_in = grid_centre(cutout.wcs, (40, 50))
    assert centre_in.separation(grid_centre(out.wcs, (20, 25))) < 1e-6 * u.arcsec
    assert_allclose(out.data.sum(), data.sum(), rtol=1e-6, atol=1e-6)
    assert cutout["g"].wcs.to_header_string() == header


@pytest.mark.parametrize(("pixel_scale", "error", "match"), [
    (0.396, UnitError, "Quantity in arcsec/pix"),
    (3 * u.m, UnitError, "angle per pixel"),
    (-0.3 * u.arcsec / u.pix, InputError, "positive"),
    ([0.2, 0.3] * u.arcsec / u.pix, InputError, "one positive"),
])
def test_regrid_bad_scale_raises(pixel_scale, error, match):
    """A pixel scale that is not one positive angle per pixel raises."""
    cutout = make_cutout(DES_SCALE, (16, 16))
    with pytest.raises(error, match=match):
        regrid(cutout, pixel_scale)


def test_regrid_bad_method_raises():
    """An unknown method raises InvalidOptionError."""
    with pytest.raises(InvalidOptionError, match="method"):
        regrid(make_cutout(DES_SCALE, (16, 16)), SDSS, method="spline")
