# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of read_cutout / write_cutout and the Cutout container."""

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, NDData, StdDevUncertainty, VarianceUncertainty
from astropy.wcs import WCS
from numpy.testing import assert_array_equal

from survey2survey.exceptions import (
    BandMismatchError,
    CorruptFileError,
    InputError,
    InvalidDataError,
    InvalidWCSError,
    MissingWCSError,
    ShapeMismatchError,
    UnitError,
)
from survey2survey.io import Cutout, read_cutout, write_cutout
from survey2survey.utils._wcs import same_wcs

from .conftest import make_wcs


def _assert_same_cutout(a, b):
    assert a.bands == b.bands
    for band in a.bands:
        assert_array_equal(a[band].data, b[band].data)
        assert a[band].unit == b[band].unit
        assert same_wcs(a[band].wcs, b[band].wcs, shape=a[band].shape, tolerance=1e-10)
        if a[band].mask is None:
            assert b[band].mask is None or not b[band].mask.any()
        else:
            assert_array_equal(a[band].mask, b[band].mask)
        if a[band].uncertainty is not None:
            assert type(a[band].uncertainty) is type(b[band].uncertainty)
            assert_array_equal(a[band].uncertainty.array, b[band].uncertainty.array)


def test_cube_tuple_round_trip(tmp_path, cube):
    """An (array, WCS) cube written and read back is identical."""
    data, wcs = cube
    cutout = read_cutout((data, wcs), bands="gri", unit="nmgy")
    path = write_cutout(cutout, tmp_path / "c.fits")
    back = read_cutout(path)
    _assert_same_cutout(cutout, back)
    assert back.unit == u.nmgy
    header = fits.getheader(path, ext=1)
    assert "CD1_1" in header and "PC1_1" not in header


def test_round_trip_keeps_masks_uncertainty_and_dtype(tmp_path, wcs):
    """Masks, each uncertainty type and float32 data survive a round trip losslessly."""
    rng = np.random.default_rng(1)
    images = {}
    for band, unc in zip("gr", (StdDevUncertainty, VarianceUncertainty), strict=True):
        data = rng.normal(size=(16, 20)).astype(np.float32)
        mask = rng.random((16, 20)) > 0.9
        images[band] = CCDData(data, unit="nmgy", wcs=wcs, mask=mask,
                               uncertainty=unc(np.abs(data) + 1), meta={"FILTER": band})
    cutout = read_cutout(images)
    back = read_cutout(write_cutout(cutout, tmp_path / "m.fits"))
    _assert_same_cutout(cutout, back)
    assert back["g"].data.dtype == np.dtype(np.float32)  # native order


def test_per_band_wcs_kept(tmp_path):
    """Bands on different grids keep their own WCS through FITS."""
    g = CCDData(np.ones((10, 10)), unit="ct", wcs=make_wcs((10, 10), 0.263), meta={"BAND": "g"})
    r = CCDData(np.ones((6, 6)), unit="ct", wcs=make_wcs((6, 6), 0.396), meta={"BAND": "r"})
    cutout = read_cutout([g, r])
    back = read_cutout(write_cutout(cutout, tmp_path / "x.fits"))
    _assert_same_cutout(cutout, back)
    with pytest.raises(ShapeMismatchError, match="different shapes"):
        back.data  # noqa: B018


def test_reads_single_band_fits_and_cube_fits(tmp_path, cube):
    """A plain 2-D FITS (band from FILTER) and a 3-D cube FITS (BANDS card) read."""
    data, wcs = cube
    header = wcs.to_header()
    header["FILTER"] = "r"
    header["BUNIT"] = "nanomaggy"
    fits.writeto(tmp_path / "r.fits", data[1], header)
    single = read_cutout(tmp_path / "r.fits")
    assert single.bands == ("r",) and single.unit == u.nmgy
    assert_array_equal(single.data[0], data[1])
    header["BANDS"] = "g,r,i"
    fits.writeto(tmp_path / "cube.fits", data, header)
    cube_cutout = read_cutout(str(tmp_path / "cube.fits"))
    assert cube_cutout.bands == ("g", "r", "i")
    assert_array_equal(cube_cutout.data, data)
    assert read_cutout(tmp_path / "cube.fits", bands="ir").bands == ("i", "r")


def test_reads_multi_extension_per_band(tmp_path, wcs):
    """One image extension per band, each with a FILTER card, reads in file order."""
    hdus = [fits.PrimaryHDU()]
    for band in "gri":
        header = wcs.to_header()
        header["FILTER"] = f"DECam {band}"
        hdus.append(fits.ImageHDU(np.full((16, 20), 2.0), header=header))
    fits.HDUList(hdus).writeto(tmp_path / "mef.fits")
    cutout = read_cutout(tmp_path / "mef.fits", unit="ct")
    assert cutout.bands == ("g", "r", "i") and cutout.unit == u.ct


def test_nddata_and_ccddata_inputs(cube):
    """NDData and CCDData read as one band; bands= names them when headers do not."""
    data, wcs = cube
    nd = NDData(data[0], wcs=wcs, unit="nmgy")
    assert read_cutout(nd, bands="g").bands == ("g",)
    with pytest.raises(BandMismatchError, match="pass bands="):
        read_cutout(nd)
    ccd = CCDData(data[0], wcs=wcs, unit="nmgy", meta={"FILTER": "z"})
    assert read_cutout(ccd).bands == ("z",)
    with pytest.raises(BandMismatchError, match=r"holds bands \['z'\]"):
        read_cutout(ccd, bands="g")


def test_inputs_are_not_mutated(cube):
    """Reading copies: the caller's arrays, masks and headers are untouched."""
    data, wcs = cube
    data = data.copy()
    data[0, 0, 0] = np.nan
    before = data.copy()
    ccd = CCDData(data[0], wcs=wcs, unit="nmgy", meta={"FILTER": "g"})
    cutout = read_cutout(ccd)
    cutout["g"].data[1, 1] = -99
    assert_array_equal(ccd.data, before[0])
    assert ccd.mask is None
    assert dict(ccd.meta) == {"FILTER": "g"}
    assert cutout.mask[0, 0, 0]


def test_nan_pixels_become_masked(cube):
    """Non-finite pixels are added to the mask."""
    data, wcs = cube
    data = data.copy()
    data[1, 3, 4] = np.inf
    cutout = read_cutout((data, wcs), bands="gri")
    assert cutout["r"].mask[3, 4] and cutout.mask.sum() == 1


def test_missing_wcs(tmp_path):
    """A FITS without WCS raises MissingWCSError naming the file."""
    fits.writeto(tmp_path / "nowcs.fits", np.ones((5, 5)), fits.Header({"FILTER": "g"}))
    with pytest.raises(MissingWCSError, match="nowcs.fits.*no WCS"):
        read_cutout(tmp_path / "nowcs.fits")
    with pytest.raises(MissingWCSError):
        read_cutout(NDData(np.ones((5, 5))), bands="g")


def test_broken_wcs(tmp_path, wcs):
    """A non-celestial or singular WCS raises InvalidWCSError."""
    header = fits.Header({"CTYPE1": "LINEAR", "CTYPE2": "LINEAR", "FILTER": "g"})
    fits.writeto(tmp_path / "linear.fits", np.ones((5, 5)), header)
    with pytest.raises(InvalidWCSError, match="no celestial axes"):
        read_cutout(tmp_path / "linear.fits")
    singular = wcs.deepcopy()
    singular.wcs.cd = [[0, 0], [0, 0]]
    with pytest.raises(InvalidWCSError, match="singular"):
        read_cutout((np.ones((16, 20)), singular), bands="g")
    header = wcs.to_header()
    header["CTYPE1"] = "RA---XXX"
    fits.writeto(tmp_path / "bad.fits", np.ones((5, 5)), header)
    with pytest.raises(InvalidWCSError, match="cannot be parsed"):
        read_cutout(tmp_path / "bad.fits", bands="g")


def test_all_nan_and_empty(cube):
    """All-NaN or empty data raise InvalidDataError."""
    _, wcs = cube
    with pytest.raises(InvalidDataError, match="no finite pixel"):
        read_cutout((np.full((16, 20), np.nan), wcs), bands="g")
    with pytest.raises(InvalidDataError, match="empty list"):
        read_cutout([])
    with pytest.raises(InvalidDataError, match="2-D"):
        read_cutout(CCDData(np.ones(5), unit="ct", wcs=None), bands="g")


def test_band_count_mismatch(cube):
    """A cube whose depth differs from the bands given raises BandMismatchError."""
    data, wcs = cube
    with pytest.raises(BandMismatchError, match="holds 3 image"):
        read_cutout((data, wcs), bands="gr")
    with pytest.raises(BandMismatchError, match="more than once"):
        read_cutout((data, wcs), bands="ggr")


def test_units(cube):
    """Units are checked: unknown BUNIT or a conflicting unit raise UnitError."""
    data, wcs = cube
    ccd = CCDData(data[0], wcs=wcs, unit="ct", meta={"FILTER": "g"})
    with pytest.raises(UnitError, match="in ct, but unit=nmgy"):
        read_cutout(ccd, unit="nmgy")
    header = wcs.to_header()
    header["BUNIT"] = "bananas per pixel"
    with pytest.raises(UnitError, match="does not understand"):
        read_cutout(fits.PrimaryHDU(data[0], header), bands="g")
    assert read_cutout((data, wcs), bands="gri").unit == u.dimensionless_unscaled


def test_corrupt_and_missing_files(tmp_path, cube):
    """A truncated FITS raises CorruptFileError; a missing path an InputError."""
    data, wcs = cube
    cutout = read_cutout((data, wcs), bands="gri", unit="ct")
    path = write_cutout(cutout, tmp_path / "ok.fits")
    raw = path.read_bytes()
    (tmp_path / "trunc.fits").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptFileError, match="could not be read as FITS"):
        read_cutout(tmp_path / "trunc.fits")
    (tmp_path / "text.fits").write_text("not a fits file at all")
    with pytest.raises(CorruptFileError):
        read_cutout(tmp_path / "text.fits")
    with pytest.raises(InputError, match="no such file"):
        read_cutout(tmp_path / "absent.fits")
    with pytest.raises(InputError, match="cannot read a cutout from int"):
        read_cutout(42)


def test_write_is_atomic_and_refuses_overwrite(tmp_path, cube, monkeypatch):
    """Writing never leaves a partial file, and does not overwrite unless asked."""
    data, wcs = cube
    cutout = read_cutout((data, wcs), bands="gri", unit="ct")
    path = write_cutout(cutout, tmp_path / "a.fits")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_cutout(cutout, path)
    original = path.read_bytes()

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_cutout(cutout, path, overwrite=True)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.fits"]


def test_cutout_container(cube):
    """Cutout exposes bands, stacked views, select and with_data."""
    data, wcs = cube
    cutout = Cutout.from_arrays(data, wcs, "gri", unit="nmgy", meta={"SURVEY": "SDSS"})
    assert repr(cutout) == "<Cutout SDSS bands='gri' shape=(16, 20) unit=nmgy>"
    plain = Cutout.from_arrays(data, wcs, "gri")  # a dimensionless unit is named, not ''
    assert repr(plain) == "<Cutout bands='gri' shape=(16, 20) unit=dimensionless>"
    assert list(cutout) == ["g", "r", "i"] and len(cutout) == 3
    assert cutout.uncertainty_array is None
    sub = cutout.select("ig")
    assert sub.bands == ("i", "g")
    assert_array_equal(sub.data[0], data[2])
    new = cutout.with_data(data * 2, unit="ct", uncertainty=np.ones_like(data))
    assert new.unit == u.ct and new.uncertainty_array.shape == data.shape
    assert new.meta["SURVEY"] == "SDSS"
    assert same_wcs(new.wcs, cutout.wcs, shape=(16, 20))
    with pytest.raises(BandMismatchError, match="no band"):
        cutout["z"]  # noqa: B018
    with pytest.raises(ShapeMismatchError, match="n_bands=3"):
        cutout.with_data(data[:2])
    with pytest.raises(BandMismatchError, match="appears twice"):
        Cutout([("g", cutout["g"]), ("g", cutout["r"])])


def test_accepts_wcs_header_tuple_and_hdu(cube):
    """(array, Header) tuples and bare HDUs are accepted, like reproject's parser."""
    data, wcs = cube
    header = wcs.to_header()
    assert read_cutout((data[0], header), bands="g").shape == (16, 20)
    assert read_cutout(fits.ImageHDU(data, header), bands="gri").bands == ("g", "r", "i")
    assert isinstance(read_cutout(read_cutout((data, wcs), bands="gri")).wcs, WCS)
