# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tiny toy data and tiny model settings shared by the translator tests."""

import pytest
import torch

#: the smallest sensible settings of each translator, for seconds-long tests
TINY = {
    "aecnn": {},
    "cyclegan": {"base_channels": 4, "n_blocks": 1, "disc_channels": 4, "disc_layers": 2},
    "unet": {"base_channels": 4, "depth": 3, "disc_channels": 4, "disc_layers": 2},
}


def toy_pairs(n=12, channels=3, size=16, seed=0):
    """A learnable toy mapping: the target is a dimmed, offset copy of the source."""
    generator = torch.Generator().manual_seed(seed)
    source = torch.rand(n, channels, size, size, generator=generator)
    return source, 0.5 * source + 0.2


@pytest.fixture
def pairs():
    """Twelve 16x16 three-band toy pairs."""
    return toy_pairs()
