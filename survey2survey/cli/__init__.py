# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``survey2survey`` command line (also ``python -m survey2survey``).

Sub-commands: ``simulate``, ``fit``, ``transform``, ``evaluate``, ``demo`` and
``info``; ``survey2survey COMMAND --help`` describes each.
"""

import argparse
import os
import sys
import traceback

from .. import __version__
from ..exceptions import (
    InvalidOptionError,
    Survey2SurveyError,
    UnknownSurveyError,
    UnknownTranslatorError,
)

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE"]

#: every input done
EXIT_OK = 0
#: some inputs failed (listed), or the command could not do its work
EXIT_FAILED = 1
#: bad command line: unknown option, missing argument, invalid value
EXIT_USAGE = 2

_USAGE_ERRORS = (InvalidOptionError, UnknownTranslatorError, UnknownSurveyError)

_DESCRIPTION = """\
Translate galaxy cutouts from one sky survey into the look of another (SDSS ->
DES) with neural networks, keeping FITS, WCS and calibrated flux intact.

A typical session:
  survey2survey simulate 1000 -o pairs/            simulated SDSS/DES pairs
  survey2survey fit pairs/ -o sdss2des.s2s         fit a model, save it
  survey2survey transform sdss2des.s2s sdss/ -o des_like/
  survey2survey evaluate heldout/ -o scores/       the paper's metrics
"""

_EPILOG = """\
exit status: 0 all done, 1 some inputs failed (listed in a summary) or the
command could not do its work (one line says why), 2 bad command line.
'survey2survey COMMAND --help' describes each command.
"""


def build_parser():
    """The argument parser of the ``survey2survey`` command, with every sub-command."""
    from . import _demo, _evaluate, _fit, _info, _simulate, _transform
    from ._common import Formatter

    parser = argparse.ArgumentParser(prog="survey2survey", description=_DESCRIPTION,
                                     epilog=_EPILOG, formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=f"survey2survey {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in (_simulate, _fit, _transform, _evaluate, _demo, _info):
        module.add_parser(subparsers)
    return parser


def _fail(command, message, status):
    print(f"survey2survey {command}: error: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """
    Run the ``survey2survey`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        `EXIT_OK` (0) when everything was done, `EXIT_FAILED` (1) when some
        inputs failed or a survey2survey error stopped the command (one line on
        standard error says why), `EXIT_USAGE` (2) for a bad command line.
        Without arguments the help is printed (status 0).

    Examples
    --------
    >>> from survey2survey.cli import main
    >>> main(["transform"])  # doctest: +SKIP
    2
    """
    from .. import conf
    from ._common import configure_logging

    parser = build_parser()
    argv = sys.argv[1:] if argv is None else [os.fspath(a) for a in argv]
    if not argv:
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    # under torchrun only the first process speaks
    quiet = args.quiet or int(os.environ.get("RANK", "0") or 0) > 0
    restore = configure_logging(quiet, args.verbose)
    try:
        with conf.set_temp("show_progress", False if quiet else conf.show_progress):
            return int(args.func(args) or EXIT_OK)
    except _USAGE_ERRORS as exc:
        return _fail(args.command, exc, EXIT_USAGE)
    except (Survey2SurveyError, OSError) as exc:
        if args.verbose:
            traceback.print_exc()
        return _fail(args.command, exc, EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(args.command, "interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with --verbose
        if args.verbose:
            traceback.print_exc()
        return _fail(args.command, f"unexpected {type(exc).__name__}: {exc} (run with "
                                   "--verbose for the traceback, and please report it)",
                     EXIT_FAILED)
    finally:
        restore()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
