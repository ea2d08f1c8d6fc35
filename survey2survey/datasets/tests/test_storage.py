# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of save_pairs / load_pairs."""

import shutil

import numpy as np
import pytest
from astropy.io import fits
from numpy.testing import assert_array_equal

from survey2survey.datasets import load_pairs, make_survey_pairs, save_pairs
from survey2survey.exceptions import CorruptFileError, InputError
from survey2survey.utils._wcs import same_wcs

ROLES = ("source", "target", "source_truth", "target_truth")


def test_round_trip(small_pairs, tmp_path):
    """Saved and loaded pairs are identical: data, WCS, units, headers, uncertainty, catalogue."""
    before = small_pairs[0].source.data.copy()
    save_pairs(small_pairs, tmp_path)
    assert_array_equal(small_pairs[0].source.data, before)
    loaded = load_pairs(tmp_path)
    assert loaded.names == small_pairs.names
    for a, b in zip(small_pairs, loaded, strict=True):
        for role in ROLES:
            ca, cb = getattr(a, role), getattr(b, role)
            assert_array_equal(ca.data, cb.data)
            assert ca.unit == cb.unit
            assert cb.meta["SURVEY"] == ca.meta["SURVEY"] and cb.meta["SEED"] == 5
            for band in ca.bands:
                assert same_wcs(ca[band].wcs, cb[band].wcs, shape=ca.shape)
                for key in ("PSFFWHM", "SKYSIG", "SEED", "GALSIMV", "MAGZERO"):
                    assert ca[band].meta[key] == cb[band].meta[key]
            if ca.uncertainty_array is not None:
                assert_array_equal(ca.uncertainty_array, cb.uncertainty_array)
        assert a.catalog.colnames == b.catalog.colnames
        for name in a.catalog.colnames:
            assert_array_equal(a.catalog[name], b.catalog[name])
    with fits.open(tmp_path / "source" / f"{small_pairs.names[0]}.fits") as hdul:
        assert "TRUTH" in hdul and "CD1_1" in hdul["SCI", 1].header


def test_existing_files_need_overwrite(small_pairs, tmp_path):
    """Saving twice raises FileExistsError unless overwrite=True."""
    save_pairs(small_pairs[:1], tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_pairs(small_pairs[:1], tmp_path)
    save_pairs(small_pairs[:1], tmp_path, overwrite=True)


def test_external_set_has_only_sources(tmp_path):
    """An external set saves and loads with source folders only and no targets."""
    pairs = make_survey_pairs(2, bands="r", split="external", source_size=16, processes=1,
                              progress=False)
    save_pairs(pairs, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source", "source_truth"]
    loaded = load_pairs(tmp_path)
    assert all(p.target is None for p in loaded)


def test_missing_truth_folders(small_pairs, tmp_path):
    """Truth folders are optional."""
    save_pairs(small_pairs, tmp_path)
    shutil.rmtree(tmp_path / "source_truth")
    shutil.rmtree(tmp_path / "target_truth")
    loaded = load_pairs(tmp_path)
    assert loaded[0].source_truth is None and loaded[0].target_truth is None
    assert loaded[0].catalog is not None


def test_real_cutouts_layout(tmp_path):
    """Plain single-band FITS files with FILTER headers in source/ and target/ load as pairs."""
    from survey2survey.datasets import make_wcs

    for folder, scale, unit in (("source", 0.396, "nmgy"), ("target", 0.263, "ct")):
        (tmp_path / folder).mkdir()
        header = make_wcs(10.0, 0.0, scale, (20, 20)).to_header()
        header["FILTER"], header["BUNIT"] = "r", unit
        fits.PrimaryHDU(np.ones((20, 20), np.float32), header).writeto(
            tmp_path / folder / "galaxy1.fits")
    loaded = load_pairs(tmp_path)
    assert len(loaded) == 1 and loaded[0].catalog is None
    assert loaded[0].target.bands == ("r",) and str(loaded[0].target.unit) == "ct"


def test_unmatched_names(small_pairs, tmp_path):
    """source/ and target/ with different file names raise InputError naming them."""
    save_pairs(small_pairs, tmp_path)
    (tmp_path / "target" / f"{small_pairs.names[1]}.fits").unlink()
    with pytest.raises(InputError, match="must hold the same file names"):
        load_pairs(tmp_path)


def test_bad_directories(tmp_path):
    """Missing or empty folders raise InputError; a corrupt file raises CorruptFileError."""
    with pytest.raises(InputError, match="does not exist"):
        load_pairs(tmp_path / "nothing")
    with pytest.raises(InputError, match="has no 'source' folder"):
        load_pairs(tmp_path)
    (tmp_path / "source").mkdir()
    with pytest.raises(InputError, match="holds no .fits files"):
        load_pairs(tmp_path)
    (tmp_path / "source" / "bad.fits").write_bytes(b"not a FITS file")
    with pytest.raises(CorruptFileError, match="bad.fits"):
        load_pairs(tmp_path)


def test_save_rejects_non_pairs(tmp_path):
    """save_pairs refuses objects that are not SurveyPair."""
    with pytest.raises(InputError, match="expects SurveyPair objects"):
        save_pairs([1, 2], tmp_path)


@pytest.mark.parametrize("name", ["../x", "sub/x", "/tmp/x", "..", "a\\b"])
def test_names_never_leave_the_folder(small_pairs, tmp_path, name):
    """A pair named '../x' (or absolute, or with a separator) is refused before any write."""
    from dataclasses import replace

    bad = replace(small_pairs[1], name=name)
    folder = tmp_path / "pairs"
    with pytest.raises(InputError, match="is not a plain file name"):
        save_pairs([small_pairs[0], bad], folder)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the good pair


@pytest.mark.parametrize("keep", ["half", "header", "last_hdu"])
def test_truncated_file_is_named(small_pairs, tmp_path, keep):
    """A truncated file in a pairs folder raises CorruptFileError naming it, not a bare error."""
    save_pairs(small_pairs, tmp_path)
    path = sorted((tmp_path / "target").glob("*.fits"))[1]
    data = path.read_bytes()
    cut = {"half": len(data) // 2, "header": 2880 * 3 + 10,
           "last_hdu": len(data) - 2 * 2880 - 100}[keep]
    path.write_bytes(data[:cut])
    with pytest.raises(CorruptFileError, match=path.name):
        load_pairs(tmp_path)
    from survey2survey import Survey2Survey

    with pytest.raises(CorruptFileError, match=path.name):
        Survey2Survey("aecnn", epochs=1).fit(tmp_path, progress=False)
