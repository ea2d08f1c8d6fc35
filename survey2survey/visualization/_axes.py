# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Private helper: an Axes to draw on (a new Agg-safe figure when none is given)."""

__all__ = ["get_axes"]


def get_axes(ax=None, *, figsize=(5.0, 3.6)):
    """Return ``ax``, or the Axes of a new `~matplotlib.figure.Figure` (no pyplot state)."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()
