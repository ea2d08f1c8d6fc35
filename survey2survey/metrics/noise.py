# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Noise statistics of images: what to compare between a translation, its samples and real data.

A survey's noise is more than its pixel variance: coadds resample their
exposures and so correlate neighbouring pixels, and what photometry feels is
the noise summed over an aperture. `noise_power_spectrum` measures the noise
power per spatial scale on blank sky, `empty_aperture_noise` the scatter of
fluxes in randomly placed apertures that avoid sources (the empty-aperture
method of deep-field photometry), and `aperture_coverage` how often errors
fall within their 1-sigma uncertainties.
"""

import numpy as np
from astropy.stats import mad_std
from scipy.ndimage import binary_dilation

from ..exceptions import MetricError
from ._inputs import as_stack, check_same_shape

__all__ = ["noise_power_spectrum", "empty_aperture_noise", "aperture_coverage"]


def _stack_and_mask(images, mask):
    x, _ = as_stack(images, what="images")
    if mask is None:
        keep = np.isfinite(x)
    else:
        m, _ = as_stack(np.asarray(mask, dtype=float), what="mask")
        check_same_shape(x, m, names=("images", "mask"))
        keep = ~np.broadcast_to(m.astype(bool), x.shape) & np.isfinite(x)
    return x, keep


def noise_power_spectrum(images, *, mask=None, scales=(2, 4, 8, 16, 32)):
    """
    Noise power at given spatial scales, from pixels not masked.

    The images are zero where masked, Fourier transformed, and their power
    averaged over annuli of frequency ``1/scale`` within a factor ``sqrt(2)``
    (half an octave each way), divided by the unmasked fraction. For white
    noise of variance ``v`` every scale gives ``v``; correlated noise (e.g. a
    coadd's resampling) gives less at small scales and more at large ones.

    Parameters
    ----------
    images : array-like, NDData, Cutout or list
        One image ``(ny, nx)`` or a batch ``(N, ny, nx)``.
    mask : array-like of bool, optional
        True where a pixel is not blank sky (sources, bad pixels), same shape.
    scales : sequence of float, optional
        Wavelengths in pixels (at least 2, the Nyquist scale).

    Returns
    -------
    `numpy.ndarray`
        The power at each scale (variance per pixel and unit bandwidth, in
        the images' unit squared), averaged over the batch.

    Raises
    ------
    survey2survey.exceptions.MetricError
        If a scale is below 2 pixels or larger than the images, or no pixel
        is usable.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import noise_power_spectrum
    >>> noise = np.random.default_rng(0).normal(0, 3, (8, 64, 64))
    >>> power = noise_power_spectrum(noise, scales=(2, 8, 32))  # white: 9 at every scale
    >>> bool(np.allclose(power, 9.0, rtol=0.15))
    True
    """
    x, keep = _stack_and_mask(images, mask)
    scales = np.atleast_1d(np.asarray(scales, dtype=float))
    size = min(x.shape[1:])
    if np.any(scales < 2) or np.any(scales > size):
        msg = f"scales must lie between 2 and {size} pixels, got {scales.tolist()}"
        raise MetricError(msg)
    fraction = keep.mean(axis=(1, 2))
    if not np.any(fraction > 0):
        msg = "no unmasked finite pixel to measure the noise power on"
        raise MetricError(msg)
    values = np.where(keep, x - np.array([np.mean(v[k]) if k.any() else 0.0
                                          for v, k in zip(x, keep, strict=True)])[:, None, None],
                      0.0)
    power = np.abs(np.fft.fft2(values)) ** 2 / (x.shape[1] * x.shape[2])
    used = fraction > 0
    power = power[used] / fraction[used][:, None, None]
    fy = np.fft.fftfreq(x.shape[1])[:, None]
    fx = np.fft.fftfreq(x.shape[2])[None, :]
    radius = np.hypot(fy, fx)
    out = []
    for scale in scales:
        annulus = (radius >= 1 / (scale * np.sqrt(2))) & (radius < np.sqrt(2) / scale)
        out.append(float(power[:, annulus].mean()))
    return np.array(out)


def empty_aperture_noise(images, radii, *, mask=None, n_apertures=200, seed=0):
    """
    Robust scatter of fluxes in random circular apertures that touch no masked pixel.

    Parameters
    ----------
    images : array-like, NDData, Cutout or list
        One image or a batch, background-subtracted (or the difference of an
        image and its truth, to measure the noise alone).
    radii : sequence of float
        Aperture radii in pixels.
    mask : array-like of bool, optional
        True on sources and bad pixels; apertures avoid them.
    n_apertures : int, optional
        Apertures per image and radius (fewer where the blank sky is small).
    seed : int, optional
        Seed of the positions.

    Returns
    -------
    `numpy.ndarray`
        `~astropy.stats.mad_std` of the aperture sums at each radius (NaN
        where fewer than 10 apertures fit).

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import empty_aperture_noise
    >>> noise = np.random.default_rng(1).normal(0, 1, (4, 64, 64))
    >>> ratio = empty_aperture_noise(noise, [2, 4]) / np.sqrt(np.pi * np.array([2, 4]) ** 2)
    >>> bool(np.all(np.abs(ratio - 1) < 0.15))
    True
    """
    from photutils.aperture import CircularAperture

    x, keep = _stack_and_mask(images, mask)
    rng = np.random.default_rng(seed)
    ny, nx = x.shape[1:]
    out = []
    for radius in np.atleast_1d(np.asarray(radii, dtype=float)):
        if radius <= 0:
            msg = f"aperture radii must be positive, got {radius}"
            raise MetricError(msg)
        size = int(np.ceil(radius))
        disk = np.hypot(*np.mgrid[-size:size + 1, -size:size + 1]) <= radius + 0.5
        sums = []
        for image, good in zip(x, keep, strict=True):
            allowed = ~binary_dilation(~good, structure=disk)
            allowed[:size + 1], allowed[ny - size - 1:] = False, False
            allowed[:, :size + 1], allowed[:, nx - size - 1:] = False, False
            ys, xs = np.nonzero(allowed)
            if not len(ys):
                continue
            pick = rng.choice(len(ys), size=min(n_apertures, len(ys)), replace=False)
            apertures = CircularAperture(np.column_stack([xs[pick], ys[pick]]), r=radius)
            flux, _ = apertures.do_photometry(np.where(good, image, 0.0))
            sums.append(np.asarray(flux))
        sums = np.concatenate(sums) if sums else np.array([])
        out.append(float(mad_std(sums)) if len(sums) >= 10 else np.nan)
    return np.array(out)


def aperture_coverage(errors, sigmas):
    """
    Fraction of errors within their 1-sigma uncertainty (0.683 when calibrated).

    Parameters
    ----------
    errors, sigmas : array-like
        Errors (e.g. aperture flux minus true flux) and their uncertainties.

    Returns
    -------
    coverage : float
        Fraction with ``|error| < sigma``.
    z_spread : float
        `~astropy.stats.mad_std` of ``error / sigma`` (1 when calibrated).

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import aperture_coverage
    >>> rng = np.random.default_rng(2)
    >>> coverage, spread = aperture_coverage(rng.normal(0, 2, 5000), np.full(5000, 2.0))
    >>> round(coverage, 2), round(spread, 1)
    (0.68, 1.0)
    """
    errors = np.asarray(errors, dtype=float).ravel()
    sigmas = np.asarray(sigmas, dtype=float).ravel()
    if errors.shape != sigmas.shape:
        msg = f"errors and sigmas must have one shape, got {errors.shape} and {sigmas.shape}"
        raise MetricError(msg)
    good = np.isfinite(errors) & np.isfinite(sigmas) & (sigmas > 0)
    if not good.any():
        msg = "no error with a finite positive uncertainty"
        raise MetricError(msg)
    z = errors[good] / sigmas[good]
    return float(np.mean(np.abs(z) < 1)), float(mad_std(z))
