# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
fetch_cutout / fetch_pairs: everything after the download, offline, on stored files.

Files in each service's format are put in a temporary astropy download cache
under the URL the fetcher asks for; the network is blocked (pytest-remotedata),
so these tests also prove that a cached download is never fetched again. The
tests marked ``remote_data`` use the real services (``pytest --remote-data``).
"""

import socket
import sys
import tempfile
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.config import set_temp_cache
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.utils.data import import_file_to_cache, is_url_in_cache
from astropy.utils.exceptions import AstropyUserWarning
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey.datasets import (
    SAMPLE_FRAME,
    SurveyPairs,
    fetch_cutout,
    fetch_pairs,
    make_wcs,
    sample_sdss_frames,
)
from survey2survey.datasets import fetch as fetch_module
from survey2survey.exceptions import (
    InvalidOptionError,
    MissingDependencyError,
    NoOverlapError,
)
from survey2survey.io import extract_cutout, read_cutout
from survey2survey.io.tests.products import hips2fits_hdulist, legacysurvey_hdulist

pytest.importorskip("astroquery")

#: the centre of the shipped sample frames (a Stripe 82 position)
CENTRE = SkyCoord(SAMPLE_FRAME["ra"], SAMPLE_FRAME["dec"], unit="deg")
FIELD = (SAMPLE_FRAME["run"], 301, SAMPLE_FRAME["camcol"], SAMPLE_FRAME["field"])


@pytest.fixture(autouse=True)
def _no_network(request, monkeypatch):
    """Outside remote_data tests any connection attempt fails the test."""
    if request.node.get_closest_marker("remote_data") is None:
        def refuse(*args, **kwargs):
            raise AssertionError("a test tried to use the network")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def cache(tmp_path):
    """A private, empty astropy download cache."""
    (tmp_path / "cache").mkdir()  # astropy 6.0 does not create it
    with set_temp_cache(tmp_path / "cache"):
        yield tmp_path


@pytest.fixture
def sdss_archive(cache, monkeypatch):
    """
    The sample frames served as their field's frames by astroquery's SDSS.get_images;
    the calls it received.
    """
    from astroquery.sdss import SDSS

    monkeypatch.setattr(fetch_module, "_sdss_fields", lambda *a, **k: [FIELD])
    files = dict(zip(SAMPLE_FRAME["bands"], sample_sdss_frames(), strict=True))
    asked = []

    def get_images(*, matches, band, data_release, **kwargs):
        asked.append((tuple(matches[0]), band, data_release))
        return [fits.open(files[b]) for b in band]

    monkeypatch.setattr(SDSS, "get_images", get_images)
    return asked


def _store_legacysurvey(position, layer, scale, shape, bands, survey="DES"):
    rng = np.random.default_rng(1)
    cube = rng.normal(0.2, 0.02, (len(bands),) + shape)
    wcs = make_wcs(position.ra.deg, position.dec.deg, scale, shape)
    path = Path(tempfile.mkdtemp()) / "ls.fits"
    legacysurvey_hdulist(cube, wcs, bands, invvar=np.full(cube.shape, 2500.0),
                         survey=survey, version="DR1").writeto(path)
    url = fetch_module._legacysurvey_url(position, layer=layer, pixel_scale=scale,
                                         shape=shape, bands=bands)
    import_file_to_cache(url, str(path))
    return url, cube


def test_sdss_frames_from_the_cache(sdss_archive):
    """The SDSS service finds the field, reads its frames and cuts them; nothing downloaded."""
    cutout = fetch_cutout(CENTRE, "sdss", size=32, bands="gri", sdss_uncertainty=True)
    expected = extract_cutout(sample_sdss_frames(), CENTRE, 32, sdss_uncertainty=True)
    assert cutout.bands == ("g", "r", "i") and cutout.shape == (32, 32)
    assert_array_equal(cutout.data, expected.data)
    assert_array_equal(cutout.uncertainty_array, expected.uncertainty_array)
    assert cutout.unit == u.nmgy and cutout.meta["SURVEY"] == "SDSS"
    assert cutout.meta["FETCHSVC"] == "sdss"
    assert "frame-g-999999-3-0001.fits.bz2" in "".join(cutout.meta["HISTORY"])
    assert sdss_archive[0] == (FIELD, "gri", 17)  # the field, through the public API
    again = fetch_cutout(CENTRE, "sdss", size=12.672 * u.arcsec, bands="r")
    assert again.shape == (32, 32)  # 12.672" at 0.396"/pix


def test_sdss_cutout_past_the_frame_edge_warns(sdss_archive):
    """A cutout hanging over the frame edge is NaN and masked there, with a warning."""
    wcs = read_cutout(sample_sdss_frames()[1])["r"].wcs
    near_edge = wcs.pixel_to_world(3, 100)
    with pytest.warns(AstropyUserWarning, match="extends beyond frame run 999999"):
        cutout = fetch_cutout(near_edge, "sdss", size=20, bands="r")
    assert cutout["r"].mask[:, :5].all() and not cutout["r"].mask[:, -1].any()
    outside = wcs.pixel_to_world(-500, 100)
    with pytest.raises(NoOverlapError, match="no SDSS frame near the position covers it"):
        fetch_cutout(outside, "sdss", size=20, bands="r")


def test_des_through_the_legacy_surveys_service(cache):
    """DES comes as a nanomaggy cube from the des-dr1 layer, with its inverse variance."""
    url, cube = _store_legacysurvey(CENTRE, "des-dr1", 0.263, (48, 48), "gri")
    cutout = fetch_cutout(CENTRE, "des", size=48, bands="gri")
    assert is_url_in_cache(url)
    assert cutout.bands == ("g", "r", "i") and cutout.unit == u.nmgy
    assert_allclose(cutout.data, cube.astype(np.float32))
    assert_allclose(cutout.uncertainty_array, 0.02)
    assert cutout.meta["SURVEY"] == "DES" and cutout.meta["FETCHSVC"] == "legacysurvey"
    centre = cutout.wcs.pixel_to_world(23.5, 23.5)
    assert centre.separation(CENTRE).arcsec < 1e-6
    same = fetch_cutout(CENTRE, "des", size=48 * 0.263 * u.arcsec, bands="gri")
    assert_array_equal(same.data, cutout.data)


def test_hips2fits_needs_a_unit_and_reads_each_band(cache):
    """hips2fits: one image per band, the unit given by the caller."""
    shape = (20, 20)
    wcs = make_wcs(CENTRE.ra.deg, CENTRE.dec.deg, 0.396, shape)
    for band in "gr":
        path = Path(tempfile.mkdtemp()) / f"{band}.fits"
        hips2fits_hdulist(np.full(shape, 1.0 + (band == "r")), wcs).writeto(path)
        import_file_to_cache(fetch_module._hips2fits_url(f"CDS/P/SDSS9/{band}", wcs), str(path))
    with pytest.raises(InvalidOptionError, match="needs unit="):
        fetch_cutout(CENTRE, "sdss", service="hips2fits", size=20, bands="gr")
    cutout = fetch_cutout(CENTRE, "sdss", service="hips2fits", size=20, bands="gr", unit="nmgy")
    assert cutout.bands == ("g", "r") and cutout.unit == u.nmgy
    assert_array_equal(cutout.data[1], 2.0)
    with pytest.raises(InvalidOptionError, match="needs hips="):
        fetch_cutout(CENTRE, "des", service="hips2fits", size=20, bands="g", unit="nmgy")


def test_fetch_pairs_same_sky_two_scales(sdss_archive):
    """fetch_pairs gives SurveyPairs: SDSS frames and the DES layer over the same area."""
    _store_legacysurvey(CENTRE, "des-dr1", 0.263, (49, 49), "gri")  # ceil(32 * 0.396 / 0.263)
    pairs = fetch_pairs(CENTRE, "sdss", "des", size=32, bands="gri", progress=False)
    assert isinstance(pairs, SurveyPairs) and len(pairs) == 1
    pair = pairs[0]
    assert pair.name == "J20.00000+0.00000"
    assert pair.source.shape == (32, 32) and pair.target.shape == (49, 49)  # 12.7" each
    elsewhere = SkyCoord(150.0, 2.0, unit="deg")
    with pytest.raises(NoOverlapError):
        fetch_pairs([CENTRE, elsewhere], size=32, progress=False)
    with pytest.warns(AstropyUserWarning, match="1 of 2 position"):
        kept = fetch_pairs([CENTRE, elsewhere], size=32, on_error="skip", progress=False)
    assert kept.names == ["J20.00000+0.00000"]


def test_bad_options_and_missing_astroquery(monkeypatch):
    """Clear errors for bad options, and the pip command when astroquery is missing."""
    with pytest.raises(InvalidOptionError, match="survey must be one of"):
        fetch_cutout(CENTRE, "hsc")
    with pytest.raises(InvalidOptionError, match="one SkyCoord"):
        fetch_cutout((20.0, 0.0), "des")
    with pytest.raises(InvalidOptionError, match="service='sdss' serves SDSS frames"):
        fetch_cutout(CENTRE, "des", service="sdss")
    with pytest.raises(InvalidOptionError, match="size must be"):
        fetch_cutout(CENTRE, "des", size=0)
    with pytest.raises(InvalidOptionError, match="at most 3000 pixels"):
        fetch_cutout(CENTRE, "des", size=4000)
    monkeypatch.setitem(sys.modules, "astroquery.sdss", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "survey2survey\[data\]"'):
        fetch_cutout(CENTRE, "sdss")


@pytest.mark.remote_data
def test_remote_sdss_and_des_cutouts():
    """The real services: SDSS frames and the DES layer at a Stripe 82 galaxy."""
    position = SkyCoord(ra=20.3, dec=0.2, unit="deg")
    sdss = fetch_cutout(position, "sdss", size=32, bands="r", sdss_uncertainty=True)
    assert sdss.shape == (32, 32) and sdss.unit == u.nmgy
    des = fetch_cutout(position, "des", size=48, bands="r")
    assert des.shape == (48, 48) and des.unit == u.nmgy


@pytest.mark.remote_data
def test_remote_hips2fits():
    """The real hips2fits service returns an image on the requested grid."""
    position = SkyCoord(ra=20.3, dec=0.2, unit="deg")
    cutout = fetch_cutout(position, "sdss", service="hips2fits", size=16, bands="r",
                          unit="nmgy")
    assert cutout.shape == (16, 16)


@pytest.mark.parametrize("service, survey, options", [
    ("sdss", "sdss", {}),
    ("legacysurvey", "des", {}),
    ("hips2fits", "sdss", {"unit": "nmgy"}),
])
@pytest.mark.parametrize("error", [
    ConnectionError("[Errno 111] Connection refused"),
    TimeoutError("timed out"),
    OSError("<urlopen error [Errno -3] Temporary failure in name resolution>"),
])
def test_offline_errors_name_the_service(monkeypatch, cache, service, survey, options, error):
    """Offline: a FetchError (a ConnectionError) naming the service and the position."""
    from survey2survey.exceptions import FetchError

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(fetch_module, "_sdss_fields", fail)
    monkeypatch.setattr(fetch_module, "_download", fail)
    monkeypatch.setattr(fetch_module, "_hips2fits_url", lambda hips, wcs: "https://x/" + hips)
    names = {"sdss": "SDSS Science Archive", "legacysurvey": "Legacy Surveys viewer",
             "hips2fits": "CDS hips2fits"}
    with pytest.raises(FetchError, match=names[service]) as info:
        fetch_cutout(CENTRE, survey, service=service, size=16, **options)
    assert isinstance(info.value, ConnectionError)
    assert str(error) in str(info.value) and f"{CENTRE.ra.deg:.6f}" in str(info.value)
