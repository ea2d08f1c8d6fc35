# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Batched, tiled inference with ensembles and Monte-Carlo dropout.

`translate_arrays` turns a list of encoded images ``(C, H, W)`` (any sizes)
into decoded outputs: images no larger than the tile size are stacked by
shape into batches, larger ones are cut into blended tiles
(`~survey2survey.estimator._tiling.tile_apply`). With an ensemble the members'
mean is the output and their spread the uncertainty; with one translator the
spread of Monte-Carlo dropout samples is.
"""

import numpy as np

from ..exceptions import InvalidOptionError
from ..utils._progress import progress_bar
from ..utils._validation import check_int
from ._tiling import tile_apply

__all__ = ["DEFAULT_TILE", "tiling_options", "translate_arrays"]

#: smallest default tile side (pixels)
DEFAULT_TILE = 256
#: receptive-field radius assumed for translators that do not declare theirs (pixels)
_UNKNOWN_RADIUS = 16


def tiling_options(tile_size, overlap, blend, *, receptive_field, min_size, training_shape=None):
    """
    Validated ``(tile_size, overlap, blend)``, defaults derived from the receptive field.

    Near a tile border a network sees zero padding instead of the field, so
    only pixels at least one receptive-field radius inside a tile may carry
    weight: the ``(overlap - blend) / 2`` pixels of each overlap outside the
    cross-fade must cover that radius. The default overlap is just that, three
    radii (a blend of one radius): every pixel of the cross-fade is then computed
    exactly by both tiles, and a larger overlap would only compute more pixels
    twice (a quarter of a 256-pixel tile, the former default, covered a
    1489 x 2048 frame 1.9 times over).

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If a value is not a positive integer (non-negative for ``overlap`` and
        ``blend``) or the overlap leaves less than the receptive-field radius
        outside the cross-fade.
    """
    radius = _UNKNOWN_RADIUS if receptive_field is None else (int(receptive_field) + 1) // 2
    if tile_size is None:
        tile_size = max(DEFAULT_TILE, 6 * radius, *(training_shape or (0,)))
    given_tile = check_int(tile_size, "tile_size", minimum=1)
    tile_size = max(given_tile, int(min_size))
    blend = check_int(blend, "blend", minimum=0, allow_none=True)
    overlap = check_int(overlap, "overlap", minimum=0, allow_none=True)
    derived = overlap is None
    given_blend = blend
    if overlap is None:  # from the receptive field alone: no pixels computed twice in vain
        overlap = 2 * radius + (blend if blend is not None else radius)
    if blend is None:
        blend = max(0, min(overlap // 2, overlap - 2 * radius))
    if overlap >= tile_size:
        if derived and given_blend is not None and given_blend + 2 * radius >= tile_size:
            msg = (f"blend={given_blend} is too wide for tile_size={tile_size}: tiles need an "
                   f"overlap of blend + {2 * radius} px (twice the translator's receptive-field "
                   f"radius) = {overlap}, which must be smaller than the tile; use a blend "
                   f"below {tile_size - 2 * radius} or a larger tile_size")
        elif derived:
            msg = (f"tile_size={given_tile} is too small for this translator: its tiles need "
                   f"an overlap of {overlap} px (from its receptive-field radius {radius} px), "
                   f"so tile_size must be larger than {overlap}")
        else:
            msg = f"overlap must be smaller than tile_size={tile_size}; got {overlap}"
        raise InvalidOptionError(msg)
    if (overlap - blend) // 2 < radius:
        msg = (f"overlap={overlap} and blend={blend} leave {(overlap - blend) // 2} pixel(s) "
               f"outside the cross-fade at tile borders, fewer than the translator's "
               f"receptive-field radius ({radius} px), so seams would show: use "
               f"overlap >= blend + {2 * radius}")
        raise InvalidOptionError(msg)
    return tile_size, overlap, blend


def _predict_function(translators, decode, *, uncertainty, n_samples, precision, seed):
    """A function from encoded tiles ``(N, C, h, w)`` to decoded tiles (and spread channels)."""
    import torch

    def function(batch):
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        if len(translators) > 1:
            members = np.stack([decode(t.predict(tensor, precision=precision).numpy())
                                for t in translators])
            mean = members.mean(axis=0)
            if not uncertainty:
                return mean
            return np.concatenate([mean, members.std(axis=0)], axis=1)
        (translator,) = translators
        mean = decode(translator.predict(tensor, precision=precision).numpy())
        if not uncertainty:
            return mean
        samples = translator.predict_samples(tensor, n_samples, precision=precision, seed=seed)
        samples = decode(samples.numpy())
        return np.concatenate([mean, samples.std(axis=0)], axis=1)

    return function


def translate_arrays(arrays, translators, decode, *, n_channels, tiling, min_size, batch_size,
                     uncertainty=False, n_samples=16, precision="fp32", seed=0, progress=None):
    """
    Decoded outputs (and spreads) for a list of encoded images ``(C, H, W)``.

    Parameters
    ----------
    arrays : list of `~numpy.ndarray`
        Encoded inputs.
    translators : list of `~survey2survey.translators.Translator`
        One translator, or the members of an ensemble.
    decode : callable
        From network outputs to output values (the codec's ``decode``).
    n_channels : int
        Output channels.
    tiling : tuple of int
        ``(tile_size, overlap, blend)`` from `tiling_options`.
    min_size : int
        Smallest image side the translators accept.
    batch_size : int
        Images or tiles per network call.
    uncertainty : bool, optional
        Also return the spread (ensemble members, or ``n_samples`` MC-dropout samples).
    n_samples : int, optional
        MC-dropout samples.
    precision : str, optional
        Passed to ``Translator.predict``.
    seed : int, optional
        Seed of the dropout masks.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    outputs : list of `~numpy.ndarray`
        ``(n_channels, H, W)`` each.
    spreads : list of `~numpy.ndarray` or None
        The same shapes with ``uncertainty``, else None entries.
    """
    function = _predict_function(translators, decode, uncertainty=uncertainty,
                                 n_samples=n_samples, precision=precision, seed=seed)
    tile_size, overlap, blend = tiling
    results = [None] * len(arrays)
    small = {}
    for k, array in enumerate(arrays):
        if max(array.shape[-2:]) <= tile_size:
            small.setdefault(array.shape, []).append(k)
    bar = progress_bar(total=len(arrays), progress=progress, desc="translating",
                       unit="cutout", hide_single=True)
    for indices in small.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            out = function(np.stack([arrays[i] for i in chunk]))
            for i, res in zip(chunk, out, strict=True):
                results[i] = res
            bar.update(len(chunk))
    for k, array in enumerate(arrays):
        if results[k] is None:
            results[k] = tile_apply(function, array, tile_size=tile_size, overlap=overlap,
                                    blend=blend, min_size=min_size, batch_size=batch_size)
            bar.update(1)
    bar.close()
    outputs = [res[:n_channels] for res in results]
    spreads = [res[n_channels:] if uncertainty else None for res in results]
    return outputs, spreads
