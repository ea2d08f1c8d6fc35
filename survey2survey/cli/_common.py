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
           "docstring_types", "states_default", "add_signature_options", "signature_values",
           "parse_value", "expand_inputs", "hint_options", "group_failures",
           "configure_logging", "check_output_folder", "require_inputs", "wrap",
           "FITS_PATTERNS", "fits_files_in", "fits_stem", "is_fits_name"]

log = logging.getLogger("survey2survey.cli")

#: file-name patterns of the FITS files of a folder (matched case-insensitively)
FITS_PATTERNS = tuple(f"*{suffix}" for suffix in FITS_SUFFIXES)


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and epilogs as written (paragraphs, examples), defaults shown."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=min(100, _terminal_width()))

    def _get_help_string(self, action):
        text = action.help or ""
        if ("%(default)" in text or action.default in (None, False, argparse.SUPPRESS, True)
                or states_default(text)):
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default: %(default)s)"
        return text


_STATES_DEFAULT = re.compile(r"\(default\b|\bdefault[:)]|\bdefault \d|^default\b|[.;]\s+default\b",
                            re.IGNORECASE)


def states_default(text):
    """
    Whether an option's help ``text`` says its default already (then none is appended).

    Examples
    --------
    >>> from survey2survey.cli._common import states_default
    >>> states_default("training epochs (default: 20)"), states_default("'auto' (default) runs")
    (True, True)
    >>> states_default("set named second in the default SSIM pairs")
    False
    """
    return bool(_STATES_DEFAULT.search(text))


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


def _docstring_entries(obj):
    """``{name: (type, plain description)}`` from the numpydoc Parameters section of ``obj``."""
    lines = (inspect.getdoc(obj) or "").splitlines()
    starts = [k for k in range(len(lines)) if _is_section(lines, k)
              and lines[k].strip() == "Parameters"]
    if not starts:
        return {}
    found, names, kind, body = {}, [], "", []

    def flush():
        text = plain(" ".join(line.strip() for line in body)).strip()
        for name in names:
            found[name] = (kind, text)

    for k in range(starts[0] + 2, len(lines)):
        line = lines[k]
        if _is_section(lines, k):
            break
        if line and not line.startswith(" "):
            flush()
            head, _, kind = line.partition(" : ")
            names = [n.strip().lstrip("*") for n in head.split(",")]
            kind, body = plain(kind.strip()), []
        else:
            body.append(line)
    flush()
    return found


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
    return {name: text for name, (_, text) in _docstring_entries(obj).items()}


def docstring_types(obj):
    """
    ``{name: type}`` from the numpydoc Parameters section of ``obj`` (plain text).

    Examples
    --------
    >>> from survey2survey.cli._common import docstring_types
    >>> from survey2survey.datasets import make_survey_pairs
    >>> docstring_types(make_survey_pairs)["processes"]
    'int, optional'
    """
    return {name: kind for name, (kind, _) in _docstring_entries(obj).items()}


_SIMPLE_TYPES = {"int": (int, "N"), "float": (float, "X"), "str": (None, "TEXT")}


def _option_type(default, kind):
    """``(argparse type, metavar)`` from a Python default, else from a documented type."""
    if isinstance(default, bool):
        return "bool", None
    for python_type, (parse, metavar) in (
            (int, (int, "N")), (float, (float, "X")), (str, (None, "TEXT"))):
        if isinstance(default, python_type):
            return parse, metavar
    # a default of None: what the docstring says the parameter takes
    words = {w.strip() for w in re.split(r",| or ", kind or "")} - {"", "optional", "None"}
    if words == {"bool"}:
        return "bool", None
    if words and words <= {"int", "float"}:
        return _SIMPLE_TYPES["float" if "float" in words else "int"]
    if words == {"str"}:
        return _SIMPLE_TYPES["str"]
    return parse_value, "VALUE"


def parse_value(text):
    """A command-line value as JSON (numbers, true/false/null, lists, objects), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def add_signature_options(parser, parameters, descriptions, *, title, skip=(), note=None,
                          types=None):
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
    types : dict of str to str, optional
        Documented types by parameter name (`docstring_types`): they give the type of an
        option whose Python default is None (``int, optional``: an integer option).

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
        shown = ("" if default in (inspect.Parameter.empty, None) or states_default(text)
                 else f" (default: {default!r})".replace("%", "%%"))
        kwargs = {"dest": f"param_{name}", "default": None, "help": text + shown + extra}
        parse, metavar = _option_type(default, (types or {}).get(name))
        if parse == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = metavar
            if parse is not None:
                kwargs["type"] = parse
            if parse is parse_value:
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


def is_fits_name(name):
    """Whether a file name has a FITS suffix (`FITS_PATTERNS`), in any case (``X.FITS``)."""
    return name.lower().endswith(tuple(pattern[1:] for pattern in FITS_PATTERNS) + FITS_SUFFIXES)


def fits_stem(name):
    """``name`` without its FITS suffix (``x.fits.gz`` -> ``x``, ``X.FITS`` -> ``X``)."""
    lower = name.lower()
    for suffix in sorted((pattern[1:] for pattern in FITS_PATTERNS), key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def fits_files_in(folder):
    """The FITS files of ``folder`` (suffix in any case: ``X.FITS`` too), sorted."""
    return sorted(p for p in folder.iterdir() if is_fits_name(p.name) and p.is_file())


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
            found = fits_files_in(Path(pattern))
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


_PYTHON_HINT = re.compile(r"\b(pass|or|with) ([a-z][a-z0-9_]*)=True\b")
#: ``skip_existing=True (survey2survey transform --skip-existing)``: both spellings
_BOTH_HINTS = re.compile(r"\b([a-z][a-z0-9_]*)=True \((?:survey2survey [a-z]+ )?(--[a-z0-9-]+)\)")


def hint_options(message, args):
    """
    ``message`` with Python hints turned into the command's options: ``pass resample=True``
    becomes ``pass --resample`` where the command has a ``--resample`` option.

    Examples
    --------
    >>> import argparse
    >>> from survey2survey.cli._common import hint_options
    >>> hint_options("regrid it or pass resample=True", argparse.Namespace(resample=False))
    'regrid it or pass --resample'
    >>> hint_options("pass overwrite=True (--overwrite) to replace", argparse.Namespace())
    'pass --overwrite to replace'
    """
    def both(match):
        name, flag = match.groups()
        return flag if flag == "--" + name.replace("_", "-") else match.group(0)

    message = _BOTH_HINTS.sub(both, message)

    def replace(match):
        name = match.group(2)
        flag = "--" + name.replace("_", "-")
        known = hasattr(args, name) or hasattr(args, f"param_{name}")
        if not known or flag in message:  # not an option here, or the message names it
            return match.group(0)
        return f"{match.group(1)} {flag}"

    return _PYTHON_HINT.sub(replace, message)


def group_failures(failures, *, shown=3):
    """
    Lines listing failed inputs, one group per distinct reason with its count.

    Parameters
    ----------
    failures : list of (str, str)
        ``(input name, reason)``; reasons are grouped by what they say besides
        the input's name (a leading ``input 3 ('name'):`` or the name itself).
    shown : int, optional
        Input names listed per group (then how many more).

    Returns
    -------
    lines : list of str

    Examples
    --------
    >>> from survey2survey.cli._common import group_failures
    >>> failures = [(f"f{k}.fits", f"input {k} ('f{k}.fits'): wrong pixel scale")
    ...             for k in range(5)]
    >>> failures.append(("x.fits", "cannot read 'x.fits': not FITS"))
    >>> print("\\n".join(group_failures(failures)))
      5 inputs: wrong pixel scale
        f0.fits, f1.fits, f2.fits and 2 more
      cannot read 'x.fits': not FITS
    """
    groups = {}
    for name, reason in failures:
        message = re.sub(r"^input \d+ \((.*?)\): ", "", reason)
        message = message.replace(repr(name), "INPUT").replace(name, "INPUT")
        groups.setdefault(message, []).append((name, reason))
    lines = []
    for message, members in groups.items():
        if len(members) == 1:
            lines.append(f"  {members[0][1]}")
            continue
        names = [name for name, _ in members]
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        lines += [f"  {len(names)} inputs: {message}", f"    {', '.join(names[:shown])}{more}"]
    return lines
