# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
How many images (or tiles) the estimator hands its network at once.

A batch is fastest when its activations fit the device's fast memory. On a CPU
that is the cache: a batch of 16 cutouts of 150 x 150 pixels through 128
channels is 92 MB per activation in bf16, far beyond it, and runs 2-3 times
slower per image than a batch of 1-4 (measured on 2 AVX-512 cores, see
:ref:`performance`). On a GPU a batch should be as large as memory allows.

`auto_batch_size` therefore sizes the batch from the network's widest
activation (measured once per translator with forward hooks on a small
probe image) times the image's pixels and the bytes per value of the
precision, against a per-device budget: `CPU_ACTIVATION_BUDGET` bytes on a
CPU, a fraction of the free memory on a GPU.
"""

import numpy as np

__all__ = ["CPU_ACTIVATION_BUDGET", "CPU_TILE_BUDGET", "GPU_MEMORY_FRACTION", "MAX_AUTO_BATCH",
           "activation_values_per_pixel", "auto_batch_size", "auto_tile_size", "network_shape"]

#: bytes of the widest activation of one batch on a CPU (about the L2 caches of a few cores)
CPU_ACTIVATION_BUDGET = 16 * 2**20
#: fraction of a GPU's free memory that the widest activation of a batch may take (the other
#: activations alive at once, the weights and the allocator's slack share the rest)
GPU_MEMORY_FRACTION = 1 / 16
#: bytes of the widest activation of one tile on a CPU: a whole SDSS frame (2048 x 1489) in
#: one tile for networks up to 128 channels in bf16 (tiles only add pixels computed twice)
CPU_TILE_BUDGET = 2**30
#: the largest batch chosen automatically
MAX_AUTO_BATCH = 256
#: side of the probe image (pixels), at least the translator's minimum size
_PROBE_SIDE = 32


def activation_values_per_pixel(translator):
    """
    The widest activation of ``translator``'s network, in values per input pixel.

    Measured once (then cached on the translator) with forward hooks on every
    module of its network during a ``predict`` of one probe image: the largest
    module output divided by the probe's pixels (for a network at full
    resolution, its widest channel count).
    """
    cached = getattr(translator, "_activation_values_per_pixel", None)
    if cached is not None:
        return cached
    import torch

    side = max(_PROBE_SIDE, int(getattr(translator, "min_size", 1) or 1))
    peak = [float(translator.in_channels)]

    def hook(module, inputs, output):
        if isinstance(output, torch.Tensor):
            peak[0] = max(peak[0], output.numel() / (side * side))

    handles = [module.register_forward_hook(hook) for module in translator.network.modules()]
    try:
        probe = torch.full((1, translator.in_channels, side, side), 0.5)
        translator.predict(probe, precision="fp32", batch_size=1)
    finally:
        for handle in handles:
            handle.remove()
    translator._activation_values_per_pixel = peak[0]
    return peak[0]


def auto_batch_size(translator, shape, precision):
    """
    The batch size for images (or tiles) of ``shape`` ``(H, W)`` through ``translator``.

    Parameters
    ----------
    translator : `~survey2survey.translators.Translator`
        Its ``device`` and network decide.
    shape : tuple of int
        The largest image or tile of the call.
    precision : str
        The precision of the call ('auto', 'fp32', 'bf16', 'fp16'): 2 bytes per
        value where it resolves to bf16 or fp16, else 4.

    Returns
    -------
    int
        At least 1, at most `MAX_AUTO_BATCH`.
    """
    per_image = (activation_values_per_pixel(translator) * float(np.prod(shape))
                 * _itemsize(translator, precision))
    budget = _budget(translator.device, CPU_ACTIVATION_BUDGET)
    return int(max(1, min(MAX_AUTO_BATCH, budget // max(per_image, 1.0))))


def _itemsize(translator, precision):
    """Bytes per activation value: 2 where ``precision`` resolves to bf16 or fp16, else 4."""
    return 4 if translator._autocast_dtype(precision) is None else 2


def _budget(device, cpu_budget):
    if device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return free * GPU_MEMORY_FRACTION
    return cpu_budget


def auto_tile_size(translator, precision, *, floor):
    """
    The tile side for fields larger than it: the largest whose widest activation fits.

    On a CPU the budget is `CPU_TILE_BUDGET` (one large tile: a 1489 x 2048 frame
    in one piece ran 3.8 times faster than in 256-pixel tiles, same output); on a
    GPU `GPU_MEMORY_FRACTION` of its free memory. A multiple of 64 pixels, at
    least ``floor`` (the package's smallest tile for this translator).
    """
    values = activation_values_per_pixel(translator) * _itemsize(translator, precision)
    budget = _budget(translator.device, CPU_TILE_BUDGET)
    side = int(np.sqrt(budget / values)) // 64 * 64
    return max(int(floor), side)


def network_shape(arrays, tile_size):
    """The largest ``(H, W)`` the network sees for ``arrays``: an image, or a tile of a field."""
    largest = (0, 0)
    for array in arrays:
        shape = tuple(array.shape[-2:])
        if max(shape) > tile_size:
            shape = (min(shape[0], tile_size), min(shape[1], tile_size))
        if shape[0] * shape[1] > largest[0] * largest[1]:
            largest = shape
    return largest
