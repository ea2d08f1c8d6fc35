# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``survey2survey`` command line (also ``python -m survey2survey``).

Sub-commands: ``simulate``, ``fit``, ``transform``, ``evaluate``, ``demo`` and
``info``; ``survey2survey COMMAND --help`` describes each.
"""

import argparse
import importlib
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

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_PIPE"]

#: every input done
EXIT_OK = 0
#: some inputs failed (listed), or the command could not do its work
EXIT_FAILED = 1
#: bad command line: unknown option, missing argument, invalid value
EXIT_USAGE = 2
#: standard output closed by its reader (``| head``): 128 + SIGPIPE, as the shell reports
EXIT_PIPE = 141

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


#: sub-commands in the order of the help: (module, one-line help). A sub-command's module
#: (and what it imports: torch, the estimator) is only loaded when that command is used, so
#: that ``survey2survey --help`` and ``--version`` answer at once.
_COMMANDS = {
    "simulate": ("_simulate", "simulate SDSS/DES pairs into a pairs folder"),
    "fit": ("_fit", "fit an estimator on pairs and save it to a model file"),
    "transform": ("_transform", "translate FITS files with a model file into a folder"),
    "evaluate": ("_evaluate", "metrics tables and figures for folders of cutouts"),
    "demo": ("_demo", "the pretrained model and a short fine-tune on simulated pairs"),
    "info": ("_info", "versions, devices, translators and models; or what the reader sees "
                      "in FITS files"),
}


class _LazySubcommands(argparse._SubParsersAction):
    """
    Sub-commands whose options are added when the command is parsed: each starts as an
    empty parser listed with its one-line help, and its module's ``add_parser`` fills it
    in (with its description, epilog and options) on first use.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy = {}

    def add_lazy(self, name, module, help):
        """List ``name`` with ``help``; ``module.add_parser`` builds it when it is used."""
        self._lazy[name] = [module, super().add_parser(name, help=help)]

    def add_parser(self, name, **kwargs):
        # called by a module's add_parser: fill in the listed parser rather than a new one
        entry = self._lazy.get(name)
        if entry is None or entry[0] is None:
            return super().add_parser(name, **kwargs)
        entry[0] = None
        parser = entry[1]
        kwargs.pop("help", None)
        kwargs.setdefault("prog", parser.prog)
        for key, value in kwargs.items():
            setattr(parser, key, value)
        return parser

    def build(self, name):
        """Add the options of sub-command ``name`` (once)."""
        entry = self._lazy.get(name)
        if entry is not None and entry[0] is not None:
            importlib.import_module(f"{__name__}.{entry[0]}").add_parser(self)

    def __call__(self, parser, namespace, values, option_string=None):
        self.build(values[0])
        super().__call__(parser, namespace, values, option_string)


def build_parser(*, lazy=False):
    """
    The argument parser of the ``survey2survey`` command, with every sub-command.

    Parameters
    ----------
    lazy : bool, optional
        Add a sub-command's options only when the command is parsed (what the
        command does, so that ``--help`` does not import torch). By default
        every sub-command is complete.
    """
    from ._common import Formatter

    parser = argparse.ArgumentParser(prog="survey2survey", description=_DESCRIPTION,
                                     epilog=_EPILOG, formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=f"survey2survey {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                                       action=_LazySubcommands)
    for name, (module, text) in _COMMANDS.items():
        subparsers.add_lazy(name, module, text)
        if not lazy:
            subparsers.build(name)
    return parser


def _fail(command, message, status):
    print(f"survey2survey {command}: error: {message}", file=sys.stderr)
    return status


def _closed_pipe():
    """
    The reader of standard output went away (``survey2survey info | head``): no message and
    no traceback, only the status of a process ended by SIGPIPE, as other shell tools.
    """
    try:  # the interpreter's last flush of sys.stdout must not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # a stream without a file (tests)
        pass
    return EXIT_PIPE


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
        Without arguments the help is printed (status 0). When the reader of
        standard output closes the pipe early (``| head``), the command stops
        without a message with status 141 (as one ended by SIGPIPE).

    Examples
    --------
    >>> from survey2survey.cli import main
    >>> main(["transform"])  # doctest: +SKIP
    2
    """
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
    except BrokenPipeError:
        return _closed_pipe()
    return status


def _main(argv):
    from .. import conf
    from ._common import configure_logging, hint_options

    parser = build_parser(lazy=True)
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
        return _fail(args.command, hint_options(str(exc), args), EXIT_USAGE)
    except BrokenPipeError:
        raise
    except (Survey2SurveyError, OSError) as exc:
        if args.verbose:
            traceback.print_exc()
        return _fail(args.command, hint_options(str(exc), args), EXIT_FAILED)
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
