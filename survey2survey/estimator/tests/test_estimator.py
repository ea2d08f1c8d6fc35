# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the Survey2Survey estimator on tiny simulated pairs."""

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty
from astropy.utils.exceptions import AstropyUserWarning
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey import Survey2Survey, transform_many
from survey2survey.estimator._paper import average_layer
from survey2survey.exceptions import (
    BandMismatchError,
    ImageTooSmallError,
    InvalidDataError,
    InvalidOptionError,
    MissingWCSError,
    NotFittedError,
    PixelScaleError,
    TrainingDataError,
    UnitError,
    WeightsFileError,
)
from survey2survey.io import read_cutout, write_cutout

from .conftest import N_TEST, N_TRAIN, make_wcs

WCS_KEYS = ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2", "CD1_1", "CD1_2",
            "CD2_1", "CD2_2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2")


@pytest.fixture(scope="module")
def fitted_r(pairs):
    """A single-band (r) estimator fitted for one epoch: fast, for behaviour tests."""
    s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, seed=1)
    return s2s.fit(pairs[:8], validation=0, progress=False)


def _snapshot(ccd):
    return ccd.data.copy(), None if ccd.mask is None else ccd.mask.copy(), ccd.meta.copy()


def _unchanged(ccd, snapshot):
    data, mask, meta = snapshot
    assert_array_equal(ccd.data, data)
    assert (ccd.mask is None and mask is None) or np.array_equal(ccd.mask, mask)
    assert dict(ccd.meta) == dict(meta)


def _wcs_cards(wcs):
    header = wcs.to_header(relax=True)
    return {key: header[key] for key in WCS_KEYS if key in header}


def test_output_keeps_input_wcs_and_units(fitted, big_pairs):
    """Every band keeps the input's WCS exactly and is in DES counts with MAGZERO 30."""
    cutout = big_pairs[N_TRAIN].source
    before = {b: _snapshot(cutout[b]) for b in cutout.bands}
    out = fitted.transform(cutout)
    x = np.array([0, 5.5, 17, 95])
    y = np.array([0, 20, 3.25, 95])
    for band in "gri":
        assert_allclose(out[band].wcs.pixel_to_world_values(x, y),
                        cutout[band].wcs.pixel_to_world_values(x, y), rtol=0, atol=0)
        assert _wcs_cards(out[band].wcs) == _wcs_cards(cutout[band].wcs)
        assert out[band].unit == u.ct and out[band].meta["MAGZERO"] == 30.0
        assert out[band].meta["SURVEY"] == "DES" and out[band].meta["S2STRANS"] == "aecnn"
        assert out[band].shape == cutout[band].shape
        _unchanged(cutout[band], before[band])
    assert out.meta["S2SSRC"] == "SDSS" and out.meta["S2STGT"] == "DES"
    assert "S2SHASH" in out.meta and "HISTORY" in out[band].meta


def test_fits_path_in_and_out_keeps_header_wcs(fitted, big_pairs, tmp_path):
    """A FITS path in gives a Cutout; output= writes FITS with the same WCS keywords."""
    src = tmp_path / "in.fits"
    write_cutout(big_pairs[N_TRAIN + 1].source, src)
    out = fitted.transform(src, output=tmp_path / "out.fits")
    with fits.open(src) as hin, fits.open(tmp_path / "out.fits") as hout:
        for k in range(1, 4):
            header_in, header_out = hin["SCI", k].header, hout["SCI", k].header
            for key in WCS_KEYS:
                assert header_in.get(key) == header_out.get(key), key
            assert u.Unit(header_out["BUNIT"]) == u.ct and header_out["MAGZERO"] == 30.0
    assert_allclose(read_cutout(tmp_path / "out.fits").data, out.data, rtol=1e-7)


def test_score_table_and_score(fitted, big_pairs):
    """score_table has a row per held-out pair beside the source; score is its mean MSSIM."""
    held_out = big_pairs[N_TRAIN:N_TRAIN + N_TEST]
    sources, targets = [p.source for p in held_out], [p.target for p in held_out]
    table = fitted.score_table(sources, targets, truth=[p.target_truth for p in held_out],
                               progress=False)
    assert len(table) == N_TEST and list(table["index"]) == list(range(N_TEST))
    assert {"mssim", "mssim_baseline", "flux_error_truth", "flux_error_truth_baseline"} <= set(
        table.colnames)
    assert ((table["mssim"] > 0) & (table["mssim"] <= 1)).all()
    assert fitted.score(sources, targets, progress=False) == pytest.approx(table["mssim"].mean())


def test_save_load_identical(fitted, big_pairs, tmp_path):
    """A saved and reloaded estimator gives bit-identical transforms and the same config."""
    path = fitted.save(tmp_path / "model.s2s")
    again = Survey2Survey.load(path)
    cutout = big_pairs[N_TRAIN + 2].source
    assert_array_equal(again.transform(cutout).data, fitted.transform(cutout).data)
    assert again.bands_ == fitted.bands_ and again.source_ is fitted.source_
    assert again.codec_.to_dict() == fitted.codec_.to_dict()
    assert again.get_params() == fitted.get_params()
    with pytest.raises(FileExistsError):
        fitted.save(path)


def test_load_rejects_foreign_and_tampered_files(fitted, tmp_path):
    """A non-zip file, a pickle or a tampered archive raises WeightsFileError."""
    import pickle
    import zipfile

    bad = tmp_path / "bad.s2s"
    bad.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(WeightsFileError, match="not a zip"):
        Survey2Survey.load(bad)
    path = fitted.save(tmp_path / "model.s2s")
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    blob = bytearray(members["translator_0.safetensors"])
    blob[-10] ^= 0xFF
    members["translator_0.safetensors"] = bytes(blob)
    with zipfile.ZipFile(tmp_path / "tampered.s2s", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(WeightsFileError):
        Survey2Survey.load(tmp_path / "tampered.s2s")


def test_ccddata_in_ccddata_out_with_mask(fitted_r, ccd_r):
    """A CCDData gives a CCDData; masked and NaN pixels stay masked; input untouched."""
    ccd = ccd_r.copy()
    ccd.data[3, 4] = np.nan
    ccd.mask = np.zeros(ccd.shape, bool)
    ccd.mask[10:14, 10:14] = True
    before = _snapshot(ccd)
    out = fitted_r.transform(ccd)
    assert isinstance(out, CCDData)
    assert out.mask[3, 4] and out.mask[10:14, 10:14].all() and out.mask.sum() == 17
    assert np.isnan(out.data[out.mask]).all()  # not what the model filled in there
    assert np.isfinite(out.data[~out.mask]).all()
    assert out.data.dtype == np.float64  # float64 in, float64 out
    assert _wcs_cards(out.wcs) == _wcs_cards(ccd.wcs)
    _unchanged(ccd, before)


def test_units_converted_or_assumed(fitted_r, ccd_r):
    """Compatible units are converted; no unit is assumed with a warning."""
    in_mgy = CCDData(ccd_r.data * 1e-9, unit="mgy", wcs=ccd_r.wcs, meta=ccd_r.meta)
    assert_allclose(fitted_r.transform(in_mgy).data, fitted_r.transform(ccd_r).data, rtol=1e-5)
    bare = CCDData(ccd_r.data, unit=u.dimensionless_unscaled, wcs=ccd_r.wcs, meta=ccd_r.meta)
    with pytest.warns(AstropyUserWarning, match="no unit; assumed"):
        fitted_r.transform(bare)


def test_bad_inputs_raise_and_leave_input_untouched(fitted_r, ccd_r):
    """No WCS, wrong band, wrong unit, all-masked, too small: specific errors."""
    cases = [
        (CCDData(ccd_r.data.copy(), unit="nmgy", meta={"FILTER": "r"}), MissingWCSError,
         "no WCS"),
        (CCDData(ccd_r.data.copy(), unit="nmgy", wcs=make_wcs(), meta={"FILTER": "z"}),
         BandMismatchError, "'z'"),
        (CCDData(ccd_r.data.copy(), unit="m", wcs=make_wcs(), meta={"FILTER": "r"}), UnitError,
         "cannot be converted"),
        (CCDData(ccd_r.data.copy(), unit="nmgy", wcs=make_wcs(), meta={"FILTER": "r"},
                 mask=np.ones((40, 40), bool)), InvalidDataError, "every pixel"),
        (CCDData(np.full((40, 40), np.nan), unit="nmgy", wcs=make_wcs(), meta={"FILTER": "r"}),
         InvalidDataError, "no finite pixel"),
        (CCDData(np.ones((4, 40)), unit="nmgy", wcs=make_wcs((4, 40)), meta={"FILTER": "r"}),
         ImageTooSmallError, "4x40"),
    ]
    for ccd, error, match in cases:
        before = _snapshot(ccd)
        with pytest.raises(error, match=match):
            fitted_r.transform(ccd)
        _unchanged(ccd, before)
    with pytest.raises(NotFittedError, match="not fitted"):
        Survey2Survey("aecnn", bands="r").transform(ccd_r)


def test_fit_rejects_bad_pairs_with_count(pairs):
    """A pair that does not overlap is rejected with a logged reason, a warning and a count."""
    sources = [p.source for p in pairs[:4]]
    targets = [p.target for p in pairs[:4]]
    far = targets[1].with_data(targets[1].data, wcs=make_wcs((60, 60), 0.263, ra=10.0, dec=-40))
    targets[1] = far
    s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=4)
    with pytest.warns(AstropyUserWarning, match="1 of 4 training pair"):
        s2s.fit(sources, targets, validation=0, progress=False)
    assert s2s.n_rejected_ == 1 and s2s.rejected_[0][0] == 1
    assert "alignment failed" in s2s.rejected_[0][1]
    with pytest.raises(TrainingDataError, match="needs pairs"):
        s2s.fit(sources, targets[:3], progress=False)
    with pytest.raises(TrainingDataError, match="target cutouts are needed"):
        s2s.fit(sources, progress=False)


def test_fit_from_pairs_directory_and_paths(pairs, tmp_path):
    """fit accepts a save_pairs directory and lists of FITS paths; params pass through."""
    from survey2survey.datasets import save_pairs

    save_pairs(pairs[:4], tmp_path / "pairs")
    s2s = Survey2Survey("aecnn", bands="gr", epochs=1, batch_size=4)
    s2s.fit(tmp_path / "pairs", validation=0, progress=False)
    assert s2s.translators_[0].epochs == 1 and s2s.translators_[0].batch_size == 4
    assert s2s.training_shape_ == (40, 40)
    paths = sorted((tmp_path / "pairs" / "source").glob("*.fits"))
    targets = sorted((tmp_path / "pairs" / "target").glob("*.fits"))
    s2s.fit(paths, targets, validation=0, progress=False)
    assert s2s.transform(paths[0]).bands == ("g", "r")


def test_large_field_is_tiled_without_seams(fitted, big_pairs):
    """A field larger than the tile size is tiled; it matches the whole-field result, no seams."""
    field = np.concatenate([np.concatenate([big_pairs[N_TRAIN + k].source.data
                                            for k in (0, 1)], axis=2),
                            np.concatenate([big_pairs[N_TRAIN + k].source.data
                                            for k in (2, 3)], axis=2)], axis=1)[:, :180, :170]
    cutout = read_cutout((field, make_wcs(field.shape[1:])), bands="gri", unit="nmgy")
    whole = fitted.transform(cutout).data
    fitted.tile_size, fitted.overlap = 128, 64
    try:
        tiled = fitted.transform(cutout).data
    finally:
        fitted.tile_size, fitted.overlap = None, None
    assert tiled.shape == field.shape and np.isfinite(tiled).all()
    scale = np.percentile(np.abs(whole), 99)
    assert np.median(np.abs(tiled - whole)) < 0.02 * scale
    for axis in (1, 2):
        # mean absolute step between neighbouring rows / columns, away from the field's
        # edges (which a network sees differently in a tile and in the whole field)
        steps_tiled = np.abs(np.diff(tiled, axis=axis)).mean(axis=(0, 3 - axis))[24:-24]
        steps_whole = np.abs(np.diff(whole, axis=axis)).mean(axis=(0, 3 - axis))[24:-24]
        assert steps_tiled.max() < 1.2 * steps_whole.max()


def test_output_grid_target_conserves_flux(fitted_r, pairs):
    """output_grid='target' resamples to 0.263"/pix with the total flux conserved."""
    cutout = pairs[N_TRAIN].source.select("r")
    native = fitted_r.transform(cutout)
    fitted_r.output_grid = "target"
    try:
        out = fitted_r.transform(cutout)
    finally:
        fitted_r.output_grid = "source"
    scale = np.sqrt(abs(np.linalg.det(out.wcs.pixel_scale_matrix))) * 3600
    assert_allclose(scale, 0.263, rtol=1e-3)
    assert out.shape[0] > native.shape[0]
    assert_allclose(np.nansum(out.data), np.nansum(native.data), rtol=0.03)
    centre = native.wcs.pixel_to_world(19.5, 19.5)
    assert_allclose(out.wcs.world_to_pixel(centre), [(out.shape[1] - 1) / 2,
                                                     (out.shape[0] - 1) / 2], atol=0.6)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
@pytest.mark.filterwarnings("ignore:.*outside the range of the training data")
def test_uncertainty_from_mc_dropout_and_ensemble(pairs):
    """uncertainty=True attaches a positive StdDevUncertainty (MC dropout, or an ensemble)."""
    cutout = pairs[N_TRAIN].source
    for kwargs in (dict(dropout=0.2), dict(n_ensemble=2)):
        s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, **kwargs)
        s2s.fit(pairs[:4], validation=0, progress=False)
        out = s2s.transform(cutout, uncertainty=True, n_samples=4)
        sigma = out["r"].uncertainty
        assert isinstance(sigma, StdDevUncertainty) and sigma.array.shape == (40, 40)
        assert np.all(sigma.array >= 0) and sigma.array.mean() > 0
    with pytest.raises(Exception, match="no dropout"):
        Survey2Survey("aecnn", bands="r", epochs=1).fit(pairs[:2], validation=0, progress=False
                                                        ).transform(cutout, uncertainty=True)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
@pytest.mark.filterwarnings("ignore:.*outside the range of the training data")
def test_unpaired_cyclegan_accepts_unequal_lists(pairs):
    """CycleGAN fits on unequal numbers of unaligned source and target cutouts."""
    s2s = Survey2Survey("cyclegan", bands="r", epochs=1, batch_size=2, base_channels=4,
                        n_blocks=1, disc_channels=4, disc_layers=2)
    s2s.fit([p.source for p in pairs[:3]], [p.target for p in pairs[3:5]], validation=0,
            progress=False)
    out = s2s.transform(pairs[N_TRAIN].source)
    assert out.shape == (40, 40) and out.unit == u.ct


def test_paper_mode_is_8bit(pairs):
    """mode='paper' trains on Lupton composites and returns 8-bit values with the WCS kept."""
    s2s = Survey2Survey("aecnn", mode="paper", epochs=1, batch_size=4)
    s2s.fit(pairs[:4], validation=0, progress=False)
    out = s2s.transform(pairs[N_TRAIN].source)
    assert out.data.dtype == np.float64 and out["g"].data.dtype == np.uint8
    assert out.meta["S2SMODE"] == "paper"
    rgb = np.stack([out[b].data for b in "irg"], axis=-1)
    assert average_layer(rgb).shape == (40, 40)
    assert _wcs_cards(out["g"].wcs) == _wcs_cards(pairs[N_TRAIN].source["g"].wcs)
    with pytest.raises(InvalidOptionError, match="3 bands"):
        Survey2Survey("aecnn", mode="paper", bands="gr").fit(pairs[:2], progress=False)


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
def test_transform_many_writes_files(fitted_r, pairs, tmp_path):
    """transform_many translates lists in chunks and writes one FITS file per input."""
    cutouts = [p.source for p in pairs[N_TRAIN:N_TRAIN + 3]]
    outs = transform_many(fitted_r, cutouts, batch_size=2, progress=False)
    assert len(outs) == 3 and all(o.unit == u.ct for o in outs)
    paths = transform_many(fitted_r, cutouts, output_dir=tmp_path / "out", batch_size=2,
                           progress=False)
    assert [p.name for p in paths] == [f"cutout_{k:06d}.fits" for k in range(3)]
    assert_allclose(read_cutout(paths[1]).data, outs[1].data, rtol=1e-7)
    listed = fitted_r.transform(cutouts, progress=False)
    assert isinstance(listed, list) and len(listed) == 3
    # batches of different sizes may take different (float32) convolution algorithms
    assert_allclose(listed[2].data, outs[2].data, rtol=1e-4)


def test_out_of_range_inputs_warn_once_and_are_flagged(fitted_r, ccd_r):
    """Inputs beyond the training range warn once per call; S2SOOD holds the fraction."""
    assert fitted_r.transform(ccd_r).meta["S2SOOD"] == 0
    bright = CCDData(ccd_r.data * 1e4, unit="nmgy", wcs=ccd_r.wcs, meta=ccd_r.meta)
    negated = CCDData(-1e3 * ccd_r.data, unit="nmgy", wcs=ccd_r.wcs, meta=ccd_r.meta)
    with pytest.warns(AstropyUserWarning, match="2 of 2 input cutout") as record:
        outs = fitted_r.transform([bright, negated])
    assert len([w for w in record if "training data" in str(w.message)]) == 1
    assert all(o.meta["S2SOOD"] > 0.5 for o in outs)


def test_pixel_scale_is_checked_or_resampled(fitted_r, ccd_r):
    """An image at another pixel scale is refused with advice, or resampled when asked."""
    des_scale = CCDData(ccd_r.data, unit="nmgy", wcs=make_wcs((40, 40), 0.263), meta=ccd_r.meta)
    with pytest.raises(PixelScaleError, match="0.263 arcsec pixels.*resample=True"):
        fitted_r.transform(des_scale)
    out = fitted_r.transform(des_scale, resample=True)
    scale = np.sqrt(abs(np.linalg.det(out.wcs.pixel_scale_matrix))) * 3600
    assert_allclose(scale, 0.396, rtol=1e-3)
    for huge in (3.96, 3600.0):
        with pytest.raises(PixelScaleError):
            fitted_r.transform(CCDData(ccd_r.data, unit="nmgy", wcs=make_wcs((40, 40), huge),
                                       meta=ccd_r.meta))
