# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Lupton et al. (2004) RGB composites of multi-band cutouts
(`astropy.visualization.make_lupton_rgb`).
"""

from collections.abc import Mapping

import numpy as np
from astropy.visualization import make_lupton_rgb

from ..exceptions import BandMismatchError
from ._axes import get_axes

__all__ = ["lupton_rgb", "plot_rgb"]

_WAVELENGTH_ORDER = "ugrizyY"


def _pick_bands(cutout, bands):
    if bands is None:
        known = sorted(cutout.bands, key=lambda b: (_WAVELENGTH_ORDER.find(b)
                                                     if b in _WAVELENGTH_ORDER else 99))
        if len(known) < 3:
            msg = f"an RGB composite needs three bands; the cutout has {list(cutout.bands)}"
            raise BandMismatchError(msg)
        return known[-1], known[-2], known[-3]  # reddest band in the red channel
    bands = list(bands)
    if len(bands) != 3:
        msg = f"bands must name three bands (red, green, blue), got {bands}"
        raise BandMismatchError(msg)
    missing = [b for b in bands if b not in cutout.bands]
    if missing:
        msg = f"cutout has no band(s) {missing}; its bands are {list(cutout.bands)}"
        raise BandMismatchError(msg)
    return tuple(bands)


def lupton_rgb(cutout, *, bands=None, minimum=0.0, stretch=None, Q=8.0):
    """
    An 8-bit Lupton et al. (2004) RGB image of three bands.

    The one composite maker of the package: the figures use it, and so does the
    paper's 8-bit pipeline (``Survey2Survey(mode='paper')``), with a fixed
    stretch in nanomaggies.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout` or array-like
        A cutout with at least three bands on one grid, or an array
        ``(3, ny, nx)`` of three bands, bluest first (``g, r, i`` become blue,
        green, red). Non-finite pixels count as 0.
    bands : sequence of 3 str, optional
        For a cutout: the bands for red, green, blue (default: the three
        reddest, e.g. i, r, g).
    minimum : float, optional
        Black level, in the data unit.
    stretch : float, optional
        Linear stretch of `~astropy.visualization.make_lupton_rgb` (default: half the
        99.5th percentile of the three bands, so bright galaxies are not saturated).
    Q : float, optional
        Asinh softening.

    Returns
    -------
    rgb : `~numpy.ndarray`
        ``(ny, nx, 3)`` uint8 image.

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        If the cutout lacks three bands, or the array is not ``(3, ny, nx)``.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import Cutout
    >>> from survey2survey.visualization import lupton_rgb
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> cutout = Cutout.from_arrays(np.random.default_rng(0).random((3, 8, 8)), wcs, 'gri')
    >>> lupton_rgb(cutout).shape
    (8, 8, 3)
    >>> lupton_rgb(np.full((3, 4, 4), 0.2), stretch=0.5).dtype
    dtype('uint8')
    """
    if isinstance(cutout, Mapping):
        red, green, blue = _pick_bands(cutout, bands)
        images = [np.asarray(cutout[b].data, dtype=float) for b in (red, green, blue)]
    else:
        data = np.asarray(cutout, dtype=float)
        if data.ndim != 3 or data.shape[0] != 3:
            msg = (f"a Lupton composite needs exactly 3 bands (bluest first), got data of "
                   f"shape {data.shape}")
            raise BandMismatchError(msg)
        images = list(data[::-1])
    images = [np.where(np.isfinite(image), image, 0.0) for image in images]
    if stretch is None:
        level = np.percentile(np.stack(images), 99.5) - minimum
        stretch = 0.5 * level if level > 0 else 1.0
    # astropy divides by the summed intensity before masking its zeros (dark sky pixels)
    with np.errstate(divide="ignore", invalid="ignore"):
        return make_lupton_rgb(*images, minimum=minimum, stretch=stretch, Q=Q)


def plot_rgb(cutout, *, ax=None, title=None, **kwargs):
    """
    Show `lupton_rgb` of ``cutout`` on an Axes (pixel origin lower left).

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout`
        A cutout with at least three bands.
    ax : `~matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure).
    title : str, optional
        Panel title.
    **kwargs
        Passed to `lupton_rgb`.

    Returns
    -------
    ax : `~matplotlib.axes.Axes`

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import Cutout
    >>> from survey2survey.visualization import plot_rgb
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> cutout = Cutout.from_arrays(np.ones((3, 8, 8)), wcs, 'gri')
    >>> len(plot_rgb(cutout).images)
    1
    """
    ax = get_axes(ax, figsize=(3.0, 3.0))
    ax.imshow(lupton_rgb(cutout, **kwargs), origin="lower", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
