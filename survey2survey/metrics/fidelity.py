# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Photometric fidelity against the noise-free truth: aperture-magnitude bias and
scatter, point-source residuals and the calibration of per-pixel uncertainties.

These are the numbers that decide whether a translation keeps each galaxy's
calibrated flux (simulated pairs provide the truth). Magnitude errors are
``dm = m_image - m_truth = -2.5 log10(F_image / F_truth)`` (positive: too
faint); the bias of a set is their median and the scatter their normalised
median absolute deviation (`~astropy.stats.mad_std`), both robust to the few
blended or clipped objects of a real sample.
"""

import numpy as np
from astropy.stats import mad_std
from astropy.table import Table

from ..exceptions import MetricError
from ._inputs import as_stack, check_same_shape
from .truth import magnitude_error

__all__ = ["aperture_magnitude_errors", "fidelity_summary", "point_source_residuals",
           "uncertainty_coverage"]


def aperture_magnitude_errors(images, truths, radii, *, center=None):
    """
    Aperture-magnitude errors ``m_image - m_truth`` of a batch, one column per radius.

    Parameters
    ----------
    images, truths : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale; cutouts are band-averaged.
    radii : sequence of float
        Aperture radii in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    errors : `~numpy.ndarray`
        ``(N, len(radii))`` magnitudes; NaN where a flux is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import aperture_magnitude_errors
    >>> truth = np.ones((2, 32, 32))
    >>> aperture_magnitude_errors(1.1 * truth, truth, [4, 8]).round(4).tolist()
    [[-0.1035, -0.1035], [-0.1035, -0.1035]]
    """
    radii = list(np.atleast_1d(radii))
    if not radii:
        msg = "radii must name at least one aperture radius"
        raise MetricError(msg)
    columns = [np.atleast_1d(magnitude_error(images, truths, r_max=r, center=center))
               for r in radii]
    return np.stack(columns, axis=1)


def fidelity_summary(errors, names=None, *, groups=None):
    """
    Bias (median) and scatter (NMAD) of magnitude errors per aperture, overall and per group.

    Parameters
    ----------
    errors : array-like
        ``(N, n_apertures)`` magnitude errors, e.g. from `aperture_magnitude_errors`.
    names : sequence of str, optional
        One name per aperture (default ``'r0'``, ``'r1'``...).
    groups : dict of str to array of bool, optional
        Subsets of the objects (e.g. ``{'bright': mag < 17, 'faint': mag >= 17}``);
        ``'all'`` is always included.

    Returns
    -------
    table : `~astropy.table.Table`
        One row per aperture and group: ``aperture``, ``group``, ``n`` (objects
        with a finite error), ``n_failed`` (non-positive fluxes), ``bias`` and
        ``nmad`` in magnitudes.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import fidelity_summary
    >>> errors = np.array([[0.01, 0.0], [-0.01, 0.02], [0.0, 0.01]])
    >>> table = fidelity_summary(errors, ["4as", "8as"])
    >>> [str(a) for a in table["aperture"]], [round(float(b), 3) for b in table["bias"]]
    (['4as', '8as'], [0.0, 0.01])
    """
    errors = np.asarray(errors, dtype=float)
    if errors.ndim == 1:
        errors = errors[:, np.newaxis]
    if errors.ndim != 2 or errors.shape[0] == 0:
        msg = f"errors must be an (N, n_apertures) array, got shape {errors.shape}"
        raise MetricError(msg)
    names = [f"r{k}" for k in range(errors.shape[1])] if names is None else list(names)
    if len(names) != errors.shape[1]:
        msg = f"got {len(names)} names for {errors.shape[1]} apertures"
        raise MetricError(msg)
    subsets = {"all": np.ones(len(errors), dtype=bool)}
    for key, selection in (groups or {}).items():
        selection = np.asarray(selection, dtype=bool)
        if selection.shape != (len(errors),):
            msg = f"group {key!r} selects {selection.shape} objects, not ({len(errors)},)"
            raise MetricError(msg)
        subsets[key] = selection
    rows = []
    for k, name in enumerate(names):
        for key, selection in subsets.items():
            values = errors[selection, k]
            finite = values[np.isfinite(values)]
            rows.append((name, key, len(finite), int(len(values) - len(finite)),
                         float(np.median(finite)) if len(finite) else np.nan,
                         float(mad_std(finite)) if len(finite) else np.nan))
    return Table(rows=rows, names=("aperture", "group", "n", "n_failed", "bias", "nmad"))


def point_source_residuals(images, truths, positions, *, radius=2.0):
    """
    Peak absolute residual in each point source's core, relative to the source's true peak.

    Ringing or missing cores around stars show up here: a faithful translation
    leaves residuals well below the peak (a few per cent).

    Parameters
    ----------
    images, truths : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale.
    positions : sequence of (int, float, float)
        ``(image index, x, y)`` of each point source (zero-based pixels).
    radius : float, optional
        Core radius in pixels.

    Returns
    -------
    ratios : `~numpy.ndarray`
        ``max|image - truth| / max(truth)`` within each core; NaN for sources
        whose core leaves the image or has no positive truth.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import point_source_residuals
    >>> truth = np.zeros((1, 16, 16)); truth[0, 8, 8] = 100.0
    >>> image = truth.copy(); image[0, 8, 9] = 3.0
    >>> point_source_residuals(image, truth, [(0, 8, 8)]).tolist()
    [0.03]
    """
    x, _ = as_stack(images, what="images")
    t, _ = as_stack(truths, what="truths")
    check_same_shape(x, t, names=("images", "truths"))
    ny, nx = x.shape[1:]
    yy, xx = np.mgrid[:ny, :nx]
    ratios = []
    for index, px, py in positions:
        index = int(index)
        if not (0 <= index < len(t)) or not (radius <= px <= nx - 1 - radius
                                             and radius <= py <= ny - 1 - radius):
            ratios.append(np.nan)
            continue
        core = (xx - px) ** 2 + (yy - py) ** 2 <= radius ** 2
        peak = np.nanmax(t[index][core])
        residual = np.nanmax(np.abs(x[min(index, len(x) - 1)][core] - t[index][core]))
        ratios.append(residual / peak if peak > 0 else np.nan)
    return np.array(ratios, dtype=float)


def uncertainty_coverage(images, truths, sigmas):
    """
    How well per-pixel uncertainties describe the actual errors against the truth.

    Parameters
    ----------
    images, truths, sigmas : array-like, NDData, Cutout or list
        Images, their truths and 1-sigma uncertainties, of one shape.

    Returns
    -------
    coverage : float
        Fraction of pixels with ``|image - truth| < sigma`` (0.683 for calibrated
        Gaussian errors).
    z_spread : float
        Robust standard deviation (`~astropy.stats.mad_std`) of
        ``(image - truth) / sigma`` (1 when calibrated).

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import uncertainty_coverage
    >>> rng = np.random.default_rng(0)
    >>> truth = np.zeros((20, 32, 32)); sigma = np.full_like(truth, 2.0)
    >>> coverage, spread = uncertainty_coverage(truth + rng.normal(0, 2, truth.shape),
    ...                                         truth, sigma)
    >>> round(coverage, 2), round(spread, 1)
    (0.68, 1.0)
    """
    x, _ = as_stack(images, what="images")
    t, _ = as_stack(truths, what="truths")
    s, _ = as_stack(sigmas, what="sigmas")
    check_same_shape(x, t, names=("images", "truths"))
    check_same_shape(x, s, names=("images", "sigmas"))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - t) / s
    z = z[np.isfinite(z) & (s > 0)]
    if not z.size:
        msg = "no pixel has a finite error and a positive uncertainty"
        raise MetricError(msg)
    return float(np.mean(np.abs(z) < 1)), float(mad_std(z))
