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

import copy
import numbers
import os
import warnings
from collections.abc import Mapping

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import NDData, StdDevUncertainty
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS

from ..exceptions import (
    BandMismatchError,
    InputError,
    InvalidDataError,
    InvalidOptionError,
    InvalidWCSError,
)
from ..utils._files import atomic_write
from ..utils._validation import check_bool, check_choice, check_path, parse_bands
from ..utils._wcs import (
    celestial_wcs,
    is_plain_wcs,
    is_wcs_keyword,
    same_mapping,
    strip_wcs_keywords,
    wcs_to_header,
)
from ._bands import (
    assign_bands as _assign_bands,
)
from ._bands import (
    band_from_header,
    check_bands_overlap,
    make_band,
    resolve_unit,
    unit_to_string,
)
from ._layouts import (
    FORMAT_KEY,
    FORMAT_VERSION,
    FORMATS,
    UNCERTAINTY_TYPES,
    cutout_from_planes,
    planes_from_array,
    read_layout,
)
from ._open import open_fits, verify_on_failure, written_by_survey2survey
from .cutout import Cutout

__all__ = ["read_cutout", "write_cutout", "FORMATS"]

_COMMENTARY = ("", "COMMENT", "HISTORY")


def read_cutout(source, bands=None, *, unit=None, format=None, sdss_uncertainty=False,
                assign_bands=True, what=None):
    """
    Read a cutout from any supported input into a new `~survey2survey.io.Cutout`.

    Parameters
    ----------
    source : str, path, HDUList, HDU, NDData, CCDData, Cutout, tuple, list or dict
        - a FITS path (``.fits``, ``.fits.gz``, ``.fits.bz2``, fpacked
          ``.fits.fz``), `~astropy.io.fits.HDUList` or HDU, in any layout of
          ``format``: a survey product (SDSS frame, DES coadd tile or cutout,
          Legacy Surveys cutout, hips2fits image), one 2-D image (band from
          ``FILTER``/``BAND``), one band-stacked 3-D cube (bands from
          ``BANDS='g,r,i'``, ``BANDn`` or ``FILTERn``), several 2-D image
          extensions (one per band), or the layout written by `write_cutout`;
        - an `~astropy.nddata.NDData` / `~astropy.nddata.CCDData` (one band);
        - an ``(array, wcs_or_header)`` tuple (2-D image or 3-D cube; a
          `numpy.ma.MaskedArray` keeps its mask, a `~astropy.units.Quantity`
          its unit);
        - a list of any of the above, one per band, or a dict ``{band: image}``;
        - a `~survey2survey.io.Cutout` (copied).
    bands : str or sequence of str, optional
        Band names. Required when the input does not say which band each image
        is; when it does, selects and orders the bands to keep.
    unit : `~astropy.units.UnitBase` or str, optional
        Unit to assign to data that carry none; data in another unit raise.
    format : {'survey2survey', 'sdss-frame', 'des', 'legacysurvey', 'hips2fits', 'image'}, optional
        The FITS layout (see :ref:`real-data`); by default recognised from the
        headers. hips2fits images carry no band or unit cards, so
        ``format='hips2fits'`` requires ``bands=`` and ``unit=``.
    sdss_uncertainty : bool, optional
        For SDSS frame files: rebuild the counts from the calibration vector
        (HDU1) and the sky (HDU2) and attach the per-pixel 1-sigma noise of the
        SDSS data model as a `~astropy.nddata.StdDevUncertainty` (see
        `~survey2survey.io.sdss_frame_counts`).
    assign_bands : bool, optional
        Whether ``bands`` may name images that carry no band card (default).
        With False, ``bands`` only selects bands the input names itself, and
        a cube of unnamed planes raises instead of being assumed to be in the
        order of ``bands`` (for callers whose ``bands`` are a model's, not a
        statement about the input).
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
        `~survey2survey.exceptions.InvalidDataError` (all-NaN, empty, not 2-D
        or 3-D, not real numbers, negative uncertainties),
        `~survey2survey.exceptions.BandMismatchError` (bands unknown, repeated,
        or not overlapping on the sky),
        `~survey2survey.exceptions.UnitError`,
        `~survey2survey.exceptions.CorruptFileError` (unreadable or truncated).
    survey2survey.exceptions.InvalidOptionError
        For an unknown ``format``.

    Warns
    -----
    astropy.utils.exceptions.AstropyUserWarning
        Once per file whose headers astropy had to fix (non-standard cards),
        naming the cards.

    Notes
    -----
    float16 data are read as float32; boolean, complex and object arrays are
    refused. Bands of one cutout may have their own WCS (SDSS frames of one
    field differ by up to 12 pixels between bands), but their footprints must
    overlap on the sky; `~survey2survey.alignment.register_bands` puts them
    on one grid (the estimator and the command line do it themselves).

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
    if format is not None:
        check_choice(format, FORMATS, "format")
    check_bool(sdss_uncertainty, "sdss_uncertainty")
    check_bool(assign_bands, "assign_bands")
    if what is None:
        what = f"{str(source)!r}" if isinstance(source, (str, os.PathLike)) else "input"
    options = dict(unit=unit, format=format, sdss_uncertainty=sdss_uncertainty,
                   assign=assign_bands)
    cutout = _read_any(source, bands, what, options)
    if bands is not None and list(cutout.bands) != list(bands):
        cutout = cutout.select(bands)
    check_bands_overlap(cutout, what)
    return cutout


def _read_hdulist(hdul, bands, what, options):
    return read_layout(hdul, options["format"], bands=bands, unit=options["unit"], what=what,
                       assign=options["assign"], sdss_uncertainty=options["sdss_uncertainty"])


def _is_array_tuple(source):
    return (isinstance(source, tuple) and len(source) == 2
            and isinstance(source[1], (WCS, fits.Header)) and not isinstance(source[0], NDData))


def _read_any(source, bands, what, options):
    unit = options["unit"]
    fits_input = isinstance(source, (str, os.PathLike, fits.HDUList, fits.PrimaryHDU,
                                     fits.ImageHDU, fits.CompImageHDU))
    if not fits_input and (options["format"] is not None or options["sdss_uncertainty"]):
        if not isinstance(source, (list, Mapping)) or isinstance(source, tuple):
            msg = (f"format= and sdss_uncertainty= apply to FITS files and HDUs; {what} is a "
                   f"{type(source).__name__}")
            raise InvalidOptionError(msg)
    if isinstance(source, Cutout):  # copied through the same checks as any other input
        return Cutout({band: make_band(image.data, wcs=image.wcs, mask=image.mask,
                                       unit=resolve_unit(image.unit, unit,
                                                         f"{what} band {band!r}"),
                                       uncertainty=image.uncertainty, meta=image.meta,
                                       what=what, band=band)
                       for band, image in source.items()}, meta=source.meta.copy())
    if isinstance(source, (str, os.PathLike)):
        with open_fits(source, what) as hdul:
            try:
                return _read_hdulist(hdul, bands, what, options)
            except (fits.VerifyError, ValueError, KeyError, TypeError, OSError) as exc:
                if not written_by_survey2survey(hdul):  # verified by open_fits already
                    raise
                verify_on_failure(hdul, what, exc)
    if isinstance(source, fits.HDUList):
        return _read_hdulist(source, bands, what, options)
    if isinstance(source, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        return _read_hdulist(fits.HDUList([fits.PrimaryHDU(source.data, source.header)]),
                             bands, what, options)
    if isinstance(source, NDData):
        return _from_nddata(source, bands, what, options)
    if _is_array_tuple(source):
        return _from_array_tuple(source, bands, what, options)
    if isinstance(source, Mapping):
        parts = [(str(b), read_cutout(im, [b], what=f"{what} band {b!r}", **_item_options(options)))
                 for b, im in source.items()]
        return Cutout({b: c[b] for b, c in parts}, meta=_common_meta(c for _, c in parts))
    if isinstance(source, (list, tuple)):
        return _from_list(source, bands, what, options)
    if isinstance(source, (bytes, bytearray)):
        msg = (f"{what}: a bytes path ({bytes(source)[:80]!r}) is not supported; pass the file "
               "name as a str or pathlib.Path (os.fsdecode(name))")
        raise InputError(msg)
    msg = (f"cannot read a cutout from {type(source).__name__}; expected a FITS path, HDUList, "
           f"HDU, NDData/CCDData, (array, WCS) tuple, list or dict of them, or a Cutout")
    raise InputError(msg)


def _item_options(options):
    """`read_cutout` keywords that read one item of a list or dict as ``options`` say."""
    return dict(unit=options["unit"], format=options["format"],
                sdss_uncertainty=options["sdss_uncertainty"], assign_bands=options["assign"])


def _nested_numbers(source):
    """Whether ``source`` is a (nested) list of plain numbers: pixel values, not images."""
    item = source
    while isinstance(item, (list, tuple)) and item:
        item = item[0]
    return isinstance(item, numbers.Number) and not isinstance(item, bool) \
        or isinstance(item, np.number)


def _from_list(source, bands, what, options):
    if not source:
        msg = f"{what} is an empty list"
        raise InvalidDataError(msg)
    if _nested_numbers(source):
        msg = (f"{what} is a nested list of numbers (pixel values without a WCS), not a "
               "cutout; pass (np.asarray(values), wcs) or a CCDData with its WCS and unit")
        raise InputError(msg)
    if bands is not None and len(bands) != len(source):
        msg = f"{what} holds {len(source)} image(s) but bands={list(bands)} names {len(bands)}"
        raise BandMismatchError(msg)
    parts, cutouts = [], []
    for k, item in enumerate(source):
        given = None if bands is None else [bands[k]]
        part = read_cutout(item, given, what=f"{what}[{k}]", **_item_options(options))
        cutouts.append(part)
        parts.extend(part.items())
    names = [b for b, _ in parts]
    if len(set(names)) != len(names):
        msg = f"{what} holds the same band more than once: {names}"
        raise BandMismatchError(msg)
    return Cutout(parts, meta=_common_meta(cutouts))


def _common_meta(cutouts):
    """The cutout-level cards every part agrees on (e.g. SURVEY for frames of one survey)."""
    cutouts = list(cutouts)
    if not cutouts:
        return None
    common = fits.Header()
    for card in cutouts[0].meta.cards:
        key = card.keyword
        if key in ("", "COMMENT", "HISTORY") or key in common:
            continue
        if all(key in c.meta and c.meta[key] == card.value for c in cutouts[1:]):
            common[key] = (card.value, card.comment)
    return common


def _from_nddata(obj, bands, what, options):
    meta = obj.meta if obj.meta is not None else {}
    found = band_from_header(meta) if hasattr(meta, "get") else None
    (name,) = _assign_bands([found], bands, what, assign=options["assign"])
    unit = resolve_unit(obj.unit, options["unit"], what)
    wcs = obj.wcs
    if wcs is None and hasattr(meta, "get") and "CTYPE1" in meta:
        wcs = fits.Header(meta)
    data, mask = obj.data, obj.mask
    if isinstance(data, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(data) | (False if mask is None else np.asarray(mask, bool))
        data = data.data
    return Cutout({name: make_band(data, wcs=wcs, unit=unit, mask=mask,
                                   uncertainty=obj.uncertainty, meta=meta, what=what,
                                   band=name)})


def _from_array_tuple(source, bands, what, options):
    array, wcs = source
    unit = options["unit"]
    if isinstance(array, u.Quantity):
        unit = resolve_unit(array.unit, unit, what)
        array = array.value
    if isinstance(wcs, fits.Header):
        header, wcs = wcs, None
    else:
        header, wcs = fits.Header(), celestial_wcs(wcs, what=what)
    if not isinstance(array, np.ma.MaskedArray):
        array = np.asarray(array)
    planes = planes_from_array(array, header, wcs=wcs, label="array", what=what)
    return cutout_from_planes(planes, bands=bands, unit=unit, what=what,
                              assign=options["assign"])


def _band_header(image, band):
    """
    The header of one band's SCI extension: its cards, with its WCS written afresh.

    Every WCS card of the band's header (standard, pre-standard ``PC001001``, DSS
    plate solution, distortion) is dropped and the band's parsed WCS written
    in its place, so no second description of the sky competes with it; the
    result is parsed back and must map the image as the band's WCS does (unless
    the WCS is plain, `~survey2survey.utils._wcs.is_plain_wcs`: linear, standard
    projection, no distortion, whose header round-trips by construction).
    """
    what = f"band {band!r}"
    wcs = celestial_wcs(image.wcs, what=what, copy=False)
    meta = image.meta if isinstance(image.meta, fits.Header) else fits.Header(image.meta)
    wcs_cards = wcs_to_header(wcs)
    replaced = {key for key in wcs_cards if key not in _COMMENTARY}
    # one pass over the cards (copied), rather than copy, strip, copy and update
    header = fits.Header([copy.copy(card) for card in meta.cards
                          if not is_wcs_keyword(card.keyword) and card.keyword not in replaced]
                         + [copy.copy(card) for card in wcs_cards.cards])
    if not is_plain_wcs(wcs) and not same_mapping(wcs, header, shape=image.shape):
        msg = (f"{what}: its WCS cannot be written as a FITS header that reads back as the "
               f"same sky mapping ({wcs.wcs.ctype[0]}, {wcs.wcs.ctype[1]}); refusing to write "
               f"a file that points elsewhere")
        raise InvalidWCSError(msg)
    return header


def _cutout_to_hdulist(cutout):
    """The `~astropy.io.fits.HDUList` that `write_cutout` writes for ``cutout``."""
    primary = fits.PrimaryHDU(header=strip_wcs_keywords(cutout.meta))
    primary.header[FORMAT_KEY] = (FORMAT_VERSION, "survey2survey multi-band cutout layout")
    primary.header["NBANDS"] = (len(cutout), "number of bands")
    primary.header["BANDS"] = (",".join(cutout.bands), "band of SCI extension EXTVER=1,2,...")
    primary.header["NEXTEND"] = (0, "number of extensions; fewer means truncated")
    hdus = [primary]
    for ver, band in enumerate(cutout.bands, start=1):
        image = cutout[band]
        header = _band_header(image, band)
        header["FILTER"] = band
        header["BUNIT"] = unit_to_string(image.unit)
        hdus.append(fits.ImageHDU(image.data, header=header, name="SCI", ver=ver))
        if image.mask is not None:
            hdus.append(fits.ImageHDU(np.asarray(image.mask, dtype=np.uint8),
                                      name="MASK", ver=ver))
        if image.uncertainty is not None:
            kind = {v: k for k, v in UNCERTAINTY_TYPES.items()}.get(type(image.uncertainty))
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
                uhdu.header["BUNIT"] = unit_to_string(uncertainty.unit)
            hdus.append(uhdu)
    primary.header["NEXTEND"] = len(hdus) - 1
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
        process creates while this one writes) raises
        `~survey2survey.exceptions.OutputExistsError` (a `FileExistsError`) and
        is left untouched.
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
    path = check_path(path, "path")
    overwrite = check_bool(overwrite, "overwrite")
    if not isinstance(cutout, Cutout):
        cutout = read_cutout(cutout)
    hdul = _cutout_to_hdulist(cutout)
    for hdu in extra_hdus:
        hdul.append(hdu)
    hdul[0].header["NEXTEND"] = len(hdul) - 1
    return atomic_write(path, lambda tmp: _write_verified(hdul, tmp), overwrite=overwrite)


def _write_verified(hdul, path):
    """
    ``hdul.writeto``, verified as astropy verifies; cards it cannot write as they are fixed.

    Cards copied unparsed from a file that was not verified on reading (a
    survey2survey file edited by hand) may be non-standard: astropy fixes what
    it can, with one warning naming the cards; what it cannot fix raises
    `~survey2survey.exceptions.InvalidDataError`.
    """
    try:
        hdul.writeto(path, overwrite=True)
        return
    except fits.VerifyError as exc:
        report = str(exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fits.verify.VerifyWarning)
            hdul.verify("silentfix+exception")
    except fits.VerifyError as exc:
        msg = f"cannot write {str(path)!r}: its headers have errors astropy cannot fix: {exc}"
        raise InvalidDataError(msg) from exc
    warnings.warn(f"astropy fixed non-standard FITS header card(s) to write the file: "
                  f"{' '.join(report.split())[:200]}", AstropyUserWarning, stacklevel=3)
    hdul.writeto(path, overwrite=True)
