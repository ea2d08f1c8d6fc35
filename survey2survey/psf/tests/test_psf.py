# Licensed under a 3-clause BSD style license - see LICENSE.rst
import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from numpy.testing import assert_allclose

from survey2survey.exceptions import InvalidOptionError
from survey2survey.psf import PSF, match_psf, otf, psf_from_header, psf_parameters

SCALE = 0.396


@pytest.mark.parametrize("profile", ["gaussian", "moffat", "kolmogorov"])
def test_otf_is_one_at_zero_and_decreasing(profile):
    """Every profile's transfer function is 1 at zero frequency and falls off."""
    values = otf(profile, np.linspace(0, 2, 50))
    assert values[0] == pytest.approx(1.0)
    assert np.all(np.diff(values) <= 1e-12)


@pytest.mark.parametrize("profile", ["gaussian", "moffat", "kolmogorov"])
def test_psf_image_has_the_stated_fwhm(profile):
    """The image drawn from the analytic transfer function has the stated FWHM."""
    psf = PSF(1.6, profile)
    image = psf.image((61, 61), 0.1)
    profile_cut = image[30, 30:]
    half = profile_cut[0] / 2
    radius = np.interp(-half, -profile_cut, np.arange(len(profile_cut)))
    assert 2 * radius * 0.1 == pytest.approx(1.6, rel=0.03)


def test_psf_validation():
    """Widths and profiles are checked; floats are arcsec, angles are converted."""
    assert PSF(2 * u.arcsec / 60 * 60).fwhm == 2 * u.arcsec
    assert PSF(1.0).fwhm == 1 * u.arcsec
    with pytest.raises(InvalidOptionError, match="between"):
        PSF(-1.0)
    with pytest.raises(InvalidOptionError, match="angle"):
        PSF(1.0 * u.m)
    with pytest.raises(InvalidOptionError, match="profile"):
        PSF(1.0, "airy")
    with pytest.raises(InvalidOptionError, match="beta"):
        PSF(1.0, "moffat", beta=0.5)


def test_psf_from_header_cards():
    """PSFFWHM/PSF_FWHM are arcsec; FWHM/SEEING only when their comment says so."""
    assert psf_from_header(fits.Header({"PSF_FWHM": 1.1})).fwhm.value == 1.1
    header = fits.Header()
    header["FWHM"] = (3.2, "pixels")
    assert psf_from_header(header) is None
    header["FWHM"] = (1.3, "[arcsec] seeing FWHM")
    assert psf_from_header(header).fwhm.value == 1.3
    header = fits.Header({"SEEING": 1.05})  # the simulator's seeing factor
    assert psf_from_header(header) is None
    header = fits.Header({"PSFFWHM": 0.9, "PSFMODEL": "kolmogorov", "PSFBETA": 2.5})
    psf = psf_from_header(header)
    assert (psf.profile, psf.fwhm.value) == ("kolmogorov", 0.9)
    assert psf_from_header(fits.Header({"PSFFWHM": 1.0, "PSFBETA": 2.5})).beta == 2.5
    assert psf_from_header(fits.Header({"PSFFWHM": 1e3})) is None  # not a seeing
    assert psf_from_header({"PSFFWHM": 1.2}).fwhm.value == 1.2


def test_match_psf_to_a_broader_psf_is_the_convolution():
    """Matching to a broader PSF reproduces the star drawn with that PSF, flux kept."""
    sharp, broad = PSF(0.9, "kolmogorov"), PSF(1.5, "moffat")
    star = 1000 * sharp.image((63, 63), SCALE)
    matched = match_psf(star, sharp, broad, SCALE, regularization=1e-6)
    expected = 1000 * broad.image((63, 63), SCALE)
    inner = (slice(10, -10), slice(10, -10))  # outside the border taper
    assert_allclose(matched[inner], expected[inner], atol=2e-3 * expected.max())
    assert matched.sum() == pytest.approx(star.sum(), rel=2e-3)


def test_match_psf_sharpens_and_keeps_flux():
    """Deconvolution raises a star's peak towards the target's and keeps its flux."""
    sdss, des = PSF(1.4, "moffat"), PSF(0.95, "kolmogorov")
    star = 1000 * sdss.image((63, 63), SCALE)
    sharp = match_psf(star, sdss, des, SCALE, regularization=1e-4)
    target = 1000 * des.image((63, 63), SCALE)
    assert star.max() < sharp.max() <= 1.02 * target.max()
    assert sharp.sum() == pytest.approx(star.sum(), rel=1e-3)


def test_flux_leaves_through_the_border():
    """A star outside the image adds no flux inside beyond its wings' share."""
    sdss, des = PSF(1.4, "moffat"), PSF(0.95, "kolmogorov")
    big = 1000 * sdss.image((81, 81), SCALE)
    cut = big[:, 43:]  # the star's centre lies 3 pixels outside the left border
    matched = match_psf(cut, sdss, des, SCALE, regularization=1e-3)
    truth = (1000 * des.image((81, 81), SCALE))[:, 43:]
    assert truth.sum() < matched.sum() <= 1.05 * cut.sum()


def test_torch_batch_equals_numpy():
    """The torch filter with per-image PSFs equals the numpy one."""
    torch = pytest.importorskip("torch")
    from survey2survey.psf import psf_match_batch

    rng = np.random.default_rng(1)
    images = rng.normal(size=(2, 2, 40, 44))
    inputs = [[PSF(1.3, "moffat", 2.8), PSF(1.6, "gaussian")],
              [PSF(1.1, "moffat", 4.0), PSF(1.2, "kolmogorov")]]
    target = [PSF(0.9, "kolmogorov"), PSF(1.0, "kolmogorov")]
    params = np.stack([psf_parameters(row, target, SCALE) for row in inputs])
    out = psf_match_batch(torch.tensor(images, dtype=torch.float32), torch.tensor(params),
                          torch.tensor([0.01, 0.1]), pad=20).numpy()
    for n in range(2):
        for c, lam in enumerate((0.01, 0.1)):
            expected = match_psf(images[n, c], inputs[n][c], target[c], SCALE,
                                 regularization=lam, pad=20)
            assert_allclose(out[n, c], expected, atol=5e-4 * np.abs(expected).max())


def test_match_psf_errors():
    """Bad PSFs, regularisations and shapes raise InvalidOptionError."""
    psf = PSF(1.0)
    with pytest.raises(InvalidOptionError, match="input_psf"):
        match_psf(np.zeros((8, 8)), 1.0, psf, SCALE)
    with pytest.raises(InvalidOptionError, match="regularization"):
        match_psf(np.zeros((8, 8)), psf, psf, SCALE, regularization=0)
    with pytest.raises(InvalidOptionError, match="dimensions"):
        match_psf(np.zeros(8), psf, psf, SCALE)


def test_estimate_psf_from_stars_ignores_galaxies():
    """Moffat fits to the stars give the PSF; a broader galaxy does not count."""
    from survey2survey.psf import estimate_psf

    rng = np.random.default_rng(3)
    psf = PSF(1.4, "moffat", beta=3.2)
    image = rng.normal(0, 1, (128, 128))
    star = psf.image((31, 31), SCALE)
    image[10:41, 10:41] += 2e4 * star
    image[80:111, 20:51] += 5e3 * star
    galaxy = PSF(3.0, "gaussian").image((41, 41), SCALE)  # broader than the PSF
    image[60:101, 70:111] += 5e4 * galaxy
    estimate = estimate_psf(image, SCALE)
    assert estimate.fwhm.value == pytest.approx(1.4, rel=0.03)
    assert estimate.beta == pytest.approx(3.2, abs=0.5)
    assert estimate_psf(rng.normal(0, 1, (64, 64)), SCALE) is None
    with pytest.raises(InvalidOptionError, match="one band"):
        estimate_psf(np.zeros((2, 8, 8)), SCALE)
