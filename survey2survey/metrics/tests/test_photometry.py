# Licensed under a 3-clause BSD style license - see LICENSE.rst
import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import CCDData, NDData
from astropy.wcs import WCS
from numpy.testing import assert_allclose
from photutils.aperture import CircularAperture, aperture_photometry
from photutils.profiles import CurveOfGrowth, RadialProfile

from survey2survey.exceptions import (
    ApertureError,
    InvalidDataError,
    MetricError,
    ShapeMismatchError,
)
from survey2survey.io import Cutout
from survey2survey.metrics import (
    aperture_flux,
    aperture_magnitudes,
    curve_of_growth,
    pseudo_flux_magnitude,
    radial_profile,
    signal_to_noise,
)
from survey2survey.surveys import DES


def _gaussian(shape=(64, 64), flux=1000.0, sigma=4.0, center=None):
    ny, nx = shape
    cx, cy = ((nx - 1) / 2, (ny - 1) / 2) if center is None else center
    y, x = np.mgrid[:ny, :nx]
    return flux * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)


def _wcs():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-1e-4, 1e-4]
    return wcs


def test_constant_image():
    """A constant image: flux = value * pi r^2, S/N infinite, flat profile."""
    image = np.full((32, 32), 3.0)
    assert_allclose(aperture_flux(image, r_max=10), 3.0 * np.pi * 100, rtol=1e-10)
    assert signal_to_noise(image, r_max=10) == np.inf
    assert_allclose(radial_profile(image, r_max=10).profile, 3.0, rtol=1e-10)
    assert_allclose(pseudo_flux_magnitude(image, r_max=10),
                    30 - 2.5 * np.log10(3.0 * np.pi * 100), rtol=1e-12)


def test_gaussian_known_flux():
    """The aperture sum of a Gaussian equals its analytic flux to 1e-3."""
    image = _gaussian(flux=1000.0, sigma=3.0)
    r = 25.0
    expected = 1000.0 * (1 - np.exp(-(r**2) / (2 * 3.0**2)))
    assert_allclose(aperture_flux(image, r_max=r), expected, rtol=1e-3)
    assert_allclose(pseudo_flux_magnitude(image, r_max=r, zero_point=22.5),
                    22.5 - 2.5 * np.log10(expected), atol=1e-3)
    cog = curve_of_growth(image, r_max=25)
    analytic = 1000.0 * (1 - np.exp(-cog.radius**2 / 18.0))
    assert_allclose(cog.flux[8:], analytic[8:], rtol=1e-3)  # pixel sampling at small r


def test_paper_aperture_fits_150():
    """The paper's 75 pix aperture fits a 150x150 image exactly; 76 does not."""
    image = np.ones((150, 150))
    assert_allclose(aperture_flux(image), np.pi * 75**2, rtol=1e-9)
    with pytest.raises(ApertureError, match="does not fit"):
        aperture_flux(image, r_max=76)


def test_aperture_outside_image_raises():
    """An aperture centred near the edge raises ApertureError."""
    with pytest.raises(ApertureError, match="r_max=10"):
        signal_to_noise(np.ones((32, 32)), r_max=10, center=(3, 16))
    with pytest.raises(ApertureError, match="positive"):
        aperture_flux(np.ones((32, 32)), r_max=-1)
    with pytest.raises(ApertureError, match="center"):
        aperture_flux(np.ones((32, 32)), r_max=5, center="middle")


def test_vectorised_equals_photutils():
    """Batch aperture sums and profiles equal photutils per image."""
    rng = np.random.default_rng(1)
    batch = rng.normal(1.0, 0.3, (3, 40, 48)) + _gaussian((40, 48), sigma=3)
    center = (22.3, 19.1)
    sums = aperture_flux(batch, r_max=15, center=center)
    profile = radial_profile(batch, r_max=15, center=center)
    cog = curve_of_growth(batch, r_max=15, center=center)
    edges = np.arange(16.0)
    for k, image in enumerate(batch):
        ref = aperture_photometry(image, CircularAperture(center, r=15), method="exact")
        assert_allclose(sums[k], ref["aperture_sum"][0], rtol=1e-12)
        rp = RadialProfile(image, center, edges)
        assert_allclose(profile.radius, rp.radius)
        assert_allclose(profile.profile[k], rp.profile, rtol=1e-9)
        cg = CurveOfGrowth(image, center, edges[1:])
        assert_allclose(cog.flux[k], cg.profile, rtol=1e-9)
    # masked (NaN) pixels: photutils with the same mask, and the radii photutils gives
    batch[1, 18:22, 20:30] = np.nan
    profile = radial_profile(batch, r_max=15, center=center)
    cog = curve_of_growth(batch, r_max=15, center=center)
    mask = np.isnan(batch[1])
    rp = RadialProfile(batch[1], center, edges, mask=mask)
    cg = CurveOfGrowth(batch[1], center, edges[1:], mask=mask)
    assert_allclose(profile.profile[1], rp.profile, rtol=1e-9)
    assert_allclose(cog.flux[1], cg.profile, rtol=1e-9)
    assert_allclose(cog.radius, cg.radius)


def test_signal_to_noise_known():
    """Constant plus white noise has S/N = level / sigma."""
    rng = np.random.default_rng(2)
    image = 20.0 + rng.normal(0.0, 2.0, (4, 150, 150))
    assert_allclose(signal_to_noise(image), 10.0, rtol=0.02)
    inside = np.hypot(*(np.mgrid[:150, :150] - 74.5)) <= 75
    values = image[0][inside]
    assert_allclose(signal_to_noise(image[0]), values.mean() / values.std(), rtol=1e-12)


def test_nan_pixels_are_left_out():
    """Masked (NaN) pixels are excluded, as photutils does with a mask."""
    image = np.ones((32, 32))
    image[16, 16] = np.nan
    mask = np.isnan(image)
    ref = aperture_photometry(np.nan_to_num(image), CircularAperture((15.5, 15.5), r=10),
                              mask=mask)
    assert_allclose(aperture_flux(image, r_max=10), ref["aperture_sum"][0])
    assert_allclose(radial_profile(image, r_max=10).profile, 1.0)
    assert signal_to_noise(image, r_max=10) == np.inf


def test_all_nan_raises():
    """An all-NaN image raises MetricError."""
    with pytest.raises(MetricError, match="no finite pixel"):
        aperture_flux(np.full((16, 16), np.nan), r_max=4)


def test_bad_dimensions_raise():
    """1-D data and ragged lists raise specific errors."""
    with pytest.raises(InvalidDataError, match="2-D"):
        aperture_flux(np.ones(10), r_max=2)
    with pytest.raises(ShapeMismatchError, match="differ in shape"):
        aperture_flux([np.ones((8, 8)), np.ones((9, 9))], r_max=2)


def test_inputs_nddata_cutout_quantity_not_mutated():
    """NDData (mask honoured), Quantity and band-averaged Cutouts give the same flux."""
    data = np.ones((32, 32))
    data_copy = data.copy()
    mask = np.zeros((32, 32), bool)
    mask[0, 0] = True
    nd = NDData(data, mask=mask)
    assert_allclose(aperture_flux(nd, r_max=10), np.pi * 100)
    assert_allclose(aperture_flux(data * u.nmgy, r_max=10), np.pi * 100)
    cutout = Cutout.from_arrays(np.stack([data, 3 * data]), _wcs(), "gr", unit="ct")
    assert_allclose(aperture_flux(cutout, r_max=10), 2 * np.pi * 100)
    assert_allclose(aperture_flux([cutout, CCDData(data, unit="ct")], r_max=10),
                    [2 * np.pi * 100, np.pi * 100])
    np.testing.assert_array_equal(data, data_copy)
    assert nd.mask[0, 0] and not nd.mask[1, 1]


def test_aperture_magnitudes_zero_points():
    """Real magnitudes use MAGZERO, a Survey, or the SURVEY card."""
    data = np.zeros((2, 32, 32))
    data[:, 16, 16] = [100.0, 1000.0]
    cutout = Cutout.from_arrays(data, _wcs(), "gr", unit="ct", meta={"SURVEY": "DES"})
    mags = aperture_magnitudes(cutout, r_max=10)
    assert_allclose([mags["g"], mags["r"]], [25.0, 22.5])
    mags = aperture_magnitudes(cutout, r_max=10, zero_point=DES)
    assert_allclose(mags["g"], 25.0)
    bare = Cutout.from_arrays(data, _wcs(), "gr", unit="ct")
    with pytest.raises(MetricError, match="no zero point"):
        aperture_magnitudes(bare, r_max=10)
    assert_allclose(pseudo_flux_magnitude(data[0], r_max=10, zero_point=DES), 25.0)
    with pytest.raises(MetricError, match="zero_point"):
        pseudo_flux_magnitude(data[0], r_max=10, zero_point="thirty")


def test_negative_flux_magnitude_nan():
    """A non-positive aperture sum gives a NaN magnitude without warnings."""
    assert np.isnan(pseudo_flux_magnitude(-np.ones((16, 16)), r_max=4))


def test_profile_bad_dr():
    """A non-positive annulus width raises MetricError."""
    with pytest.raises(MetricError, match="dr"):
        radial_profile(np.ones((16, 16)), r_max=4, dr=0)
