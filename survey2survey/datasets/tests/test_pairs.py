# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of make_survey_pairs and SurveyPairs."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from numpy.testing import assert_array_equal
from photutils.aperture import SkyCircularAperture, aperture_photometry

from survey2survey.datasets import SurveyPair, SurveyPairs, make_survey_pairs
from survey2survey.exceptions import BandMismatchError, InvalidOptionError, UnknownSurveyError
from survey2survey.surveys import DES, SDSS

BAND_KEYS = ("SURVEY", "FILTER", "MAGZERO", "PSFMODEL", "PSFFWHM", "SKYLEVEL", "SKYSIG", "SEED",
             "GALSIMV")


def _assert_same(a, b):
    for pa, pb in zip(a, b, strict=True):
        assert pa.name == pb.name
        for role in ("source", "target", "source_truth", "target_truth"):
            assert_array_equal(getattr(pa, role).data, getattr(pb, role).data)


def test_deterministic(small_pairs):
    """The same seed gives identical arrays; the first m pairs of n are the set of m."""
    again = make_survey_pairs(2, bands="gri", seed=5, source_size=32, processes=1,
                              progress=False)
    _assert_same(small_pairs[:2], again)
    other = make_survey_pairs(1, bands="gri", seed=6, source_size=32, processes=1,
                              progress=False)
    assert not np.array_equal(other[0].source.data, small_pairs[0].source.data)


def test_deterministic_across_processes(small_pairs):
    """Two worker processes give the same pairs as one."""
    parallel = make_survey_pairs(3, bands="gri", seed=5, source_size=32, processes=2,
                                 progress=False)
    _assert_same(small_pairs, parallel)


def test_sequence_interface(small_pairs):
    """SurveyPairs supports len, indexing, slicing, iteration and the list views."""
    assert len(small_pairs) == 3
    assert isinstance(small_pairs[0], SurveyPair)
    assert isinstance(small_pairs[1:], SurveyPairs) and len(small_pairs[1:]) == 2
    assert [p.name for p in small_pairs] == small_pairs.names
    assert len(small_pairs.sources) == len(small_pairs.targets) == 3
    assert small_pairs.targets[0] is small_pairs[0].target
    assert small_pairs.meta["split"] == "train"
    assert "3 pair(s)" in repr(small_pairs)


def test_shapes_units_and_headers(small_pairs):
    """Native grids and sizes, survey flux units, and every header keyword present."""
    pair = small_pairs[0]
    assert pair.source.shape == (32, 32) and pair.target.shape == (48, 48)
    assert pair.source.unit == u.nmgy and pair.target.unit == u.ct
    assert pair.source_truth.unit == u.nmgy and pair.target_truth.unit == u.ct
    for cutout, survey in ((pair.source, SDSS), (pair.target, DES)):
        assert cutout.meta["SURVEY"] == survey.name
        assert cutout.meta["SEED"] == 5 and cutout.meta["SPLIT"] == "train"
        assert cutout.uncertainty_array is not None
        for band in "gri":
            header = cutout[band].meta
            assert all(key in header for key in BAND_KEYS)
            assert header["FILTER"] == band
            assert header["MAGZERO"] == survey.zero_point[band]
            assert header["PSFMODEL"] == survey.psf_model
            assert cutout[band].wcs.wcs.has_cd()
            scale = np.sqrt(abs(np.linalg.det(cutout[band].wcs.pixel_scale_matrix))) * 3600
            assert abs(scale - survey.pixel_scale.value) < 1e-9
    seeing = {pair.source[b].meta["SEEING"] for b in "gri"}
    assert len(seeing) == 1  # one seeing factor shared by all bands of a cutout
    assert pair.catalog["kind"][0] == "central"


def test_flux_consistency():
    """Noise-free SDSS and DES fluxes in a large aperture agree within 2% (1 nmgy = 1000 ct)."""
    pairs = make_survey_pairs(3, bands="gri", seed=11, source_size=64, processes=1,
                              progress=False)
    for pair in pairs:
        row = pair.catalog[0]
        aperture = SkyCircularAperture(SkyCoord(row["ra"], row["dec"], unit="deg"),
                                       r=9 * u.arcsec)
        for band in "gri":
            fluxes = []
            for cutout, to_nmgy in ((pair.source_truth, 1.0), (pair.target_truth, 1e-3)):
                image = cutout[band]
                table = aperture_photometry(image.data.astype(float), aperture, wcs=image.wcs)
                fluxes.append(float(table["aperture_sum"][0]) * to_nmgy)
            assert abs(fluxes[1] / fluxes[0] - 1) < 0.02


def test_central_galaxy_at_catalog_position(small_pairs):
    """The catalogue position of the central galaxy maps inside both cutouts, near the centre."""
    for pair in small_pairs:
        position = SkyCoord(pair.catalog["ra"][0], pair.catalog["dec"][0], unit="deg")
        for cutout in (pair.source, pair.target):
            x, y = cutout.wcs.world_to_pixel(position)
            ny, nx = cutout.shape
            pixel = cutout.wcs.proj_plane_pixel_scales()[0].to_value(u.arcsec)
            assert np.hypot(x - (nx - 1) / 2, y - (ny - 1) / 2) * pixel < 2.0


def test_target_on_source_grid(small_pairs):
    """target_grid='source' renders DES (PSF, noise, counts) on the SDSS WCS; same galaxies."""
    pairs = make_survey_pairs(1, bands="gri", seed=5, source_size=32, target_grid="source",
                              processes=1, progress=False)
    pair = pairs[0]
    assert pair.target.shape == pair.source.shape
    assert pair.target.unit == u.ct and pair.target["r"].meta["PSFMODEL"] == "kolmogorov"
    assert pair.target.meta["GRID"] == "source"
    assert_array_equal(pair.target.wcs.wcs.cd, pair.source.wcs.wcs.cd)
    assert_array_equal(pair.source.data, small_pairs[0].source.data)
    # the sky noise per pixel grows with the pixel area: sigma scales with the pixel size
    ratio = SDSS.pixel_scale.value / DES.pixel_scale.value
    assert abs(pair.target["r"].meta["SKYSIG"] / DES.noise_sigma["r"] - ratio) < 1e-6
    total = pair.target_truth["r"].data.sum(), small_pairs[0].target_truth["r"].data.sum()
    assert abs(total[0] / total[1] - 1) < 0.05


def test_random_orientation():
    """orientation='random' rotates each cutout's WCS, keeping the pixel scale."""
    pair = make_survey_pairs(1, bands="r", source_size=16, orientation="random", seed=2,
                             processes=1, progress=False)[0]
    cd = pair.target.wcs.wcs.cd
    assert abs(cd[0, 1]) > 0
    assert abs(np.sqrt(abs(np.linalg.det(cd))) * 3600 - 0.263) < 1e-9


def test_external_split():
    """External pairs have no target and fainter centrals under worse seeing."""
    kwargs = dict(bands="r", seed=3, source_size=16, processes=1, progress=False)
    external = make_survey_pairs(8, split="external", **kwargs)
    train = make_survey_pairs(8, **kwargs)
    assert all(p.target is None and p.target_truth is None for p in external)
    assert external[0].source.meta["SPLIT"] == "external"
    assert external.names[0] != train.names[0]
    mag = [np.mean([p.catalog["mag_r"][0] for p in s]) for s in (train, external)]
    assert mag[1] > mag[0]
    seeing = [np.median([p.source["r"].meta["SEEING"] for p in s]) for s in (train, external)]
    assert seeing[1] > seeing[0]


def test_bands_not_mutated():
    """A bands list given by the caller is not changed."""
    bands = ["r", "g"]
    pairs = make_survey_pairs(1, bands=bands, source_size=16, processes=1, progress=False)
    assert bands == ["r", "g"] and pairs[0].source.bands == ("r", "g")


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n(n):
    """A non-positive or non-integer n raises InvalidOptionError."""
    with pytest.raises(InvalidOptionError, match="n must be an integer >= 1"):
        make_survey_pairs(n, progress=False)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(source="hubble"), UnknownSurveyError, "unknown survey 'hubble'"),
    (dict(bands="gu"), BandMismatchError, "DES has no band"),
    (dict(bands="gx"), BandMismatchError, "SDSS has no band"),
    (dict(split="test"), InvalidOptionError, "split must be one of"),
    (dict(target_grid="sky"), InvalidOptionError, "target_grid must be one of"),
    (dict(orientation="up"), InvalidOptionError, "orientation must be one of"),
    (dict(source_size=4), InvalidOptionError, "source_size must be an integer >= 8"),
    (dict(processes=0), InvalidOptionError, "processes must be an integer >= 1"),
    (dict(seed=-1), InvalidOptionError, "seed must be an integer in"),
])
def test_bad_arguments(kwargs, error, match):
    """Bad arguments raise specific errors naming the problem."""
    with pytest.raises(error, match=match):
        make_survey_pairs(1, progress=False, **kwargs)


def test_psf_realism_and_central_magnitudes():
    """psf='realistic' blurs what headers say of the PSF; central_mag sets the centrals."""
    from survey2survey.datasets import make_survey_pairs
    from survey2survey.exceptions import InvalidOptionError

    pairs = make_survey_pairs(6, source_size=24, seed=5, psf="realistic", seeing_spread=0.2,
                              central_mag=(20.5, 22.0), processes=1, progress=False)
    for pair in pairs:
        central = pair.catalog[pair.catalog["kind"] == "central"]
        assert 20.5 <= float(central["mag_r"][0]) <= 22.0
        meta = pair.source["r"].meta
        assert "PSFFWHMT" in meta and "PSFBETAT" in meta
        assert pair.target["r"].meta["PSFFWHM"] > 0 and "PSFFWHMT" not in pair.target["r"].meta
    exact = make_survey_pairs(2, source_size=24, seed=5, psf="exact", processes=1,
                              progress=False)
    assert exact.sources[0]["g"].meta["PSFEXACT"] is True
    nominal = make_survey_pairs(2, source_size=24, seed=5, processes=1, progress=False)
    assert "PSFEXACT" not in nominal.sources[0]["g"].meta
    with pytest.raises(InvalidOptionError, match="psf"):
        make_survey_pairs(1, source_size=24, psf="perfect", processes=1, progress=False)
    with pytest.raises(InvalidOptionError, match="seeing_spread"):
        make_survey_pairs(1, source_size=24, seeing_spread=-1, processes=1, progress=False)
