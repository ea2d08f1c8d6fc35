# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The image grid of the paper's Figs 3 and 4: source (SDSS), target (DES) and
reconstructions, with residuals (reconstruction - target) and gains
(reconstruction - source) shown with a power-law stretch.
"""

import numpy as np
from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval, PowerStretch

from ..exceptions import ShapeMismatchError
from ..utils._images import as_stack
from ..utils._validation import check_number

__all__ = ["plot_comparison_grid", "signed_power_stretch"]


def signed_power_stretch(values, *, gamma, scale=None):
    """
    ``sign(d) (|d| / scale)^gamma``: the paper's ``P -> (P / 255)^gamma`` for signed data.

    Parameters
    ----------
    values : array-like
        Differences (residuals or gains).
    gamma : float
        Power (paper: 0.3 for residuals, 0.5 for gains).
    scale : float, optional
        The value mapped to 1 (the paper's 255; default: the largest ``|d|``).

    Returns
    -------
    stretched : `~numpy.ndarray`
        Values in ``[-1, 1]``, computed with `astropy.visualization.PowerStretch`.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.visualization import signed_power_stretch
    >>> signed_power_stretch(np.array([-4.0, 0.0, 1.0]), gamma=0.5).tolist()
    [-1.0, 0.0, 0.5]
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    if scale is None:
        scale = np.max(np.abs(values)) if values.size else 1.0
    scale = scale if scale > 0 else 1.0
    magnitude = PowerStretch(gamma)(np.abs(values) / scale, clip=True)
    return np.sign(values) * magnitude


def _row_norm(stack):
    finite = stack[np.isfinite(stack)]
    vmin, vmax = PercentileInterval(99.5).get_limits(finite)
    vmin = min(vmin, 0.0) if vmax > 0 else vmin
    return ImageNormalize(vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1,
                          stretch=AsinhStretch(0.1), clip=True)


def plot_comparison_grid(source, reconstructions, *, target=None, n_columns=5,
                         residual_gamma=0.3, gain_gamma=0.5, stretch_scale=None,
                         source_label="SDSS", target_label="DES", figure=None, panel_size=1.3):
    """
    Draw the comparison grid of Figs 3 (with ``target``) and 4 (without).

    Rows: source; target; each reconstruction; residuals ``reconstruction -
    target`` with a signed power stretch of ``residual_gamma``; gains
    ``reconstruction - source`` with ``gain_gamma``. Images are band-averaged
    and must share one grid and flux scale.

    Parameters
    ----------
    source : array-like, Cutout list ...
        Source images ``(N, ny, nx)``.
    reconstructions : mapping
        ``{label: images}``, e.g. ``{'AECNN': ..., 'CycleGAN': ...}``.
    target : array-like, optional
        Target images; without it the residual rows are left out (Fig 4).
    n_columns : int, optional
        Number of galaxies (columns) shown.
    residual_gamma, gain_gamma : float, optional
        Power-law stretches (paper: 0.3 and 0.5).
    stretch_scale : float, optional
        The difference shown at full colour in the residual and gain rows: the
        paper's ``P -> (P / 255)^gamma`` is ``stretch_scale=255``, the full range
        of its 8-bit images (for calibrated fluxes, e.g. the brightest target
        pixel shown). One scale for all difference rows, so their amplitudes
        compare. Default: each row's largest ``|difference|``.
    source_label, target_label : str, optional
        Row labels.
    figure : `~matplotlib.figure.Figure`, optional
        Figure to draw in (default: a new one).
    panel_size : float, optional
        Size of one panel in inches.

    Returns
    -------
    figure : `~matplotlib.figure.Figure`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If the image sets differ in shape.
    survey2survey.exceptions.InvalidOptionError
        If ``stretch_scale`` is not a positive number.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.visualization import plot_comparison_grid
    >>> rng = np.random.default_rng(0)
    >>> sdss = rng.random((3, 16, 16))
    >>> fig = plot_comparison_grid(sdss, {'AECNN': 2 * sdss}, target=2.1 * sdss)
    >>> len(fig.axes)  # 5 rows x 3 columns
    15
    """
    stretch_scale = check_number(stretch_scale, "stretch_scale", minimum=0,
                                 exclusive_minimum=True, allow_none=True)
    src, _ = as_stack(source, what="source")
    recs = {str(k): as_stack(v, what=str(k))[0] for k, v in reconstructions.items()}
    tgt = None if target is None else as_stack(target, what="target")[0]
    n = min([len(src)] + [len(v) for v in recs.values()]
            + ([len(tgt)] if tgt is not None else []))
    n = max(1, min(n, int(n_columns)))
    for label, stack in list(recs.items()) + ([(target_label, tgt)] if tgt is not None else []):
        if stack.shape[1:] != src.shape[1:]:
            msg = f"{label} images have shape {stack.shape[1:]}, source {src.shape[1:]}"
            raise ShapeMismatchError(msg)

    rows = [(source_label, src[:n], "image")]
    if tgt is not None:
        rows.append((target_label, tgt[:n], "image"))
    rows += [(label, stack[:n], "image") for label, stack in recs.items()]
    if tgt is not None:
        rows += [(f"{label} - {target_label}", stack[:n] - tgt[:n], residual_gamma)
                 for label, stack in recs.items()]
    rows += [(f"{label} - {source_label}", stack[:n] - src[:n], gain_gamma)
             for label, stack in recs.items()]

    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(panel_size * n + 1.2, panel_size * len(rows)),
                        layout="constrained")
    axes = figure.subplots(len(rows), n, squeeze=False)
    for r, (label, stack, kind) in enumerate(rows):
        if kind == "image":
            norm, cmap = _row_norm(stack), "gray"
            shown = stack
        else:
            norm, cmap = None, "RdBu_r"
            shown = signed_power_stretch(stack, gamma=kind, scale=stretch_scale)
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(shown[c], origin="lower", cmap=cmap, norm=norm,
                      vmin=None if norm else -1, vmax=None if norm else 1,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label if kind == "image" else f"{label}\n(gamma {kind:g})",
                              fontsize="small")
    return figure
