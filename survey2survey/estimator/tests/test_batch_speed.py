# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The speed settings of inference (batch from activation size, tiles) never change outputs."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from survey2survey import Survey2Survey
from survey2survey.estimator import _batching
from survey2survey.estimator._batching import (
    activation_values_per_pixel,
    auto_batch_size,
    auto_tile_size,
    network_shape,
)
from survey2survey.translators import Translator

from .conftest import N_TRAIN


@pytest.fixture(scope="module")
def small(pairs):
    """A gri AECNN estimator fitted for one epoch (behaviour, not quality)."""
    s2s = Survey2Survey("aecnn", epochs=1, batch_size=8, seed=2)
    return s2s.fit(pairs[:8], validation=0, progress=False)


def test_activation_probe_counts_the_widest_layer():
    """AECNN at full resolution: its widest layer's channels, measured once and cached."""
    translator = Translator.create("aecnn", in_channels=3)
    widest = max(m.out_channels for m in translator.network.modules()
                 if isinstance(m, torch.nn.Conv2d))
    assert activation_values_per_pixel(translator) == pytest.approx(widest, rel=0.01)
    translator.predict = None  # cached: no second probe
    assert activation_values_per_pixel(translator) == pytest.approx(widest, rel=0.01)


def test_auto_batch_scales_with_size_and_precision(monkeypatch):
    """Larger images and wider values give smaller batches, never below one."""
    translator = Translator.create("aecnn", in_channels=3)
    translator._activation_values_per_pixel = 128.0
    monkeypatch.setattr(_batching, "CPU_ACTIVATION_BUDGET", 16 * 2**20)
    fp32 = auto_batch_size(translator, (150, 150), "fp32")
    bf16 = auto_batch_size(translator, (150, 150), "bf16")
    assert fp32 == 1 and bf16 == 2  # 11.5 MB and 5.8 MB per image against 16 MiB
    assert auto_batch_size(translator, (32, 32), "fp32") == 32
    assert auto_batch_size(translator, (4096, 4096), "bf16") == 1
    assert auto_batch_size(translator, (2, 2), "bf16") == _batching.MAX_AUTO_BATCH


def test_network_shape_is_the_largest_image_or_tile():
    """Images larger than the tile count as a tile."""
    arrays = [np.zeros((3, 40, 40)), np.zeros((3, 60, 50)), np.zeros((3, 900, 700))]
    assert network_shape(arrays, 256) == (256, 256)
    assert network_shape(arrays[:2], 256) == (60, 50)
    assert network_shape([np.zeros((3, 900, 100))], 256) == (256, 100)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_outputs_do_not_depend_on_the_batch(small, pairs, precision):
    """Automatic, 1, 3 and all-at-once batches give the same outputs (fp32: to rounding)."""
    cutouts = [p.source for p in pairs[N_TRAIN:N_TRAIN + 5]]
    runs = [small.transform(cutouts, batch_size=b, precision=precision, progress=False)
            for b in (None, 1, 3, 5)]
    for run in runs[1:]:
        for a, b in zip(runs[0], run, strict=True):
            for band in a.bands:
                if precision == "bf16":
                    np.testing.assert_array_equal(a[band].data, b[band].data)
                else:
                    assert_allclose(a[band].data, b[band].data, rtol=1e-6, atol=1e-9)


def test_float32_in_float32_out(small, pairs):
    """float32 input gives float32 output; float64 input gives float64."""
    cutout = pairs[N_TRAIN].source
    assert cutout["r"].data.dtype == np.float32
    assert small.transform(cutout, progress=False)["r"].data.dtype == np.float32
    as64 = {band: (cutout[band].data.astype(np.float64), cutout[band].wcs)
            for band in cutout.bands}
    from survey2survey.io import read_cutout

    wide = read_cutout(as64, unit=cutout.unit)
    assert small.transform(wide, progress=False)["r"].data.dtype == np.float64


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_tiles_from_the_receptive_field_match_one_tile(small, big_pairs, precision):
    """A 96x96 field in 48-pixel tiles (overlap from the receptive field) = in one piece."""
    field = big_pairs[N_TRAIN].source
    whole = small.transform(field, precision=precision, progress=False)
    small.set_params(tile_size=48)
    try:
        tiled = small.transform(field, precision=precision, progress=False)
        explicit = small.transform(field, precision=precision, batch_size=1, progress=False)
    finally:
        small.set_params(tile_size=None)
    for band in field.bands:
        scale = float(np.nanmax(np.abs(whole[band].data)))
        assert_allclose(tiled[band].data, whole[band].data, rtol=0, atol=1e-5 * scale)
        assert_allclose(explicit[band].data, tiled[band].data, rtol=1e-6, atol=1e-9 * scale)


def test_auto_tile_is_large_on_a_cpu(monkeypatch):
    """A CPU translates a whole SDSS frame in one tile when its activations fit the budget."""
    translator = Translator.create("aecnn", in_channels=3)
    translator._activation_values_per_pixel = 128.0
    assert auto_tile_size(translator, "bf16", floor=256) == 2048
    assert auto_tile_size(translator, "fp32", floor=256) == 1408
    assert auto_tile_size(translator, "fp32", floor=4000) == 4000
    monkeypatch.setattr(_batching, "CPU_TILE_BUDGET", 2**20)
    assert auto_tile_size(translator, "fp32", floor=256) == 256
