# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The headers of translated images: the input survey's calibration cards out, provenance in.

A translated cutout must say what made it: ``S2SVER`` (library version),
``S2STRANS`` (translator name), ``S2SHASH`` (SHA-256 of the translator's
parameters and weights, shortened), ``S2SSRC`` / ``S2STGT`` (source and target
surveys), ``S2SMODE`` and ``HISTORY`` lines in plain words. Cards describing
the input survey's calibration (zero point, PSF, sky, gain...) are removed, the
target survey's unit and zero point written instead.
"""

import copy
import hashlib
import json
from datetime import UTC, datetime

import numpy as np
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty

from ..io import Cutout

__all__ = ["params_hash", "provenance_header", "PROVENANCE_KEYWORDS", "output_cutout",
           "output_cutouts"]

# Header cards describing the *input* survey's calibration, dropped from translated output.
_SURVEY_KEYS = ("SURVEY", "MAGZERO", "MAGZP", "ZEROPT", "PHOTZP", "ZP", "FLUXMAG0", "BUNIT", "PSF",
                "PSFMODEL", "PSFFWHM", "PSFBETA", "FWHM", "SEEING", "SKYLEVEL", "SKY", "SKYSIG",
                "SKYNOISE", "NOISE", "NOISESIG", "GAIN", "PIXSCALE", "TRUTH", "NOISELESS",
                # SDSS frames: nanomaggies per count of the input's calibration
                "NMGY", "NMGYIVAR", "SKYERR", "SATURATE", "EXPTIME")

PROVENANCE_KEYWORDS = ("S2SVER", "S2STRANS", "S2SHASH", "S2SSRC", "S2STGT", "S2SMODE", "S2SOOD")
"""The header keywords written by `provenance_header`."""


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def params_hash(params, *, length=16):
    """
    A short, stable SHA-256 hex digest of a JSON-able parameter dict.

    Parameters
    ----------
    params : dict
        Parameters (non-JSON values are hashed through their ``repr``).
    length : int, optional
        Number of hex digits kept.

    Examples
    --------
    >>> from survey2survey.estimator._provenance import params_hash
    >>> params_hash({'epochs': 3, 'lr': 1.0}) == params_hash({'lr': 1.0, 'epochs': 3})
    True
    >>> len(params_hash({}))
    16
    """
    text = json.dumps(_jsonable(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def provenance_header(*, translator, params, source, target, mode="flux", history=()):
    """
    The provenance cards of a translated image, as a new `~astropy.io.fits.Header`.

    Parameters
    ----------
    translator : str
        Translator name (``S2STRANS``).
    params : dict
        What identifies the model: translator parameters, normalisation, weights
        hash... (hashed into ``S2SHASH``).
    source, target : str
        Survey names (``S2SSRC``, ``S2STGT``).
    mode : str, optional
        Estimator mode (``S2SMODE``).
    history : sequence of str, optional
        Extra ``HISTORY`` lines, after the standard one.

    Returns
    -------
    header : `~astropy.io.fits.Header`

    Examples
    --------
    >>> from survey2survey.estimator._provenance import provenance_header
    >>> header = provenance_header(translator='aecnn', params={'epochs': 3},
    ...                            source='SDSS', target='DES')
    >>> header['S2STRANS'], header['S2SSRC'], header['S2STGT']
    ('aecnn', 'SDSS', 'DES')
    """
    from .. import __version__

    header = fits.Header()
    header["S2SVER"] = (str(__version__), "survey2survey version")
    header["S2STRANS"] = (str(translator), "survey2survey translator")
    header["S2SHASH"] = (params_hash(params), "SHA-256 (16 hex) of model parameters")
    header["S2SSRC"] = (str(source), "survey the input was taken by")
    header["S2STGT"] = (str(target), "survey whose look the output imitates")
    header["S2SMODE"] = (str(mode), "survey2survey estimator mode")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    header.add_history(f"survey2survey {__version__} {stamp}: translated {source} -> {target} "
                       f"with translator {translator} ({mode} mode)")
    for line in history:
        header.add_history(str(line))
    return header


def _as_header(meta):
    if meta is None or isinstance(meta, fits.Header):
        return meta
    return fits.Header(meta)


def _without_survey_cards(header, target_name):
    header = fits.Header(header) if header is not None else fits.Header()
    for key in _SURVEY_KEYS:
        header.remove(key, ignore_missing=True, remove_all=True)
    header["SURVEY"] = (target_name, "survey whose look this image imitates")
    return header


def _masked_as_nan(data, mask, input_dtype):
    """
    Float output: NaN where the input was masked (the values the model filled in there
    mean nothing) and float32 when the input was float32 (half the file size).
    """
    if data.dtype.kind != "f":  # 8-bit paper-mode composites stay as they are
        return data
    dtype = np.float32 if input_dtype == np.float32 else data.dtype
    data = np.array(data, dtype=dtype, copy=True)
    data[np.asarray(mask, dtype=bool)] = np.nan
    return data


_COMMENTARY = ("", "COMMENT", "HISTORY")


class _Templates:
    """
    The output cards every cutout of a batch shares, built once per band.

    Per band: ``SURVEY``, ``FILTER``, the codec's cards (unit, zero point), the
    band's own cards and the provenance; `header` puts a copy of them after the
    input's cards (without those they replace) and the cutout's own cards last.
    """

    def __init__(self, codec, provenance):
        self.codec = codec
        self.provenance = provenance
        self._cards = {}

    def cards(self, band, codec_cards, band_cards):
        key = (band, repr(sorted(codec_cards.items())), repr(sorted(band_cards.items())))
        if key not in self._cards:
            header = fits.Header()
            header["SURVEY"] = (self.codec.target.name, "survey whose look this image imitates")
            header["FILTER"] = band
            for name, card in {**codec_cards, **band_cards}.items():
                header[name] = card
            header.extend(self.provenance, update=True)
            replaced = {k for k in header.keys() if k not in _COMMENTARY}
            self._cards[key] = (header.cards, replaced)
        return self._cards[key]

    def header(self, meta, band, codec_cards, band_cards, extra_cards):
        template, replaced = self.cards(band, codec_cards, band_cards)
        extra = {k: v for k, v in (extra_cards or {}).items()}
        drop = replaced | set(extra) | set(_SURVEY_KEYS)
        cards = [copy.copy(card) for card in (meta.cards if meta is not None else ())
                 if card.keyword not in drop]
        header = fits.Header(cards + [copy.copy(card) for card in template])
        for name, card in extra.items():
            header[name] = card
        return header


def output_cutouts(cutouts, values, spreads, *, codec, provenance, extra_cards, band_cards):
    """
    `output_cutout` for each cutout of a batch, its shared header cards built once per band.

    ``extra_cards`` and ``band_cards`` are lists (one entry per cutout).
    """
    templates = _Templates(codec, provenance)
    return [output_cutout(c, v, s, codec=codec, provenance=provenance, extra_cards=extra,
                          band_cards=cards, templates=templates)
            for c, v, s, extra, cards in zip(cutouts, values, spreads, extra_cards, band_cards,
                                             strict=True)]


def output_cutout(cutout, values, spreads, *, codec, provenance, extra_cards=None,
                  band_cards=None, templates=None):
    """
    The translated cutout on the input's grid: values, unit, zero point, mask, provenance.

    Float values are NaN at masked pixels, and float32 for a float32 input.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout`
        The input (its WCS, mask and headers are kept).
    values : `~numpy.ndarray`
        Decoded output ``(C, H, W)``.
    spreads : `~numpy.ndarray` or None
        Model uncertainty ``(C, H, W)``, in output units.
    codec
        The estimator's codec (output unit and cards per band).
    provenance : `~astropy.io.fits.Header`
        From `provenance_header`.
    extra_cards : dict, optional
        More cards (keyword: (value, comment)) for this cutout's headers.
    band_cards : dict, optional
        Band -> cards for that band's header only (e.g. its output PSF).
    templates : optional
        The shared cards of a batch (`output_cutouts`); built here when None.
    """
    templates = _Templates(codec, provenance) if templates is None else templates
    mask = cutout.mask
    bands = {}
    for k, band in enumerate(codec.bands):
        image = cutout[band]
        data, unit, cards = codec.output_band(band, values[k])
        data = _masked_as_nan(data, mask[k], image.data.dtype)
        meta = templates.header(_as_header(image.meta), band, cards,
                                (band_cards or {}).get(band, {}), extra_cards)
        bands[band] = CCDData(
            data, unit=unit, wcs=image.wcs.deepcopy(),
            mask=mask[k].copy() if mask[k].any() else None,
            uncertainty=None if spreads is None else StdDevUncertainty(
                np.asarray(spreads[k], dtype=float).copy()),
            meta=meta)
    meta = _without_survey_cards(cutout.meta, codec.target.name)
    meta.extend(provenance, update=True)
    for key, card in (extra_cards or {}).items():
        meta[key] = card
    return Cutout(bands, meta=meta)
