# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Opening FITS files for `~survey2survey.io.read_cutout`: complete, fixed, or refused.

- gzip and bzip2 files are decompressed here, in full, so that a truncated
  stream is an error (astropy stops quietly at the last complete HDU of a
  truncated ``.fits.gz``);
- astropy's "File may have been truncated" warning is an error;
- a primary ``NEXTEND`` card larger than the number of extensions found means
  the file was cut at an HDU boundary;
- header problems that astropy can fix (``output_verify='fix'`` level: a
  non-standard card such as a DSS plate's ``SKEW``) are fixed, with one
  `~astropy.utils.exceptions.AstropyUserWarning` naming the cards; only
  problems astropy cannot fix make the file unreadable.
"""

import bz2
import gzip
import io
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import CorruptFileError, InputError
from ..utils._validation import check_regular_file

__all__ = ["open_fits", "truncated_error", "written_by_survey2survey", "verify_on_failure",
           "OWN_FORMAT_KEY"]

_CARD_IN_ERROR = re.compile(r"Card (?:keyword )?'([^']*)'")
_INVALID_KEYWORD = "The following header keyword is invalid"
_TRUNCATED = "truncated"


def truncated_error(what, detail):
    """The `CorruptFileError` raised for a file that ends too early."""
    return CorruptFileError(f"{what} could not be read as FITS: it is truncated ({detail})")


#: the largest FITS file (decompressed) or HDU data a cutout may declare, in bytes;
#: a header declaring more, or a compressed file expanding to more, is refused before
#: anything of that size is allocated
MAX_FITS_BYTES = 4 * 2**30


def _too_large(what, detail):
    msg = (f"{what} is refused: {detail}, over the {MAX_FITS_BYTES / 2**30:g} GiB a cutout may "
           "hold (survey2survey.io._open.MAX_FITS_BYTES); cut it with extract_cutout or "
           "astropy's section access first")
    return CorruptFileError(msg)


def _decompressed(path, what):
    """The decompressed bytes of a gzip or bzip2 file, or None for anything else."""
    with open(path, "rb") as stream:
        magic = stream.read(3)
    if magic[:2] == b"\x1f\x8b":
        opener, kind = gzip.open, "gzip"
    elif magic == b"BZh":
        opener, kind = bz2.open, "bzip2"
    else:
        return None
    try:
        with opener(path, "rb") as stream:
            chunks, size = [], 0
            while chunk := stream.read(2**24):
                size += len(chunk)
                if size > MAX_FITS_BYTES:
                    raise _too_large(what, f"its {kind} stream expands to more than "
                                           f"{MAX_FITS_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except EOFError as exc:
        raise truncated_error(what, f"the {kind} stream ends early: {exc}") from exc
    except (OSError, zlib.error, ValueError) as exc:
        msg = f"{what} could not be read as FITS: corrupt {kind} stream ({exc})"
        raise CorruptFileError(msg) from exc


def _fixable_cards(caught):
    """Cards named by astropy's parse-time warnings about invalid header keywords."""
    cards = []
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, AstropyUserWarning) and text.startswith(_INVALID_KEYWORD):
            lines = text.splitlines()
            card = lines[1].split()[0] if len(lines) > 1 and lines[1].split() else text
            cards.append(card)
    return cards


def _rewrite_cards(hdul, names):
    """Replace each unparsable card ``name`` by a valid one holding the value it meant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        for hdu in hdul:
            for name in names:
                if name not in hdu.header:
                    continue
                index = hdu.header.index(name)
                text = hdu.header.cards[index].image[8:].lstrip("= ").split("/")[0].strip()
                try:
                    value = float(text.replace("D", "E"))
                except ValueError:
                    value = text.strip("'").strip()
                del hdu.header[index]
                hdu.header.insert(index, (name, value))


def _verify(hdul, what):
    """Fix what astropy can fix in the headers; return the cards fixed. Raise if unfixable."""
    try:
        hdul.verify("exception")
        return []
    except fits.VerifyError as exc:
        report = str(exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VerifyWarning)
            hdul.verify("silentfix+exception")
    except fits.VerifyError as exc:
        msg = f"{what} could not be read as FITS: its headers have errors astropy cannot fix: {exc}"
        raise CorruptFileError(msg) from exc
    cards = _CARD_IN_ERROR.findall(report)
    return cards or [" ".join(report.split())[:200]]


#: the primary-header card of the files `~survey2survey.io.write_cutout` writes
OWN_FORMAT_KEY = "S2SFMT"


def written_by_survey2survey(hdul):
    """Whether ``hdul`` is in the layout `~survey2survey.io.write_cutout` writes (verified)."""
    return len(hdul) > 1 and OWN_FORMAT_KEY in hdul[0].header


def verify_on_failure(hdul, what, exc):
    """
    Raise the error for ``exc`` raised while reading an unverified file ``hdul``.

    Its headers are verified now: a `CorruptFileError` names a card astropy cannot
    fix, else ``exc`` is re-raised (a card astropy can fix was not the cause either).
    """
    if isinstance(exc, fits.VerifyError) or not isinstance(exc, CorruptFileError):
        _verify(hdul, what)
    raise exc


def open_fits(path, what):
    """
    Open ``path`` as a fully read `~astropy.io.fits.HDUList` (the caller closes it).

    Raises `~survey2survey.exceptions.InputError` for a missing path or a
    directory, and `~survey2survey.exceptions.CorruptFileError` (saying
    "truncated" when it is) for anything that is not a complete, readable FITS
    file.
    """
    path = Path(path)
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{str(path)!r} is a directory, not a FITS file"
        raise InputError(msg)
    check_regular_file(path, "FITS input")  # a FIFO or /dev/zero would never end
    raw = _decompressed(path, what)
    hdul = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hdul = fits.open(io.BytesIO(raw) if raw is not None else path, memmap=False,
                             lazy_load_hdus=True)
            for index, hdu in enumerate(hdul):
                _check_declared_size(hdu, index, what)
                hdu.data  # noqa: B018 - force reading so truncated files fail here
            failure = None
        except CorruptFileError:
            if hdul is not None:
                hdul.close()
            raise
        except (OSError, ValueError, TypeError, IndexError, EOFError, MemoryError) as exc:
            failure = exc
    truncation = [w for w in caught if issubclass(w.category, AstropyUserWarning)
                  and _TRUNCATED in str(w.message)]
    if failure is not None or truncation:
        if hdul is not None:
            hdul.close()
        if failure is not None:  # astropy may fail on a huge declared size before we see it
            _check_headers(raw if raw is not None else path, what)
        if truncation:
            raise truncated_error(what, str(truncation[0].message)) from failure
        msg = f"{what} could not be read as FITS: {failure}"
        raise CorruptFileError(msg) from failure
    try:
        unparsable = _fixable_cards(caught)
        _rewrite_cards(hdul, unparsable)
        # survey2survey's own files were verified when written: their cards are checked
        # only if reading them fails (`verify_on_failure`), which saves parsing every card
        cards = unparsable + ([] if written_by_survey2survey(hdul) else _verify(hdul, what))
        _check_extension_count(hdul, what)
    except CorruptFileError:
        hdul.close()
        raise
    if cards:
        cards = list(dict.fromkeys(cards))
        msg = (f"{what}: astropy fixed non-standard FITS header card(s) "
               f"{', '.join(map(repr, cards))} to read the file")
        warnings.warn(msg, AstropyUserWarning, stacklevel=4)
    for warning in caught:  # anything else astropy or numpy said while reading
        if not (issubclass(warning.category, (VerifyWarning, ResourceWarning))
                or str(warning.message).startswith(_INVALID_KEYWORD)):
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return hdul


def _declared_bytes(header, prefix=""):
    """Bytes of data ``header`` declares (``NAXISn`` x ``|BITPIX|``/8, or Z-cards), or 0."""
    try:
        naxis = int(header.get(f"{prefix}NAXIS", 0))
        bitpix = abs(int(header.get(f"{prefix}BITPIX", 8)))
        if naxis <= 0:
            return 0
        size = bitpix // 8 or 1
        for k in range(1, naxis + 1):
            size *= max(int(header.get(f"{prefix}NAXIS{k}", 0)), 0)
        return size
    except (TypeError, ValueError):
        return 0  # astropy reports malformed cards itself


def _check_declared_size(hdu, index, what):
    """Refuse an HDU whose header declares more data than `MAX_FITS_BYTES`, before reading it."""
    header = hdu.header
    bscale = header.get("BSCALE")
    if (isinstance(bscale, (int, float)) and not isinstance(bscale, bool)
            and (bscale == 0 or not np.isfinite(bscale))) and header.get("NAXIS", 0):
        msg = (f"{what} is refused: HDU {index} has BSCALE = {bscale!r}, which would make every "
               "pixel value 0 or NaN (physical = BZERO + BSCALE x stored); the file is corrupt")
        raise CorruptFileError(msg)
    declared = _declared_bytes(header)
    if header.get("ZIMAGE") is True:  # a tile-compressed image: its uncompressed size
        declared = max(declared, _declared_bytes(header, "Z"))
    if declared > MAX_FITS_BYTES:
        raise _too_large(what, f"HDU {index} declares {declared} bytes of data "
                               f"({declared / 2**30:.3g} GiB)")


def _check_headers(source, what, *, max_hdus=1000):
    """
    Walk the headers of a file astropy could not open and raise the size refusal if one
    declares more than the cap (else return: the caller's error stands). Astropy can fail
    on a huge declared size (seeking past the end) before an HDU is handed over.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with stream:
        offset = 0
        for index in range(max_hdus):
            stream.seek(offset)
            try:
                header = fits.Header.fromfile(stream)
            except Exception:  # noqa: BLE001 - no further header
                return
            declared = _declared_bytes(header) + max(int(header.get("PCOUNT", 0) or 0), 0)
            compressed = _declared_bytes(header, "Z") if header.get("ZIMAGE") is True else 0
            if max(declared, compressed) > MAX_FITS_BYTES:
                size = max(declared, compressed)
                raise _too_large(what, f"HDU {index} declares {size} bytes of data "
                                       f"({size / 2**30:.3g} GiB)")
            offset = stream.tell() + -(-declared // 2880) * 2880


def _check_extension_count(hdul, what):
    """A primary ``NEXTEND`` card promising more extensions than found means truncation."""
    nextend = hdul[0].header.get("NEXTEND")
    if isinstance(nextend, int) and not isinstance(nextend, bool) and nextend > len(hdul) - 1:
        raise truncated_error(what, f"NEXTEND={nextend} but only {len(hdul) - 1} extension(s) "
                                    f"follow the primary HDU")
