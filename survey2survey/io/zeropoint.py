# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one lookup of a band's photometric zero point in its header.

Survey products state the calibration of their pixel values in different
cards: ``MAGZERO`` (DES), ``MAGZP``, ``ZEROPT``, ``PHOTZP`` or ``ZP`` (an AB
magnitude: ``m = ZP - 2.5 log10(value)``), ``FLUXMAG0`` (LSST/HSC: the
value of a zero-magnitude source, ``ZP = 2.5 log10(FLUXMAG0)``), or UKIDSS's
``MAGZPT`` (WFCAM: a Vega zero point for ADU per second at airmass 1, turned
into an AB zero point of the pixel values with ``EXP_TIME``, ``EXTINCT``,
``AMSTART``/``AMEND`` and the band's AB-Vega offset).
`header_zero_point` reads whichever is present; reading cutouts into a
survey's unit (with `~survey2survey.surveys.Survey.unit_factor`), the metrics
and ``survey2survey evaluate`` all use it.
"""

import numbers

import numpy as np

from ..exceptions import UnitError

__all__ = ["ZERO_POINT_KEYS", "PLAUSIBLE_ZERO_POINTS", "WFCAM_AB_MINUS_VEGA",
           "header_zero_point"]

#: AB zero points a header may state: from Jansky images (8.9) to deep counts (about 35);
#: 99 or -99 (placeholders for "not calibrated") and 0 are refused, not applied
PLAUSIBLE_ZERO_POINTS = (1.0, 50.0)

#: Cards holding an AB zero point, ``m = ZP - 2.5 log10(value)``, in order of preference.
MAGNITUDE_KEYS = ("MAGZERO", "MAGZP", "ZEROPT", "PHOTZP", "ZP")
#: Cards holding the value of a zero-magnitude source: ``ZP = 2.5 log10(FLUXMAG0)``.
FLUX_KEYS = ("FLUXMAG0",)
#: Cards of a UKIRT WFCAM (UKIDSS) image's calibration: a Vega zero point for ADU per second.
WFCAM_KEYS = ("MAGZPT",)
#: Every card that states a band's zero point (remove them all when re-calibrating).
ZERO_POINT_KEYS = MAGNITUDE_KEYS + FLUX_KEYS + WFCAM_KEYS

#: AB minus Vega magnitude of the WFCAM passbands (Hewett et al. 2006, MNRAS 367, 454, table 7).
WFCAM_AB_MINUS_VEGA = {"Z": 0.528, "Y": 0.634, "J": 0.938, "H": 1.379, "K": 1.900}


def _wfcam_zero_point(header):
    """
    The AB zero point of a WFCAM image's pixel values (ADU), from ``MAGZPT``, or None.

    CASU/WSA: ``m_Vega = MAGZPT - 2.5 log10(ADU / EXP_TIME) - EXTINCT (airmass - 1)``,
    airmass the mean of ``AMSTART`` and ``AMEND``; Vega to AB with
    `WFCAM_AB_MINUS_VEGA` for the band of the ``FILTER`` card.
    """
    magzpt = _number(header.get("MAGZPT"))
    exptime = _number(header.get("EXP_TIME", header.get("EXPTIME")))
    band = header.get("FILTER")
    band = band.strip().upper() if isinstance(band, str) else None
    if magzpt is None or exptime is None or exptime <= 0 or band not in WFCAM_AB_MINUS_VEGA:
        return None
    extinction = _number(header.get("EXTINCT")) or 0.0
    airmass = [_number(header.get(key)) for key in ("AMSTART", "AMEND")]
    airmass = [a for a in airmass if a is not None]
    excess = (sum(airmass) / len(airmass) - 1.0) if airmass else 0.0
    return (magzpt + 2.5 * float(np.log10(exptime)) - extinction * excess
            + WFCAM_AB_MINUS_VEGA[band])


def _number(value):
    """``value`` as a finite float, or None (strings, booleans, NaN are not zero points)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def header_zero_point(header):
    """
    The AB zero point stated by a header, or `None` when it states none.

    Parameters
    ----------
    header : `~astropy.io.fits.Header`, dict or None
        A band's header (a `~astropy.nddata.CCDData`'s ``meta``).

    Returns
    -------
    zero_point : float or None
        ``ZP`` such that ``m = ZP - 2.5 log10(value)`` for a pixel value in the
        header's unit. Magnitude cards (``MAGZERO``, ``MAGZP``, ``ZEROPT``,
        ``PHOTZP``, ``ZP``, in that order) come before ``FLUXMAG0``, then
        WFCAM's ``MAGZPT`` (used only with ``EXP_TIME`` and a ``FILTER`` of
        Z, Y, J, H or K); cards that are not finite numbers (and a
        non-positive ``FLUXMAG0``) are ignored.

    Raises
    ------
    survey2survey.exceptions.UnitError
        If the zero point is outside ``PLAUSIBLE_ZERO_POINTS`` (``MAGZERO = 99``
        or ``-99``, placeholders of uncalibrated images, would scale the
        pixels by 1e-30 or 1e+50).

    Examples
    --------
    >>> from astropy.io import fits
    >>> from survey2survey.io import header_zero_point
    >>> header_zero_point(fits.Header({'MAGZERO': 30.0}))
    30.0
    >>> round(header_zero_point({'FLUXMAG0': 63095734448.0}), 6)  # HSC: ZP 27
    27.0
    >>> header_zero_point({'BUNIT': 'nanomaggy'}) is None
    True
    """
    if header is None:
        return None
    for key in MAGNITUDE_KEYS:
        value = _number(header.get(key))
        if value is not None:
            return _plausible(value, key, header.get(key))
    for key in FLUX_KEYS:
        value = _number(header.get(key))
        if value is not None and value > 0:
            return _plausible(2.5 * float(np.log10(value)), key, header.get(key))
    if "MAGZPT" in header:
        zero_point = _wfcam_zero_point(header)
        return None if zero_point is None else _plausible(zero_point, "MAGZPT",
                                                          header.get("MAGZPT"))
    return None


def _plausible(zero_point, key, card):
    low, high = PLAUSIBLE_ZERO_POINTS
    if not low <= zero_point <= high:
        msg = (f"{key} = {card!r} states an AB zero point of {zero_point:.4g}, outside the "
               f"plausible {low:g} to {high:g}: a placeholder of an uncalibrated image? "
               "Applying it would scale the pixels by "
               f"{10 ** (-0.4 * (zero_point - 22.5)):.2g} against a zero point of 22.5; fix or "
               "remove the card")
        raise UnitError(msg)
    return zero_point
