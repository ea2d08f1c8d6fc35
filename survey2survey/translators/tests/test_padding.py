# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the internal pad-to-multiple helpers."""

import torch

from survey2survey.translators._padding import crop_padding, pad_to_multiple, padding_for


def test_padding_is_centred():
    """Odd amounts of padding put the extra pixel right/bottom."""
    assert padding_for((33, 37), 8) == (1, 2, 3, 4)
    assert padding_for((32, 40), 8) == (0, 0, 0, 0)


def test_pad_and_crop_round_trip():
    """Cropping the padded batch gives back the input exactly."""
    batch = torch.rand(2, 3, 33, 37)
    padded, pads = pad_to_multiple(batch, 8)
    assert padded.shape[-2:] == (40, 40)
    assert torch.equal(crop_padding(padded, pads), batch)


def test_tiny_images_fall_back_to_replicate():
    """Images smaller than the padding are replicated rather than reflected."""
    batch = torch.rand(1, 1, 3, 3)
    padded, pads = pad_to_multiple(batch, 16)
    assert padded.shape[-2:] == (16, 16)
    assert torch.equal(crop_padding(padded, pads), batch)
