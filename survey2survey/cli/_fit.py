# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``survey2survey fit``: fit a Survey2Survey estimator on pairs and save it to one file."""

import inspect
import logging
import os
from pathlib import Path

from ..exceptions import InputError, InvalidOptionError, OutputExistsError
from ._common import (
    Formatter,
    add_output_options,
    add_signature_options,
    docstring_parameters,
    docstring_types,
    expand_inputs,
    signature_values,
    wrap,
)

__all__ = ["add_parser", "run", "translator_parameters"]

log = logging.getLogger("survey2survey.cli")

#: estimator parameters the command sets itself (or that make no sense from the shell)
_ESTIMATOR_SKIP = ("translator", "warm_start")
#: translator parameters the estimator sets (channels from the bands; seed and device its own),
#: and epochs, given to fit (so that --resume may extend a run: the checkpoint keeps the params)
_TRANSLATOR_SKIP = ("in_channels", "out_channels", "seed", "device", "epochs")

_DESCRIPTION = wrap("""
    Fit a Survey2Survey estimator (flux encoding and translator) on pairs of
    cutouts of the same objects seen by two surveys, and save it to one model
    file (weights and configuration, no pickle).

    SOURCE is a pairs folder (source/ and target/ sub-folders, as written by
    'survey2survey simulate'), or a folder or quoted glob of source-survey FITS
    files; then TARGET gives the target-survey files of the same objects, in
    the same order (any grid: each is aligned onto its source). Quote globs so
    that the shell leaves them alone: 'sdss/*.fits'.

    Every option below mirrors a Python parameter of the same name (dashes for
    underscores): the estimator's (Survey2Survey) and the translator's.
    Options of another translator than --translator are refused.

    Training can be resumed: with --checkpoint-dir a checkpoint is written
    every epoch (--checkpoint-every); after an interruption run the same
    command with --resume to continue where it stopped.

    Across processes or GPUs, start the command with torchrun (one process per
    GPU, or several on a CPU), e.g.
        torchrun --nproc-per-node 4 -m survey2survey fit pairs/ -o model.s2s
    Each global batch (--batch-size) is split between the processes and their
    gradients averaged (NCCL on GPUs, gloo on CPUs); only the first process
    writes the checkpoints, the messages and the model file.
    """)

_EPILOG = wrap("""
    examples:
      survey2survey fit pairs/ -o sdss2des.s2s --epochs 50
      survey2survey fit 'sdss/*.fits' 'des/*.fits' -o model.s2s --translator cyclegan
      survey2survey fit pairs/ -o model.s2s --checkpoint-dir ckpt/ --resume
    """)


def translator_parameters():
    """
    ``{name: (inspect.Parameter, [translators])}``: the constructor options of every
    registered translator (its class and the bases it passes ``**kwargs`` to).
    """
    from ..translators import available_translators, get_translator

    found = {}
    for name in available_translators():
        for key, parameter in _class_parameters(get_translator(name)).items():
            found.setdefault(key, (parameter, []))[1].append(name)
    return found


def _class_parameters(cls):
    parameters = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        signature = inspect.signature(klass.__init__)
        for key, parameter in list(signature.parameters.items())[1:]:
            if parameter.kind is parameter.KEYWORD_ONLY or parameter.kind is (
                    parameter.POSITIONAL_OR_KEYWORD):
                parameters.setdefault(key, parameter)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return parameters


def _translator_descriptions(read=docstring_parameters):
    from ..translators import Translator, available_translators, get_translator

    found = read(Translator)
    for name in available_translators():
        for key, text in read(get_translator(name)).items():
            found.setdefault(key, text)
    return found


def add_parser(subparsers):
    """Add the ``fit`` sub-command."""
    from ..estimator import Survey2Survey
    from ..translators import available_translators

    parser = subparsers.add_parser(
        "fit", help="fit an estimator on pairs and save it to a model file",
        description=_DESCRIPTION, epilog=_EPILOG, formatter_class=Formatter)
    parser.add_argument("source", metavar="SOURCE",
                        help="pairs folder, or folder or quoted glob of source-survey FITS files")
    parser.add_argument("target", metavar="TARGET", nargs="?",
                        help="folder or quoted glob of target-survey FITS files (with SOURCE "
                             "files)")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL",
                        help="model file to write, e.g. sdss2des.s2s")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing MODEL")
    names = available_translators()
    parser.add_argument("--translator", default="aecnn", metavar="NAME",
                        help=f"registered translator: {', '.join(names)}")
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, metavar="N",
                          help="epochs to train, in total (with --resume: including those "
                               "done); default: the translator's (20 for aecnn)")
    training.add_argument("--validation", type=float, default=0.1, metavar="FRACTION",
                          help="fraction of the pairs held out for the validation loss")
    training.add_argument("--checkpoint-dir", metavar="DIR",
                          help="write a checkpoint there every --checkpoint-every epochs")
    training.add_argument("--resume", action="store_true",
                          help="continue from the checkpoint in --checkpoint-dir")
    training.add_argument("--distributed", action="store_true",
                          help="train across the processes started by torchrun (automatic "
                               "when torchrun started more than one)")
    descriptions = docstring_parameters(Survey2Survey)
    parameters = dict(inspect.signature(Survey2Survey.__init__).parameters)
    parameters.pop("self")
    estimator_names = add_signature_options(parser, parameters, descriptions,
                                            title="estimator options (Survey2Survey)",
                                            skip=_ESTIMATOR_SKIP,
                                            types=docstring_types(Survey2Survey))
    translator_options = translator_parameters()

    def note(key):
        users = translator_options[key][1]
        return "" if len(users) == len(names) else f" [{', '.join(users)} only]"

    translator_names = add_signature_options(
        parser, {k: p for k, (p, _) in translator_options.items()},
        _translator_descriptions(), title="translator options", skip=_TRANSLATOR_SKIP
        + tuple(estimator_names), note=note, types=_translator_descriptions(docstring_types))
    add_output_options(parser)
    parser.set_defaults(func=run, estimator_names=estimator_names,
                        translator_names=translator_names)
    return parser


def _data(argument):
    """A folder as it is (fit reads folders and pairs folders), a glob as its sorted files."""
    if Path(argument).is_dir():
        return str(argument)
    files = [f for f in expand_inputs([argument])[0] if f.is_file()]
    if not files:
        msg = f"{argument!r} is neither a folder nor a file, and as a glob matches no file"
        raise InputError(msg)
    return [str(f) for f in files]


def run(args):
    """Fit and save; returns the exit status."""
    from ..estimator import Survey2Survey
    from ..translators import get_translator
    from ..utils._validation import check_int, check_number

    estimator_params = signature_values(args, args.estimator_names)
    translator_params = signature_values(args, args.translator_names)
    accepted = set(_class_parameters(get_translator(args.translator)))
    foreign = sorted(set(translator_params) - accepted)
    if foreign:
        options = ", ".join("--" + name.replace("_", "-") for name in foreign)
        msg = f"{options}: not an option of the {args.translator!r} translator"
        raise InvalidOptionError(msg)
    check_int(args.epochs, "--epochs", minimum=1, allow_none=True)
    check_number(args.validation, "--validation", minimum=0, maximum=1, exclusive_maximum=True)
    if args.resume and not args.checkpoint_dir:
        msg = "--resume continues the run saved in --checkpoint-dir: give --checkpoint-dir"
        raise InvalidOptionError(msg)
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    distributed = args.distributed or world > 1
    if distributed:
        import torch

        if torch.cuda.is_available():  # 'cuda' is then this process's own GPU from the start
            local = int(os.environ.get("LOCAL_RANK", "0") or 0)
            torch.cuda.set_device(local % torch.cuda.device_count())
    output = Path(args.output)
    if output.exists() and not args.overwrite:
        msg = f"model file {str(output)!r} exists; pass --overwrite to replace it"
        raise OutputExistsError(msg)
    if output.is_dir():
        msg = f"--output {str(output)!r} is a folder; give a file name such as model.s2s"
        raise InvalidOptionError(msg)
    source = _data(args.source)
    target = None if args.target is None else _data(args.target)
    estimator = Survey2Survey(args.translator, **estimator_params, **translator_params)
    log.info("fitting %r on %s%s", estimator, args.source,
             f" and {args.target}" if args.target else "")
    estimator.fit(source, target, validation=args.validation, epochs=args.epochs,
                  checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                  distributed=distributed)
    if rank != 0:
        return 0
    for k, history in enumerate(estimator.history_):
        member = f" (member {k})" if len(estimator.history_) > 1 else ""
        losses = history["loss"]
        log.info("loss%s %.5g -> %.5g over %d epoch(s)", member, losses[0], losses[-1],
                 len(losses))
    estimator.save(output, overwrite=args.overwrite)
    log.info("wrote %s", output)
    return 0
