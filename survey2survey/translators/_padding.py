# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Pad images to a multiple of a network's total stride and crop them back.

Networks that halve the resolution ``k`` times need sides divisible by ``2**k``;
the translators pad every batch with reflected pixels (replicated ones where an
image is too small to reflect) and crop the output back to the input's size, so
150x150 or 33x37 images work without the user resizing anything.
"""

import torch.nn.functional as F

__all__ = []


def padding_for(shape, multiple):
    """
    The ``(left, right, top, bottom)`` padding that makes ``shape`` a multiple of ``multiple``.

    The padding is split as evenly as possible, the extra pixel going right/bottom,
    so the image stays centred.
    """
    height, width = shape[-2:]
    extra_h = -height % multiple
    extra_w = -width % multiple
    return (extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2)


def pad_to_multiple(batch, multiple):
    """
    Pad a ``(N, C, H, W)`` batch so H and W are multiples of ``multiple``.

    Returns the padded batch and the padding applied, to pass to `crop_padding`.
    """
    pads = padding_for(batch.shape, multiple)
    if not any(pads):
        return batch, pads
    height, width = batch.shape[-2:]
    # reflect padding needs every pad to be smaller than the side it reflects
    reflectable = max(pads[0], pads[1]) < width and max(pads[2], pads[3]) < height
    mode = "reflect" if reflectable else "replicate"
    return F.pad(batch, pads, mode=mode), pads


def crop_padding(batch, pads):
    """Undo `pad_to_multiple`: crop ``pads = (left, right, top, bottom)`` off a batch."""
    left, right, top, bottom = pads
    if not any(pads):
        return batch
    height, width = batch.shape[-2:]
    return batch[..., top:height - bottom, left:width - right]
