# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The PSFs of inputs and the target PSF a translation is asked for, as the PSF-aware codec takes them.

A PSF array is ``(C, 4)``: per band the FWHM in arcsec, the Moffat index, the
profile code (``survey2survey.psf.PROFILES``) and 1 where the profile is exactly
known (else 0), NaN where the band's header states no PSF width
(`~survey2survey.psf.psf_from_header`).
"""

import warnings
from collections.abc import Mapping

import astropy.units as u
import numpy as np

from ..exceptions import (
    IgnoredBandsWarning,
    InvalidOptionError,
    OutOfTrainingRangeWarning,
    UnknownPSFWarning,
)
from ..psf import PSF, psf_from_header

__all__ = ["band_psf_array", "estimated_psf_array", "resolve_psf", "target_psf_cards",
           "warn_unknown_psf", "warn_ignored_bands", "UnknownPSFWarning",
           "OutOfTrainingRangeWarning"]


def _row(psf):
    return [psf.fwhm.to_value(u.arcsec), psf.beta, psf.code, float(psf.exact)]


def band_psf_array(cutout, survey, bands=None):
    """
    ``(C, 4)`` PSF array of ``cutout``'s bands from their header cards (NaN where unknown).

    ``survey`` supplies the profile and Moffat index that the cards do not state.
    """
    rows = []
    for band in (bands or cutout.bands):
        psf = psf_from_header(cutout[band].meta, survey)
        rows.append(_row(psf) if psf is not None else [np.nan, np.nan, np.nan, np.nan])
    return np.asarray(rows, dtype=float)


def _as_psf(value, survey, band, what):
    if isinstance(value, PSF):
        return value
    try:
        return PSF(value, survey.psf_model, survey.psf_beta)
    except InvalidOptionError as exc:
        msg = f"{what}: {exc}"
        raise InvalidOptionError(msg) from None


def resolve_psf(target_psf, survey, bands, *, what="target_psf"):
    """
    The ``(C, 4)`` PSF array of a PSF given as ``target_psf`` (or ``input_psf``).

    Parameters
    ----------
    target_psf : None, float, `~astropy.units.Quantity`, `~survey2survey.psf.PSF`, dict or cutout
        None: ``survey``'s median PSF of each band. A FWHM (arcsec or an angle)
        or a `~survey2survey.psf.PSF`: that PSF in every band (a FWHM takes
        the target survey's profile). A dict: band -> one of those. Anything
        `~survey2survey.io.read_cutout` reads (a FITS file or cutout of the data
        to compare with): the PSF its bands' headers state.
    survey : `~survey2survey.surveys.Survey`
        The target survey.
    bands : tuple of str
        The bands, in channel order.
    what : str, optional
        The parameter's name, for messages (``'input_psf'`` resolves the same forms).

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If a FWHM is not a plausible angle, a dict misses a band, or a cutout
        states no PSF for a band.
    """
    if target_psf is None:
        return np.asarray([_row(PSF(survey.psf_fwhm[b], survey.psf_model, survey.psf_beta))
                           for b in bands], dtype=float)
    if isinstance(target_psf, (PSF, u.Quantity, int, float)) and not isinstance(target_psf,
                                                                                  bool):
        psf = _as_psf(target_psf, survey, None, what)
        return np.asarray([_row(psf)] * len(bands), dtype=float)
    if isinstance(target_psf, Mapping) and not hasattr(target_psf, "bands"):
        missing = [b for b in bands if b not in target_psf]
        if missing:
            msg = f"{what} gives no PSF for band(s) {missing}; it has {sorted(target_psf)}"
            raise InvalidOptionError(msg)
        return np.asarray([_row(_as_psf(target_psf[b], survey, b, f"{what}[{b!r}]"))
                           for b in bands], dtype=float)
    from ..io import read_cutout

    cutout = read_cutout(target_psf, bands, what=what)
    values = band_psf_array(cutout, survey, bands)
    unknown = [b for b, v in zip(bands, values[:, 0], strict=True) if not np.isfinite(v)]
    if unknown:
        msg = (f"{what}: the cutout states no PSF FWHM (PSFFWHM, PSF_FWHM cards) for "
               f"band(s) {unknown}; give the FWHM instead, e.g. {what}=1.2")
        raise InvalidOptionError(msg)
    return values


def target_psf_cards(target_psf, bands):
    """Header cards (``PSFFWHM``, ``PSFMODEL``, ``PSFBETA``) of each band's target PSF."""
    from ..psf import PROFILES

    cards = {}
    for band, (fwhm, beta, code, _) in zip(bands, np.asarray(target_psf), strict=True):
        cards[band] = PSF(float(fwhm), PROFILES[int(code)], float(beta)).to_cards()
        cards[band].pop("PSFEXACT", None)
    return cards


def warn_ignored_bands(items, bands, what):
    """
    One warning when in-memory inputs (cutouts, dicts of bands) hold bands the model lacks.

    A griz cutout given to a gri model is translated in g, r, i; the warning names z.
    FITS files are not opened for this (their bands are known only once read).
    """
    extra, count = set(), 0
    for item in items:
        names = getattr(item, "bands", None)
        if names is None and isinstance(item, Mapping):
            names = list(item)
        if names is None or isinstance(names, str):
            continue
        unused = {str(b) for b in names} - set(bands)
        if unused:
            extra |= unused
            count += 1
    if extra:
        msg = (f"{count} {what}(s) hold band(s) {sorted(extra)} that this model does not use "
               f"(it translates {''.join(bands)}); they are left out of the output")
        warnings.warn(msg, IgnoredBandsWarning, stacklevel=3)


def warn_unknown_psf(psf_arrays, bands, survey, what):
    """One warning for all inputs whose bands state no PSF."""
    missing = {}
    for k, values in enumerate(psf_arrays):
        for band, fwhm in zip(bands, np.asarray(values)[:, 0], strict=True):
            if not np.isfinite(fwhm):
                missing.setdefault(band, []).append(k)
    if not missing:
        return
    parts = [f"band {b} of {len(ks)} input(s) (first: {what}[{ks[0]}])"
             for b, ks in missing.items()]
    medians = ", ".join(f"{b} {survey.psf_fwhm[b].to_value(u.arcsec):.3g}\"" for b in missing)
    msg = (f"no PSF FWHM card (PSFFWHM, PSF_FWHM) in {'; '.join(parts)}: the {survey.name} "
           f"median PSF ({medians}) stands in for it; set the card for a faithful translation")
    warnings.warn(msg, UnknownPSFWarning, stacklevel=3)


def estimated_psf_array(cutout, survey, bands, fallback):
    """
    ``(C, 4)`` PSF array estimated from the point sources of each band of ``cutout``.

    Bands without a usable point source keep their row of ``fallback`` (the
    cards' PSF, or NaN).
    """
    from ..psf import estimate_psf

    rows = np.array(fallback, dtype=float, copy=True)
    for k, band in enumerate(bands):
        data = np.asarray(cutout[band].data, dtype=float)
        mask = cutout[band].mask
        if mask is not None:
            data = np.where(mask, np.nan, data)
        guess = survey.psf_fwhm[band].to_value(u.arcsec) if band in survey.psf_fwhm else None
        psf = estimate_psf(data, survey.pixel_scale, fwhm_guess=guess)
        if psf is not None:
            rows[k] = _row(psf)
    return rows
