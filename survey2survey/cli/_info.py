# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``survey2survey info``: versions, devices, translators, surveys and pretrained models; with
FILE arguments, what the reader sees in each file.
"""

import importlib.metadata
import platform
import sys

from ._common import Formatter, add_output_options, wrap

__all__ = ["add_parser", "run", "report", "file_report"]

_DESCRIPTION = wrap("""
    Print what this installation can do: the versions of survey2survey, Python
    and the libraries it uses, the torch devices (GPUs with their memory), the
    registered translators (built-in and plug-ins), the surveys, and the
    pretrained models available, if any.

    With FILE arguments: what survey2survey reads from each FITS file instead
    (the layout, survey, bands, unit, zero point, PSF FWHM when a card states
    it, the WCS and the sky footprint), as read_cutout sees it. A file that
    cannot be read is reported with the reason (exit status 1).
    """)

_PACKAGES = ("numpy", "scipy", "astropy", "torch", "reproject", "photutils", "dask",
             "distributed", "galsim", "safetensors", "matplotlib")


def add_parser(subparsers):
    """Add the ``info`` sub-command."""
    parser = subparsers.add_parser("info", help="versions, devices, translators and models; "
                                                "or what the reader sees in FITS files",
                                   description=_DESCRIPTION, formatter_class=Formatter)
    parser.add_argument("files", metavar="FILE", nargs="*",
                        help="FITS files to describe (folders and quoted globs too)")
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


#: Cards that state a band's PSF FWHM in arcsec.
_PSF_KEYS = ("PSFFWHM", "PSF_FWHM", "FWHM")


def _band_lines(band, image):
    import numpy as np

    from ..io import header_zero_point
    from ..utils._wcs import pixel_scale_arcsec

    meta = image.meta
    zero_point = header_zero_point(meta)
    psf = next((f"{float(meta[k]):.3g} arcsec ({k})" for k in _PSF_KEYS
                if isinstance(meta.get(k), (int, float)) and not isinstance(meta.get(k), bool)),
               "no PSF card")
    wcs = image.wcs
    ny, nx = image.shape
    ra, dec = wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    x = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
    y = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    cra, cdec = wcs.pixel_to_world_values(x, y)
    scale = pixel_scale_arcsec(wcs)
    distortion = " + SIP" if wcs.sip is not None else ""
    corners = ", ".join(f"({a:.5f}, {d:+.5f})" for a, d in zip(cra, cdec, strict=True))
    masked = 0 if image.mask is None else int(np.count_nonzero(image.mask))
    return [
        f"  band {band}: {nx} x {ny} pixels, {image.data.dtype}, unit "
        f"{image.unit if str(image.unit) else 'none (no BUNIT)'}, "
        f"zero point {'none' if zero_point is None else f'{zero_point:.4f} (AB)'}",
        f"    PSF FWHM: {psf}; masked pixels: {masked}"
        f"{'; uncertainty' if image.uncertainty is not None else ''}",
        f"    WCS: {'/'.join(wcs.wcs.ctype)}{distortion}, {scale:.4f} arcsec/pixel, "
        f"centre (RA, Dec) = ({float(ra):.6f}, {float(dec):+.6f}) deg",
        f"    footprint: {nx * scale / 60:.3f} x {ny * scale / 60:.3f} arcmin, corners "
        f"(RA, Dec) {corners}",
    ]


def file_report(path):
    """The lines ``survey2survey info FILE`` prints for one file (raises if unreadable)."""
    from ..io import file_layout, read_cutout

    layout = file_layout(path)
    cutout = read_cutout(path)
    survey = str(cutout.meta.get("SURVEY", "")).strip() or "not stated"
    lines = [f"{path}", f"  layout: {layout}; survey: {survey}; bands: "
                        f"{', '.join(cutout.bands)}"]
    for band in cutout.bands:
        lines += _band_lines(band, cutout[band])
    return lines


def _files_report(patterns):
    """Print the report of each file; returns 0, or 1 when some could not be read."""
    import logging

    from ..exceptions import Survey2SurveyError
    from ._common import expand_inputs

    log = logging.getLogger("survey2survey.cli")
    files, unmatched = expand_inputs(patterns, what="FILE")
    failed = len(unmatched)
    for pattern in unmatched:
        log.error("%r matches no file", pattern)
    for k, path in enumerate(files):
        try:
            lines = file_report(path)
        except (Survey2SurveyError, OSError) as exc:
            failed += 1
            lines = [f"{path}", f"  cannot be read: {exc}"]
        print(("\n" if k else "") + "\n".join(lines), flush=True)
    return 1 if failed else 0


def run(args):
    """Print the report (or the files'); returns 0, 1 when a file could not be read."""
    # 'survey2survey info ... | head': the command line's main stops quietly (status 141)
    if args.files:
        return _files_report(args.files)
    print("\n".join(report()), flush=True)
    return 0
