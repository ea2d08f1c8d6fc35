# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one lookup of a band's photometric zero point in its header.

Survey products state the calibration of their pixel values in different
cards: ``MAGZERO`` (DES), ``MAGZP``, ``ZEROPT``, ``PHOTZP`` or ``ZP`` (an AB
magnitude: ``m = ZP - 2.5 log10(value)``), or ``FLUXMAG0`` (LSST/HSC: the
value of a zero-magnitude source, ``ZP = 2.5 log10(FLUXMAG0)``).
`header_zero_point` reads whichever is present; reading cutouts into a
survey's unit (with `~survey2survey.surveys.Survey.unit_factor`), the metrics
and ``survey2survey evaluate`` all use it.
"""

import numbers

import numpy as np

__all__ = ["ZERO_POINT_KEYS", "header_zero_point"]

#: Cards holding an AB zero point, ``m = ZP - 2.5 log10(value)``, in order of preference.
MAGNITUDE_KEYS = ("MAGZERO", "MAGZP", "ZEROPT", "PHOTZP", "ZP")
#: Cards holding the value of a zero-magnitude source: ``ZP = 2.5 log10(FLUXMAG0)``.
FLUX_KEYS = ("FLUXMAG0",)
#: Every card that states a band's zero point (remove them all when re-calibrating).
ZERO_POINT_KEYS = MAGNITUDE_KEYS + FLUX_KEYS


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
        ``PHOTZP``, ``ZP``, in that order) come before ``FLUXMAG0``; cards that
        are not finite numbers (and a non-positive ``FLUXMAG0``) are ignored.

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
            return value
    for key in FLUX_KEYS:
        value = _number(header.get(key))
        if value is not None and value > 0:
            return 2.5 * float(np.log10(value))
    return None
