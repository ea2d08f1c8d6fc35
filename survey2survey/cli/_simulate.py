# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``survey2survey simulate``: simulated SDSS/DES pairs written to a pairs folder."""

import inspect
import logging

from ._common import (
    Formatter,
    add_output_options,
    add_signature_options,
    check_output_folder,
    docstring_parameters,
    docstring_types,
    signature_values,
    wrap,
)

__all__ = ["add_parser", "run"]

log = logging.getLogger("survey2survey.cli")

_DESCRIPTION = wrap("""
    Simulate N pairs of cutouts of the same galaxies seen by two surveys
    (GalSim: bulge + disk galaxies with star-forming knots, neighbours and
    stars; each survey's pixel scale, PSF, sky and noise, calibrated flux unit
    and a real TAN WCS) and write them to OUTPUT_DIR as FITS files:
    source/, target/, source_truth/ and target_truth/ (noise-free), one file
    per pair, with the rendered objects in a TRUTH table. 'survey2survey fit
    OUTPUT_DIR' trains on them.

    The same seed gives the same pairs whatever the number of processes, and
    the first M pairs of N are the pairs of a run of M. Every option mirrors a
    parameter of survey2survey.datasets.make_survey_pairs. An output folder
    that is not empty is refused unless --overwrite is given.
    """)

_EPILOG = wrap("""
    examples:
      survey2survey simulate 1000 -o pairs/
      survey2survey simulate 200 -o external/ --split external --seed 1
      survey2survey simulate 500 -o small/ --source-size 64 --bands r
    """)


def add_parser(subparsers):
    """Add the ``simulate`` sub-command."""
    from ..datasets import make_survey_pairs

    parser = subparsers.add_parser(
        "simulate", help="simulate SDSS/DES pairs into a pairs folder",
        description=_DESCRIPTION, epilog=_EPILOG, formatter_class=Formatter)
    parser.add_argument("n", type=int, metavar="N", help="number of pairs")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUTPUT_DIR",
                        help="pairs folder to write")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a folder that is not empty, replacing its files")
    parameters = dict(inspect.signature(make_survey_pairs).parameters)
    names = add_signature_options(parser, parameters, docstring_parameters(make_survey_pairs),
                                  title="simulation options", skip=("n", "progress"),
                                  types=docstring_types(make_survey_pairs))
    add_output_options(parser)
    parser.set_defaults(func=run, simulation_names=names)
    return parser


def run(args):
    """Simulate and save; returns 0."""
    from ..datasets import make_survey_pairs, save_pairs
    from ..utils._progress import progress_bar
    from ..utils._validation import check_int

    n = check_int(args.n, "N", minimum=1)
    folder = check_output_folder(args.output_dir, overwrite=args.overwrite)
    params = signature_values(args, args.simulation_names)
    log.info("simulating %d pair(s)...", n)
    pairs = make_survey_pairs(n, **params)
    for pair in progress_bar(pairs, desc="writing", unit="pair"):
        save_pairs([pair], folder, overwrite=args.overwrite)
    log.info("wrote %d pair(s) to %s", len(pairs), folder)
    return 0
