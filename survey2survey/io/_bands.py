# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Building blocks of `~survey2survey.io.read_cutout`: one validated band, band names, units.

Every reader of a file layout ends in `make_band` (a new, checked
`~astropy.nddata.CCDData` per band) and `assign_bands` (which band each image
is); `check_bands_overlap` checks a finished cutout.
"""

import functools
import re
import warnings

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.nddata import (
    CCDData,
    InverseVariance,
    NDUncertainty,
    StdDevUncertainty,
    VarianceUncertainty,
)

from ..exceptions import BandMismatchError, InvalidDataError, UnitError
from ..utils._validation import parse_bands
from ..utils._wcs import celestial_wcs

__all__ = ["BAND_KEYS", "BUNIT_ALIASES", "parse_unit", "unit_to_string", "band_from_header",
           "cube_bands",
           "real_array", "make_band", "resolve_unit", "assign_bands", "check_bands_overlap",
           "MULTI_BAND_HINT"]

BAND_KEYS = ("FILTER", "BAND", "FILTNAM", "FILTER1")

#: How to pass one multi-band cutout made of single-band images (issue: a list is read as
#: several cutouts by the estimator's methods).
MULTI_BAND_HINT = ("; to pass one multi-band cutout made of single-band images, give a dict "
                   "{band: image} or read_cutout([image_1, image_2, ...]) (a list given to "
                   "fit/transform/score is read as one cutout per item)")

# numpy kinds that are real numbers: signed/unsigned integers and floats
_REAL_KINDS = "iuf"


#: ``BUNIT`` spellings of real survey products that astropy does not parse, or parses as a
#: unit the package cannot calibrate: photo-electrons (DES DR1 coadds write ``'electrons'``,
#: calibrated by their ``MAGZERO``) and counts are read as counts (``ct``).
BUNIT_ALIASES = {"electrons": u.ct, "electron": u.ct, "e-": u.ct, "e": u.ct, "counts": u.ct,
                 "count": u.ct, "cts": u.ct, "adus": u.adu, "nanomaggies": u.nmgy}
_RATE_DENOMINATORS = ("s", "sec", "second", "seconds")
#: Radio and sub-mm surface brightness units: not optical fluxes per pixel.
_NON_OPTICAL = ("beam",)


def _alias(value):
    """The unit a ``BUNIT`` spelling in `BUNIT_ALIASES` names (also per second), or None."""
    text = value.strip().lower().replace(" ", "")
    if text in BUNIT_ALIASES:
        return BUNIT_ALIASES[text]
    numerator, _, denominator = text.partition("/")
    if numerator in BUNIT_ALIASES and denominator in _RATE_DENOMINATORS:
        return BUNIT_ALIASES[numerator] / u.s
    return None


def parse_unit(value, what):
    """
    ``value`` as an astropy unit (None stays None); UnitError if it cannot be used.

    Spellings astropy does not know are looked up in `BUNIT_ALIASES` (``'electrons'``,
    ``'e-'``, ``'counts'``... are read as counts) and case-insensitively; radio units
    per beam (``JY/BEAM``) are refused: the package translates optical images.
    """
    if value is None:
        return value
    if isinstance(value, str):
        text = value.strip()
        if any(word in text.lower() for word in _NON_OPTICAL):
            msg = (f"{what} has BUNIT={value!r}, a radio surface brightness (per beam), not an "
                   f"optical flux per pixel: survey2survey translates optical and near-infrared "
                   f"survey images")
            raise UnitError(msg)
        alias = _alias(text)
        if alias is not None:
            return alias
        value = text
    if isinstance(value, u.UnitBase):
        unit = value
    else:
        try:
            unit = u.Unit(value)
        except (ValueError, TypeError) as exc:
            msg = (f"{what} has a unit {value!r} that astropy does not understand (pass "
                   f"unit= to say what its values are, e.g. unit='ct' with a MAGZERO card)")
            raise UnitError(msg) from exc
    if any(base == u.beam for base in unit.bases):
        msg = (f"{what} is in {unit}, a radio surface brightness (per beam), not an optical "
               f"flux per pixel: survey2survey translates optical and near-infrared images")
        raise UnitError(msg)
    return unit


@functools.lru_cache(maxsize=256)
def unit_to_string(unit):
    """
    ``BUNIT`` text for ``unit``: FITS-standard where possible (``nmgy`` is not).

    Cached: astropy's FITS formatter searches for close unit names before it
    refuses a non-FITS unit such as ``nmgy`` (about 3 ms each time).
    """
    try:
        return unit.to_string("fits")
    except ValueError:
        return unit.to_string()


_HSC_FILTER = re.compile(r"^HSC-([GRIZY])2?$", re.IGNORECASE)


def band_from_header(header):
    """The band a header names (``FILTER``, ``BAND``...; HSC's ``HSC-R2`` is 'r'), or None."""
    for key in BAND_KEYS:
        value = header.get(key) if header is not None else None
        if isinstance(value, str) and _HSC_FILTER.match(value.strip()):
            letter = _HSC_FILTER.match(value.strip()).group(1)
            return letter.lower() if letter.upper() != "Y" else "Y"
        if isinstance(value, str) and value.strip():
            # 'r', 'DECam r', 'r DECam SDSS c0002 6300.0 1517.2': the band is the short token
            tokens = value.split()
            short = [t for t in tokens if len(t) <= 2]
            return short[0] if short else tokens[0]
    return None


def cube_bands(header, n_planes):
    """
    Band of each plane of a ``(band, y, x)`` cube from its header, None where unnamed.

    Read from a ``BANDS`` card (``'g,r,i'``, or ``'grz'`` as the Legacy Surveys
    cutout service writes it), else per-plane ``BANDn`` (0-based, Legacy
    Surveys) or ``FILTERn`` (1-based) cards.
    """
    found = [None] * n_planes
    value = header.get("BANDS") if header is not None else None
    problem = None
    if isinstance(value, str) and value.strip():
        try:
            names = list(parse_bands(value, what="BANDS"))
        except BandMismatchError as exc:
            names, problem = [], f"the cube's BANDS card is unusable: {exc}"
        if len(names) == n_planes:
            return names
        if names:
            problem = (f"the cube's BANDS card {value!r} names {len(names)} band(s) for its "
                       f"{n_planes} planes")
    for k in range(n_planes):
        for key in (f"BAND{k}", f"FILTER{k + 1}"):
            name = header.get(key) if header is not None else None
            if isinstance(name, str) and name.strip():
                found[k] = name.strip()
                break
    if problem is not None and None in found:  # say what is wrong, not that there is no card
        raise BandMismatchError(f"{problem}; fix the card or pass bands=")
    return found


def real_array(data, what):
    """
    ``data`` as an array of real numbers, in native byte order (a new array, never a view).

    float16 is widened to float32 (numpy, astropy and torch treat it poorly and
    FITS has no 16-bit float); booleans, complex numbers, objects and strings
    raise `~survey2survey.exceptions.InvalidDataError`.
    """
    data = np.array(data, copy=True)
    if data.dtype.kind not in _REAL_KINDS:
        msg = (f"{what} must hold real numbers (integers or floats), got dtype {data.dtype}"
               + ("; convert a boolean mask with mask=" if data.dtype.kind == "b" else ""))
        raise InvalidDataError(msg)
    if data.dtype == np.float16:
        data = data.astype(np.float32)
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    return data


def _check_finite(data, what):
    if data.size == 0:
        msg = f"{what} is empty (shape {data.shape})"
        raise InvalidDataError(msg)
    if not np.isfinite(data).any():
        msg = f"{what} has no finite pixel (all NaN or infinite)"
        raise InvalidDataError(msg)


_UNCERTAINTY_NAMES = {StdDevUncertainty: "standard deviation", VarianceUncertainty: "variance",
                      InverseVariance: "inverse variance"}


#: how each uncertainty class scales with the data unit (sigma ~ unit, variance ~ unit**2)
_UNIT_POWER = {StdDevUncertainty: 1, VarianceUncertainty: 2, InverseVariance: -2}


def _uncertainty(uncertainty, shape, what, unit=None):
    """
    A new uncertainty of the same class, checked: shape, real, not negative, in the data unit.

    An uncertainty with its own unit (sigma in uJy beside data in Jy) is
    converted to the data's unit; an `~astropy.nddata.UnknownUncertainty`
    (no defined meaning) and a unit that cannot be converted are refused.
    """
    if not isinstance(uncertainty, NDUncertainty):
        uncertainty = StdDevUncertainty(uncertainty)
    kind = type(uncertainty)
    if kind not in _UNIT_POWER:
        msg = (f"{what} uncertainty is a {kind.__name__}, which says nothing about the "
               "pixels' noise; give a StdDevUncertainty (1-sigma), VarianceUncertainty or "
               "InverseVariance")
        raise InvalidDataError(msg)
    array = real_array(uncertainty.array, f"{what} uncertainty")
    given = uncertainty.unit
    power = _UNIT_POWER[kind]
    if given is not None and unit is not None:
        try:
            factor = float((1 * given).to_value(u.Unit(unit) ** power))
        except (u.UnitConversionError, TypeError, ValueError) as exc:
            msg = (f"{what} uncertainty is in {given}, which cannot be converted to the data "
                   f"unit {u.Unit(unit)} (a {kind.__name__} needs {u.Unit(unit) ** power})")
            raise UnitError(msg) from exc
        if factor != 1:
            array = array * factor
        given = u.Unit(unit) ** power
    if array.shape != shape:
        msg = f"{what} uncertainty shape {array.shape} != data shape {shape}"
        raise InvalidDataError(msg)
    negative = int(np.count_nonzero(array < 0))
    if negative:
        kind = _UNCERTAINTY_NAMES.get(type(uncertainty), "uncertainty")
        msg = (f"{what} has {negative} negative {kind} value(s) (minimum "
               f"{np.nanmin(array):.4g}); a {type(uncertainty).__name__} must be >= 0")
        raise InvalidDataError(msg)
    return kind(array, unit=given)


#: cards that describe a FITS file's structure, not the image: dropped from a band's header
_STRUCTURE_KEYS = frozenset(("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3",
                             "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME", "EXTVER",
                             "BSCALE", "BZERO"))


def make_band(data, *, wcs, unit, mask=None, uncertainty=None, meta=None, what, band,
              own_wcs=False):
    """
    Build one validated band as a new CCDData (never sharing memory with the input).

    ``own_wcs``: ``wcs`` is a WCS the caller has just parsed and hands over (not copied).
    """
    name = f"{what} band {band!r}"
    data = real_array(data, name)
    if data.ndim != 2:
        msg = f"{name} must be a 2-D image, got shape {data.shape}"
        raise InvalidDataError(msg)
    _check_finite(data, name)
    checked = celestial_wcs(wcs, what=name, copy=False)
    wcs = checked if own_wcs and checked is wcs else checked.deepcopy()
    wcs.pixel_shape = data.shape[::-1]
    nonfinite = ~np.isfinite(data)
    if mask is not None:
        mask = np.array(mask, dtype=bool, copy=True)
        if mask.shape != data.shape:
            msg = f"{name} mask shape {mask.shape} != data shape {data.shape}"
            raise InvalidDataError(msg)
        mask |= nonfinite
    elif nonfinite.any():
        mask = nonfinite
    if uncertainty is not None:
        uncertainty = _uncertainty(uncertainty, data.shape, name, unit)
    with warnings.catch_warnings():  # long (HIERARCH) keywords of HSC/LSST headers
        warnings.filterwarnings("ignore", "Keyword name", VerifyWarning)
        header = fits.Header(meta) if meta is not None else fits.Header()
    if any(key in header for key in _STRUCTURE_KEYS):  # one pass, not one search per key
        header = fits.Header([card for card in header.cards
                              if card.keyword not in _STRUCTURE_KEYS])
    header["FILTER"] = band
    return CCDData(data, unit=unit, wcs=wcs, mask=mask, uncertainty=uncertainty, meta=header)


def resolve_unit(found, given, what):
    """The unit of the data: the one they carry, checked against the one asked for."""
    found = parse_unit(found, what)
    given = parse_unit(given, "the unit argument")
    if given is None:
        return found if found is not None else u.dimensionless_unscaled
    if found is None or found == u.dimensionless_unscaled:
        return given
    if found != given:
        msg = f"{what} is in {found}, but unit={given} was requested"
        raise UnitError(msg)
    return found


def assign_bands(found, bands, what, *, assign=True):
    """
    The band of each image, from the names the input carries and those the caller gave.

    Parameters
    ----------
    found : list of str or None
        The band each image names itself (None where it names none).
    bands : list of str or None
        The bands the caller asked for.
    what : str
        The input's name, for messages.
    assign : bool
        Whether ``bands`` may name images that carry no band card. Without it
        only a single unnamed image takes the (single) band asked for: the
        order of the planes of an unnamed cube is never guessed.

    Returns
    -------
    names : list of str
        One name per image; when every image is named, the caller selects
        ``bands`` from them afterwards.
    """
    named = all(b is not None for b in found)
    single_hint = MULTI_BAND_HINT if len(found) == 1 and bands is not None and len(bands) > 1 \
        else ""
    if named:
        if bands is not None:
            missing = [b for b in bands if b not in found]
            if missing:
                msg = f"{what} holds bands {list(found)}, not the requested {list(bands)}"
                raise BandMismatchError(msg + single_hint)
        return list(found)
    if bands is None:
        msg = (f"{what}: cannot tell which band each image is (no FILTER/BAND header"
               + (", no BANDS card" if len(found) > 1 else "")
               + "); pass bands=, e.g. bands='gri'")
        raise BandMismatchError(msg)
    if len(bands) != len(found):
        msg = f"{what} holds {len(found)} image(s) but bands={list(bands)} names {len(bands)}"
        raise BandMismatchError(msg + single_hint)
    if not assign and len(found) > 1:
        msg = (f"{what} holds {len(found)} planes without band cards (no BANDS, BANDn, "
               f"FILTERn or FILTER card): their order cannot be assumed to be "
               f"{list(bands)}; label them (a BANDS card, a dict {{band: image}}, or "
               f"read_cutout(..., bands=...) first)")
        raise BandMismatchError(msg)
    conflicts = [(k, f, b) for k, (f, b) in enumerate(zip(found, bands, strict=True))
                 if f is not None and f != b]
    if conflicts:
        k, f, b = conflicts[0]
        msg = f"{what}: image {k} names band {f!r} but bands= names it {b!r}"
        raise BandMismatchError(msg)
    return list(bands)


def _footprint(image):
    """Centre (ra, dec) and radius (deg) of the circle through a band's corners."""
    ny, nx = image.shape
    x = np.array([(nx - 1) / 2, -0.5, nx - 0.5, -0.5, nx - 0.5])
    y = np.array([(ny - 1) / 2, -0.5, -0.5, ny - 0.5, ny - 0.5])
    ra, dec = image.wcs.pixel_to_world_values(x, y)
    ra, dec = np.radians(ra), np.radians(dec)
    cos_sep = (np.sin(dec[0]) * np.sin(dec[1:])
               + np.cos(dec[0]) * np.cos(dec[1:]) * np.cos(ra[1:] - ra[0]))
    radius = np.degrees(np.arccos(np.clip(cos_sep, -1, 1))).max()
    return ra[0], dec[0], radius


def check_bands_overlap(cutout, what):
    """
    Raise `~survey2survey.exceptions.BandMismatchError` if two bands cannot overlap on the sky.

    Each band's footprint is bounded by the circle through its corners; bands
    whose circles are disjoint show different fields (say, one band from
    another file of another position) and are refused.
    """
    if len(cutout) < 2:
        return
    try:
        circles = {b: _footprint(cutout[b]) for b in cutout.bands}
    except Exception:  # a WCS that cannot map its corners: nothing to compare
        return
    first = cutout.bands[0]
    ra0, dec0, r0 = circles[first]
    for band in cutout.bands[1:]:
        ra, dec, r = circles[band]
        cos_sep = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * np.cos(ra - ra0)
        separation = float(np.degrees(np.arccos(np.clip(cos_sep, -1, 1))))
        if np.isfinite(separation) and separation > r0 + r:
            msg = (f"the bands of {what} do not overlap on the sky: band {band!r} is centred "
                   f"{separation:.4g} deg from band {first!r}, farther than their footprints "
                   f"reach ({3600 * r:.4g} and {3600 * r0:.4g} arcsec from their centres); "
                   f"every band of one cutout must show the same field")
            raise BandMismatchError(msg)
