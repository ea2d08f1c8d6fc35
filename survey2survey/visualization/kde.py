# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Gaussian kernel-density panels of a metric, validation vs external data (paper Figs 5-11)."""

import numpy as np
from scipy.stats import gaussian_kde

from ..exceptions import MetricError
from ._axes import get_axes

__all__ = ["plot_kde", "plot_metric_kde"]

_LINESTYLES = ("-", "--", ":", "-.")
_LABELS = {
    "pseudo_flux_magnitude": "pseudo-flux magnitude F (Eq. 6)",
    "signal_to_noise": "mean S/N (Eq. 7)",
    "l": r"mean luminance index $\bar{\ell}$",
    "c": r"mean contrast index $\bar{c}$",
    "s": r"mean structure index $\bar{s}$",
    "mssim": "MSSIM (Eq. 10)",
    "flux_error": "relative flux error vs truth",
    "magnitude_error": "magnitude error vs truth",
    "residual_rms": "residual RMS vs truth",
    "truth_snr": "S/N vs truth",
    "snr_gain": "S/N gain",
}


def plot_kde(samples, *, ax=None, grid=None, bw_method=None, linestyle="-", colors=None,
             xlabel=None):
    """
    Draw one Gaussian KDE curve (`scipy.stats.gaussian_kde`) per labelled sample.

    Parameters
    ----------
    samples : mapping
        ``{label: 1-D values}``; non-finite values are dropped; a sample with
        fewer than two distinct values is drawn as a vertical line.
    ax : `~matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure).
    grid : array-like, optional
        Evaluation points (default: 256 points spanning all samples).
    bw_method : str or float, optional
        Passed to `~scipy.stats.gaussian_kde`.
    linestyle : str, optional
        Line style of every curve.
    colors : mapping, optional
        ``{label: colour}``.
    xlabel : str, optional
        The x-axis label.

    Returns
    -------
    ax : `~matplotlib.axes.Axes`

    Raises
    ------
    survey2survey.exceptions.MetricError
        If no sample has a finite value.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.visualization import plot_kde
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_kde({'SDSS': rng.normal(18, 1, 50), 'DES': rng.normal(17, 1, 50)})
    >>> len(ax.lines)
    2
    """
    ax = get_axes(ax)
    clean = {str(k): np.asarray(v, dtype=float).ravel() for k, v in samples.items()}
    clean = {k: v[np.isfinite(v)] for k, v in clean.items()}
    everything = np.concatenate([v for v in clean.values()] or [np.array([])])
    if everything.size == 0:
        msg = f"no finite values to plot in samples {sorted(clean)}"
        raise MetricError(msg)
    if grid is None:
        lo, hi = np.min(everything), np.max(everything)
        pad = 0.1 * (hi - lo) if hi > lo else 0.5 * max(abs(lo), 1.0)
        grid = np.linspace(lo - pad, hi + pad, 256)
    for label, values in clean.items():
        color = None if colors is None else colors.get(label)
        if values.size == 0:
            continue
        if np.unique(values).size < 2:
            ax.axvline(values[0], color=color, linestyle=linestyle, label=label)
            continue
        density = gaussian_kde(values, bw_method=bw_method)(grid)
        ax.plot(grid, density, color=color, linestyle=linestyle, label=label)
    ax.set_ylabel("density")
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


def plot_metric_kde(table, metric, *, by=None, datasets=None, subjects=None, ax=None,
                    bw_method=None):
    """
    KDEs of one metric column per set (or pair), one line style per dataset.

    Solid lines show the first dataset (e.g. validation), dashed the second
    (e.g. external), as in the paper's Figs 5-11; one colour per set or pair.

    Parameters
    ----------
    table : `~astropy.table.Table`
        ``report.images`` or ``report.pairs`` of `~survey2survey.metrics.evaluate`.
    metric : str
        The column to plot, e.g. ``'pseudo_flux_magnitude'`` or ``'mssim'``.
    by : str, optional
        The grouping column (default: ``'pair'`` if present, else ``'set'``).
    datasets, subjects : sequence of str, optional
        Which datasets and sets/pairs to draw (default: all, in table order).
    ax : `~matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure).
    bw_method : str or float, optional
        KDE bandwidth (see `~scipy.stats.gaussian_kde`).

    Returns
    -------
    ax : `~matplotlib.axes.Axes`

    Raises
    ------
    survey2survey.exceptions.MetricError
        If the table has no such column or nothing finite to plot.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.table import Table
    >>> from survey2survey.visualization import plot_metric_kde
    >>> rng = np.random.default_rng(0)
    >>> t = Table({'dataset': ['validation'] * 20 + ['external'] * 20,
    ...            'set': ['DES', 'SDSS'] * 20, 'signal_to_noise': rng.normal(5, 1, 40)})
    >>> len(plot_metric_kde(t, 'signal_to_noise').lines)
    4
    """
    if metric not in table.colnames:
        msg = f"table has no metric column {metric!r}; columns are {table.colnames}"
        raise MetricError(msg)
    if by is None:
        by = "pair" if "pair" in table.colnames else "set"
    ax = get_axes(ax)
    datasets = list(dict.fromkeys(map(str, table["dataset"]))) if datasets is None else datasets
    subjects = list(dict.fromkeys(map(str, table[by]))) if subjects is None else subjects
    cycle = [f"C{k % 10}" for k in range(len(subjects))]
    colors = dict(zip(subjects, cycle, strict=True))
    drawn = 0
    for k, dataset in enumerate(datasets):
        in_dataset = table["dataset"] == dataset
        samples = {}
        for subject in subjects:
            values = np.asarray(table[metric][in_dataset & (table[by] == subject)], dtype=float)
            if np.isfinite(values).any():
                samples[f"{subject} ({dataset})" if len(datasets) > 1 else subject] = values
        if not samples:
            continue
        keyed = {label: colors[label.split(" (")[0]] for label in samples}
        plot_kde(samples, ax=ax, linestyle=_LINESTYLES[k % len(_LINESTYLES)], colors=keyed,
                 bw_method=bw_method)
        drawn += 1
    if not drawn:
        msg = f"no finite {metric!r} values to plot"
        raise MetricError(msg)
    ax.set_xlabel(_LABELS.get(metric, metric))
    ax.legend(fontsize="small", frameon=False)
    return ax
