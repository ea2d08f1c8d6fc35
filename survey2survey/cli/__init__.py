# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The ``survey2survey`` command line: ``survey2survey demo`` and ``survey2survey evaluate``."""

import argparse
import sys

from .. import __version__
from ..exceptions import Survey2SurveyError

__all__ = ["main", "build_parser"]


def build_parser():
    """The argument parser of the ``survey2survey`` command, with every sub-command."""
    from . import _demo, _evaluate

    parser = argparse.ArgumentParser(
        prog="survey2survey",
        description="Translate galaxy cutouts from one sky survey into the look of another.",
    )
    parser.add_argument("--version", action="version", version=f"survey2survey {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _demo.add_parser(subparsers)
    _evaluate.add_parser(subparsers)
    return parser


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
        Exit status: 0 on success, 1 on a survey2survey error (its message is
        printed to standard error), 2 on bad arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Survey2SurveyError as exc:
        print(f"survey2survey {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
