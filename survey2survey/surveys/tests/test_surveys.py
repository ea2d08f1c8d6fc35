# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the survey descriptions and their registry."""

import astropy.units as u
import numpy as np
import pytest
from numpy.testing import assert_allclose

from survey2survey.exceptions import BandMismatchError, UnitError, UnknownSurveyError
from survey2survey.surveys import (
    DES,
    SDSS,
    Survey,
    available_surveys,
    get_survey,
    register_survey,
)


def _toy(name="TOY", **kwargs):
    params = dict(name=name, pixel_scale=0.2, bands="gr", zero_point={"g": 27, "r": 27},
                  flux_unit="ct", psf_fwhm={"g": 0.7, "r": 0.6},
                  sky_brightness={"g": 22, "r": 21}, noise_sigma={"g": 0.1, "r": 0.1},
                  depth={"g": 26, "r": 26})
    params.update(kwargs)
    return Survey(**params)


def test_builtin_values():
    """SDSS and DES carry the documented pixel scales, units and zero points."""
    assert SDSS.pixel_scale == 0.396 * u.arcsec / u.pix
    assert DES.pixel_scale == 0.263 * u.arcsec / u.pix
    assert SDSS.flux_unit == u.nmgy and SDSS.zero_point["r"] == 22.5
    assert DES.zero_point["i"] == 30
    assert DES.psf_fwhm["r"] == 0.95 * u.arcsec


def test_lookup_is_case_insensitive():
    """get_survey finds surveys whatever the case, and passes Survey objects through."""
    assert get_survey("sdss") is SDSS and get_survey("DeS") is DES and get_survey(SDSS) is SDSS
    with pytest.raises(UnknownSurveyError, match="unknown survey 'hst'.*DES, SDSS"):
        get_survey("hst")


def test_flux_conversions():
    """One nanomaggy is 1000 DES counts; magnitudes and fluxes invert each other."""
    assert_allclose(SDSS.flux_conversion("r", DES), 1000.0)
    flux = SDSS.magnitude_to_flux(20.0, "r")
    assert flux.unit == u.nmgy
    assert_allclose(flux.value, 10 ** (-0.4 * (20.0 - 22.5)))
    assert_allclose(SDSS.flux_to_magnitude(flux, "r"), 20.0)
    assert_allclose(DES.flux_to_magnitude(DES.magnitude_to_flux(21.3, "g"), "g"), 21.3)


def test_gain_reproduces_noise():
    """The effective gain makes sky shot noise equal the survey's noise sigma."""
    for survey in (SDSS, DES):
        for band in "gri":
            sky = survey.sky_level(band).value
            assert_allclose(np.sqrt(sky / survey.effective_gain(band)), survey.noise_sigma[band])


def test_user_defined_survey_registers():
    """A user survey works without library changes and registers by name."""
    toy = _toy("ToySurvey")
    assert toy.pixel_scale == 0.2 * u.arcsec / u.pix and toy.bands == ("g", "r")
    register_survey(toy)
    try:
        assert get_survey("toysurvey") is toy
        assert "ToySurvey" in available_surveys()
        with pytest.raises(ValueError, match="already registered"):
            register_survey(_toy("TOYSURVEY"))
        replacement = register_survey(_toy("TOYSURVEY"), force=True)
        assert get_survey("ToySurvey") is replacement
    finally:
        from survey2survey.surveys import registry

        registry._SURVEYS.pop("toysurvey")


def test_bad_definitions():
    """Missing bands, wrong units and bad pixel scales are refused."""
    with pytest.raises(BandMismatchError, match="zero_point is missing band"):
        _toy(zero_point={"g": 27})
    with pytest.raises(UnitError, match="angle per pixel"):
        _toy(pixel_scale=3 * u.m)
    with pytest.raises(UnitError, match="positive"):
        _toy(pixel_scale=-1)
    with pytest.raises(UnitError, match="psf_fwhm"):
        _toy(psf_fwhm={"g": 1 * u.s, "r": 1 * u.s})
    with pytest.raises(UnitError, match="does not understand|not a unit"):
        _toy(flux_unit="bananas")
    with pytest.raises(BandMismatchError, match="has no band"):
        SDSS.check_bands("gry")


def test_maggies_per_unit():
    """One flux unit in maggies: from the unit when maggy/jansky-like, else the zero point."""

    assert_allclose(SDSS.maggies_per_unit("r"), 1e-9)
    assert_allclose(DES.maggies_per_unit("g"), 1e-12)
    # 1 maggy is the flux of AB magnitude 0: 10**(-0.4 * 48.6) erg/s/cm2/Hz = 3630.78 Jy
    assert_allclose(_toy(flux_unit="uJy").maggies_per_unit("g"), 1e-6 / 3630.78, rtol=1e-6)
    assert_allclose(_toy(flux_unit="erg / (s cm2 Hz)").maggies_per_unit("g"), 10 ** 19.44)
    assert_allclose(SDSS.unit_factor(u.mgy, "r"), 1e9)
    assert_allclose(DES.unit_factor(u.nmgy, "g"), 1e3)
    assert_allclose(DES.unit_factor(u.ct, "g", zero_point=22.5), 1e3)
    with pytest.raises(UnitError, match="without a zero point"):
        SDSS.unit_factor(u.ct, "r")
