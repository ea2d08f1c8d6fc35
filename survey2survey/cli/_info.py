# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``survey2survey info``: versions, devices, translators, surveys and pretrained models."""

import importlib.metadata
import platform
import sys

from ._common import Formatter, add_output_options, wrap

__all__ = ["add_parser", "run", "report"]

_DESCRIPTION = wrap("""
    Print what this installation can do: the versions of survey2survey, Python
    and the libraries it uses, the torch devices (GPUs with their memory), the
    registered translators (built-in and plug-ins), the surveys, and the
    pretrained models available, if any.
    """)

_PACKAGES = ("numpy", "scipy", "astropy", "torch", "reproject", "photutils", "dask",
             "distributed", "galsim", "safetensors", "matplotlib")


def add_parser(subparsers):
    """Add the ``info`` sub-command."""
    parser = subparsers.add_parser("info", help="versions, devices, translators and models",
                                   description=_DESCRIPTION, formatter_class=Formatter)
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _devices():
    import torch

    lines = []
    if torch.cuda.is_available():
        for k in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(k)
            lines.append(f"cuda:{k}  {props.name}, {props.total_memory / 2**30:.1f} GiB")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        lines.append("mps")
    lines.append(f"cpu  {torch.get_num_threads()} thread(s), torch {torch.__version__}"
                 f"{'' if torch.version.cuda is None else f', CUDA {torch.version.cuda}'}")
    return lines


def _pretrained():
    """
    Names of the pretrained models, from ``survey2survey.pretrained_models()`` when the
    package provides it (an empty list otherwise).
    """
    import survey2survey

    try:
        function = survey2survey.pretrained_models
    except AttributeError:
        return []
    models = function()
    if isinstance(models, dict):
        return [f"{name}  {description}" for name, description in models.items()]
    return [str(model) for model in models]


def report():
    """The lines ``survey2survey info`` prints."""
    from .. import __version__, conf
    from ..surveys import available_surveys
    from ..translators import available_translators, get_translator

    lines = [f"survey2survey {__version__}",
             f"python {platform.python_version()} ({sys.executable})", "", "packages:"]
    lines += [f"  {name:<12} {_version(name)}" for name in _PACKAGES]
    lines += ["", f"devices (default: {conf.default_device}):"]
    lines += [f"  {line}" for line in _devices()]
    lines += ["", "translators:"]
    for name in available_translators():
        cls = get_translator(name)
        lines.append(f"  {name:<12} {cls.__module__}.{cls.__qualname__}")
    lines += ["", "surveys:", "  " + ", ".join(available_surveys())]
    models = _pretrained()
    lines += ["", "pretrained models:"]
    lines += [f"  {model}" for model in models] or ["  none"]
    return lines


def run(args):
    """Print the report; returns 0."""
    print("\n".join(report()))
    return 0
