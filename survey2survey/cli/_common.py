# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
What the sub-commands share: plain-text help from numpydoc docstrings, options
generated from Python signatures, logging, and input lists from files,
folders and globs.
"""

import argparse
import glob
import inspect
import json
import logging
import os
import re
import sys
import textwrap
from pathlib import Path

from ..exceptions import InputError, InvalidOptionError, OutputExistsError
from ..io.groups import FITS_SUFFIXES

__all__ = ["Formatter", "add_output_options", "plain", "docstring_parameters",
           "add_signature_options", "signature_values", "parse_value", "expand_inputs",
           "configure_logging", "check_output_folder", "require_inputs", "wrap",
           "FITS_PATTERNS"]

log = logging.getLogger("survey2survey.cli")

#: file-name patterns of the FITS files of a folder (matched case-insensitively)
FITS_PATTERNS = tuple(f"*{suffix}" for suffix in FITS_SUFFIXES)


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and epilogs as written (paragraphs, examples), defaults shown."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=min(100, _terminal_width()))

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS, True):
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default: %(default)s)"
        return text


def _terminal_width():
    try:
        return os.get_terminal_size().columns - 2
    except OSError:
        return 98


_ROLES = re.compile(r":[a-z]+:`~?([^`]+)`")
_LINK = re.compile(r"`~([\w.]+)`")
_REF = re.compile(r"`([^`]+)`")


def plain(text):
    """
    ``text`` without reStructuredText markup: roles, backticks and tildes dropped.

    Examples
    --------
    >>> from survey2survey.cli._common import plain
    >>> plain("a `~survey2survey.io.Cutout`, ``'gri'`` or :func:`numpy.ones`")
    "a Cutout, 'gri' or numpy.ones"
    """
    text = text.replace("``", "\x00")
    text = _ROLES.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = _REF.sub(lambda m: m.group(1), text)
    return text.replace("\x00", "")


def _is_section(lines, k):
    """Whether ``lines[k]`` is a numpydoc section title (underlined by dashes)."""
    return k + 1 < len(lines) and bool(lines[k].strip()) and set(lines[k + 1].strip()) == {"-"}


def docstring_parameters(obj):
    """
    ``{name: plain description}`` from the numpydoc Parameters section of ``obj``.

    Entries documenting several names (``overlap, blend : int``) apply to each.

    Examples
    --------
    >>> from survey2survey.cli._common import docstring_parameters
    >>> from survey2survey.datasets import save_pairs
    >>> docstring_parameters(save_pairs)["overwrite"]
    'Replace existing files (otherwise OutputExistsError).'
    """
    lines = (inspect.getdoc(obj) or "").splitlines()
    starts = [k for k in range(len(lines)) if _is_section(lines, k)
              and lines[k].strip() == "Parameters"]
    if not starts:
        return {}
    found, names, body = {}, [], []

    def flush():
        text = plain(" ".join(line.strip() for line in body)).strip()
        for name in names:
            found[name] = text

    for k in range(starts[0] + 2, len(lines)):
        line = lines[k]
        if _is_section(lines, k):
            break
        if line and not line.startswith(" "):
            flush()
            names = [n.strip().lstrip("*") for n in line.split(" : ")[0].split(",")]
            body = []
        else:
            body.append(line)
    flush()
    return found


def parse_value(text):
    """A command-line value as JSON (numbers, true/false/null, lists, objects), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def add_signature_options(parser, parameters, descriptions, *, title, skip=(), note=None):
    """
    Add ``--name-with-dashes`` options for Python parameters, default None (= Python's default).

    Parameters
    ----------
    parameters : dict of str to `inspect.Parameter`
        Python parameters; their defaults pick the option's type.
    descriptions : dict of str to str
        Plain help text by parameter name.
    title : str
        Argument-group title.
    skip : sequence of str
        Parameters not offered.
    note : callable, optional
        ``note(name)``: text appended to an option's help (e.g. which translators take it).

    Returns
    -------
    names : list of str
        The parameters added.
    """
    group = parser.add_argument_group(title)
    added = []
    for name, parameter in parameters.items():
        if name in skip or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        default = parameter.default
        flag = "--" + name.replace("_", "-")
        text = (descriptions.get(name, "") or name.replace("_", " ")).replace("%", "%%")
        extra = note(name) if note is not None else ""
        shown = ("" if default in (inspect.Parameter.empty, None)
                 else f" (default: {default!r})".replace("%", "%%"))
        kwargs = {"dest": f"param_{name}", "default": None, "help": text + shown + extra}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif isinstance(default, int):
            kwargs.update(type=int, metavar="N")
        elif isinstance(default, float):
            kwargs.update(type=float, metavar="X")
        elif isinstance(default, str):
            kwargs.update(metavar="TEXT")
        else:
            kwargs.update(type=parse_value, metavar="VALUE")
            kwargs["help"] += " (a number, text or JSON)"
        group.add_argument(flag, **kwargs)
        added.append(name)
    return added


def signature_values(args, names):
    """The options of `add_signature_options` that were given: ``{name: value}``."""
    return {name: getattr(args, f"param_{name}") for name in names
            if getattr(args, f"param_{name}", None) is not None}


def add_output_options(parser):
    """``--quiet`` and ``--verbose``, on every sub-command."""
    group = parser.add_argument_group("messages")
    group.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bars and no information messages, only warnings "
                            "and errors")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="debug messages, and the traceback of an unexpected error")


class _Messages(logging.Formatter):
    def format(self, record):
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {text}"
        if record.levelno >= logging.WARNING:
            return f"warning: {text}"
        return text


def configure_logging(quiet=False, verbose=False, *, stream=None):
    """
    Send survey2survey's log records (and Python warnings) to standard error.

    Returns
    -------
    restore : callable
        Undoes the configuration (the CLI is also called from Python).
    """
    import warnings

    logger = logging.getLogger("survey2survey")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_Messages())
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    saved = (logger.level, logger.propagate, warnings.showwarning)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False

    def showwarning(message, category, filename, lineno, file=None, line=None):
        logger.warning("%s", message)

    warnings.showwarning = showwarning

    def restore():
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        warnings.showwarning = saved[2]

    return restore


def _is_glob(text):
    return any(char in text for char in "*?[")


def expand_inputs(patterns, *, what="INPUT"):
    """
    FITS files from files, folders (their FITS files, sorted) and quoted globs, in order.

    Returns
    -------
    files : list of `pathlib.Path`
        Without repeats.
    unmatched : list of str
        Patterns and paths that gave no file (each is reported, the rest goes on).
    """
    files, unmatched, seen = [], [], set()
    for pattern in patterns:
        if _is_glob(pattern):
            found = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))
                     if Path(p).is_file()]
        elif Path(pattern).is_dir():
            found = sorted(p for p in Path(pattern).iterdir()
                           if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES))
        else:
            found = [Path(pattern)]  # a missing file is reported by the reader, by name
        if not found:
            unmatched.append(pattern)
        for path in found:
            key = os.path.abspath(path)
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files, unmatched


def check_output_folder(folder, *, overwrite, option="--overwrite", what="output folder"):
    """Refuse a non-empty ``folder`` unless ``overwrite``: nothing in it is replaced unasked."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        msg = f"{what} {str(folder)!r} exists and is not a folder"
        raise InvalidOptionError(msg)
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        names = sorted(p.name for p in folder.iterdir())
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        msg = (f"{what} {str(folder)!r} is not empty ({shown}); pass {option} to replace "
               "its files, or choose another folder")
        raise OutputExistsError(msg)
    return folder


def wrap(text):
    """Paragraphs of ``text`` dedented (for argparse descriptions)."""
    return textwrap.dedent(text).strip() + "\n"


def require_inputs(files, unmatched):
    """Raise when no input file is left."""
    if not files:
        msg = f"no input file: {', '.join(map(repr, unmatched))} matched nothing"
        raise InputError(msg)
