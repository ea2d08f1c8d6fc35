# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one validator of option values and the one band parser.

Every invalid option value in the package is reported by a function of this
module and raises `~survey2survey.exceptions.InvalidOptionError` (a
`ValueError`), naming the parameter, the value and what was expected.
"""

import numbers
import os
import stat
from pathlib import Path

import numpy as np

from ..exceptions import BandMismatchError, InputError, InvalidOptionError

__all__ = ["check_choice", "check_int", "check_number", "check_bool", "check_path",
           "check_regular_file", "check_not_an_input", "parse_bands"]


def check_choice(value, choices, name):
    """
    Return ``value`` if it is one of ``choices``, else raise `InvalidOptionError`.

    Strings are compared exactly (case matters: options are lower case).

    Examples
    --------
    >>> from survey2survey.utils._validation import check_choice
    >>> check_choice("flux", ("flux", "paper"), "mode")
    'flux'
    >>> check_choice("Flux", ("flux", "paper"), "mode")
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidOptionError: mode must be one of 'flux', 'paper'; got 'Flux'
    """
    choices = tuple(choices)
    try:
        valid = value in choices
    except TypeError:  # an unhashable value compared with a set, say
        valid = False
    if isinstance(value, bool) and not any(isinstance(c, bool) for c in choices):
        valid = False  # True == 1: a flag is not a number
    if not valid:
        msg = f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        raise InvalidOptionError(msg)
    return value


def check_int(value, name, *, minimum=None, maximum=None, allow_none=False):
    """
    ``value`` as an `int` within ``[minimum, maximum]``; booleans and non-integers are refused.

    Examples
    --------
    >>> from survey2survey.utils._validation import check_int
    >>> check_int(3, "epochs", minimum=1)
    3
    >>> check_int(0, "epochs", minimum=1)
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidOptionError: epochs must be an integer >= 1; got 0
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            msg = f"{name} must be an integer{_bounds(minimum, maximum)}; got {value!r}"
            raise InvalidOptionError(msg)
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        msg = f"{name} must be an integer{_bounds(minimum, maximum)}; got {value!r}"
        raise InvalidOptionError(msg)
    return value


def check_number(value, name, *, minimum=None, maximum=None, exclusive_minimum=False,
                 exclusive_maximum=False, allow_none=False):
    """
    ``value`` as a finite `float` within the given bounds.

    Examples
    --------
    >>> from survey2survey.utils._validation import check_number
    >>> check_number(0.5, "min_coverage", minimum=0, maximum=1)
    0.5
    >>> check_number("x", "min_coverage", minimum=0, maximum=1)
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidOptionError: min_coverage must be a number in [0, 1]; got 'x'
    """
    if value is None and allow_none:
        return None
    bounds = _interval(minimum, maximum, exclusive_minimum, exclusive_maximum)
    msg = f"{name} must be a number{bounds}; got {value!r}"
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InvalidOptionError(msg)
    value = float(value)
    if not np.isfinite(value):
        raise InvalidOptionError(msg)
    if minimum is not None and (value < minimum or (exclusive_minimum and value == minimum)):
        raise InvalidOptionError(msg)
    if maximum is not None and (value > maximum or (exclusive_maximum and value == maximum)):
        raise InvalidOptionError(msg)
    return value


def check_bool(value, name, *, allow_none=False):
    """
    ``value`` if it is a `bool` (numpy booleans too), else raise `InvalidOptionError`.

    Strings are refused, whatever they say: ``"False"`` and ``"no"`` are truthy
    in Python, so accepting them would, for ``overwrite``, replace a file the
    caller meant to keep.

    Examples
    --------
    >>> from survey2survey.utils._validation import check_bool
    >>> check_bool(False, "overwrite")
    False
    >>> check_bool("False", "overwrite")
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidOptionError: overwrite must be True or False; got 'False' (str)
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    msg = f"{name} must be True or False; got {value!r} ({type(value).__name__})"
    raise InvalidOptionError(msg)


def check_path(value, name, *, allow_none=False):
    """
    ``value`` as a `pathlib.Path` if it is a `str` or path-like naming a file; else raise.

    Bytes paths, numbers and empty strings are refused with
    `InvalidOptionError` naming the parameter.

    Examples
    --------
    >>> from survey2survey.utils._validation import check_path
    >>> check_path("out.fits", "output")
    PosixPath('out.fits')
    >>> check_path(123, "output")
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidOptionError: output must be a file path ...; got 123 (int)
    """
    if value is None and allow_none:
        return None
    path = value
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
    if not isinstance(path, str) or not path or "\0" in path:
        msg = f"{name} must be a file path (str or os.PathLike); got {value!r} " \
              f"({type(value).__name__})"
        raise InvalidOptionError(msg)
    return Path(path)


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path, what, *, error=InputError):
    """
    ``path`` if it names an existing regular file (links followed); else raise ``error``.

    A FIFO, a device (``/dev/zero``), a socket or a directory is refused
    *before* it is opened: reading one would block forever or never end.

    Raises
    ------
    error (default `~survey2survey.exceptions.InputError`)
        Naming ``what``, the path and what it is instead.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        msg = f"no such file: {what} {os.fspath(path)!r}"
        raise error(msg) from None
    except OSError as exc:
        msg = f"{what} {os.fspath(path)!r} cannot be read: {exc.strerror or exc}"
        raise error(msg) from None
    if not stat.S_ISREG(mode):
        msg = f"{what} {os.fspath(path)!r} is {_kind(mode)}, not a regular file"
        raise error(msg)
    return path


def _same_file(a, b):
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_not_an_input(output, inputs, name="output"):
    """
    Refuse an ``output`` path that is (resolves to, or is a link of) one of ``inputs``.

    Whatever ``overwrite`` says, an output never replaces the file it was read from.

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If ``output`` is one of the path inputs.
    """
    for item in inputs:
        if isinstance(item, (str, os.PathLike)) and not isinstance(item, bytes) \
                and _same_file(output, item):
            msg = (f"{name}={os.fspath(output)!r} is the input file {os.fspath(item)!r}: "
                   "an output never replaces its input, even with overwrite=True; "
                   "choose another output path")
            raise InvalidOptionError(msg)


def _bounds(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def _interval(minimum, maximum, exclusive_minimum, exclusive_maximum):
    if minimum is None and maximum is None:
        return ""
    if maximum is None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if minimum is None:
        return f" {'<' if exclusive_maximum else '<='} {maximum}"
    return (f" in {'(' if exclusive_minimum else '['}{minimum}, "
            f"{maximum}{')' if exclusive_maximum else ']'}")


def parse_bands(bands, *, what="bands"):
    """
    Band names as a tuple of non-empty strings, from ``'gri'``, ``'g,r,i'`` or a sequence.

    A string without commas or spaces names one band per character (``'gri'``,
    the astronomers' habit); with commas or white space it is split on them
    (``'g, r, i'``, ``'HSC-G HSC-R'``). Every name must be distinct.

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        If no band is named, a name is empty or not a string, or a band appears twice.

    Examples
    --------
    >>> from survey2survey.utils._validation import parse_bands
    >>> parse_bands("gri"), parse_bands("g, r, i"), parse_bands(["g", "r"])
    (('g', 'r', 'i'), ('g', 'r', 'i'), ('g', 'r'))
    """
    if isinstance(bands, str):
        text = bands.strip()
        if "," in text or any(c.isspace() for c in text):
            names = [part.strip() for part in text.replace(",", " ").split()]
        else:
            names = list(text)
    elif isinstance(bands, (bytes, numbers.Number)) or bands is None:
        msg = f"{what} must be band names ('gri', 'g,r,i' or a list of names); got {bands!r}"
        raise BandMismatchError(msg)
    else:
        try:
            names = list(bands)
        except TypeError:
            msg = f"{what} must be band names ('gri', 'g,r,i' or a list of names); got {bands!r}"
            raise BandMismatchError(msg) from None
    if not names:
        msg = f"{what} names no band; got {bands!r}"
        raise BandMismatchError(msg)
    if not all(isinstance(name, str) and name.strip() for name in names):
        msg = f"{what} must be non-empty band name strings; got {bands!r}"
        raise BandMismatchError(msg)
    names = tuple(name.strip() for name in names)
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        msg = f"{what} names band(s) {repeated} more than once; got {bands!r}"
        raise BandMismatchError(msg)
    return names
