# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reading real survey products: files built to each product's data model."""

import bz2
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty
from astropy.utils.exceptions import AstropyUserWarning
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey.datasets import frame_bytes, sample_sdss_frames, sdss_frame_hdulist
from survey2survey.exceptions import (
    BandMismatchError,
    CorruptFileError,
    InvalidDataError,
    InvalidOptionError,
    UnitError,
)
from survey2survey.io import (
    ZERO_POINT_KEYS,
    header_zero_point,
    read_cutout,
    sdss_ccd_noise,
    sdss_frame_counts,
)
from survey2survey.surveys import DES, SDSS
from survey2survey.tests.helpers import make_wcs
from survey2survey.utils._wcs import same_wcs

from .products import (
    des_hdulist,
    dss_plate_bytes,
    hips2fits_hdulist,
    legacysurvey_hdulist,
)

NY, NX = 24, 30


def _frame(band="r", run=4263, camcol=4, seed=0):
    """A small SDSS frame: image (nmgy), calibration vector, sky grid and WCS."""
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 0.03, (NY, NX)).astype(np.float32)
    image[10:14, 12:18] += 2.0
    calib = np.linspace(0.0050, 0.0054, NX)
    allsky = 120 + rng.uniform(0, 5, (NY // 8 + 2, NX // 8 + 2))
    xinterp = (np.arange(NX) + 0.5) / 8 - 0.5
    yinterp = (np.arange(NY) + 0.5) / 8 - 0.5
    wcs = make_wcs((NY, NX), 0.396, ra=20.0, dec=0.5)
    hdul = sdss_frame_hdulist(image, wcs, band, run=run, camcol=camcol, field=11,
                              calibration=calib, allsky=allsky, xinterp=xinterp,
                              yinterp=yinterp)
    return hdul, image, calib, allsky, xinterp, yinterp, wcs


def test_sdss_frame_reads_hdu0_in_nanomaggies(tmp_path):
    """An SDSS frame (.fits.bz2) reads HDU0 as data in nmgy with its FILTER and WCS."""
    hdul, image, *_, wcs = _frame()
    path = tmp_path / "frame-r-004263-4-0011.fits.bz2"
    path.write_bytes(frame_bytes(hdul))
    assert bz2.decompress(path.read_bytes())[:6] == b"SIMPLE"
    cutout = read_cutout(path)
    assert cutout.bands == ("r",) and cutout.unit == u.nmgy
    assert cutout["r"].data.dtype == np.float32
    assert_array_equal(cutout["r"].data, image)
    assert cutout["r"].uncertainty is None and cutout.meta["SURVEY"] == "SDSS"
    assert same_wcs(cutout.wcs, wcs, shape=(NY, NX), tolerance=1e-9)
    assert read_cutout(path, format="sdss-frame").bands == ("r",)


def test_sdss_frame_uncertainty_follows_the_data_model(tmp_path):
    """sdss_uncertainty=True rebuilds dn = img/calib + sky and sqrt(dn/gain + darkVar)*calib."""
    hdul, image, calib, allsky, xinterp, yinterp, _ = _frame(band="i", run=4263, camcol=4)
    path = tmp_path / "frame-i-004263-4-0011.fits.bz2"
    path.write_bytes(frame_bytes(hdul))
    cutout = read_cutout(path, sdss_uncertainty=True)
    gain, dark = sdss_ccd_noise("i", 4, 4263)
    assert (gain, dark) == (4.885, 7.5625)  # camcol 4 i: 7.5625 from run 1500 on
    # the sky by hand: bilinear interpolation of the grid, clamped at its edges
    sky = np.empty((NY, NX))
    for y in range(NY):
        for x in range(NX):
            gy = min(max(float(yinterp[y]), 0), allsky.shape[0] - 1)
            gx = min(max(float(xinterp[x]), 0), allsky.shape[1] - 1)
            y0, x0 = min(int(gy), allsky.shape[0] - 2), min(int(gx), allsky.shape[1] - 2)
            fy, fx = gy - y0, gx - x0
            sky[y, x] = ((1 - fy) * ((1 - fx) * allsky[y0, x0] + fx * allsky[y0, x0 + 1])
                         + fy * ((1 - fx) * allsky[y0 + 1, x0] + fx * allsky[y0 + 1, x0 + 1]))
    calib32 = calib.astype(np.float32).astype(float)
    dn = image / calib32 + sky
    expected = np.sqrt(dn / gain + dark) * calib32
    assert isinstance(cutout["i"].uncertainty, StdDevUncertainty)
    assert_allclose(cutout["i"].uncertainty.array, expected, rtol=1e-5)
    assert cutout["i"].meta["GAIN"] == gain and cutout["i"].meta["DARKVAR"] == dark
    with fits.open(path) as frame:
        counts = sdss_frame_counts(frame)
    assert_allclose(counts.counts, dn, rtol=1e-6)
    assert_allclose(counts.sky, sky, rtol=1e-6)


def test_sdss_ccd_noise_table():
    """Gain and dark variance follow the data model's table, run-dependent entries included."""
    assert sdss_ccd_noise("g", 1, 100) == (3.32, 15.6025)
    assert sdss_ccd_noise("u", 2, 1099)[0] == 1.595
    assert sdss_ccd_noise("u", 2, 1100)[0] == 1.825
    assert sdss_ccd_noise("z", 5, 1499)[1] == 1.8225
    assert sdss_ccd_noise("z", 5, 1500)[1] == 2.1025
    with pytest.raises(BandMismatchError, match="no band 'Y'"):
        sdss_ccd_noise("Y", 1, 100)
    with pytest.raises(InvalidDataError, match="camcol"):
        sdss_ccd_noise("r", 7, 100)


def test_sdss_frame_truncated_or_incomplete(tmp_path):
    """A frame cut after HDU1 is truncated; a lone HDU0 reads but has no noise model."""
    hdul, *_ = _frame()
    fits.HDUList(hdul[:2]).writeto(tmp_path / "cut.fits")
    with pytest.raises(CorruptFileError, match="truncated"):
        read_cutout(tmp_path / "cut.fits")
    fits.HDUList(hdul[:1]).writeto(tmp_path / "image_only.fits")
    assert read_cutout(tmp_path / "image_only.fits").unit == u.nmgy
    with pytest.raises(CorruptFileError, match="calibration vector"):
        read_cutout(tmp_path / "image_only.fits", sdss_uncertainty=True)


def test_sample_frames_follow_the_data_model():
    """The shipped sample: three bz2 frames of 4 HDUs, 200x200, noise as its model says."""
    paths = sample_sdss_frames()
    assert [p.name for p in paths] == [f"frame-{b}-999999-3-0001.fits.bz2" for b in "gri"]
    for path in paths:
        assert path.stat().st_size < 100_000
        with fits.open(path) as frame:
            assert len(frame) == 4 and frame[0].data.dtype == np.dtype(">f4")
            assert frame[0].header["BUNIT"] == "nanomaggy" and "NMGY" in frame[0].header
            assert frame[1].data.shape == (200,)
            assert {"ALLSKY", "XINTERP", "YINTERP"} <= set(frame[2].columns.names)
    cutout = read_cutout(paths, sdss_uncertainty=True)
    assert cutout.bands == ("g", "r", "i") and cutout.shape == (200, 200)
    for band in cutout.bands:
        corner = cutout[band].data[:30, :30]  # blank sky: its scatter is the modelled noise
        sigma = np.median(cutout[band].uncertainty.array[:30, :30])
        assert 0.85 < np.std(corner) / sigma < 1.15
        assert np.isclose(sigma, SDSS.noise_sigma[band], rtol=0.1)


def _des(fpack=True):
    rng = np.random.default_rng(2)
    science = rng.normal(100, 5, (NY, NX)).astype(np.float32)
    weight = np.full((NY, NX), 0.04, np.float32)
    weight[0, :5] = 0  # no coverage
    mask = np.zeros((NY, NX), np.int16)
    mask[3, 4] = 2  # a flagged pixel
    wcs = make_wcs((NY, NX), 0.263, ra=20.0, dec=0.5)
    return des_hdulist("g", science, weight, mask, wcs, fpack=fpack), science, wcs


def test_des_fpacked_tile_reads_sci_as_data(tmp_path):
    """SCI/MSK/WGT each with BAND cards: SCI is the data, WGT the noise, MSK and WGT=0 the mask."""
    hdul, science, wcs = _des()
    hdul.writeto(tmp_path / "DES0123-0041_r4575p01_g.fits.fz")
    path = tmp_path / "DES0123-0041_r4575p01_g.fits.fz"
    with fits.open(path) as raw:
        assert isinstance(raw["SCI"], fits.CompImageHDU)
        stored = raw["SCI"].data.copy()  # RICE quantises floats
    cutout = read_cutout(path)
    assert cutout.bands == ("g",)
    band = cutout["g"]
    assert_array_equal(band.data, stored)
    assert_allclose(band.data, science, atol=0.5)  # the science image, not the weight map
    assert abs(float(np.mean(band.data)) - 100) < 2
    sigma = band.uncertainty.array
    assert isinstance(band.uncertainty, StdDevUncertainty)
    assert_allclose(sigma[1:], 5.0, rtol=1e-5)
    assert np.all(np.isinf(sigma[0, :5])) and band.mask[0, :5].all()
    assert band.mask[3, 4] and band.mask.sum() == 6
    assert header_zero_point(band.meta) == 30.0 and band.unit == u.dimensionless_unscaled
    assert same_wcs(band.wcs, wcs, shape=(NY, NX), tolerance=1e-9)
    # the zero point converts to the survey units through Survey.unit_factor
    assert DES.unit_factor(band.unit, "g", zero_point=header_zero_point(band.meta)) == 1.0
    assert np.isclose(SDSS.unit_factor(band.unit, "g", zero_point=30.0), 1e-3)


def test_des_uncompressed_cutout_and_generic_reading(tmp_path):
    """An uncompressed DES cutout reads the same; the generic layout never swaps SCI for WGT."""
    hdul, science, _ = _des(fpack=False)
    hdul.writeto(tmp_path / "des.fits")
    cutout = read_cutout(tmp_path / "des.fits")
    assert_array_equal(cutout["g"].data, science)
    with pytest.raises(BandMismatchError, match=r"HDU 1 \(SCI\) and HDU 2 \(MSK\) and HDU 3 "
                                                r"\(WGT\) all hold band 'g'"):
        read_cutout(tmp_path / "des.fits", format="image")


def test_science_weight_without_band_cards(tmp_path):
    """SCI and WGT without band cards read as one band named by bands=."""
    hdul, science, _ = _des(fpack=False)
    for hdu in hdul[1:]:
        del hdu.header["BAND"], hdu.header["FILTER"]
    del hdul["MSK"]
    assert read_cutout(hdul, bands="g").bands == ("g",)
    with pytest.raises(BandMismatchError, match="pass bands="):
        read_cutout(hdul)


def test_legacysurvey_cutout_cube(tmp_path):
    """A Legacy Surveys fits-cutout cube: bands from BANDS/BANDn, nanomaggies, INVVAR noise."""
    rng = np.random.default_rng(4)
    cube = rng.normal(0.1, 0.01, (3, NY, NX))
    invvar = np.full((3, NY, NX), 1e4)
    invvar[2, 5, 6] = 0
    wcs = make_wcs((NY, NX), 0.262, ra=20.0, dec=0.5)
    legacysurvey_hdulist(cube, wcs, "grz", invvar=invvar).writeto(tmp_path / "ls.fits")
    cutout = read_cutout(tmp_path / "ls.fits")
    assert cutout.bands == ("g", "r", "z") and cutout.unit == u.nmgy
    assert_allclose(cutout.data, cube.astype(np.float32))
    assert_allclose(cutout["g"].uncertainty.array, 0.01)
    assert cutout["z"].mask[5, 6] and np.isinf(cutout["z"].uncertainty.array[5, 6])
    assert header_zero_point(cutout["r"].meta) == 22.5
    assert same_wcs(cutout.wcs, wcs, shape=(NY, NX), tolerance=1e-9)
    assert read_cutout(tmp_path / "ls.fits", bands="zg").bands == ("z", "g")
    with pytest.raises(UnitError, match="nmgy, but unit=ct"):
        read_cutout(tmp_path / "ls.fits", unit="ct")
    # a single band is a 2-D image with the same cards
    legacysurvey_hdulist(cube[:1], wcs, "r", survey="DES", version="DR1").writeto(
        tmp_path / "des_layer.fits")
    assert read_cutout(tmp_path / "des_layer.fits").bands == ("r",)


def test_hips2fits_needs_bands_and_unit(tmp_path):
    """hips2fits output has no FILTER/BUNIT: the messages ask for bands= and unit=."""
    wcs = make_wcs((NY, NX), 0.4, ra=20.0, dec=0.5)
    hips2fits_hdulist(np.ones((NY, NX)), wcs).writeto(tmp_path / "hips.fits")
    with pytest.raises(BandMismatchError, match=r"pass bands=.*hips2fits output, also needs "
                                                r"unit="):
        read_cutout(tmp_path / "hips.fits")
    with pytest.raises(BandMismatchError, match=r"bands=.*unit="):
        read_cutout(tmp_path / "hips.fits", format="hips2fits")
    with pytest.raises(UnitError, match=r"hips2fits.*unit="):
        read_cutout(tmp_path / "hips.fits", format="hips2fits", bands="r")
    cutout = read_cutout(tmp_path / "hips.fits", format="hips2fits", bands="r", unit="nmgy")
    assert cutout.bands == ("r",) and cutout.unit == u.nmgy


@pytest.mark.parametrize("card", ["SKEW      0.000000E+00",
                                  "SKEW    = 0.0000000000000E+00 0.0000000000000E+00",
                                  "skew    = 0.0"])
def test_fixable_header_reads_with_one_warning(tmp_path, card):
    """A DSS plate with a non-standard SKEW card reads, with one warning naming the card."""
    wcs = make_wcs((NY, NX), 1.7, ra=20.0, dec=0.5)
    image = np.arange(NY * NX, dtype=np.int16).reshape(NY, NX)
    path = tmp_path / "dss.fits"
    path.write_bytes(dss_plate_bytes(image, wcs, skew_card=card))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cutout = read_cutout(path, bands="r")
    messages = [str(w.message) for w in caught]
    assert len(caught) == 1 and issubclass(caught[0].category, AstropyUserWarning), messages
    assert "SKEW" in messages[0].upper() and "dss.fits" in messages[0]
    assert_array_equal(cutout["r"].data, image)


def test_unreadable_header_is_corrupt(tmp_path):
    """A header astropy cannot fix (no END card) is a CorruptFileError."""
    (tmp_path / "bad.fits").write_bytes(b"SIMPLE  =                    T".ljust(2880, b" "))
    with pytest.raises(CorruptFileError):
        read_cutout(tmp_path / "bad.fits")


def test_format_option_is_validated(tmp_path):
    """An unknown format= is an InvalidOptionError; format= on arrays is refused."""
    wcs = make_wcs((NY, NX))
    with pytest.raises(InvalidOptionError, match="format must be one of"):
        read_cutout((np.ones((NY, NX)), wcs), bands="g", format="fits")
    with pytest.raises(InvalidOptionError, match="apply to FITS"):
        read_cutout((np.ones((NY, NX)), wcs), bands="g", format="des")
    hdul, *_ = _frame()
    with pytest.raises(InvalidDataError, match="sdss_uncertainty=True applies to SDSS frame"):
        read_cutout(_des()[0], sdss_uncertainty=True)
    with pytest.raises(CorruptFileError, match="no science extension"):
        read_cutout(hdul, format="des")


def test_header_zero_point():
    """MAGZERO-like cards come first; FLUXMAG0 gives 2.5 log10(FLUXMAG0); junk is ignored."""
    assert header_zero_point({"MAGZP": 31.2, "FLUXMAG0": 1e12}) == 31.2
    assert np.isclose(header_zero_point({"FLUXMAG0": 1e12}), 30.0)
    assert header_zero_point({"MAGZERO": "n/a", "FLUXMAG0": -1}) is None
    assert header_zero_point({"MAGZERO": np.nan, "ZP": True}) is None
    assert header_zero_point(None) is None
    assert "FLUXMAG0" in ZERO_POINT_KEYS and ZERO_POINT_KEYS[0] == "MAGZERO"


def test_zero_points_reach_the_metrics():
    """FLUXMAG0 and MAGZERO calibrate the same flux to the same magnitude in the metrics."""
    from survey2survey.metrics import aperture_magnitudes

    wcs = make_wcs((NY, NX))
    image = np.zeros((NY, NX))
    image[NY // 2, NX // 2] = 1000.0
    magzero = read_cutout(CCDData(image, unit="", wcs=wcs, meta={"FILTER": "r", "MAGZERO": 27.0}))
    fluxmag0 = read_cutout(CCDData(image, unit="", wcs=wcs, meta={"FILTER": "r",
                                                         "FLUXMAG0": 10 ** (0.4 * 27.0)}))
    a = aperture_magnitudes(magzero, r_max=5)["r"]
    b = aperture_magnitudes(fluxmag0, r_max=5)["r"]
    assert np.isclose(a, 27.0 - 7.5) and np.isclose(a, b)
