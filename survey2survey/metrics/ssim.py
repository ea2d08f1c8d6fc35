# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Structural similarity (Wang et al. 2004; paper Sec. 4.4, Eqs. 9-10): the
luminance, contrast and structure maps l, c, s, their image means, and MSSIM.

Local statistics use an 11-tap Gaussian window (sigma = 1.5 pix,
`scipy.ndimage.gaussian_filter` with ``truncate=3.5``, ``mode='reflect'``),
population (co)variances, and the constants ``C1 = (0.01 R)^2`` and
``C2 = (0.03 R)^2`` where ``R`` is the data range. Image means are taken over
the pixels at least 5 pix from the border (where the whole window lies in the
image), so `mssim` equals ``skimage.metrics.structural_similarity(a, b,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=R)``.
Batches ``(N, ny, nx)`` are filtered in one call over the last two axes.
"""

import numpy as np
from scipy.ndimage import gaussian_filter

from ..exceptions import MetricError
from ._inputs import as_stack, check_same_shape

__all__ = ["ssim_components", "mssim", "resolve_data_range"]

_SIGMA = 1.5
_TRUNCATE = 3.5  # int(3.5 * 1.5 + 0.5) = 5: an 11-tap window
_K1, _K2 = 0.01, 0.03
_CHUNK = 16


def resolve_data_range(data_range, *arrays):
    """
    The data range ``R`` of the SSIM constants.

    Parameters
    ----------
    data_range : float or None
        The explicit range (e.g. 1 for images scaled to [0, 1], 255 for 8-bit
        images). `None` infers it from an integer dtype (``iinfo.max - iinfo.min``);
        floating-point images need an explicit value, as in scikit-image.
    *arrays : array-like
        The images whose dtype may set the range.

    Returns
    -------
    data_range : float

    Raises
    ------
    survey2survey.exceptions.MetricError
        If the range is missing for floating-point data, or not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import resolve_data_range
    >>> resolve_data_range(None, np.zeros(3, dtype=np.uint8))
    255.0
    >>> resolve_data_range(1, np.zeros(3))
    1.0
    """
    if data_range is None:
        dtypes = {np.asarray(a).dtype for a in arrays}
        if len(dtypes) == 1 and np.issubdtype(next(iter(dtypes)), np.integer):
            info = np.iinfo(dtypes.pop())
            return float(info.max) - float(info.min)
        msg = (f"data_range is required for images of dtype {sorted(map(str, dtypes))}: "
               "pass the dynamic range of the data (1 for images scaled to [0, 1], "
               "255 for 8-bit images)")
        raise MetricError(msg)
    try:
        value = float(data_range)
    except (TypeError, ValueError):
        value = np.nan
    if not np.isfinite(value) or value <= 0:
        msg = f"data_range must be a positive number, got {data_range!r}"
        raise MetricError(msg)
    return value


def _structure_c3(structure_constant, c2):
    if isinstance(structure_constant, str):
        if structure_constant in ("paper", "wang"):
            return c2 / 2.0
        msg = (f"structure_constant must be 'paper', 'wang' or a number, "
               f"got {structure_constant!r}")
        raise MetricError(msg)
    try:
        value = float(structure_constant)
    except (TypeError, ValueError):
        value = np.nan
    if not np.isfinite(value) or value < 0:
        msg = f"structure_constant must be a non-negative number, got {structure_constant!r}"
        raise MetricError(msg)
    return value


def _filter(x):
    return gaussian_filter(x, sigma=_SIGMA, truncate=_TRUNCATE, mode="reflect", axes=(1, 2))


def _image_mean(maps, pad):
    ny, nx = maps.shape[1:]
    if pad == 0:
        return maps.mean(axis=(1, 2))
    return maps[:, pad:ny - pad, pad:nx - pad].mean(axis=(1, 2))


def ssim_components(a, b, *, data_range=None, structure_constant="paper", maps=True):
    """
    SSIM luminance, contrast and structure indices (Eq. 9) and MSSIM (Eq. 10).

    Parameters
    ----------
    a, b : array-like, NDData, Cutout or list
        Two images (or two batches ``(N, ny, nx)``, or one image and one batch)
        of the same shape with no masked or non-finite pixel; cutouts are
        band-averaged. Both must be on the same flux scale.
    data_range : float, optional
        Dynamic range ``R`` in ``C1 = (0.01 R)^2`` and ``C2 = (0.03 R)^2``. Never
        defaulted to 255: inferred from an integer dtype, otherwise required
        (1 for images scaled to [0, 1]; the paper used 255 for 8-bit JPEGs).
    structure_constant : {'paper', 'wang'} or float, optional
        The constant ``C3`` of the structure term ``s = (sigma_xy + C3) /
        (sigma_x sigma_y + C3)``. ``'paper'``: Eq. 9 as printed,
        ``s = (2 sigma_xy + C2) / (2 sigma_x sigma_y + C2)``; ``'wang'``: Wang et
        al. (2004), ``C3 = C2 / 2``. The two are algebraically identical (both give
        ``l c s = SSIM``); a number sets ``C3`` explicitly (e.g. ``C2`` for the
        other reading of the paper), in which case ``l c s`` is no longer Wang's SSIM.
    maps : bool, optional
        Also return the per-pixel maps (default True).

    Returns
    -------
    components : dict
        ``l``, ``c``, ``s``, ``mssim``: image means (floats, or ``(N,)`` arrays for
        a batch) over the pixels at least 5 pix from the border; with
        ``maps=True`` also ``l_map``, ``c_map``, ``s_map``, ``ssim_map``
        (``ssim_map = l_map * c_map * s_map``), full image size.

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If the images differ in shape.
    survey2survey.exceptions.MetricError
        If ``data_range`` is missing or bad, or an image has non-finite pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import ssim_components
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((32, 32))
    >>> result = ssim_components(a, a, data_range=1)
    >>> [round(float(result[k]), 6) for k in ('l', 'c', 's', 'mssim')]
    [1.0, 1.0, 1.0, 1.0]
    """
    R = resolve_data_range(data_range, *(x for x in (a, b) if isinstance(x, np.ndarray)))
    x, single_a = as_stack(a, what="a", allow_nan=False)
    y, single_b = as_stack(b, what="b", allow_nan=False)
    check_same_shape(x, y, names=("a", "b"))
    pad = int(_TRUNCATE * _SIGMA + 0.5)
    if min(x.shape[1:]) < 2 * pad + 1:
        msg = (f"SSIM needs images of at least {2 * pad + 1}x{2 * pad + 1} pixels (its "
               f"Gaussian window); got {x.shape[1]}x{x.shape[2]}")
        raise MetricError(msg)
    single = single_a and single_b
    x, y = np.broadcast_arrays(x, y)
    c1, c2 = (_K1 * R) ** 2, (_K2 * R) ** 2
    c3 = _structure_c3(structure_constant, c2)

    n = len(x)
    means = {key: np.empty(n) for key in ("l", "c", "s", "mssim")}
    full = {}
    if maps:
        full = {key: np.empty(x.shape) for key in ("l_map", "c_map", "s_map", "ssim_map")}
    # small chunks keep the ~30 temporaries in cache: 3-4x faster than whole batches
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        crop = 0 if maps else pad  # without maps, only the interior is needed
        l_map, c_map, s_map = _component_maps(x[sl], y[sl], c1, c2, c3, structure_constant,
                                              crop)
        ssim_map = l_map * c_map * s_map
        for key, value in (("l", l_map), ("c", c_map), ("s", s_map), ("mssim", ssim_map)):
            means[key][sl] = _image_mean(value, pad - crop)
            if maps:
                full["ssim_map" if key == "mssim" else f"{key}_map"][sl] = value
    result = {key: float(value[0]) if single else value for key, value in means.items()}
    if maps:
        result.update({key: value[0] if single else value for key, value in full.items()})
    return result


def _component_maps(x, y, c1, c2, c3, structure_constant, crop=0):
    """The l, c, s maps of two ``(n, ny, nx)`` stacks, without a border of ``crop`` pix."""
    ny, nx = x.shape[1:]
    inner = (slice(None), slice(crop, ny - crop), slice(crop, nx - crop))
    ux, uy = _filter(x)[inner], _filter(y)[inner]
    vx = _filter(x * x)[inner] - ux * ux
    vy = _filter(y * y)[inner] - uy * uy
    vxy = _filter(x * y)[inner] - ux * uy
    sxsy = np.sqrt(np.clip(vx, 0, None) * np.clip(vy, 0, None))

    uxuy = ux * uy
    ux *= ux
    uy *= uy
    ux += uy
    ux += c1
    l_map = 2 * uxuy
    l_map += c1
    l_map /= ux
    vx += vy
    vx += c2
    c_map = 2 * sxsy
    c_map += c2
    if isinstance(structure_constant, str) and structure_constant == "paper":
        s_map = 2 * vxy
        s_map += c2
        s_map /= c_map
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            s_map = (vxy + c3) / (sxsy + c3)
        if c3 == 0:  # 0/0 in flat windows: perfectly 'structured' by convention
            s_map = np.where(sxsy == 0, 1.0, s_map)
    c_map /= vx
    return l_map, c_map, s_map


def mssim(a, b, *, data_range=None, structure_constant="paper"):
    """
    Mean structural similarity index, Eq. 10: the image mean of ``l c s``.

    Parameters
    ----------
    a, b : array-like, NDData, Cutout or list
        Two images or batches of the same shape (see `ssim_components`).
    data_range : float, optional
        Dynamic range of the data; required for floating-point images.
    structure_constant : {'paper', 'wang'} or float, optional
        See `ssim_components`.

    Returns
    -------
    mssim : float or `~numpy.ndarray`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If the images differ in shape.
    survey2survey.exceptions.MetricError
        If ``data_range`` is missing or bad, or an image has non-finite pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import mssim
    >>> a = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    >>> round(float(mssim(a, a, data_range=1)), 6)
    1.0
    """
    return ssim_components(a, b, data_range=data_range, structure_constant=structure_constant,
                           maps=False)["mssim"]
