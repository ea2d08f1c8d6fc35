# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Aperture photometry of the paper (Sec. 4.2-4.3): pseudo-flux magnitude (Eq. 6),
mean S/N (Eq. 7), pseudo-luminosity profile (Eq. 8) and curve of growth.

Every function takes one image or a batch (see `survey2survey.metrics`): the
aperture weights are computed once with photutils (`~photutils.aperture.CircularAperture`,
`~photutils.aperture.CircularAnnulus`, exact overlap) and applied to the whole
batch with one matrix product, which gives the same numbers as calling
`~photutils.aperture.aperture_photometry` / `~photutils.profiles.RadialProfile`
on every image, much faster. NaN (masked) pixels are left out of sums and areas,
as photutils does with a mask.
"""

import warnings
from collections import namedtuple

import numpy as np

from ..exceptions import MetricError, UnknownSurveyError
from ..io import header_zero_point
from ._apertures import circle_weights, profile_matrix, scalar_or_array, weighted_sums
from ._inputs import as_stack, check_aperture, resolve_center

__all__ = ["aperture_flux", "pseudo_flux_magnitude", "aperture_magnitudes", "signal_to_noise",
           "radial_profile", "curve_of_growth", "RadialProfileResult", "CurveOfGrowthResult"]

RadialProfileResult = namedtuple("RadialProfileResult", ["radius", "profile"])
RadialProfileResult.__doc__ = """\
Pseudo-luminosity profile: ``radius`` (bin centres, pix) and ``profile`` (flux per pix^2,
shape ``(n_radii,)`` for one image or ``(N, n_radii)`` for a batch)."""
CurveOfGrowthResult = namedtuple("CurveOfGrowthResult", ["radius", "flux"])
CurveOfGrowthResult.__doc__ = """\
Curve of growth: ``radius`` (outer radii, pix) and ``flux`` (total flux within each radius,
shape ``(n_radii,)`` for one image or ``(N, n_radii)`` for a batch)."""


def _prepare(image, r_max, center):
    stack, single = as_stack(image)
    shape = stack.shape[1:]
    center = resolve_center(center, shape)
    r_max = check_aperture(center, r_max, shape)
    return stack, single, shape, center, r_max


def _zero_point_value(zero_point):
    if hasattr(zero_point, "zero_point") and isinstance(zero_point.zero_point, dict):
        values = set(zero_point.zero_point.values())
        if len(values) != 1:
            msg = (f"survey {zero_point.name} has per-band zero points {zero_point.zero_point}; "
                   "pass zero_point=survey.zero_point[band]")
            raise MetricError(msg)
        return values.pop()
    try:
        value = float(getattr(zero_point, "value", zero_point))
    except (TypeError, ValueError):
        value = np.nan
    if not np.isfinite(value):
        msg = f"zero_point must be a finite number or a Survey, got {zero_point!r}"
        raise MetricError(msg)
    return value


def aperture_flux(image, *, r_max=75, center=None):
    """
    Total pixel value inside a circle (the beta-circle of Eq. 6), exact pixel overlap.

    Parameters
    ----------
    image : array-like, NDData, Cutout or list
        One image ``(ny, nx)`` or a batch ``(N, ny, nx)``; cutouts are band-averaged.
    r_max : float, optional
        Aperture radius in pixels (paper: 75).
    center : (x, y), optional
        Aperture centre in zero-based pixels (default: the image centre).

    Returns
    -------
    flux : float or `~numpy.ndarray`
        The sum, in the image's unit; shape ``(N,)`` for a batch.

    Raises
    ------
    survey2survey.exceptions.ApertureError
        If the aperture does not fit in the image.
    survey2survey.exceptions.MetricError
        If an image has no finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import aperture_flux
    >>> round(aperture_flux(np.ones((32, 32)), r_max=10), 4)  # pi * 10**2
    314.1593
    """
    stack, single, shape, center, r_max = _prepare(image, r_max, center)
    weights = circle_weights(shape, center, r_max, "exact")
    return scalar_or_array(weighted_sums(stack, weights), single)


def pseudo_flux_magnitude(image, *, r_max=75, center=None, zero_point=30):
    """
    Pseudo-flux magnitude, Eq. 6: ``F = zero_point - 2.5 log10(sum of pixels within r_max)``.

    With calibrated images and the survey's zero point (SDSS nanomaggies: 22.5,
    DES coadd counts: 30) this is the real AB magnitude in the aperture.

    Parameters
    ----------
    image : array-like, NDData, Cutout or list
        One image or a batch; cutouts are band-averaged.
    r_max : float, optional
        Aperture radius in pixels (paper: 75).
    center : (x, y), optional
        Aperture centre (default: the image centre).
    zero_point : float or `~survey2survey.surveys.Survey`, optional
        Zero point (paper: 30). A survey whose bands share one zero point may be given.

    Returns
    -------
    magnitude : float or `~numpy.ndarray`
        NaN where the aperture sum is not positive.

    Raises
    ------
    survey2survey.exceptions.ApertureError
        If the aperture does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import pseudo_flux_magnitude
    >>> image = np.zeros((150, 150)); image[75, 75] = 100.0
    >>> float(pseudo_flux_magnitude(image))
    25.0
    """
    zp = _zero_point_value(zero_point)
    flux = np.asarray(aperture_flux(image, r_max=r_max, center=center), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = zp - 2.5 * np.log10(np.where(flux > 0, flux, np.nan))
    return float(mag) if mag.ndim == 0 else mag


def aperture_magnitudes(cutout, *, r_max=75, center=None, zero_point=None):
    """
    Real AB magnitude of every band of a calibrated cutout inside a circular aperture.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout`
        A calibrated multi-band cutout.
    r_max : float, optional
        Aperture radius in pixels.
    center : (x, y), optional
        Aperture centre (default: the image centre).
    zero_point : float, dict or `~survey2survey.surveys.Survey`, optional
        Zero point(s); default: each band's zero-point card (``MAGZERO``,
        ``MAGZP``... or ``FLUXMAG0``, read by `~survey2survey.io.header_zero_point`),
        else the zero point of the survey named by the cutout's ``SURVEY`` card.

    Returns
    -------
    magnitudes : dict
        Band name to magnitude (NaN for a non-positive sum).

    Raises
    ------
    survey2survey.exceptions.MetricError
        If no zero point can be found for a band.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import Cutout
    >>> from survey2survey.metrics import aperture_magnitudes
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> data = np.zeros((2, 32, 32)); data[:, 16, 16] = [1.0, 10.0]
    >>> cutout = Cutout.from_arrays(data, wcs, 'gr', unit='nmgy', meta={'SURVEY': 'SDSS'})
    >>> {band: round(float(m), 2) for band, m in aperture_magnitudes(cutout, r_max=10).items()}
    {'g': 22.5, 'r': 20.0}
    """
    from ..io import Cutout

    if not isinstance(cutout, Cutout):
        msg = f"aperture_magnitudes needs a Cutout, got {type(cutout).__name__}"
        raise MetricError(msg)
    out = {}
    for band in cutout.bands:
        zp = _band_zero_point(cutout, band, zero_point)
        out[band] = pseudo_flux_magnitude(cutout[band], r_max=r_max, center=center,
                                          zero_point=zp)
    return out


def _band_zero_point(cutout, band, zero_point):
    if zero_point is not None:
        if isinstance(zero_point, dict):
            if band not in zero_point:
                msg = f"zero_point has no entry for band {band!r}: {zero_point}"
                raise MetricError(msg)
            return zero_point[band]
        if hasattr(zero_point, "zero_point"):
            if band not in zero_point.zero_point:
                msg = f"survey {zero_point.name} has no band {band!r}"
                raise MetricError(msg)
            return zero_point.zero_point[band]
        return zero_point
    found = header_zero_point(cutout[band].meta)
    if found is not None:
        return found
    name = cutout.meta.get("SURVEY")
    if name:
        from ..surveys import get_survey

        try:
            survey = get_survey(name)
        except UnknownSurveyError:
            survey = None
        if survey is not None and band in survey.zero_point:
            return survey.zero_point[band]
    msg = (f"no zero point for band {band!r}: the band has no MAGZERO card and the cutout "
           f"names no known SURVEY; pass zero_point=")
    raise MetricError(msg)


def signal_to_noise(image, *, r_max=75, center=None):
    """
    Mean signal-to-noise ratio, Eq. 7: mean / standard deviation of the pixels within r_max.

    Pixels whose centres lie within ``r_max`` of the centre are used (photutils
    ``method='center'``); the standard deviation is the population one (ddof=0).

    Parameters
    ----------
    image : array-like, NDData, Cutout or list
        One image or a batch; cutouts are band-averaged.
    r_max : float, optional
        Aperture radius in pixels (paper: 75).
    center : (x, y), optional
        Aperture centre (default: the image centre).

    Returns
    -------
    snr : float or `~numpy.ndarray`
        ``inf`` for a constant positive image.

    Raises
    ------
    survey2survey.exceptions.ApertureError
        If the aperture does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import signal_to_noise
    >>> rng = np.random.default_rng(0)
    >>> image = 10.0 + rng.normal(0.0, 1.0, (150, 150))
    >>> round(float(signal_to_noise(image)), 1)
    10.0
    """
    stack, single, shape, center, r_max = _prepare(image, r_max, center)
    inside = np.flatnonzero(circle_weights(shape, center, r_max, "center") > 0)
    values = stack.reshape(len(stack), -1)[:, inside]
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isnan(values).any():
            with warnings.catch_warnings():  # an aperture with no finite pixel gives NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                snr = np.nanmean(values, axis=1) / np.nanstd(values, axis=1)
        else:
            snr = values.mean(axis=1) / values.std(axis=1)
    return scalar_or_array(snr, single)


def _edges(r_max, dr):
    dr = float(dr)
    if not np.isfinite(dr) or dr <= 0:
        msg = f"dr must be a positive bin width in pixels, got {dr!r}"
        raise MetricError(msg)
    n = int(np.floor(r_max / dr + 1e-9))
    if n < 1:
        msg = f"r_max={r_max:g} is smaller than one bin of dr={dr:g}"
        raise MetricError(msg)
    return tuple(float(e) for e in np.arange(n + 1) * dr)


def _profile_sums(image, r_max, dr, center, kind):
    """Flux and unmasked area in the apertures of a photutils profile, for the whole batch."""
    stack, single, shape, center, r_max = _prepare(image, r_max, center)
    matrix, radius = profile_matrix(shape, center, _edges(r_max, dr), kind)
    flat = stack.reshape(len(stack), -1)
    nan = np.isnan(flat)
    if nan.any():
        sums = (matrix @ np.nan_to_num(flat, nan=0.0).T).T
        areas = (matrix @ (~nan).T.astype(float)).T
    else:
        sums = (matrix @ flat.T).T
        areas = np.broadcast_to(np.asarray(matrix.sum(axis=1)).ravel(), sums.shape)
    return radius, sums, areas, single


def radial_profile(image, *, r_max=75, dr=1, center=None):
    """
    Pseudo-luminosity profile, Eq. 8: ``dF/dS(r) = F_Ann(r) / (2 pi r dr)``.

    The flux in annuli of width ``dr`` (the first bin is the central disc)
    divided by their area: the profile of `photutils.profiles.RadialProfile`
    with ``radii = arange(0, r_max + dr, dr)``, whose apertures are used, for a
    whole batch at once (their weights are computed once per image shape and
    applied with one matrix product; equal to photutils' to rounding). Masked
    (NaN) pixels are excluded from flux and area.

    Parameters
    ----------
    image : array-like, NDData, Cutout or list
        One image or a batch; cutouts are band-averaged.
    r_max : float, optional
        Outer radius in pixels (paper: 75).
    dr : float, optional
        Annulus width in pixels (paper: 1).
    center : (x, y), optional
        Profile centre (default: the image centre).

    Returns
    -------
    result : `RadialProfileResult`
        ``radius`` (bin centres) and ``profile`` (``(n,)`` or ``(N, n)``).

    Raises
    ------
    survey2survey.exceptions.ApertureError
        If the outer circle does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import radial_profile
    >>> result = radial_profile(np.full((32, 32), 2.0), r_max=3)
    >>> result.radius.tolist(), np.round(result.profile, 6).tolist()
    ([0.5, 1.5, 2.5], [2.0, 2.0, 2.0])
    """
    radius, sums, areas, single = _profile_sums(image, r_max, dr, center, "radial")
    with np.errstate(divide="ignore", invalid="ignore"):
        profile = sums / areas
    return RadialProfileResult(radius.copy(), profile[0] if single else profile)


def curve_of_growth(image, *, r_max=75, dr=1, center=None):
    """
    Total flux within each radius ``dr, 2 dr, ..., r_max``.

    The apertures of `photutils.profiles.CurveOfGrowth` applied to a whole
    batch at once (equal to photutils' curve to rounding); masked (NaN)
    pixels add no flux.

    Parameters
    ----------
    image : array-like, NDData, Cutout or list
        One image or a batch; cutouts are band-averaged.
    r_max : float, optional
        Outer radius in pixels.
    dr : float, optional
        Radius step in pixels.
    center : (x, y), optional
        Centre (default: the image centre).

    Returns
    -------
    result : `CurveOfGrowthResult`
        ``radius`` and ``flux`` (``(n,)`` or ``(N, n)``).

    Raises
    ------
    survey2survey.exceptions.ApertureError
        If the outer circle does not fit in the image.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import curve_of_growth
    >>> cog = curve_of_growth(np.ones((32, 32)), r_max=2)
    >>> cog.radius.tolist(), np.round(cog.flux / np.pi, 6).tolist()
    ([1.0, 2.0], [1.0, 4.0])
    """
    radius, flux, _, single = _profile_sums(image, r_max, dr, center, "growth")
    return CurveOfGrowthResult(radius.copy(), flux[0] if single else flux)
