# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Pseudo-luminosity profile panels (paper Fig. 7): median and 16-84% band per image set."""

import warnings

import numpy as np

from ..exceptions import MetricError
from ._axes import get_axes

__all__ = ["plot_radial_profiles"]


def plot_radial_profiles(radius, profiles, *, ax=None, band=(16, 84), log=True, title=None,
                         colors=None):
    """
    Plot the median radial profile of each set, with a shaded percentile band.

    Parameters
    ----------
    radius : array-like
        Radii in pixels (``n_radii``), e.g. ``report.radius``.
    profiles : mapping
        ``{label: (N, n_radii) array}``, e.g. ``report.profiles['validation']``.
    ax : `~matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure).
    band : (float, float) or None, optional
        Percentiles of the shaded band (default 16-84); None for no band.
    log : bool, optional
        Logarithmic y axis (non-positive medians are not drawn).
    title : str, optional
        Panel title (e.g. the dataset name).
    colors : mapping, optional
        ``{label: matplotlib colour}``, so that a set keeps its colour across
        panels that show different sets; unlisted labels take the colour cycle
        by position.

    Returns
    -------
    ax : `~matplotlib.axes.Axes`

    Raises
    ------
    survey2survey.exceptions.MetricError
        If a profile array does not match ``radius``.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.visualization import plot_radial_profiles
    >>> r = np.arange(10) + 0.5
    >>> ax = plot_radial_profiles(r, {'DES': np.exp(-r / 3)[None].repeat(4, 0)})
    >>> len(ax.lines)
    1
    """
    ax = get_axes(ax)
    radius = np.asarray(radius, dtype=float)
    for k, (label, values) in enumerate(profiles.items()):
        values = np.atleast_2d(np.asarray(values, dtype=float))
        if values.shape[-1] != radius.size:
            msg = (f"profiles[{label!r}] has {values.shape[-1]} radii but radius has "
                   f"{radius.size}")
            raise MetricError(msg)
        with warnings.catch_warnings():  # radii with no finite value stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(values, axis=0)
            lo, hi = np.nanpercentile(values, band, axis=0) if band is not None else (None, None)
        color = (colors or {}).get(label, f"C{k % 10}")
        shown = np.where(median > 0, median, np.nan) if log else median
        ax.plot(radius, shown, color=color, label=str(label))
        if band is not None and len(values) > 1:
            if log:
                lo = np.where(lo > 0, lo, np.nan)
                hi = np.where(hi > 0, hi, np.nan)
            ax.fill_between(radius, lo, hi, color=color, alpha=0.2, linewidth=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("r [pix]")
    ax.set_ylabel(r"$dF/dS$ [flux pix$^{-2}$]")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small", frameon=False)
    return ax
