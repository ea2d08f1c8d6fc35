# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The FITS layouts `~survey2survey.io.read_cutout` understands, recognised from their headers.

=================  ==================================================================
format             what it is
=================  ==================================================================
``survey2survey``  the layout `~survey2survey.io.write_cutout` writes (``S2SFMT``)
``sdss-frame``     an SDSS frame file (HDU0 image in nanomaggies, HDU1 calibration
                   vector, HDU2 sky, HDU3 asTrans); see `survey2survey.io.sdss`
``des``            a science image with its weight and mask: DES coadd tiles and
                   cutouts (``SCI``/``MSK``/``WGT``, fpacked or not)
``legacysurvey``   a Legacy Surveys cutout-service cube (``BANDS``, ``BAND0``...,
                   nanomaggies), with its ``INVVAR`` HDU when present
``hips2fits``      a CDS hips2fits image: no band or unit cards, so ``bands=`` and
                   ``unit=`` are required
``image``          anything else: 2-D images and 3-D (band, y, x) cubes, one band
                   per image or plane
=================  ==================================================================
"""

import warnings
from collections import namedtuple

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.nddata import InverseVariance, StdDevUncertainty, VarianceUncertainty
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import BandMismatchError, CorruptFileError, InvalidDataError, UnitError
from ..utils._wcs import celestial_wcs, strip_wcs_keywords, wcs_cards
from ._bands import (
    assign_bands,
    band_from_header,
    cube_bands,
    make_band,
    parse_unit,
    real_array,
    resolve_unit,
)
from ._open import OWN_FORMAT_KEY, truncated_error
from .cutout import Cutout
from .sdss import sdss_frame_counts
from .zeropoint import header_zero_point

__all__ = ["FORMATS", "FORMAT_KEY", "FORMAT_VERSION", "UNCERTAINTY_TYPES", "Plane",
           "detect_format", "read_layout", "planes_from_array", "cutout_from_planes"]

FORMAT_KEY = OWN_FORMAT_KEY
FORMAT_VERSION = 1
FORMATS = ("survey2survey", "sdss-frame", "des", "legacysurvey", "hips2fits", "image")

UNCERTAINTY_TYPES = {"std": StdDevUncertainty, "var": VarianceUncertainty, "ivar": InverseVariance}

_SCIENCE_NAMES = ("SCI", "IMAGE")
_WEIGHT_NAMES = ("WGT", "WEIGHT", "IVAR", "INVVAR")
_MASK_NAMES = ("MSK", "MASK", "BPM")
_VARIANCE_NAMES = ("VARIANCE", "VAR")
#: Mask planes of an LSST-pipeline (HSC) ``MASK`` extension, named by its ``MP_<NAME>`` cards,
#: that make a pixel bad; the others (DETECTED, EDGE, CLIPPED, ...) describe good pixels.
_BAD_MASK_PLANES = ("BAD", "SAT", "CR", "NO_DATA", "SUSPECT", "UNMASKEDNAN")

#: One 2-D image on its way to becoming a band: pixel data, the header (or WCS) describing
#: it, the band it names (or None), its mask and uncertainty, and where it came from.
Plane = namedtuple("Plane", ["data", "header", "wcs", "band", "mask", "uncertainty", "label"])


def _is_image(hdu):
    return (isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
            and hdu.data is not None)


def _label(index, hdu):
    name = hdu.name if hdu.name and hdu.name != "PRIMARY" else ""
    return f"HDU {index}" + (f" ({name})" if name else "")


def detect_format(hdul):
    """The layout of ``hdul`` (one of `FORMATS`), from its headers."""
    primary = hdul[0].header
    if primary.get(FORMAT_KEY):
        return "survey2survey"
    if _is_image(hdul[0]) and np.ndim(hdul[0].data) == 2 and (
            ("NMGY" in primary and "CAMCOL" in primary)
            or (len(hdul) > 2 and isinstance(hdul[2], fits.BinTableHDU)
                and "ALLSKY" in [n.upper() for n in hdul[2].columns.names])):
        return "sdss-frame"
    images = [hdu for hdu in hdul if _is_image(hdu)]
    if images and "BANDS" in images[0].header and "BAND0" in images[0].header:
        return "legacysurvey"
    names = {hdu.name.upper() for hdu in images}
    if names & set(_SCIENCE_NAMES) and names & set(_WEIGHT_NAMES + _MASK_NAMES
                                                    + _VARIANCE_NAMES):
        return "des"
    return "image"


def read_layout(hdul, fmt, *, bands, unit, what, assign, sdss_uncertainty):
    """Read ``hdul`` as layout ``fmt`` (`detect_format` when None) into a new Cutout."""
    fmt = detect_format(hdul) if fmt is None else fmt
    reader = {"survey2survey": _read_own, "sdss-frame": _read_sdss, "des": _read_des,
              "legacysurvey": _read_legacysurvey, "hips2fits": _read_hips2fits,
              "image": _read_images}[fmt]
    if sdss_uncertainty and fmt != "sdss-frame":
        msg = f"sdss_uncertainty=True applies to SDSS frame files, and {what} is a {fmt!r} file"
        raise InvalidDataError(msg)
    return reader(hdul, bands=bands, unit=unit, what=what, assign=assign,
                  sdss_uncertainty=sdss_uncertainty)


# --- generic images ----------------------------------------------------------------------
def planes_from_array(data, header, *, wcs=None, label, what, mask=None):
    """
    The planes of one 2-D image or 3-D ``(band, y, x)`` cube (anything else raises).

    ``header`` names the bands (``FILTER``..., or ``BANDS``/``BANDn``/``FILTERn``
    for a cube) and, without ``wcs``, carries the WCS.
    """
    if isinstance(data, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(data) if mask is None else mask
        data = data.data
    data = np.asarray(data)
    if data.ndim == 2:
        return [Plane(data, header, wcs, band_from_header(header), mask, None, label)]
    if data.ndim == 3:
        names = cube_bands(header, data.shape[0])
        return [Plane(data[k], header, wcs, names[k], None if mask is None else mask[k], None,
                      f"{label} plane {k}") for k in range(data.shape[0])]
    if data.ndim < 2:
        msg = (f"{what} {label} is a {data.ndim}-D array of shape {data.shape}, not an image: "
               f"expected a 2-D image or a 3-D (band, y, x) cube")
    else:
        msg = (f"{what} {label} is a {data.ndim}-D array of shape {data.shape}: "
               f"{data.ndim}-D data are not supported; expected a 2-D image or a 3-D "
               f"(band, y, x) cube (select the planes you need, e.g. data[0] to drop a "
               f"degenerate leading axis)")
    raise InvalidDataError(msg)


def cutout_from_planes(planes, *, bands, unit, what, assign, primary=None, meta=None):
    """
    One band per plane; never two planes for one band.

    A lone image in an extension whose header names no band takes the band of
    the ``primary`` header's ``FILTER`` card (HSC, UKIDSS). A radio ``BUNIT``
    is refused before bands are looked at.
    """
    for plane in planes:
        for header in (plane.header, primary):
            if header is not None and "beam" in str(header.get("BUNIT", "")).lower():
                parse_unit(header["BUNIT"], f"{what} {plane.label}")  # raises UnitError
    if primary is not None and len(planes) == 1 and planes[0].band is None:
        found = band_from_header(primary)
        if found is not None:
            planes = [planes[0]._replace(band=found)]
    names = assign_bands([p.band for p in planes], bands, what, assign=assign)
    seen = {}
    for name, plane in zip(names, planes, strict=True):
        seen.setdefault(name, []).append(plane.label)
    repeated = {name: labels for name, labels in seen.items() if len(labels) > 1}
    if repeated:
        name, labels = next(iter(repeated.items()))
        msg = (f"{what}: {' and '.join(labels)} all hold band {name!r}; one image per band "
               f"(an image is never replaced by a later one of the same band). If they are "
               f"a science image with its weight or mask, name their extensions SCI/WGT/MSK "
               f"or read with format='des'")
        raise BandMismatchError(msg)
    out = {}
    for name, plane in zip(names, planes, strict=True):
        header = plane.header if plane.header is not None else fits.Header()
        if primary is not None and header is not primary:
            header = header.copy()
            # inherit primary cards (e.g. a WCS written only in the primary header); long
            # (HIERARCH) keywords of HSC or LSST headers are kept as HIERARCH cards, silently
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Keyword name", VerifyWarning)
                for card in primary.cards:
                    if card.keyword not in header and \
                            card.keyword not in ("", "COMMENT", "HISTORY"):
                        header[card.keyword] = (card.value, card.comment)
        where = f"{what} band {name!r}"
        bunit = resolve_unit(header.get("BUNIT"), unit, where)
        wcs = plane.wcs if plane.wcs is not None else celestial_wcs(header, what=where)
        out[name] = make_band(plane.data, wcs=wcs, unit=bunit, mask=plane.mask,
                              uncertainty=plane.uncertainty, meta=header, what=what, band=name)
    return Cutout(out, meta=meta)


def _read_images(hdul, *, bands, unit, what, assign, **_):
    planes, vectors = [], []
    for index, hdu in enumerate(hdul):
        if not _is_image(hdu):
            continue
        if np.ndim(hdu.data) == 1:
            vectors.append(_label(index, hdu))
            continue
        planes += planes_from_array(hdu.data, hdu.header, label=_label(index, hdu), what=what)
    if not planes:
        msg = f"{what} holds no image data" + (
            f" (only 1-D arrays in {', '.join(vectors)})" if vectors else "")
        raise InvalidDataError(msg)
    primary = hdul[0].header
    # a lone image in the primary HDU: its header is the band's; else the primary is the file's
    meta = fits.Header() if len(planes) == 1 and planes[0].header is primary else primary
    try:
        return cutout_from_planes(planes, bands=bands, unit=unit, what=what, assign=assign,
                                  primary=primary, meta=strip_wcs_keywords(meta))
    except BandMismatchError as exc:
        unnamed = all(p.band is None for p in planes)
        if bands is None and unnamed and unit is None and \
                not any("BUNIT" in p.header for p in planes):
            msg = (f"{exc}; an image with neither band nor unit cards, such as hips2fits "
                   f"output, also needs unit= (format='hips2fits' requires both)")
            raise BandMismatchError(msg) from None
        raise


def _read_hips2fits(hdul, *, bands, unit, what, assign, **_):
    msg = (f"{what} is a hips2fits image, which carries no FILTER or BUNIT card: pass "
           f"bands= (the band its HiPS id names, e.g. bands='r' for CDS/P/SDSS9/r) and unit= "
           f"(the unit of that HiPS's pixel values, from its properties file, e.g. "
           f"unit='nmgy')")
    if bands is None:
        raise BandMismatchError(msg)
    if unit is None:
        raise UnitError(msg)
    return _read_images(hdul, bands=bands, unit=unit, what=what, assign=assign)


# --- survey2survey's own layout --------------------------------------------------------------
def _read_own(hdul, *, unit, what, **_):
    primary = hdul[0].header
    sci = {hdu.ver: hdu for hdu in hdul if hdu.name == "SCI"}
    _check_unique_science(hdul, what)
    masks = {hdu.ver: hdu for hdu in hdul if hdu.name == "MASK"}
    uncerts = {hdu.ver: hdu for hdu in hdul if hdu.name == "UNCERT"}
    if not sci:
        msg = f"{what} is a survey2survey cutout file with no SCI extension"
        raise CorruptFileError(msg)
    nbands = primary.get("NBANDS")
    if isinstance(nbands, int) and nbands > len(sci):
        raise truncated_error(what, f"NBANDS={nbands} but only {len(sci)} SCI extension(s)")
    out, parsed = {}, {}
    for ver in sorted(sci):
        hdu = sci[ver]
        band = hdu.header.get("FILTER", str(ver))
        bunit = resolve_unit(hdu.header.get("BUNIT"), unit, f"{what} band {band!r}")
        uncertainty = None
        if ver in uncerts:
            kind = uncerts[ver].header.get("UTYPE", "std")
            if kind not in UNCERTAINTY_TYPES:
                msg = f"{what} band {band!r} has an unknown uncertainty type UTYPE={kind!r}"
                raise CorruptFileError(msg)
            uunit = parse_unit(uncerts[ver].header.get("BUNIT"), what)
            uncertainty = UNCERTAINTY_TYPES[kind](uncerts[ver].data, unit=uunit)
        out[band] = make_band(
            hdu.data, wcs=_parsed_once(parsed, hdu.header, f"{what} band {band!r}"), unit=bunit,
            mask=None if ver not in masks else masks[ver].data.astype(bool),
            uncertainty=uncertainty, meta=hdu.header, what=what, band=band, own_wcs=True)
    meta = primary.copy()
    for key in (FORMAT_KEY, "BANDS", "NBANDS", "NEXTEND", "SIMPLE", "BITPIX", "NAXIS", "EXTEND"):
        meta.remove(key, ignore_missing=True)
    return Cutout(out, meta=meta)


def _parsed_once(parsed, header, what):
    """
    The WCS of ``header``, parsed once per distinct set of WCS cards in a file.

    The bands of a cutout usually share one WCS; parsing a header is ~30 times
    the cost of copying the WCS parsed for the band before.
    """
    cards = wcs_cards(header)
    key = tuple(str(card) for card in cards.cards)
    if key not in parsed:
        parsed[key] = celestial_wcs(cards, what=what)
        return parsed[key]
    return parsed[key].deepcopy()


def _check_unique_science(hdul, what):
    """Two SCI extensions with one EXTVER or FILTER would silently lose a band: refuse them."""
    vers, filters = {}, {}
    for index, hdu in enumerate(hdul):
        if hdu.name != "SCI":
            continue
        if hdu.ver in vers:
            msg = (f"{what} has two SCI extensions with EXTVER {hdu.ver} (HDUs {vers[hdu.ver]} "
                   f"and {index}): one band would be lost; the file is corrupt or was edited")
            raise CorruptFileError(msg)
        vers[hdu.ver] = index
        band = hdu.header.get("FILTER")
        if band is not None and band in filters:
            msg = (f"{what} has two SCI extensions with FILTER {band!r} (HDUs {filters[band]} "
                   f"and {index}): one band would be lost; give each band its own FILTER")
            raise BandMismatchError(msg)
        filters[band] = index


# --- SDSS frames -----------------------------------------------------------------------------
def _warn_frame_geometry(hdul, what):
    """
    Warn when the extensions of an SDSS frame describe an image of another size.

    Tools that cut frames (to a 240-pixel strip, say) often copy HDU1-HDU3
    unchanged: the calibration vector and sky grid then describe the full
    2048-column frame, not the pixels kept, and neither the counts nor the
    noise can be rebuilt from them.
    """
    ny, nx = np.shape(hdul[0].data)
    found = []
    if len(hdul) > 1 and hdul[1].data is not None and np.ndim(hdul[1].data) == 1 \
            and len(hdul[1].data) != nx:
        found.append(f"HDU1 (calibration vector) has {len(hdul[1].data)} values, one per "
                     f"column of a {len(hdul[1].data)}-column frame")
    if len(hdul) > 2 and isinstance(hdul[2], fits.BinTableHDU) and len(hdul[2].data) == 1:
        names = [n.upper() for n in hdul[2].columns.names]
        for column, size, axis in (("XINTERP", nx, "columns"), ("YINTERP", ny, "rows")):
            if column in names:
                length = np.size(hdul[2].data[column][0])
                if length != size:
                    found.append(f"HDU2 {column} has {length} entries ({axis} of the frame)")
    if found:
        warnings.warn(f"{what}: the image (HDU0) is {nx} x {ny} pixels but "
                      f"{'; '.join(found)}: the file was cut without updating its extensions "
                      f"(or is not a complete SDSS frame); check its WCS describes the pixels "
                      f"kept, and its calibration and sky (sdss_uncertainty=True) cannot be "
                      f"used", AstropyUserWarning)


def _read_sdss(hdul, *, bands, unit, what, assign, sdss_uncertainty):
    if 1 < len(hdul) < 4:
        raise truncated_error(what, f"an SDSS frame has 4 HDUs (image, calibration vector, "
                                    f"sky, asTrans); this file ends after {len(hdul)}")
    hdu = hdul[0]
    if not _is_image(hdu) or np.ndim(hdu.data) != 2:
        msg = f"{what} is not an SDSS frame: HDU0 is not a 2-D image"
        raise CorruptFileError(msg)
    header = hdu.header.copy()
    if not sdss_uncertainty:  # (sdss_frame_counts refuses such files outright)
        _warn_frame_geometry(hdul, what)
    (band,) = assign_bands([band_from_header(header)], bands, what, assign=assign)
    bunit = resolve_unit(header.get("BUNIT", "nanomaggy"), unit, f"{what} band {band!r}")
    if bunit == u.nmgy and header_zero_point(header) is None:
        # the SDSS data model: HDU0 in nanomaggies, 1 nanomaggy = AB magnitude 22.5
        header["MAGZERO"] = (22.5, "AB zero point of nanomaggies (SDSS data model)")
    uncertainty = None
    if sdss_uncertainty:
        counts = sdss_frame_counts(hdul, what=what)
        uncertainty = StdDevUncertainty(counts.sigma)
        header["GAIN"] = (counts.gain, "[e-/count] SDSS data model, for the noise")
        header["DARKVAR"] = (counts.dark_variance, "[count^2] SDSS data model dark variance")
        header["SKYCOUNT"] = (float(np.median(counts.sky)), "[count] median sky (HDU2)")
    image = make_band(hdu.data, wcs=celestial_wcs(header, what=f"{what} band {band!r}"),
                      unit=bunit, uncertainty=uncertainty, meta=header, what=what, band=band)
    return Cutout({band: image}, meta=fits.Header({"SURVEY": "SDSS"}))


# --- science + weight + mask (DES) -----------------------------------------------------------
def _pick(candidates, science, what, kind):
    """The weight or mask HDU that belongs to ``science`` (by EXTVER, else by band)."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    same_ver = [hdu for hdu in candidates if hdu.ver == science.ver]
    if len(same_ver) == 1:
        return same_ver[0]
    band = band_from_header(science.header)
    same_band = [hdu for hdu in candidates if band_from_header(hdu.header) == band]
    if band is not None and len(same_band) == 1:
        return same_band[0]
    msg = (f"{what} has several {kind} extensions and cannot tell which belongs to the "
           f"science extension {science.name} (EXTVER {science.ver})")
    raise CorruptFileError(msg)


def _bad_bits(header):
    """
    The bits of a mask extension that flag bad pixels (None: all of them), except in an
    LSST-pipeline (HSC) mask, whose ``MP_<NAME>`` cards name its planes: there only
    the planes of `_BAD_MASK_PLANES` (a DETECTED bit marks every pixel of a source).
    """
    planes = {key[3:]: value for key, value in header.items()
              if key.startswith("MP_") and isinstance(value, int) and 0 <= value < 64}
    if not planes:
        return None
    return int(sum(1 << planes[name] for name in _BAD_MASK_PLANES if name in planes))


def _weight_to_sigma(weight, shape, what):
    """Inverse variance -> (1-sigma, mask of pixels without weight)."""
    weight = real_array(weight, f"{what} weight map").astype(float)
    if weight.shape != shape:
        msg = f"{what} weight map has shape {weight.shape}, the image {shape}"
        raise CorruptFileError(msg)
    negative = int(np.count_nonzero(weight < 0))
    if negative:
        msg = f"{what} weight (inverse variance) map has {negative} negative value(s)"
        raise InvalidDataError(msg)
    empty = ~(weight > 0)  # zero or NaN weight: no data
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(empty, np.inf, 1.0 / np.sqrt(weight))
    return sigma, empty


def _read_des(hdul, *, bands, unit, what, assign, **_):
    images = [(index, hdu) for index, hdu in enumerate(hdul) if _is_image(hdu)]
    science = [(i, hdu) for i, hdu in images if hdu.name.upper() in _SCIENCE_NAMES]
    weights = [hdu for _, hdu in images if hdu.name.upper() in _WEIGHT_NAMES]
    variances = [hdu for _, hdu in images if hdu.name.upper() in _VARIANCE_NAMES]
    masks = [hdu for _, hdu in images if hdu.name.upper() in _MASK_NAMES]
    if not science:
        msg = (f"{what} has no science extension (EXTNAME SCI or IMAGE) to read as a "
               f"science/weight/mask file")
        raise CorruptFileError(msg)
    primary = hdul[0].header
    planes = []
    for index, sci in science:
        label = _label(index, sci)
        if np.ndim(sci.data) == 3:
            msg = f"{what} {label} holds a cube; a science extension holds one 2-D band"
            raise InvalidDataError(msg)
        planes_from_array(sci.data, sci.header, label=label, what=what)  # checks dimensions
        mask = np.zeros(sci.data.shape, dtype=bool)
        msk = _pick(masks, sci, what, "mask")
        if msk is not None:
            bits = real_array(msk.data, f"{what} mask {msk.name}")
            if bits.shape != sci.data.shape:
                msg = f"{what} mask {msk.name} has shape {bits.shape}, the image {sci.data.shape}"
                raise CorruptFileError(msg)
            bad = _bad_bits(msk.header)
            mask |= (bits != 0) if bad is None else (bits.astype(np.int64) & bad) != 0
        sigma = None
        wgt = _pick(weights, sci, what, "weight")
        var = _pick(variances, sci, what, "variance") if wgt is None else None
        if wgt is not None or var is not None:
            if wgt is not None:
                weight = wgt.data
            else:  # an LSST-pipeline (HSC) VARIANCE extension
                with np.errstate(divide="ignore", invalid="ignore"):
                    weight = 1.0 / real_array(var.data, f"{what} variance").astype(float)
                weight[~np.isfinite(weight)] = 0.0
            sigma, empty = _weight_to_sigma(weight, sci.data.shape, f"{what} {label}")
            mask |= empty
            sigma = StdDevUncertainty(sigma)
        planes.append(Plane(sci.data, sci.header, None, band_from_header(sci.header), mask,
                            sigma, label))
    return cutout_from_planes(planes, bands=bands, unit=unit, what=what, assign=assign,
                              primary=primary, meta=strip_wcs_keywords(primary))


# --- Legacy Surveys cutout service -----------------------------------------------------------
def _read_legacysurvey(hdul, *, bands, unit, what, assign, **_):
    images = [(index, hdu) for index, hdu in enumerate(hdul) if _is_image(hdu)]
    kinds = {index: str(hdu.header.get("IMAGETYP", "IMAGE")).strip().upper()
             for index, hdu in images}
    science = [(i, hdu) for i, hdu in images if kinds[i] == "IMAGE"]
    invvar = [hdu for i, hdu in images if kinds[i] == "INVVAR"]
    if not science:
        msg = f"{what} has no IMAGE HDU to read as a Legacy Surveys cutout"
        raise CorruptFileError(msg)
    index, hdu = science[0]
    header = hdu.header.copy()
    planes = planes_from_array(hdu.data, header, label=_label(index, hdu), what=what)
    if len(planes) == 1 and planes[0].band is None:
        names = cube_bands(header, 1)
        planes = [planes[0]._replace(band=names[0])]
    if invvar:
        if invvar[0].data.shape != hdu.data.shape:
            msg = (f"{what} INVVAR HDU has shape {invvar[0].data.shape}, the image "
                   f"{hdu.data.shape}")
            raise CorruptFileError(msg)
        ivs = invvar[0].data if invvar[0].data.ndim == 3 else invvar[0].data[np.newaxis]
        for k, plane in enumerate(planes):
            sigma, empty = _weight_to_sigma(ivs[k], plane.data.shape, f"{what} {plane.label}")
            planes[k] = plane._replace(mask=empty, uncertainty=StdDevUncertainty(sigma))
    # the service writes nanomaggies without a BUNIT card (Legacy Surveys data model)
    if "BUNIT" not in header:
        header["BUNIT"] = "nanomaggy"
        header["MAGZERO"] = (22.5, "AB zero point of nanomaggies")
    planes = [p._replace(header=header) for p in planes]
    return cutout_from_planes(planes, bands=bands, unit=unit, what=what, assign=assign,
                              meta=strip_wcs_keywords(hdul[0].header) if index else None)
