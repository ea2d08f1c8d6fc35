# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Apply an image-to-image function to fields of any size, tile by tile, without seams.

A field larger than ``tile_size`` is cut into evenly spread overlapping tiles.
Along each axis the tiles' weights form a partition of unity: between two
neighbouring tiles a squared-sine (Hann) cross-fade ``blend`` pixels wide is
centred in their overlap, and every other pixel takes weight 1 from exactly one
tile. Outside the cross-fade zones the output is therefore exactly one tile's
result, away from that tile's borders (where a network sees zero padding), and
the smooth cross-fade leaves no step at the seams.
"""

import numpy as np

from ..exceptions import ImageTooSmallError, ShapeMismatchError

__all__ = ["tile_positions", "axis_weights", "tile_apply"]


def tile_positions(length, tile, overlap):
    """
    Start offsets of the fewest tiles of size ``tile`` covering ``length`` with ``overlap``.

    The tiles are spread evenly between both ends of the axis, so every tile lies
    inside the field and consecutive tiles overlap by ``overlap`` pixels or more.

    Examples
    --------
    >>> from survey2survey.estimator._tiling import tile_positions
    >>> tile_positions(100, 40, 10)
    [0, 30, 60]
    >>> tile_positions(30, 40, 10)
    [0]
    """
    if tile >= length:
        return [0]
    stride = tile - overlap
    if stride <= 0:
        msg = f"overlap ({overlap}) must be smaller than the tile size ({tile})"
        raise ValueError(msg)
    n_tiles = 1 + int(np.ceil((length - tile) / stride))
    return [int(v) for v in np.round(np.linspace(0, length - tile, n_tiles))]


def axis_weights(starts, tile, blend):
    """
    1-D blending weights of tiles starting at ``starts``: a partition of unity along the axis.

    Between two consecutive tiles a squared-sine (Hann) cross-fade ``blend``
    pixels wide (or the whole overlap, if narrower) is centred in their overlap;
    elsewhere each pixel takes its weight 1 from exactly one tile.

    Examples
    --------
    >>> from survey2survey.estimator._tiling import axis_weights
    >>> w = axis_weights([0, 6], 10, 4)
    >>> [round(float(v), 3) for v in w[0]]
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.962, 0.691, 0.309, 0.038]
    """
    weights = [np.ones(tile) for _ in starts]
    for i in range(len(starts) - 1):
        first, last = starts[i + 1], starts[i] + tile  # overlap region [first, last)
        width = last - first
        if width <= 0:
            continue
        n_ramp = max(0, min(int(blend), width))
        zone = first + (width - n_ramp) // 2
        rise = np.sin(0.5 * np.pi * (np.arange(n_ramp) + 0.5) / max(n_ramp, 1)) ** 2
        left = zone - starts[i]
        weights[i][left:left + n_ramp] *= rise[::-1]
        weights[i][left + n_ramp:] = 0.0
        right = zone - starts[i + 1]
        weights[i + 1][:right] = 0.0
        weights[i + 1][right:right + n_ramp] *= rise
    return weights


def tile_apply(function, image, *, tile_size, overlap=None, blend=None, min_size=1,
               batch_size=16):
    """
    Apply ``function`` to an image of any size by blending overlapping tiles.

    Parameters
    ----------
    function : callable
        Maps a float32 array ``(N, C_in, h, w)`` to an array ``(N, C_out, h, w)``.
    image : array-like, shape ``(C_in, ny, nx)``
        The field.
    tile_size : int or tuple of int
        Largest tile side(s) passed to ``function``; a field no larger is processed whole.
    overlap : int, optional
        Overlap between neighbouring tiles, in pixels (default ``tile_size // 4``).
    blend : int, optional
        Width of the cross-fade centred in each overlap (default ``overlap // 2``):
        the ``(overlap - blend) / 2`` pixels along a shared tile border, where a
        network sees zero padding, get no weight. Make that margin at least the
        receptive-field radius of the model.
    min_size : int, optional
        Smallest side ``function`` accepts; smaller fields raise.
    batch_size : int, optional
        Tiles per call of ``function``.

    Returns
    -------
    result : `~numpy.ndarray`, shape ``(C_out, ny, nx)``
        The blended result (float64).

    Raises
    ------
    survey2survey.exceptions.ImageTooSmallError
        If a side of ``image`` is smaller than ``min_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.estimator._tiling import tile_apply
    >>> field = np.random.default_rng(0).random((1, 100, 70))
    >>> out = tile_apply(lambda x: 2 * x, field, tile_size=32, overlap=8, blend=4)
    >>> bool(np.allclose(out, 2 * field))
    True
    """
    image = np.asarray(image)
    if image.ndim != 3:
        msg = f"image must have shape (channels, ny, nx), got {image.shape}"
        raise ShapeMismatchError(msg)
    _, ny, nx = image.shape
    if min(ny, nx) < min_size:
        msg = (f"image of {ny}x{nx} pixels is smaller than the model's smallest accepted "
               f"size ({min_size} pixels per side)")
        raise ImageTooSmallError(msg)
    tile_y, tile_x = (tile_size, tile_size) if np.isscalar(tile_size) else tuple(tile_size)
    tile_y, tile_x = int(max(tile_y, min_size)), int(max(tile_x, min_size))
    if overlap is None:
        overlap = min(tile_y, tile_x) // 4
    overlap = int(overlap)
    if overlap < 0 or overlap >= min(tile_y, tile_x):
        msg = f"overlap must be in [0, tile size {min(tile_y, tile_x)}), got {overlap}"
        raise ValueError(msg)
    ys = tile_positions(ny, tile_y, overlap)
    xs = tile_positions(nx, tile_x, overlap)
    th, tw = min(tile_y, ny), min(tile_x, nx)
    blend = overlap // 2 if blend is None else int(blend)
    wy = dict(zip(ys, axis_weights(ys, th, blend), strict=False))
    wx = dict(zip(xs, axis_weights(xs, tw, blend), strict=False))
    tiles = [(y0, x0) for y0 in ys for x0 in xs]
    result = None
    weights = np.zeros((ny, nx))
    for start in range(0, len(tiles), batch_size):
        chunk = tiles[start:start + batch_size]
        batch = np.stack([image[:, y0:y0 + th, x0:x0 + tw] for y0, x0 in chunk])
        output = np.asarray(function(batch.astype(np.float32)), dtype=float)
        if output.ndim != 4 or output.shape[0] != len(chunk) or output.shape[2:] != (th, tw):
            msg = (f"function returned shape {output.shape} for tiles of shape {batch.shape}; "
                   f"expected (N, C_out, {th}, {tw})")
            raise ShapeMismatchError(msg)
        if result is None:
            result = np.zeros((output.shape[1], ny, nx))
        for (y0, x0), tile in zip(chunk, output, strict=False):
            window = np.outer(wy[y0], wx[x0])
            result[:, y0:y0 + th, x0:x0 + tw] += tile * window
            weights[y0:y0 + th, x0:x0 + tw] += window
    return result / weights
