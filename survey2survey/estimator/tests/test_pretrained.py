# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The shipped pretrained model: listed, loadable by name, translating real-format files."""

import hashlib
import warnings

import numpy as np
import pytest

import survey2survey
from survey2survey import Survey2Survey, pretrained_models
from survey2survey.datasets import sample_sdss_frames
from survey2survey.estimator.pretrained import pretrained_path
from survey2survey.exceptions import InvalidOptionError, UnknownModelError
from survey2survey.io import read_cutout

NAME = "sdss-des-aecnn"


@pytest.fixture(scope="module")
def model():
    return Survey2Survey.from_pretrained(NAME)


def test_listed_everywhere():
    """The top-level hook (used by `survey2survey info`) lists the shipped model."""
    assert NAME in pretrained_models()
    assert survey2survey.pretrained_models() == pretrained_models()
    assert pretrained_path(NAME.upper()).is_file()


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(UnknownModelError, match="sdss-des-aecnn") as info:
        Survey2Survey.from_pretrained("sdss-hsc")
    assert isinstance(info.value, KeyError)


def test_translates_the_sample_sdss_frames(model):
    """SDSS frame files in, DES counts out: same WCS, flux conserved, provenance cards."""
    frames = read_cutout(sample_sdss_frames())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sample is in the model's domain: no warning
        out = model.transform(frames, progress=False)
    assert out.bands == ("g", "r", "i") and str(out.unit) == "ct"
    for band in out.bands:
        assert out[band].wcs.wcs.compare(frames[band].wcs.wcs)
        meta = out[band].meta
        assert meta["S2STRANS"] == "aecnn" and meta["MAGZERO"] == 30.0
        assert "NMGY" not in meta  # the SDSS calibration does not describe DES counts
    # the output head only moves flux between pixels: each band's total is the input's
    factor = 10 ** (0.4 * (30 - 22.5))  # nanomaggies -> DES counts at zero point 30
    assert np.allclose(np.nansum(out.data, axis=(1, 2)),
                       factor * np.nansum(frames.data, axis=(1, 2)), rtol=1e-4)
    assert model.is_fitted and model.bands_ == ("g", "r", "i")


def test_fine_tuning_leaves_the_shipped_file_alone(pairs):
    """warm_start continues from the pretrained weights; the package file is untouched."""
    path = pretrained_path(NAME)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    tuned = Survey2Survey.from_pretrained(NAME)
    weights = tuned.translators_[0].weights_sha256()
    assert tuned.warm_start  # fit continues from the pretrained weights
    tuned.set_params(epochs=1, batch_size=4, learning_rate=1e-4)
    tuned.fit(pairs[:6], validation=0, progress=False)
    translator = tuned.translators_[0]
    assert translator.weights_sha256() != weights
    assert (translator.learning_rate, translator.batch_size) == (1e-4, 4)
    assert translator.params["learning_rate"] == 1e-4
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_fine_tuning_cannot_change_the_network(pairs):
    tuned = Survey2Survey.from_pretrained(NAME)
    tuned.set_params(dropout=0.2)
    with pytest.raises(InvalidOptionError, match="dropout cannot change"):
        tuned.fit(pairs[:6], validation=0, progress=False)
    tuned.set_params(learning_rate=-1.0, dropout=0.0)
    with pytest.raises(InvalidOptionError, match="learning_rate"):
        tuned.fit(pairs[:6], validation=0, progress=False)


def _misregistered_frames():
    """The sample frames with g and i cut to other grids (2-3 pixels off r), as SDSS frames are."""
    from astropy.nddata import CCDData

    frames = read_cutout(sample_sdss_frames())
    cuts = {"g": (slice(2, 192), slice(5, 195)), "r": (slice(4, 194), slice(4, 194)),
            "i": (slice(7, 197), slice(1, 191))}
    bands = {}
    for band, (ys, xs) in cuts.items():
        image = frames[band]
        wcs = image.wcs.deepcopy()
        wcs.wcs.crpix = wcs.wcs.crpix - [xs.start, ys.start]
        bands[band] = CCDData(image.data[ys, xs], unit=image.unit, wcs=wcs, meta=image.meta)
    return read_cutout(bands)


def test_bands_on_different_grids_are_registered(model):
    """transform registers the bands onto the r grid first (never translates misregistered)."""
    from survey2survey.alignment import is_registered, register_bands

    frames = _misregistered_frames()
    assert not is_registered(frames)
    out = model.transform(frames, progress=False)
    for band in out.bands:
        assert out[band].wcs.wcs.compare(frames["r"].wcs.wcs)
    expected = model.transform(register_bands(frames), progress=False)
    assert np.array_equal(out.data, expected.data, equal_nan=True)
    # float32 frames in, float32 out; the strips the g and i frames do not reach: NaN
    assert all(out[b].data.dtype == np.float32 for b in out.bands)
    assert out["g"].mask.any() and np.isnan(out["g"].data[out["g"].mask]).all()
    # the r pixels hold the same sky in every band: the g and r outputs correlate
    good = ~out.mask.any(axis=0)
    assert np.corrcoef(out["g"].data[good], out["r"].data[good])[0, 1] > 0.5


def test_real_sdss_frames_translated_registered(model):
    """Real g, r, i frames: translated on the r grid; the star stays where r puts it."""
    from astropy.utils.exceptions import AstropyUserWarning
    from photutils.aperture import CircularAperture, aperture_photometry

    from survey2survey.alignment import register_bands
    from survey2survey.datasets import REAL_FRAME, real_sdss_frames

    frames = read_cutout(real_sdss_frames())
    with pytest.warns(AstropyUserWarning, match="outside the range of the training data"):
        out = model.transform(frames, progress=False)  # the star's core is brighter
    registered = register_bands(frames)
    aperture = CircularAperture(REAL_FRAME["star_r"], r=2.0 / 0.396)  # 4" diameter
    factor = 10 ** (0.4 * (30 - 22.5))
    for band in out.bands:
        assert out[band].wcs.wcs.compare(frames["r"].wcs.wcs)
        flux_in = aperture_photometry(registered[band].data, aperture)["aperture_sum"][0]
        flux_out = aperture_photometry(out[band].data, aperture)["aperture_sum"][0]
        # measured: 0.017, 0.037, 0.004 mag (the model's own error on this bright star);
        # translated misregistered, the g star was 3.4 mag off (it is 11.8 px away)
        assert abs(2.5 * np.log10(flux_out / (factor * flux_in))) < 0.06


def test_resampled_output_of_legacy_pc_wcs_points_to_the_same_sky(model, tmp_path):
    """PS1-style PC001001 WCS (rotated 90 deg, 0.25" pixels): resampled, written, read back."""
    from astropy.io import fits

    from survey2survey.io.tests.test_real_headers import ps1_header

    rng = np.random.default_rng(4)
    files = {}
    for band in "gri":
        header = ps1_header(90.0)
        for key in ("CDELT1", "CDELT2"):
            header[key] = np.sign(header[key]) * 0.25 / 3600
        header["CRPIX1"], header["CRPIX2"] = 40.5, 40.5
        header["BUNIT"], header["FILTER"] = "nmgy", band
        files[band] = tmp_path / f"ps1_{band}.fits"
        fits.PrimaryHDU(rng.normal(0, 0.05, (80, 80)).astype(np.float32), header).writeto(
            files[band])
    source = read_cutout(files)
    centre = source["r"].wcs.pixel_to_world(39.5, 39.5)
    out_path = tmp_path / "out.fits"
    model.transform(files, resample=True, output=out_path, progress=False)
    back = read_cutout(out_path)
    for band in back.bands:
        header = fits.getheader(out_path, ("SCI", back.bands.index(band) + 1))
        assert "PC001001" not in header
        ny, nx = back[band].shape
        assert back[band].wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2).separation(
            centre).arcsec < 0.5
