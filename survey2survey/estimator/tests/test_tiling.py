# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of seamless tiling of large fields."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.ndimage import gaussian_filter

from survey2survey.estimator._tiling import axis_weights, tile_apply, tile_positions
from survey2survey.exceptions import ImageTooSmallError


def _smooth(batch):
    """A translation-equivariant stand-in for a network: Gaussian smoothing, zero padded."""
    return np.stack([gaussian_filter(t, (0, 1.5, 1.5), mode="constant") for t in batch])


def test_weights_are_a_partition_of_unity():
    """The 1-D blending weights of the tiles sum to 1 everywhere."""
    for length, tile, overlap in [(100, 40, 10), (41, 40, 10), (257, 64, 16), (64, 64, 16)]:
        starts = tile_positions(length, tile, overlap)
        total = np.zeros(length)
        for start, weight in zip(starts, axis_weights(starts, tile, overlap // 2), strict=False):
            total[start:start + tile] += weight
        assert_allclose(total, 1.0, atol=1e-12)
        assert starts[0] == 0 and starts[-1] == max(length - tile, 0)


def test_whole_field_equals_tiles_away_from_blend_zone():
    """Outside the cross-fades each output pixel is exactly one tile's own result."""
    rng = np.random.default_rng(0)
    field = rng.random((2, 90, 70))
    calls = []

    def function(batch):
        calls.append(batch.copy())
        return _smooth(batch)

    out = tile_apply(function, field, tile_size=32, overlap=12, blend=4)
    ys, xs = tile_positions(90, 32, 12), tile_positions(70, 32, 12)
    tiles = np.concatenate(calls)
    assert len(tiles) == len(ys) * len(xs)
    k = 0
    for y0 in ys:
        wy = dict(zip(ys, axis_weights(ys, 32, 4), strict=False))[y0]
        for x0 in xs:
            wx = dict(zip(xs, axis_weights(xs, 32, 4), strict=False))[x0]
            own = np.outer(wy, wx) == 1
            own_result = _smooth(tiles[k:k + 1])[0]
            assert_allclose(out[:, y0:y0 + 32, x0:x0 + 32][:, own], own_result[:, own],
                            rtol=1e-6)
            k += 1


def test_no_seam_step():
    """The tiled result matches the untiled one closely and shows no step at the seams."""
    rng = np.random.default_rng(1)
    field = gaussian_filter(rng.random((1, 120, 120)), 3)
    whole = _smooth(field[None].astype(np.float32))[0]
    tiled = tile_apply(_smooth, field, tile_size=40, overlap=16)
    assert np.abs(tiled - whole)[:, 8:-8, 8:-8].max() < 1e-4
    steps = np.abs(np.diff(tiled, axis=-1))
    assert steps.max() <= 1.05 * np.abs(np.diff(whole, axis=-1)).max()


def test_small_field_processed_whole_and_too_small_raises():
    """A field no larger than a tile is one call; a field below min_size raises."""
    field = np.ones((1, 20, 20))
    calls = []
    tile_apply(lambda b: calls.append(b.shape) or b, field, tile_size=32)
    assert calls == [(1, 1, 20, 20)]
    with pytest.raises(ImageTooSmallError, match="5x20 pixels"):
        tile_apply(lambda b: b, np.ones((1, 5, 20)), tile_size=32, min_size=8)
