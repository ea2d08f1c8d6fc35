# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the random galaxy scenes."""

import numpy as np
import pytest

from survey2survey.datasets import draw_scene, draw_seeing
from survey2survey.datasets.scenes import SERSIC_INDICES, _deproject
from survey2survey.exceptions import InvalidOptionError


def test_scene_is_deterministic():
    """The same generator state gives the same scene."""
    a = draw_scene(np.random.default_rng(3), "gri")
    b = draw_scene(np.random.default_rng(3), "gri")
    assert a.to_table().pformat() == b.to_table().pformat()


def test_scene_population():
    """Centrals have discrete Sersic n, B/T in [0, 1], a few knots and a redder bulge."""
    rng = np.random.default_rng(0)
    scenes = [draw_scene(rng, "gri") for _ in range(200)]
    centrals = [s.objects[0] for s in scenes]
    assert all(c["kind"] == "central" for c in centrals)
    assert {c["bulge"]["n"] for c in centrals} <= set(SERSIC_INDICES)
    assert all(0 <= c["bt"] <= 1 for c in centrals)
    assert max(c["n_knots"] for c in centrals) <= 20
    gr_bulge = np.mean([c["bulge"]["mag"]["g"] - c["bulge"]["mag"]["r"] for c in centrals])
    gr_disk = np.mean([c["disk"]["mag"]["g"] - c["disk"]["mag"]["r"] for c in centrals])
    assert gr_bulge > gr_disk
    assert 1.5 < np.mean([len(s.objects) - 1 for s in scenes]) < 4.5
    mags = np.array([c["mag"]["r"] for c in centrals])
    assert mags.min() >= 15.0 and mags.max() <= 18.5


def test_external_scenes_are_fainter_with_worse_seeing():
    """The external split has fainter centrals and a larger seeing factor."""
    rng = np.random.default_rng(1)
    train = [draw_scene(rng, "r").objects[0]["mag"]["r"] for _ in range(100)]
    external = [draw_scene(rng, "r", split="external").objects[0]["mag"]["r"]
                for _ in range(100)]
    assert np.mean(external) > np.mean(train) + 0.5
    seeing_train = [draw_seeing(rng) for _ in range(100)]
    seeing_ext = [draw_seeing(rng, split="external") for _ in range(100)]
    assert np.median(seeing_ext) > 1.15 * np.median(seeing_train)


def test_catalog_table():
    """The truth table has one row per object, magnitudes per band and units."""
    scene = draw_scene(np.random.default_rng(2), "gri")
    table = scene.to_table()
    assert len(table) == len(scene.objects)
    assert {"kind", "ra", "dec", "mag_g", "mag_r", "mag_i", "bulge_n", "bt"} <= set(table.colnames)
    assert table["ra"].unit == "deg"
    stars = table["kind"] == "star"
    assert np.all(np.isnan(table["bulge_n"][stars]))


def test_deproject_round_trip():
    """Tangent-plane offsets deproject to RA/Dec at the right distance."""
    ra, dec = _deproject(10.0, 60.0, [36.0], [0.0])
    assert ra[0] > 10.0
    sep = np.degrees(np.arccos(np.sin(np.radians(60)) * np.sin(np.radians(dec[0]))
                               + np.cos(np.radians(60)) * np.cos(np.radians(dec[0]))
                               * np.cos(np.radians(ra[0] - 10.0)))) * 3600
    assert abs(sep - 36.0) < 1e-3


def test_bad_split():
    """An unknown split raises InvalidOptionError naming it."""
    with pytest.raises(InvalidOptionError, match="split must be one of"):
        draw_scene(np.random.default_rng(0), "r", split="validation")
