# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Read any cutout-like input into a `~survey2survey.io.Cutout`, and write cutouts to FITS.

`read_cutout` is the one input-parsing helper used everywhere in the package:
it accepts what reproject's ``parse_input_data`` accepts (a path, an
`~astropy.io.fits.HDUList` or HDU, an ``(array, WCS)`` tuple, `~astropy.nddata.NDData`
or `~astropy.nddata.CCDData`), plus lists and mappings of per-band images.

The on-disk layout written by `write_cutout` is plain multi-extension FITS: an
empty primary HDU with the cutout-level header (``BANDS``, ``SURVEY``, ...), then
per band an image extension ``SCI`` with its own WCS, ``BUNIT`` and ``FILTER``,
followed, when present, by ``MASK`` (uint8) and ``UNCERT`` (1-sigma) extensions
with the same ``EXTVER``.
"""

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import (
    CCDData,
    InverseVariance,
    NDData,
    NDUncertainty,
    StdDevUncertainty,
    VarianceUncertainty,
)
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS

from ..exceptions import (
    BandMismatchError,
    CorruptFileError,
    InputError,
    InvalidDataError,
    UnitError,
)
from ..utils._files import atomic_write
from ..utils._validation import parse_bands
from ..utils._wcs import celestial_wcs, strip_wcs_keywords, wcs_to_header
from .cutout import Cutout

__all__ = ["read_cutout", "write_cutout"]

FORMAT_KEY = "S2SFMT"
FORMAT_VERSION = 1
_BAND_KEYS = ("FILTER", "BAND", "FILTNAM", "FILTER1")
_UNCERTAINTY_TYPES = {
    "std": StdDevUncertainty,
    "var": VarianceUncertainty,
    "ivar": InverseVariance,
}


def _parse_unit(value, what):
    if value is None or isinstance(value, u.UnitBase):
        return value
    try:
        return u.Unit(value)
    except (ValueError, TypeError) as exc:
        msg = f"{what} has a unit {value!r} that astropy does not understand"
        raise UnitError(msg) from exc


def _unit_to_string(unit):
    """``BUNIT`` text for ``unit``: FITS-standard where possible (``nmgy`` is not)."""
    try:
        return unit.to_string("fits")
    except ValueError:
        return unit.to_string()


def _band_from_header(header):
    for key in _BAND_KEYS:
        value = header.get(key) if header is not None else None
        if isinstance(value, str) and value.strip():
            # 'r', 'DECam r', 'r DECam SDSS c0002 6300.0 1517.2': the band is the short token
            tokens = value.split()
            short = [t for t in tokens if len(t) <= 2]
            return short[0] if short else tokens[0]
    return None


def _check_finite(data, what):
    data = np.asarray(data)
    if data.size == 0:
        msg = f"{what} is empty (shape {data.shape})"
        raise InvalidDataError(msg)
    if not np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.complexfloating):
        msg = f"{what} must hold real numbers, got dtype {data.dtype}"
        raise InvalidDataError(msg)
    if not np.isfinite(data).any():
        msg = f"{what} has no finite pixel (all NaN or infinite)"
        raise InvalidDataError(msg)


def _native(array):
    """A copy of ``array`` in native byte order (FITS is big-endian; torch needs native)."""
    array = np.array(array, copy=True)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _make_band(data, *, wcs, unit, mask=None, uncertainty=None, meta=None, what, band):
    """Build one validated band as a new CCDData (never sharing memory with the input)."""
    data = _native(data)
    if data.ndim != 2:
        msg = f"{what} band {band!r} must be a 2-D image, got shape {data.shape}"
        raise InvalidDataError(msg)
    _check_finite(data, f"{what} band {band!r}")
    wcs = celestial_wcs(wcs, what=f"{what} band {band!r}").deepcopy()
    wcs.pixel_shape = data.shape[::-1]
    nonfinite = ~np.isfinite(data)
    if mask is not None:
        mask = np.array(mask, dtype=bool, copy=True)
        if mask.shape != data.shape:
            msg = f"{what} band {band!r} mask shape {mask.shape} != data shape {data.shape}"
            raise InvalidDataError(msg)
        mask |= nonfinite
    elif nonfinite.any():
        mask = nonfinite
    if uncertainty is not None:
        if not isinstance(uncertainty, NDUncertainty):
            uncertainty = StdDevUncertainty(_native(uncertainty))
        else:
            uncertainty = uncertainty.__class__(_native(uncertainty.array),
                                                unit=uncertainty.unit)
        if uncertainty.array.shape != data.shape:
            msg = (f"{what} band {band!r} uncertainty shape {uncertainty.array.shape} "
                   f"!= data shape {data.shape}")
            raise InvalidDataError(msg)
    header = fits.Header()
    if meta is not None:
        try:
            header = strip_wcs_keywords(fits.Header(meta))
        except Exception:  # meta with values FITS cannot hold: keep what fits
            for key, value in dict(meta).items():
                try:
                    header[key] = value
                except Exception:  # noqa: S112
                    continue
            header = strip_wcs_keywords(header)
    for key in ("BUNIT", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "SIMPLE", "BITPIX",
                "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME", "EXTVER", "BSCALE", "BZERO"):
        header.remove(key, ignore_missing=True, remove_all=True)
    header["FILTER"] = band
    return CCDData(data, unit=unit, wcs=wcs, mask=mask, uncertainty=uncertainty, meta=header)


def _resolve_unit(found, given, what):
    found = _parse_unit(found, what)
    given = _parse_unit(given, "the unit argument")
    if given is None:
        return found if found is not None else u.dimensionless_unscaled
    if found is None or found == u.dimensionless_unscaled:
        return given
    if found != given:
        msg = f"{what} is in {found}, but unit={given} was requested"
        raise UnitError(msg)
    return found


def _assign_bands(found, bands, what):
    """Combine band names found in the input with those the caller gave."""
    if bands is None:
        if any(b is None for b in found):
            msg = (f"{what}: cannot tell which band each image is (no FILTER/BAND header); "
                   f"pass bands=, e.g. bands='gri'")
            raise BandMismatchError(msg)
        return list(found)
    if len(bands) != len(found):
        if all(b is not None for b in found) and all(b in found for b in bands):
            return list(found)  # caller selects a subset: handled after reading
        msg = f"{what} holds {len(found)} image(s) but bands={list(bands)} names {len(bands)}"
        raise BandMismatchError(msg)
    if all(b is not None for b in found) and set(found) == set(bands):
        return list(found)
    if all(b is not None for b in found) and list(found) != list(bands):
        msg = f"{what} holds bands {list(found)}, not the requested {list(bands)}"
        raise BandMismatchError(msg)
    return list(bands)


def _from_hdulist(hdul, bands, unit, what):
    primary = hdul[0].header
    if primary.get(FORMAT_KEY):
        return _from_own_layout(hdul, unit, what)
    images = [hdu for hdu in hdul
              if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
              and hdu.data is not None and hdu.data.ndim >= 2]
    if not images:
        msg = f"{what} holds no image data"
        raise InvalidDataError(msg)
    if len(images) == 1 and images[0].data.ndim == 3:
        hdu = images[0]
        header = hdu.header
        found = [None] * hdu.data.shape[0]
        if isinstance(header.get("BANDS"), str):
            names = [b.strip() for b in header["BANDS"].split(",") if b.strip()]
            if len(names) == len(found):
                found = names
        found = [header.get(f"FILTER{k + 1}", b) for k, b in enumerate(found)]
        names = _assign_bands(found, bands, what)
        bunit = _resolve_unit(header.get("BUNIT"), unit, what)
        wcs = celestial_wcs(header, what=what)
        return Cutout({b: _make_band(hdu.data[k], wcs=wcs, unit=bunit, meta=header, what=what,
                                     band=b) for k, b in enumerate(names)}, meta=primary)
    if any(hdu.data.ndim != 2 for hdu in images):
        shapes = [hdu.data.shape for hdu in images]
        msg = f"{what} mixes image extensions of different dimensions: {shapes}"
        raise InvalidDataError(msg)
    found = [_band_from_header(hdu.header) for hdu in images]
    names = _assign_bands(found, bands, what)
    out = {}
    for name, hdu in zip(names, images, strict=True):
        header = hdu.header.copy()
        if hdu is not hdul[0]:
            # inherit primary cards (e.g. a WCS written only in the primary header)
            for card in primary.cards:
                if card.keyword not in header and card.keyword not in ("", "COMMENT", "HISTORY"):
                    header[card.keyword] = card.value
        bunit = _resolve_unit(header.get("BUNIT"), unit, f"{what} band {name!r}")
        out[name] = _make_band(hdu.data, wcs=celestial_wcs(header, what=f"{what} band {name!r}"),
                               unit=bunit, meta=header, what=what, band=name)
    meta = primary if len(images) > 1 or images[0] is not hdul[0] else fits.Header()
    return Cutout(out, meta=strip_wcs_keywords(meta))


def _from_own_layout(hdul, unit, what):
    primary = hdul[0].header
    sci = {hdu.ver: hdu for hdu in hdul if hdu.name == "SCI"}
    masks = {hdu.ver: hdu for hdu in hdul if hdu.name == "MASK"}
    uncerts = {hdu.ver: hdu for hdu in hdul if hdu.name == "UNCERT"}
    if not sci:
        msg = f"{what} is a survey2survey cutout file with no SCI extension"
        raise CorruptFileError(msg)
    out = {}
    for ver in sorted(sci):
        hdu = sci[ver]
        band = hdu.header.get("FILTER", str(ver))
        bunit = _resolve_unit(hdu.header.get("BUNIT"), unit, f"{what} band {band!r}")
        uncertainty = None
        if ver in uncerts:
            kind = uncerts[ver].header.get("UTYPE", "std")
            if kind not in _UNCERTAINTY_TYPES:
                msg = f"{what} band {band!r} has an unknown uncertainty type UTYPE={kind!r}"
                raise CorruptFileError(msg)
            uunit = _parse_unit(uncerts[ver].header.get("BUNIT"), what)
            uncertainty = _UNCERTAINTY_TYPES[kind](uncerts[ver].data, unit=uunit)
        out[band] = _make_band(
            hdu.data, wcs=celestial_wcs(hdu.header, what=f"{what} band {band!r}"), unit=bunit,
            mask=None if ver not in masks else masks[ver].data.astype(bool),
            uncertainty=uncertainty, meta=hdu.header, what=what, band=band)
    meta = primary.copy()
    for key in (FORMAT_KEY, "BANDS", "NBANDS", "SIMPLE", "BITPIX", "NAXIS", "EXTEND"):
        meta.remove(key, ignore_missing=True)
    return Cutout(out, meta=meta)


def _from_nddata(obj, band, unit, what):
    meta = obj.meta if obj.meta is not None else {}
    found = _band_from_header(meta) if hasattr(meta, "get") else None
    bunit = _resolve_unit(obj.unit, unit, what)
    wcs = obj.wcs
    if wcs is None and hasattr(meta, "get") and "CTYPE1" in meta:
        wcs = fits.Header(meta)
    return found, dict(data=obj.data, wcs=wcs, unit=bunit, mask=obj.mask,
                       uncertainty=obj.uncertainty, meta=meta, what=what)


def _open_fits(path, what):
    path = Path(path)
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{str(path)!r} is a directory, not a FITS file"
        raise InputError(msg)
    hdul = None
    try:
        with warnings.catch_warnings():
            # astropy only *warns* on truncated files (and pads them): make that an error
            warnings.simplefilter("error", AstropyUserWarning)
            hdul = fits.open(path, memmap=False)
            hdul.verify("exception")
            for hdu in hdul:
                hdu.data  # noqa: B018 - force reading so truncated files fail here
    except (OSError, ValueError, TypeError, IndexError, fits.VerifyError,
            AstropyUserWarning) as exc:
        if hdul is not None:
            hdul.close()
        msg = f"{what} could not be read as FITS: {exc}"
        raise CorruptFileError(msg) from exc
    return hdul


def read_cutout(source, bands=None, *, unit=None, what=None):
    """
    Read a cutout from any supported input into a new `~survey2survey.io.Cutout`.

    Parameters
    ----------
    source : str, path, HDUList, HDU, NDData, CCDData, Cutout, tuple, list or dict
        - a FITS path, `~astropy.io.fits.HDUList` or HDU: one 2-D image (band
          from ``FILTER``/``BAND``), one band-stacked 3-D cube (bands from
          ``BANDS='g,r,i'`` or ``FILTERn``), several 2-D image extensions (one
          per band), or the layout written by `write_cutout`;
        - an `~astropy.nddata.NDData` / `~astropy.nddata.CCDData` (one band);
        - an ``(array, wcs_or_header)`` tuple (2-D image or 3-D cube);
        - a list of any of the above, one per band, or a dict ``{band: image}``;
        - a `~survey2survey.io.Cutout` (copied).
    bands : str or sequence of str, optional
        Band names. Required when the input does not say which band each image
        is; when it does, selects and orders the bands to keep.
    unit : `~astropy.units.UnitBase` or str, optional
        Unit to assign to data that carry none; data in another unit raise.
    what : str, optional
        How to name the input in error messages.

    Returns
    -------
    cutout : `~survey2survey.io.Cutout`
        A new cutout; nothing is shared with (or changed in) ``source``.
        Non-finite pixels are added to each band's mask.

    Raises
    ------
    survey2survey.exceptions.InputError
        Subclasses name the problem:
        `~survey2survey.exceptions.MissingWCSError`,
        `~survey2survey.exceptions.InvalidWCSError`,
        `~survey2survey.exceptions.InvalidDataError` (all-NaN, empty, not 2-D),
        `~survey2survey.exceptions.BandMismatchError`,
        `~survey2survey.exceptions.UnitError`,
        `~survey2survey.exceptions.CorruptFileError`.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import read_cutout
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> wcs.wcs.cdelt = [-1e-4, 1e-4]
    >>> cutout = read_cutout((np.ones((3, 8, 8)), wcs), bands='gri', unit='nmgy')
    >>> cutout
    <Cutout bands='gri' shape=(8, 8) unit=nmgy>
    """
    if bands is not None:
        bands = list(parse_bands(bands))
    if what is None:
        what = f"{str(source)!r}" if isinstance(source, (str, os.PathLike)) else "input"

    cutout = _read_any(source, bands, unit, what)
    if bands is not None and list(cutout.bands) != list(bands):
        cutout = cutout.select(bands)
    return cutout


def _read_any(source, bands, unit, what):
    if isinstance(source, Cutout):
        cutout = source.copy()
        for band in cutout.bands:
            _check_finite(cutout[band].data, f"{what} band {band!r}")
            celestial_wcs(cutout[band].wcs, what=f"{what} band {band!r}")
        if unit is not None:
            for band in cutout.bands:
                _resolve_unit(cutout[band].unit, unit, f"{what} band {band!r}")
        return cutout
    if isinstance(source, (str, os.PathLike)):
        with _open_fits(source, what) as hdul:
            return _from_hdulist(hdul, bands, unit, what)
    if isinstance(source, fits.HDUList):
        return _from_hdulist(source, bands, unit, what)
    if isinstance(source, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        return _from_hdulist(fits.HDUList([fits.PrimaryHDU(source.data, source.header)]),
                             bands, unit, what)
    if isinstance(source, NDData):
        found, kwargs = _from_nddata(source, None, unit, what)
        (name,) = _assign_bands([found], bands, what)
        return Cutout({name: _make_band(band=name, **kwargs)})
    if (isinstance(source, tuple) and len(source) == 2
            and isinstance(source[1], (WCS, fits.Header)) and not isinstance(source[0], NDData)):
        array, wcs = np.asarray(source[0]), source[1]
        header = wcs if isinstance(wcs, fits.Header) else fits.Header()
        hdu = fits.PrimaryHDU(array, header=header)
        if isinstance(wcs, WCS):
            hdu.header.update(wcs_to_header(celestial_wcs(wcs, what=what)))
        return _from_hdulist(fits.HDUList([hdu]), bands, unit, what)
    if isinstance(source, Mapping):
        parts = [(str(b), read_cutout(im, [b], unit=unit, what=f"{what} band {b!r}"))
                 for b, im in source.items()]
        return Cutout({b: c[b] for b, c in parts})
    if isinstance(source, (list, tuple)):
        if not source:
            msg = f"{what} is an empty list"
            raise InvalidDataError(msg)
        if bands is not None and len(bands) != len(source):
            msg = f"{what} holds {len(source)} image(s) but bands={list(bands)} names {len(bands)}"
            raise BandMismatchError(msg)
        parts = []
        for k, item in enumerate(source):
            given = None if bands is None else [bands[k]]
            part = read_cutout(item, given, unit=unit, what=f"{what}[{k}]")
            parts.extend(part.items())
        names = [b for b, _ in parts]
        if len(set(names)) != len(names):
            msg = f"{what} holds the same band more than once: {names}"
            raise BandMismatchError(msg)
        return Cutout(parts)
    msg = (f"cannot read a cutout from {type(source).__name__}; expected a FITS path, HDUList, "
           f"HDU, NDData/CCDData, (array, WCS) tuple, list or dict of them, or a Cutout")
    raise InputError(msg)


def _cutout_to_hdulist(cutout):
    """The `~astropy.io.fits.HDUList` that `write_cutout` writes for ``cutout``."""
    primary = fits.PrimaryHDU(header=strip_wcs_keywords(cutout.meta))
    primary.header[FORMAT_KEY] = (FORMAT_VERSION, "survey2survey multi-band cutout layout")
    primary.header["NBANDS"] = (len(cutout), "number of bands")
    primary.header["BANDS"] = (",".join(cutout.bands), "band of SCI extension EXTVER=1,2,...")
    hdus = [primary]
    for ver, band in enumerate(cutout.bands, start=1):
        image = cutout[band]
        header = strip_wcs_keywords(fits.Header(image.meta))
        header.update(wcs_to_header(celestial_wcs(image.wcs, what=f"band {band!r}")))
        header["FILTER"] = band
        header["BUNIT"] = _unit_to_string(image.unit)
        hdus.append(fits.ImageHDU(image.data, header=header, name="SCI", ver=ver))
        if image.mask is not None:
            hdus.append(fits.ImageHDU(np.asarray(image.mask, dtype=np.uint8),
                                      name="MASK", ver=ver))
        if image.uncertainty is not None:
            kind = {v: k for k, v in _UNCERTAINTY_TYPES.items()}.get(type(image.uncertainty))
            if kind is None:
                warnings.warn(f"band {band!r}: uncertainty of type "
                              f"{type(image.uncertainty).__name__} written as standard deviation",
                              AstropyUserWarning)
                uncertainty, kind = image.uncertainty.represent_as(StdDevUncertainty), "std"
            else:
                uncertainty = image.uncertainty
            uhdu = fits.ImageHDU(np.asarray(uncertainty.array), name="UNCERT", ver=ver)
            uhdu.header["UTYPE"] = (kind, "std, var or ivar")
            if uncertainty.unit is not None:
                uhdu.header["BUNIT"] = _unit_to_string(uncertainty.unit)
            hdus.append(uhdu)
    return fits.HDUList(hdus)


def write_cutout(cutout, path, *, overwrite=False, extra_hdus=()):
    """
    Write a cutout to a multi-extension FITS file, atomically and exclusively.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout` or anything `read_cutout` accepts
        What to write.
    path : str or path
        Destination file.
    overwrite : bool, optional
        Replace an existing file. Without it an existing file (also one another
        process creates while this one writes) raises `FileExistsError` and is
        left untouched.
    extra_hdus : sequence of `~astropy.io.fits.hdu.base.ExtensionHDU`, optional
        Extensions appended after the cutout's (a catalogue table, say);
        `read_cutout` ignores them.

    Returns
    -------
    path : `pathlib.Path`

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import read_cutout, write_cutout
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> wcs.wcs.cdelt = [-1e-4, 1e-4]
    >>> cutout = read_cutout((np.arange(32.).reshape(2, 4, 4), wcs), bands='gr', unit='nmgy')
    >>> path = write_cutout(cutout, os.path.join(tempfile.mkdtemp(), 'c.fits'))
    >>> back = read_cutout(path)
    >>> bool((back.data == cutout.data).all()), back.unit
    (True, Unit("nmgy"))
    """
    if not isinstance(cutout, Cutout):
        cutout = read_cutout(cutout)
    hdul = _cutout_to_hdulist(cutout)
    for hdu in extra_hdus:
        hdul.append(hdu)
    return atomic_write(path, lambda tmp: hdul.writeto(tmp, overwrite=True), overwrite=overwrite)
