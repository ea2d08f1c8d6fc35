# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Scores against the noise-free truth, which the paper could not compute on real
data but simulated pairs provide: flux and magnitude errors, residual RMS,
truth-based S/N and the S/N gain of one image over another.

The image and its truth must be on the same pixel grid and flux scale (e.g. a
reconstruction in DES counts and the DES noise-free render on the same grid).
"""

import numpy as np

from ._apertures import circle_weights, scalar_or_array, weighted_sums
from ._inputs import as_stack, check_aperture, check_same_shape, resolve_center

__all__ = ["flux_error", "magnitude_error", "residual_rms", "truth_signal_to_noise",
           "snr_gain"]


def _pair(image, truth, r_max, center):
    x, single_x = as_stack(image, what="image")
    t, single_t = as_stack(truth, what="truth")
    check_same_shape(x, t, names=("image", "truth"))
    shape = x.shape[1:]
    center = resolve_center(center, shape)
    check_aperture(center, r_max, shape)
    x, t = np.broadcast_arrays(x, t)
    return x, t, single_x and single_t, center


def flux_error(image, truth, *, r_max=75, center=None):
    """
    Relative aperture-flux error ``(F_image - F_truth) / F_truth``.

    Parameters
    ----------
    image, truth : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale; cutouts are band-averaged.
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    error : float or `~numpy.ndarray`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If image and truth differ in shape.
    survey2survey.exceptions.ApertureError
        If the aperture does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import flux_error
    >>> truth = np.ones((32, 32))
    >>> round(float(flux_error(1.1 * truth, truth, r_max=10)), 6)
    0.1
    """
    x, t, single, center = _pair(image, truth, r_max, center)
    fx, ft = _fluxes(x, t, center, r_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        return scalar_or_array((fx - ft) / ft, single)


def magnitude_error(image, truth, *, r_max=75, center=None):
    """
    Aperture-magnitude error ``m_image - m_truth = -2.5 log10(F_image / F_truth)``.

    Independent of the zero point; NaN where either flux is not positive.

    Parameters
    ----------
    image, truth : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale.
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    error : float or `~numpy.ndarray`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If image and truth differ in shape.
    survey2survey.exceptions.ApertureError
        If the aperture does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import magnitude_error
    >>> truth = np.ones((32, 32))
    >>> round(float(magnitude_error(10 * truth, truth, r_max=10)), 6)
    -2.5
    """
    x, t, single, center = _pair(image, truth, r_max, center)
    fx, ft = _fluxes(x, t, center, r_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((fx > 0) & (ft > 0), fx / ft, np.nan)
        return scalar_or_array(-2.5 * np.log10(ratio), single)


def _fluxes(x, t, center, r_max):
    """Exact-overlap aperture sums of image and truth stacks."""
    weights = circle_weights(x.shape[1:], center, float(r_max), "exact")
    return weighted_sums(x, weights), weighted_sums(t, weights)


def _residual_sums(x, t, center, r_max):
    """Sum of squared residuals and finite-pixel count within the aperture (pixel centres)."""
    inside = circle_weights(x.shape[1:], center, float(r_max), "center")
    res = (x - t).reshape(len(x), -1)
    finite = ~np.isnan(res)
    if finite.all():
        return (res * res) @ inside, np.full(len(x), inside.sum())
    res = np.where(finite, res, 0.0)
    return (res * res) @ inside, finite @ inside


def residual_rms(image, truth, *, r_max=75, center=None):
    """
    Root-mean-square of ``image - truth`` over the pixels within ``r_max``.

    Parameters
    ----------
    image, truth : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale.
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    rms : float or `~numpy.ndarray`
        In the images' unit.

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If image and truth differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import residual_rms
    >>> truth = np.zeros((32, 32))
    >>> float(residual_rms(truth + 3.0, truth, r_max=10))
    3.0
    """
    x, t, single, center = _pair(image, truth, r_max, center)
    ss, n = _residual_sums(x, t, center, r_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        return scalar_or_array(np.sqrt(ss / n), single)


def truth_signal_to_noise(image, truth, *, r_max=75, center=None):
    """
    Aperture S/N measured against the truth: ``sum(truth) / sqrt(sum((image - truth)^2))``.

    The total noise-free flux within ``r_max`` over the root of the summed
    squared error of the same pixels: a noise-free estimate of the S/N that
    accounts for bias as well as noise (unlike Eq. 7).

    Parameters
    ----------
    image, truth : array-like, NDData, Cutout or list
        Images (or batches) of one shape and flux scale.
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    snr : float or `~numpy.ndarray`
        ``inf`` when the image equals the truth.

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If image and truth differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import truth_signal_to_noise
    >>> truth = np.zeros((32, 32)); truth[16, 16] = 100.0
    >>> image = truth.copy(); image[16, 17] = 10.0
    >>> float(truth_signal_to_noise(image, truth, r_max=10))
    10.0
    """
    x, t, single, center = _pair(image, truth, r_max, center)
    ss, _ = _residual_sums(x, t, center, r_max)
    signal = weighted_sums(t, circle_weights(x.shape[1:], center, float(r_max), "center"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return scalar_or_array(signal / np.sqrt(ss), single)


def snr_gain(image, truth, reference, reference_truth, *, r_max=75, center=None):
    """
    S/N gain: `truth_signal_to_noise` of ``image`` over that of ``reference``.

    E.g. a reconstruction (against the DES-like truth) over its SDSS source
    (against the SDSS truth): values above 1 mean the translation raised the S/N.

    Parameters
    ----------
    image, truth : array-like, NDData, Cutout or list
        The improved image(s) and their truth.
    reference, reference_truth : array-like, NDData, Cutout or list
        The reference image(s) and their truth (each pair on its own scale).
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    gain : float or `~numpy.ndarray`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If an image and its truth differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import snr_gain
    >>> truth = np.zeros((32, 32)); truth[16, 16] = 100.0
    >>> good, bad = truth.copy(), truth.copy()
    >>> good[2, 16], bad[2, 16] = 1.0, 4.0
    >>> float(snr_gain(good, truth, bad, truth, r_max=15))
    4.0
    """
    num = truth_signal_to_noise(image, truth, r_max=r_max, center=center)
    den = truth_signal_to_noise(reference, reference_truth, r_max=r_max, center=center)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num) / np.asarray(den) if np.ndim(num) else num / den
