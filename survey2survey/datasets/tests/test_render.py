# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the GalSim renderer."""

import sys

import numpy as np
import pytest

from survey2survey.datasets import draw_scene, make_wcs, render_scene
from survey2survey.datasets.render import import_galsim
from survey2survey.exceptions import BandMismatchError, MissingDependencyError
from survey2survey.surveys import DES, SDSS


def _central_only(seed=0, hlr=1.0):
    scene = draw_scene(np.random.default_rng(seed), "gri")
    central = scene.objects[0]
    central["disk"]["hlr"], central["bulge"]["hlr"] = hlr, 0.4 * hlr
    scene.objects = [central]
    return scene


def _centroid_world(image, wcs):
    y, x = np.indices(image.shape)
    total = image.sum()
    return wcs.pixel_to_world((image * x).sum() / total, (image * y).sum() / total)


def test_missing_galsim(monkeypatch):
    """Without GalSim, a MissingDependencyError names the extra to install."""
    monkeypatch.setitem(sys.modules, "galsim", None)
    with pytest.raises(MissingDependencyError, match=r'survey2survey\[sim\]'):
        import_galsim()


def test_make_wcs_orientation():
    """North up / East left by default; a rotation keeps the pixel scale."""
    wcs = make_wcs(30.0, -10.0, 0.263, (20, 30))
    assert wcs.wcs.cd[0, 0] < 0 and wcs.wcs.cd[1, 1] > 0
    rotated = make_wcs(30.0, -10.0, 0.263, (20, 30), rotation=30.0)
    scale = np.sqrt(abs(np.linalg.det(rotated.pixel_scale_matrix))) * 3600
    assert abs(scale - 0.263) < 1e-9
    centre = rotated.pixel_to_world(14.5, 9.5)
    assert abs(centre.ra.deg - 30.0) < 1e-9 and abs(centre.dec.deg + 10.0) < 1e-9


def test_galaxy_lands_at_same_sky_position():
    """The central galaxy's light centroid is at the same RA/Dec in SDSS and rotated DES."""
    scene = _central_only()
    sdss_wcs = make_wcs(scene.ra, scene.dec, SDSS.pixel_scale, (64, 64))
    des_wcs = make_wcs(scene.ra, scene.dec, DES.pixel_scale, (96, 96), rotation=37.0)
    sdss = render_scene(scene, SDSS, sdss_wcs, (64, 64), bands="r", noise=False)
    des = render_scene(scene, DES, des_wcs, (96, 96), bands="r", noise=False)
    a = _centroid_world(sdss["r"].truth.astype(float), sdss_wcs)
    b = _centroid_world(des["r"].truth.astype(float), des_wcs)
    assert a.separation(b).arcsec < 0.1 * 0.396


def test_noise_matches_survey_sigma():
    """The noise of an empty region has the survey's noise sigma; sigma map is consistent."""
    scene = _central_only(hlr=0.5)
    wcs = make_wcs(scene.ra, scene.dec, DES.pixel_scale, (64, 64))
    out = render_scene(scene, DES, wcs, (64, 64), seeds=[1, 2, 3])
    for band in "gri":
        result = out[band]
        noise = (result.image - result.truth)[result.truth < 1e-3 * DES.noise_sigma[band]]
        assert noise.size > 1000
        assert abs(noise.std() / DES.noise_sigma[band] - 1) < 0.08
        assert abs(np.mean(noise)) < 0.1 * DES.noise_sigma[band]
        assert abs(result.header["SKYSIG"] - DES.noise_sigma[band]) < 1e-9
        pulls = (result.image - result.truth) / result.sigma
        assert abs(pulls.std() - 1) < 0.08


def test_render_band_not_in_survey():
    """A band the survey lacks raises BandMismatchError."""
    scene = draw_scene(np.random.default_rng(0), "ugri")
    wcs = make_wcs(scene.ra, scene.dec, DES.pixel_scale, (16, 16))
    with pytest.raises(BandMismatchError, match="DES has no band"):
        render_scene(scene, DES, wcs, (16, 16), bands="u")
