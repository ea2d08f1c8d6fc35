# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``survey2survey transform``: translate FITS files with a saved model into an output folder."""

import logging
from pathlib import Path

from ..exceptions import InvalidOptionError, MissingDependencyError
from ._common import (
    Formatter,
    add_output_options,
    expand_inputs,
    group_failures,
    hint_options,
    require_inputs,
    wrap,
)

__all__ = ["add_parser", "run", "input_groups"]

log = logging.getLogger("survey2survey.cli")

_DESCRIPTION = wrap("""
    Translate FITS cutouts with a model file written by 'survey2survey fit' (or
    Survey2Survey.save) into OUTPUT_DIR, one file per input, named like its
    input: in the target survey's flux unit (MAGZERO card), on the input's
    pixel grid and WCS, masked where the input was, with provenance cards.

    Each INPUT is a FITS file (.fits, .fit, .fts, also gzip/bzip2-compressed
    or fpacked: .fits.gz, .fits.bz2, .fits.fz; any case), a folder (its FITS
    files) or a quoted glob ('sdss/**/*.fits'). Files are read, translated and
    written in batches; reading and writing overlap with the network.

    Per-band files of one field are one input: SDSS frame files
    (frame-{band}-{run}-{camcol}-{field}.fits.bz2) are grouped by run, camcol
    and field, and the output is named frame-gri-{run}-{camcol}-{field}.fits;
    other per-band files are grouped with --group and a file-name pattern
    holding {band} ('*_{band}.fits'), or with --group sky by their sky
    position (single-band files of different bands centred on the same sky).
    Bands on different pixel grids (SDSS frames are offset by up to ~12
    pixels) are registered onto the r band's grid (else the middle band's),
    flux-conserving, before translation. A whole frame is translated in
    overlapping tiles (the model's tile_size; --tile-size to choose), on the
    frame's grid.

    Restartable: every output is written to a temporary name and published in
    one step, so a killed run leaves no partial file. Run the same command
    with --skip-existing to continue it: finished outputs are kept and only
    the missing ones are translated. Without --skip-existing or --overwrite,
    existing outputs are refused before any work. An output never replaces an
    input file.

    A file that cannot be read or translated is reported and skipped; the run
    goes on, and the summary at the end lists every failed input.

    At scale, run on a dask cluster: --scheduler ADDRESS (a running
    dask.distributed scheduler) or --workers N (a local cluster of N worker
    processes). Each worker loads the model once and, on a machine with GPUs,
    pins one of them. Needs dask.distributed (pip install
    "survey2survey[distributed]").
    """)

_EPILOG = wrap("""
    exit status: 0 every input translated (or already there), 1 some inputs
    failed (listed), 2 bad command line.

    examples:
      survey2survey transform sdss2des.s2s sdss/ -o des_like/
      survey2survey transform sdss-des-aecnn 'frame-*-002583-2-0136.fits.bz2' -o out/
      survey2survey transform sdss-des-aecnn 'cutouts/*.fits' --group '*_{band}.fits' -o out/
      survey2survey transform sdss2des.s2s 'tiles/*/*.fits' -o out/ --skip-existing
      survey2survey transform sdss2des.s2s sdss/ -o out/ --scheduler tcp://10.0.0.5:8786
    """)


def add_parser(subparsers):
    """Add the ``transform`` sub-command."""
    parser = subparsers.add_parser(
        "transform", help="translate FITS files with a model file into a folder",
        description=_DESCRIPTION, epilog=_EPILOG, formatter_class=Formatter)
    parser.add_argument("model", metavar="MODEL",
                        help="model file (.s2s) or the name of a pretrained model "
                             "(see 'survey2survey info'), e.g. sdss-des-aecnn")
    parser.add_argument("inputs", metavar="INPUT", nargs="+",
                        help="FITS file, folder of FITS files, or quoted glob")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUTPUT_DIR",
                        help="folder for the translated files (created if needed)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--skip-existing", action="store_true",
                          help="keep outputs that exist (continue an interrupted run)")
    existing.add_argument("--overwrite", action="store_true",
                          help="replace outputs that exist")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="files read, translated and written together")
    parser.add_argument("--prefetch", type=int, default=2, metavar="N",
                        help="batches read ahead while the network works; 0 runs everything "
                             "one step after the other")
    parser.add_argument("--uncertainty", action="store_true",
                        help="add the model's uncertainty (ensemble spread or MC dropout) as "
                             "UNCERT extensions")
    parser.add_argument("--n-samples", type=int, default=16, metavar="N",
                        help="MC-dropout samples for --uncertainty with one translator")
    parser.add_argument("--resample", action="store_true",
                        help="resample inputs whose pixel scale is not the source survey's "
                             "(flux-conserving) instead of refusing them; the output is on the "
                             "resampled grid")
    parser.add_argument("--input-psf", type=_psf_value, metavar="FWHM",
                        help="PSF-aware models: the inputs' PSF FWHM in arcsec where their "
                             "headers state none (SDSS frames: the psField seeing), or "
                             "'estimate' to fit it to the stars of each band")
    parser.add_argument("--target-psf", type=_psf_value, metavar="FWHM",
                        help="PSF-aware models: the output's PSF FWHM in arcsec, or a FITS "
                             "file of the target-survey data to compare with (its PSFFWHM "
                             "cards); default: the target survey's median")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                        help="the network's precision (default: the model's; 'auto': bf16 "
                             "where the hardware runs it fast, else fp32)")
    parser.add_argument("--group", metavar="PATTERN",
                        help="group per-band files into one multi-band input by a file-name "
                             "pattern with one {band} placeholder, e.g. '*_{band}.fits', or "
                             "'sky': single-band files of different bands centred on the same "
                             "sky (SDSS frame files are grouped without it)")
    parser.add_argument("--no-group", action="store_true",
                        help="translate every file on its own (no grouping of SDSS frames)")
    parser.add_argument("--tile-size", type=int, metavar="N",
                        help="translate large images in overlapping tiles of N x N pixels "
                             "(default: the model's setting)")
    parser.add_argument("--device", metavar="DEVICE",
                        help="torch device (cpu, cuda, cuda:1, ...; default: the package "
                             "setting, 'auto' = cuda, then mps, then cpu)")
    scale = parser.add_argument_group("dask")
    where = scale.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a dask.distributed scheduler, e.g. tcp://host:8786")
    where.add_argument("--workers", type=int, metavar="N",
                       help="start a local dask cluster of N worker processes")
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def _cluster(args):
    """``(scheduler, close)`` for --scheduler / --workers; ``(None, nothing)`` otherwise."""
    if args.scheduler is None and args.workers is None:
        return None, lambda: None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        msg = ('--scheduler and --workers need dask.distributed: '
               'pip install "survey2survey[distributed]"')
        raise MissingDependencyError(msg) from None
    if args.scheduler is not None:
        if "://" not in args.scheduler:
            msg = f"--scheduler takes an address such as tcp://host:8786, got {args.scheduler!r}"
            raise InvalidOptionError(msg)
        try:
            client = Client(args.scheduler, timeout="20s")
        except OSError as exc:
            msg = f"cannot reach the dask scheduler at {args.scheduler}: {exc}"
            raise InvalidOptionError(msg) from None
        return client, client.close
    if args.workers < 1:
        msg = f"--workers must be at least 1, got {args.workers}"
        raise InvalidOptionError(msg)
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)

    def close():
        client.close()
        cluster.close()

    return client, close


def _model_file(model):
    """A model file, or the installed file of a pretrained model named ``model``."""
    from ..estimator.pretrained import ALIASES, pretrained_models, pretrained_path

    key = model.strip().lower()
    if not Path(model).exists() and (key in pretrained_models() or key in ALIASES):
        return pretrained_path(model)
    return model


#: What to do about a single-band file given to a multi-band model, on the command line.
_GROUP_HINT = ("; give the files of one field's bands together: SDSS frame files "
               "(frame-{band}-{run}-{camcol}-{field}.fits.bz2) are grouped by name, other "
               "per-band files with --group and a pattern such as '*_{band}.fits'")


#: How the reader's hint for Python callers begins (survey2survey.io's MULTI_BAND_HINT).
_PYTHON_HINT = "; to pass one multi-band cutout made of single-band images"


def _psf_value(text):
    """A PSF option: a FWHM in arcsec, 'estimate', or a FITS file (kept as a path)."""
    try:
        return float(text)
    except ValueError:
        return text


def _cli_reason(reason):
    """A failure reason with the command-line way to give several bands, where it applies."""
    if _PYTHON_HINT in reason:  # the reader's hint, for Python callers
        return reason.split(_PYTHON_HINT)[0] + _GROUP_HINT
    if "has no band(s)" in reason or "holds bands" in reason:
        return reason + _GROUP_HINT
    return reason


def input_groups(files, *, pattern=None, grouping=True):
    """
    The inputs of a run: per-band files of one field as one `~survey2survey.io.BandGroup`.

    Logs each group formed; a --group pattern that groups nothing is reported.
    """
    from ..io import BandGroup, group_band_files

    if not grouping:
        if pattern is not None:
            msg = "--group and --no-group exclude each other"
            raise InvalidOptionError(msg)
        return list(files)
    items = group_band_files(files, pattern=pattern)
    groups = [item for item in items if isinstance(item, BandGroup)]
    for group in groups:
        log.info("%s: bands %s from %d files", group.stem, "".join(group), len(group))
    if pattern is not None and not groups:
        log.warning("--group %r grouped no files (no two files differ only in {band})",
                    pattern)
    return items


def run(args):
    """Translate; returns 0, or 1 when some inputs failed."""
    from ..estimator import Survey2Survey, transform_many

    files, unmatched = expand_inputs(args.inputs)
    for pattern in unmatched:
        log.warning("%r matches no file", pattern)
    require_inputs(files, unmatched)
    items = input_groups(files, pattern=args.group, grouping=not args.no_group)
    output_dir = Path(args.output_dir)
    model_file = _model_file(args.model)
    scheduler, close = _cluster(args)
    failures = []
    try:
        # locally the model is loaded here, once; on a cluster each worker loads the file
        model = model_file if scheduler is not None else Survey2Survey.load(
            model_file, device=args.device)
        if args.tile_size is not None:
            if scheduler is not None:
                msg = "--tile-size is not passed to dask workers; save a model with tile_size="
                raise InvalidOptionError(msg)
            model.set_params(tile_size=args.tile_size)
        extra = {"uncertainty": True, "n_samples": args.n_samples} if args.uncertainty else {}
        if args.resample:
            extra["resample"] = True
        for key in ("input_psf", "target_psf", "precision"):
            if getattr(args, key) is not None:
                extra[key] = getattr(args, key)
        paths = transform_many(model, items, output_dir=output_dir,
                               batch_size=args.batch_size, overwrite=args.overwrite,
                               skip_existing=args.skip_existing, scheduler=scheduler,
                               prefetch=args.prefetch, device=args.device,
                               on_error=lambda index, reason: failures.append(
                                   (str(getattr(items[index], "stem", items[index])),
                                    hint_options(_cli_reason(reason), args))),
                               **extra)
    finally:
        close()
    failed = len(failures) + len(unmatched)
    log.info("%d of %d input(s) translated into %s", len(paths), len(items), output_dir)
    if failed:
        lines = group_failures(failures)  # 120 files with one problem: one line and a count
        lines += [f"  {pattern!r}: matches no file" for pattern in unmatched]
        log.error("%d input(s) failed:\n%s", failed, "\n".join(lines))
        return 1
    return 0
