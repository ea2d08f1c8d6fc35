# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Bad and tricky inputs to read_cutout/write_cutout (reliability issue, I/O items)."""

import gzip

import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import (
    CCDData,
    InverseVariance,
    NDData,
    StdDevUncertainty,
    VarianceUncertainty,
)
from astropy.wcs import WCS
from numpy.testing import assert_array_equal

from survey2survey.exceptions import (
    BandMismatchError,
    CorruptFileError,
    InvalidDataError,
)
from survey2survey.io import read_cutout, write_cutout
from survey2survey.tests.helpers import make_wcs
from survey2survey.utils._wcs import same_wcs, wcs_to_header

SHAPE = (16, 20)


def _cube():
    rng = np.random.default_rng(0)
    return rng.normal(1.0, 0.1, (3,) + SHAPE), make_wcs(SHAPE)


def test_masked_array_keeps_its_mask():
    """(masked_array, wcs), NDData and dict inputs keep the masked pixels masked (item 5)."""
    data, wcs = _cube()
    masked = np.ma.masked_array(data[0], mask=np.zeros(SHAPE, bool))
    masked.mask[2, 3] = True
    before = masked.copy()
    cutout = read_cutout((masked, wcs), bands="g")
    assert cutout["g"].mask[2, 3] and cutout["g"].mask.sum() == 1
    assert_array_equal(cutout["g"].data, masked.data)
    assert_array_equal(masked.mask, before.mask)  # the input is not modified
    cube = np.ma.masked_array(data, mask=np.zeros(data.shape, bool))
    cube.mask[1, 4, 5] = True
    assert read_cutout((cube, wcs), bands="gri").mask.sum() == 1
    assert read_cutout((cube, wcs), bands="gri")["r"].mask[4, 5]
    assert read_cutout({"g": (masked, wcs)})["g"].mask[2, 3]
    assert read_cutout(NDData(masked, wcs=wcs), bands="g")["g"].mask[2, 3]


def test_unlabelled_cube_order_is_never_assumed():
    """A cube without band cards needs bands= from the caller; a model's bands do not label it."""
    data, wcs = _cube()
    with pytest.raises(BandMismatchError, match="pass bands="):
        read_cutout((data, wcs))
    with pytest.raises(BandMismatchError, match="cannot be assumed to be"):
        read_cutout((data, wcs), bands="gri", assign_bands=False)
    header = wcs_to_header(wcs)
    header["BANDS"] = "i,r,g"
    cutout = read_cutout((data, header), bands="gri", assign_bands=False)
    assert cutout.bands == ("g", "r", "i")
    assert_array_equal(cutout["g"].data, data[2])  # taken from the card, not the order asked
    partly = wcs_to_header(wcs)
    partly["FILTER1"] = "i"  # plane 0 named, the others not
    with pytest.raises(BandMismatchError, match="image 0 names band 'i' but bands= names it 'g'"):
        read_cutout((data, partly), bands="gri")
    single = read_cutout((data[0], wcs), bands="r", assign_bands=False)  # one image, one band
    assert single.bands == ("r",)


def test_bands_that_do_not_overlap_are_refused():
    """Bands whose WCSs are 1 degree apart are not one cutout (item 7)."""
    data, wcs = _cube()
    far = make_wcs(SHAPE, ra=wcs.wcs.crval[0] + 1.0, dec=wcs.wcs.crval[1])
    g = CCDData(data[0], unit="nmgy", wcs=wcs, meta={"FILTER": "g"})
    r = CCDData(data[1], unit="nmgy", wcs=far, meta={"FILTER": "r"})
    with pytest.raises(BandMismatchError, match=r"do not overlap on the sky: band 'r' is "
                                                r"centred 0\.99\d* deg from band 'g'"):
        read_cutout([g, r])
    with pytest.raises(BandMismatchError, match="do not overlap"):
        read_cutout({"g": (data[0], wcs), "r": (data[1], far)})
    near = make_wcs(SHAPE, ra=wcs.wcs.crval[0] + 2 / 3600, dec=wcs.wcs.crval[1])
    assert read_cutout([g, CCDData(data[1], unit="nmgy", wcs=near,
                                   meta={"FILTER": "r"})]).bands == ("g", "r")


def test_truncated_files_say_truncated(tmp_path):
    """A file cut at an HDU boundary, mid-HDU, or a truncated .fits.gz is 'truncated' (item 8)."""
    data, wcs = _cube()
    cutout = read_cutout((data, wcs), bands="gri", unit="ct")
    path = write_cutout(cutout, tmp_path / "ok.fits")
    assert fits.getheader(path)["NEXTEND"] == 3
    raw = path.read_bytes()
    with fits.open(path) as hdul:
        boundary = hdul.fileinfo(3)["hdrLoc"]  # start of the third band's SCI
    (tmp_path / "boundary.fits").write_bytes(raw[:boundary])
    with pytest.raises(CorruptFileError, match="truncated.*NEXTEND=3 but only 2"):
        read_cutout(tmp_path / "boundary.fits")
    with pytest.raises(CorruptFileError, match="truncated"):
        read_cutout(tmp_path / "boundary.fits", bands="gri")  # not a BandMismatchError
    (tmp_path / "mid.fits").write_bytes(raw[:boundary + 3000])
    with pytest.raises(CorruptFileError, match="truncated"):
        read_cutout(tmp_path / "mid.fits")
    packed = gzip.compress(raw)
    (tmp_path / "cut.fits.gz").write_bytes(packed[:len(packed) * 3 // 4])
    with pytest.raises(CorruptFileError, match="truncated.*gzip"):
        read_cutout(tmp_path / "cut.fits.gz")
    (tmp_path / "ok.fits.gz").write_bytes(packed)
    assert read_cutout(tmp_path / "ok.fits.gz").bands == ("g", "r", "i")
    # files written before NEXTEND: NBANDS still tells
    with fits.open(path) as hdul:
        del hdul[0].header["NEXTEND"]
        fits.HDUList(hdul[:3]).writeto(tmp_path / "old.fits")
    with pytest.raises(CorruptFileError, match="truncated.*NBANDS=3 but only 2"):
        read_cutout(tmp_path / "old.fits")


@pytest.mark.parametrize("kind", [StdDevUncertainty, VarianceUncertainty, InverseVariance])
def test_negative_uncertainty_is_refused(kind):
    """A negative uncertainty is refused, naming the band, not silently made positive."""
    data, wcs = _cube()
    sigma = np.full(SHAPE, 0.1)
    sigma[3, 3] = -0.1
    ccd = CCDData(data[0], unit="nmgy", wcs=wcs, uncertainty=kind(sigma), meta={"FILTER": "r"})
    with pytest.raises(InvalidDataError, match=r"band 'r' has 1 negative .* must be >= 0"):
        read_cutout(ccd)
    assert ccd.uncertainty.array[3, 3] == -0.1


@pytest.mark.parametrize("dtype", [complex, bool, object, "U3"])
def test_non_real_dtypes_are_refused(dtype):
    """complex, bool, object and string arrays give a clear InvalidDataError (item 16)."""
    _, wcs = _cube()
    array = np.ones(SHAPE, dtype=dtype)
    with pytest.raises(InvalidDataError, match=f"must hold real numbers.*got dtype "
                                               f"{np.dtype(dtype)}"):
        read_cutout((array, wcs), bands="g")
    with pytest.raises(InvalidDataError, match="must hold real numbers"):
        read_cutout({"g": (array, wcs)})
    if dtype is complex:
        with pytest.raises(InvalidDataError, match="got dtype complex128"):
            read_cutout(NDData(array, wcs=wcs), bands="g")


def test_float16_is_widened():
    """float16 data are read as float32 (documented), big-endian as native."""
    data, wcs = _cube()
    cutout = read_cutout((data[0].astype(np.float16), wcs), bands="g")
    assert cutout["g"].data.dtype == np.float32
    cutout = read_cutout((data[0].astype(">f8"), wcs), bands="g")
    assert cutout["g"].data.dtype.isnative


def test_four_dimensional_data_say_so(tmp_path):
    """A 4-D array is 'not supported', not 'mixes image extensions' (item 20)."""
    _, wcs = _cube()
    with pytest.raises(InvalidDataError, match=r"4-D array of shape \(1, 3, 16, 20\): 4-D data "
                                               r"are not supported; expected a 2-D image or a "
                                               r"3-D \(band, y, x\) cube"):
        read_cutout((np.ones((1, 3) + SHAPE), wcs), bands="gri")
    fits.writeto(tmp_path / "4d.fits", np.ones((1, 3) + SHAPE, np.float32))
    with pytest.raises(InvalidDataError, match="HDU 0 is a 4-D array"):
        read_cutout(tmp_path / "4d.fits", bands="gri")
    with pytest.raises(InvalidDataError, match="1-D array"):
        read_cutout((np.ones(5), wcs), bands="g")


def test_single_band_images_message_says_how_to_combine():
    """Single-band CCDData given where one multi-band cutout is expected: the message helps."""
    data, wcs = _cube()
    g = CCDData(data[0], unit="nmgy", wcs=wcs)
    with pytest.raises(BandMismatchError, match=r"holds 1 image\(s\) but bands=\['g', 'r', "
                                                r"'i'\] names 3; to pass one multi-band cutout.*"
                                                r"dict \{band: image\} or read_cutout\(\["):
        read_cutout(g, bands="gri", what="input[0]")
    named = CCDData(data[0], unit="nmgy", wcs=wcs, meta={"FILTER": "g"})
    with pytest.raises(BandMismatchError, match=r"holds bands \['g'\].*dict \{band: image\}"):
        read_cutout(named, bands="gri")
    both = read_cutout([named, CCDData(data[1], unit="nmgy", wcs=wcs, meta={"FILTER": "r"})])
    assert both.bands == ("g", "r")


def test_later_extension_never_replaces_an_earlier_band(tmp_path):
    """Two image extensions naming the same band raise instead of the last one winning."""
    data, wcs = _cube()
    hdus = [fits.PrimaryHDU()]
    for k in range(2):
        header = wcs_to_header(wcs)
        header["FILTER"] = "r"
        hdus.append(fits.ImageHDU(data[k], header=header, name=f"IM{k}"))
    fits.HDUList(hdus).writeto(tmp_path / "twice.fits")
    with pytest.raises(BandMismatchError, match=r"HDU 1 \(IM0\) and HDU 2 \(IM1\) all hold "
                                                r"band 'r'"):
        read_cutout(tmp_path / "twice.fits")


def test_inputs_are_not_modified_by_reading(tmp_path):
    """Reading an HDUList leaves it (headers, data) as it was."""
    data, wcs = _cube()
    header = wcs_to_header(wcs)
    header["BANDS"] = "g,r,i"
    hdul = fits.HDUList([fits.PrimaryHDU(data.copy(), header=header)])
    before = hdul[0].header.tostring(), hdul[0].data.copy()
    cutout = read_cutout(hdul)
    cutout["g"].data[0, 0] = -1
    assert hdul[0].header.tostring() == before[0]
    assert_array_equal(hdul[0].data, before[1])


def _tpv_wcs(form):
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TPV", "DEC--TPV"
    header["CRVAL1"], header["CRVAL2"] = 36.1, -4.7
    header["CRPIX1"], header["CRPIX2"] = 1024.0, 2048.0
    scale = 0.263 / 3600
    if form == "cd":
        header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = (
            -scale, 2e-8, 1e-8, scale)
    else:
        header["CDELT1"], header["CDELT2"] = -scale, scale
        header["PC1_1"], header["PC1_2"], header["PC2_1"], header["PC2_2"] = 1.0, 1e-3, 2e-3, 1.0
    for axis in (1, 2):
        for j, value in {0: 1e-4, 1: 1.0, 2: 2e-4, 4: 3e-3, 5: -2e-3, 6: 1e-3}.items():
            header[f"PV{axis}_{j}"] = value
    return WCS(header)


def _sip_wcs():
    wcs = make_wcs((2048, 1024), 0.2)
    header = wcs.to_header(relax=True)
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
    header["A_ORDER"], header["B_ORDER"] = 2, 2
    header["A_2_0"], header["A_1_1"], header["B_0_2"] = 2e-6, -1e-6, 3e-6
    return WCS(header)


def _crota_wcs():
    header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.0,
                          "CRVAL2": 2.0, "CRPIX1": 500.0, "CRPIX2": 700.0,
                          "CDELT1": -0.396 / 3600, "CDELT2": 0.396 / 3600, "CROTA2": 32.0})
    return WCS(header)


@pytest.mark.parametrize("make", [lambda: _tpv_wcs("pc"), lambda: _tpv_wcs("cd"), _sip_wcs,
                                  _crota_wcs, lambda: make_wcs(SHAPE)],
                         ids=["tpv-pc", "tpv-cd", "sip", "crota2", "tan-cd"])
def test_every_wcs_form_round_trips_exactly(tmp_path, make):
    """TPV in PC/CDELT form no longer moves by arcseconds on write (item 10)."""
    wcs = make()
    shape = (2048, 1024)
    cutout = read_cutout((np.ones((8, 8)), wcs), bands="r")
    back = read_cutout(write_cutout(cutout, tmp_path / "w.fits"))
    for x, y in [(0, 0), (1023, 0), (0, 2047), (1023, 2047), (511, 1023)]:
        a = wcs.pixel_to_world(x, y)
        b = back["r"].wcs.pixel_to_world(x, y)
        assert a.separation(b).arcsec < 1e-6, (x, y)
    assert same_wcs(wcs, back["r"].wcs, shape=shape, tolerance=1e-8)
