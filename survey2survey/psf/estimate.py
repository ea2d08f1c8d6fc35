# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
A band's PSF estimated from the point sources in the image itself.

Stars are found with `photutils.detection.DAOStarFinder` (sharp, round peaks
well above the noise, away from the border), each is fitted with an
`astropy.modeling.functional_models.Moffat2D` on a constant, and the PSF is the
median of the narrowest fits: galaxies are broader than the PSF, so the point
sources are the lower envelope of the fitted widths.
"""

import warnings

import astropy.units as u
import numpy as np
from astropy.modeling import fitting, models
from astropy.stats import mad_std
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import InvalidOptionError
from ..utils._validation import check_int, check_number
from .model import PSF

__all__ = ["estimate_psf"]

_FIT_BOX_FWHM = 4.0  # the fitted stamp spans this many guessed FWHM
_ENVELOPE = 1.15  # fits within this factor of the narrowest count as point sources


def _shape_limits(finder):
    """Sharpness and roundness limits in the keywords of this photutils version."""
    import inspect

    if "sharpness_range" in inspect.signature(finder).parameters:  # photutils >= 3
        return {"sharpness_range": (0.3, 1.0), "roundness_range": (-0.5, 0.5)}
    return {"sharplo": 0.3, "sharphi": 1.0, "roundlo": -0.5, "roundhi": 0.5}


def _fit_star(stamp, guess):
    ny, nx = stamp.shape
    yy, xx = np.mgrid[:ny, :nx]
    beta = 3.0
    gamma = guess / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    model = (models.Moffat2D(amplitude=float(stamp.max()), x_0=(nx - 1) / 2, y_0=(ny - 1) / 2,
                             gamma=gamma, alpha=beta,
                             bounds={"alpha": (1.2, 10.0), "gamma": (0.1, 4 * gamma)})
             + models.Const2D(0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        fitted = fitting.TRFLSQFitter()(model, xx, yy, stamp, maxiter=200)
    moffat = fitted[0]
    alpha, gamma = float(moffat.alpha.value), abs(float(moffat.gamma.value))
    fwhm = 2.0 * gamma * np.sqrt(2.0 ** (1.0 / alpha) - 1.0)
    offset = np.hypot(moffat.x_0.value - (nx - 1) / 2, moffat.y_0.value - (ny - 1) / 2)
    if not (np.isfinite(fwhm) and fwhm > 0.5 and offset < 2.0):
        return None
    return fwhm, alpha


def estimate_psf(image, pixel_scale, *, fwhm_guess=None, threshold=30.0, sigma=None,
                 max_stars=25, min_stars=1):
    """
    Estimate the PSF of one image band from its point sources (a Moffat fit).

    Parameters
    ----------
    image : array-like
        One sky-subtracted band ``(ny, nx)``. Not modified.
    pixel_scale : `~astropy.units.Quantity` or float
        Arcsec per pixel.
    fwhm_guess : float, optional
        Expected FWHM in arcsec for the detection (default 1.2").
    threshold : float, optional
        Detection threshold in units of the background noise.
    sigma : float, optional
        Background noise (default: the robust standard deviation of ``image``).
    max_stars : int, optional
        Fit at most this many of the brightest candidates.
    min_stars : int, optional
        Return None unless at least this many point sources are fitted.

    Returns
    -------
    `~survey2survey.psf.PSF` or None
        A Moffat PSF (median FWHM and index of the point sources, ``exact=False``),
        or None when the image has too few point sources.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.psf import PSF, estimate_psf
    >>> star = PSF(1.5, 'moffat', beta=3.5).image((31, 31), 0.396)
    >>> image = np.zeros((96, 96)); image[20:51, 40:71] += 1e4 * star
    >>> image += np.random.default_rng(0).normal(0, 1, image.shape)
    >>> psf = estimate_psf(image, 0.396)
    >>> round(float(psf.fwhm.value), 1)
    1.5
    """
    from photutils.detection import DAOStarFinder
    from photutils.utils.exceptions import NoDetectionsWarning

    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        msg = f"estimate_psf takes one band (ny, nx), got shape {image.shape}"
        raise InvalidOptionError(msg)
    scale = u.Quantity(pixel_scale, u.arcsec / u.pix).value
    guess = check_number(1.2 if fwhm_guess is None else fwhm_guess, "fwhm_guess", minimum=0,
                         exclusive_minimum=True) / scale
    threshold = check_number(threshold, "threshold", minimum=0, exclusive_minimum=True)
    max_stars = check_int(max_stars, "max_stars", minimum=1)
    min_stars = check_int(min_stars, "min_stars", minimum=1)
    finite = np.isfinite(image)
    data = np.where(finite, image, 0.0)
    noise = float(mad_std(data[finite])) if sigma is None else float(sigma)
    if not noise > 0:
        return None
    finder = DAOStarFinder(threshold=threshold * noise, fwhm=guess, exclude_border=True,
                           **_shape_limits(DAOStarFinder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)  # None says it
        sources = finder(data)
    if sources is None:
        return None
    sources = sources[np.argsort(-np.asarray(sources["flux"]))[:max_stars]]  # the brightest
    half = int(np.ceil(_FIT_BOX_FWHM * guess / 2))
    fits = []
    x_name = "x_centroid" if "x_centroid" in sources.colnames else "xcentroid"  # photutils 2
    y_name = "y_centroid" if "y_centroid" in sources.colnames else "ycentroid"
    for x, y in zip(sources[x_name], sources[y_name], strict=True):
        cx, cy = int(round(float(x))), int(round(float(y)))
        if min(cx, cy) < half or cx + half >= data.shape[1] or cy + half >= data.shape[0]:
            continue
        stamp = data[cy - half:cy + half + 1, cx - half:cx + half + 1]
        result = _fit_star(stamp, guess)
        if result is not None:
            fits.append(result)
    if len(fits) < min_stars:
        return None
    fits = np.array(fits)
    narrow = fits[fits[:, 0] <= _ENVELOPE * fits[:, 0].min()]
    fwhm, beta = np.median(narrow, axis=0)
    return PSF(float(fwhm) * scale, "moffat", float(np.clip(beta, 1.2, 10.0)))
