# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``survey2survey evaluate`` sub-command: metrics tables (ECSV) and figures
(PNG) for folders of cutouts in the pairs layout ``DIRECTORY/<set>/<name>.fits``.
"""

import logging
import textwrap
import warnings
from pathlib import Path

import numpy as np
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import InputError, MetricError, OutputExistsError, ShapeMismatchError, UnitError
from ..io import header_zero_point
from ..metrics import IMAGE_METRICS, PAIR_METRICS, evaluate
from ._common import Formatter, add_output_options, fits_files_in, fits_stem

__all__ = ["add_parser", "run", "load_sets", "KNOWN_SETS", "RESULT_PATTERNS"]

log = logging.getLogger("survey2survey.cli")

#: the files an evaluation writes (a re-run without --overwrite refuses them up front)
RESULT_PATTERNS = ("images.ecsv", "pairs.ecsv", "summary.ecsv", "profiles.ecsv", "kde_*.png",
                   "profiles.png", "grid_*.png")

#: Sub-folders looked for, in this order, when ``--sets`` is not given.
KNOWN_SETS = ("source", "target", "aecnn", "cyclegan", "source_truth", "target_truth")

_DESCRIPTION = """\
Compute the paper's metrics (pseudo-flux magnitude, mean S/N, radial profiles,
SSIM l/c/s/MSSIM, and truth-based scores when noise-free truths are present) for
one or more folders laid out as DIRECTORY/<set>/<name>.fits (sets such as
source, target, aecnn, cyclegan, source_truth, target_truth; files matched by
name). Each DIRECTORY is one dataset (e.g. validation/ and external/). Bands
are brought to one zero point with their MAGZERO cards and averaged into one
layer; sets on another grid are resampled onto the --grid set's grid. Writes
images.ecsv, pairs.ecsv, summary.ecsv, profiles.ecsv and PNG figures to OUTPUT,
and prints the summary table.

Sets with and without MAGZERO cannot be compared: 8-bit paper-mode
reconstructions (0-255 composites, S2SMODE = 'paper') beside calibrated
fluxes are refused, not converted; evaluate them separately (--sets).
Results of an earlier run in OUTPUT are refused before any work unless
--overwrite is given.
"""


def add_parser(subparsers):
    """Add the ``evaluate`` sub-command to an `argparse` sub-parser collection."""
    parser = subparsers.add_parser(
        "evaluate", help="metrics tables and figures for folders of cutouts",
        description=_DESCRIPTION, formatter_class=Formatter)
    parser.add_argument("directories", nargs="+", metavar="DIRECTORY",
                        help="folder(s) with <set>/<name>.fits sub-folders, one per dataset")
    parser.add_argument("-o", "--output", default="evaluation",
                        help="folder for the tables and figures (default: ./evaluation)")
    parser.add_argument("--sets", nargs="+", metavar="SET",
                        help=f"sub-folders to evaluate (default: those of {', '.join(KNOWN_SETS)} "
                             "that exist)")
    parser.add_argument("--reference", default="target",
                        help="set named second in the default SSIM pairs (default: target)")
    parser.add_argument("--pairs", nargs="+", metavar="A/B",
                        help="SSIM pairs to compare (default: every pair of non-truth sets)")
    parser.add_argument("--grid", default="source",
                        help="set whose pixel grid the others are resampled onto (default: "
                             "source)")
    parser.add_argument("--r-max", type=float, default=None,
                        help="aperture radius in pix (default: 75, or half the image side if "
                             "smaller)")
    parser.add_argument("--zero-point", type=float, default=30.0,
                        help="common zero point of the fluxes and magnitudes (default: 30)")
    parser.add_argument("--data-range", default="joint",
                        help="SSIM data range: a number, or 'joint' for the range of each "
                             "image pair (default)")
    parser.add_argument("--structure-constant", default="paper",
                        help="SSIM structure term: paper, wang or a number (default: paper)")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def _calibration(cutout):
    """``'calibrated'`` when every band states a zero point, else how the cutout is scaled."""
    headers = [cutout[band].meta for band in cutout.bands]
    if all(header_zero_point(header) is not None for header in headers):
        return "calibrated"
    modes = {str(h.get("S2SMODE", cutout.meta.get("S2SMODE", ""))) for h in headers}
    return "8-bit paper mode" if "paper" in modes else "no MAGZERO"


def _check_calibration(directory, kinds):
    """Refuse sets with and sets without zero points side by side: their fluxes differ."""
    if len(set(kinds.values())) <= 1:
        return
    calibrated = [s for s, kind in kinds.items() if kind == "calibrated"]
    others = {s: kind for s, kind in kinds.items() if kind != "calibrated"}
    described = ", ".join(f"{s!r} ({kind})" for s, kind in others.items())
    msg = (f"{str(directory)!r}: set(s) {described} have no MAGZERO zero point while "
           f"{', '.join(map(repr, calibrated))} hold calibrated fluxes; their magnitudes and "
           "SSIM cannot be compared, so nothing is converted: evaluate them separately "
           "(--sets), or translate in flux mode")
    raise UnitError(msg)


def _layer(cutout, zero_point):
    """Band average at a common zero point; masked pixels 0."""
    layers = []
    for band in cutout.bands:
        image = cutout[band]
        data = np.array(image.data, dtype=float)
        found = header_zero_point(image.meta)
        if found is not None:
            data *= 10.0 ** (0.4 * (zero_point - found))
        if image.mask is not None:
            data[np.asarray(image.mask, dtype=bool)] = 0.0
        layers.append(np.nan_to_num(data))
    return np.mean(layers, axis=0)


def load_sets(directory, sets=None, *, zero_point=30.0, grid="source"):
    """
    Read ``directory/<set>/<name>.fits`` into band-averaged image stacks.

    Parameters
    ----------
    directory : str or path
        The dataset folder.
    sets : sequence of str, optional
        Sub-folders to read (default: those of `KNOWN_SETS` present).
    zero_point : float, optional
        Every band is rescaled by ``10**(0.4 (zero_point - MAGZERO))`` when it has
        a ``MAGZERO`` card, so all sets share one flux scale.
    grid : str, optional
        Set whose grid the others are resampled onto (flux-conserving
        `survey2survey.alignment.align`) when their shapes differ.

    Returns
    -------
    names : list of str
        File stems present in every set, sorted.
    stacks : dict
        ``{set: (N, ny, nx) array}``.
    cutouts : dict
        ``{set: first Cutout}`` (for RGB display).

    Raises
    ------
    survey2survey.exceptions.InputError
        If the folder, a set or common file names are missing.
    survey2survey.exceptions.UnitError
        If some sets have ``MAGZERO`` zero points and others (8-bit paper-mode
        reconstructions, say) do not.
    """
    from ..io import read_cutout
    from ..utils._progress import progress_bar

    directory = Path(directory)
    if not directory.is_dir():
        msg = f"dataset folder {str(directory)!r} does not exist"
        raise InputError(msg)
    if sets is None:
        sets = [s for s in KNOWN_SETS if (directory / s).is_dir()]
        if not sets:
            msg = (f"{str(directory)!r} has none of the sub-folders {list(KNOWN_SETS)}; "
                   "pass --sets")
            raise InputError(msg)
    files = {}
    for name in sets:
        folder = directory / name
        if not folder.is_dir():
            msg = f"set {name!r} has no folder {str(folder)!r}"
            raise InputError(msg)
        files[name] = {}
        for path in fits_files_in(folder):
            stem = fits_stem(path.name)
            if stem in files[name]:
                msg = (f"set {name!r} of {str(directory)!r} holds two files for {stem!r}: "
                       f"{files[name][stem].name!r} and {path.name!r}; keep one")
                raise InputError(msg)
            files[name][stem] = path
    common = sorted(set.intersection(*(set(f) for f in files.values())))
    if not common:
        msg = f"the sets {list(sets)} of {str(directory)!r} share no file name"
        raise InputError(msg)
    missing = {name: sorted(set().union(*(set(f) for f in files.values())) - set(f))
               for name, f in files.items()}
    missing = {name: stems for name, stems in missing.items() if stems}
    if missing:
        detail = "; ".join(f"set {name!r} lacks {len(stems)} ({', '.join(stems[:5])}"
                           f"{', ...' if len(stems) > 5 else ''})"
                           for name, stems in missing.items())
        msg = (f"{str(directory)!r}: files missing from some sets are left out of the "
               f"evaluation, which uses the {len(common)} name(s) present in every set: {detail}")
        warnings.warn(msg, AstropyUserWarning, stacklevel=2)
    grid = grid if grid in sets else sets[0]
    stacks, cutouts = {}, {}
    grid_cutouts = {}
    kinds = {}
    bar = progress_bar(total=len(common) * len(sets), desc=f"reading {directory.name}",
                       unit="file")
    for name in [grid] + [s for s in sets if s != grid]:
        layers = []
        for k, stem in enumerate(common):
            cutout = read_cutout(files[name][stem])
            bar.update()
            kind = _calibration(cutout)
            if kinds.setdefault(name, kind) != kind:
                msg = (f"set {name!r} of {str(directory)!r} mixes files with and without "
                       f"MAGZERO (e.g. {str(files[name][stem])!r}: {kind})")
                raise UnitError(msg)
            if name == grid:
                grid_cutouts[stem] = cutout
            elif cutout.shape != grid_cutouts[stem].shape:
                from ..alignment import align

                cutout = align(cutout, grid_cutouts[stem])
            if k == 0:
                cutouts[name] = cutout
            layers.append(_layer(cutout, zero_point))
        stacks[name] = np.stack(layers)
    bar.close()
    _check_calibration(directory, kinds)
    return common, {s: stacks[s] for s in sets}, {s: cutouts[s] for s in sets}


def _save_figure(figure, path, overwrite):
    from ..utils._files import atomic_write

    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110),
                 overwrite=overwrite)
    return path


def _figures(report, loaded, output, overwrite):
    from matplotlib.figure import Figure

    from ..visualization import plot_comparison_grid, plot_metric_kde, plot_radial_profiles

    paths = []
    for table, metrics in ((report.images, IMAGE_METRICS), (report.pairs, PAIR_METRICS)):
        for metric in metrics:
            if not len(table) or not np.isfinite(np.asarray(table[metric], float)).any():
                continue
            figure = Figure(figsize=(5.5, 3.8), layout="constrained")
            plot_metric_kde(table, metric, ax=figure.add_subplot())
            paths.append(_save_figure(figure, output / f"kde_{metric}.png", overwrite))
    if report.profiles:
        figure = Figure(figsize=(5 * len(report.profiles), 3.8), layout="constrained")
        axes = figure.subplots(1, len(report.profiles), squeeze=False)[0]
        for ax, (dataset, profiles) in zip(axes, report.profiles.items(), strict=True):
            plot_radial_profiles(report.radius, profiles, ax=ax, title=dataset)
        paths.append(_save_figure(figure, output / "profiles.png", overwrite))
    for dataset, (_, stacks, _) in loaded.items():
        if "source" not in stacks:
            continue
        recs = {s: v for s, v in stacks.items()
                if s not in ("source", "target") and not s.endswith("_truth")}
        if not recs:
            continue
        figure = plot_comparison_grid(stacks["source"], recs, target=stacks.get("target"))
        paths.append(_save_figure(figure, output / f"grid_{dataset}.png", overwrite))
    return paths


def _number_or(value, words, option):
    if value in words:
        return value
    try:
        return float(value)
    except ValueError:
        msg = f"{option} must be a number or one of {list(words)}, got {value!r}"
        raise MetricError(msg) from None


def _check_output(output, overwrite):
    """Refuse, before any work, results of an earlier evaluation in ``output``."""
    if output.exists() and not output.is_dir():
        msg = f"--output {str(output)!r} exists and is not a folder"
        raise InputError(msg)
    found = sorted({p.name for pattern in RESULT_PATTERNS for p in output.glob(pattern)})
    if found and not overwrite:
        msg = (f"{str(output)!r} holds the results of an earlier evaluation "
               f"({', '.join(found[:4])}{', ...' if len(found) > 4 else ''}); pass "
               "--overwrite to replace them, or choose another --output folder")
        raise OutputExistsError(msg)


def run(args):
    """Run ``survey2survey evaluate`` for parsed ``args``; return the exit status."""
    output = Path(args.output)
    _check_output(output, args.overwrite)
    loaded, datasets, names = {}, {}, {}
    for directory in args.directories:
        dataset = Path(directory).resolve().name or "data"
        if dataset in loaded:
            msg = f"two DIRECTORY arguments share the dataset name {dataset!r}"
            raise InputError(msg)
        common, stacks, cutouts = load_sets(directory, args.sets, zero_point=args.zero_point,
                                            grid=args.grid)
        loaded[dataset] = (common, stacks, cutouts)
        datasets[dataset] = stacks
        names[dataset] = common
    shapes = {s.shape[1:] for _, stacks, _ in loaded.values() for s in stacks.values()}
    r_max = args.r_max
    if r_max is None:
        r_max = min(75.0, min(min(shape) for shape in shapes) / 2.0)
    data_range = _number_or(args.data_range, ("joint",), "--data-range")
    structure = _number_or(args.structure_constant, ("paper", "wang"), "--structure-constant")
    if len(shapes) > 1 and len(datasets) == 1:
        msg = f"image shapes differ: {sorted(shapes)}"
        raise ShapeMismatchError(msg)
    report = evaluate(datasets, pairs=args.pairs, reference=args.reference, names=names,
                      r_max=r_max, zero_point=args.zero_point, data_range=data_range,
                      structure_constant=structure)
    paths = report.write(output, overwrite=args.overwrite)
    if not args.no_figures:
        paths += _figures(report, loaded, output, args.overwrite)
    n_images = sum(len(c) for c, _, _ in loaded.values())
    print(textwrap.fill(
        f"The paper's metrics (Eqs. 6-10) on the band-mean layer in linear flux; SSIM "
        f"l/c/s/MSSIM with data range {data_range!r} and structure constant {structure!r}. "
        "This MSSIM is not the demo's, which compares an asinh-stretched layer.", width=88))
    report.summary.pprint(max_lines=-1, max_width=-1)
    log.info("%d image(s) in %d dataset(s); wrote %d file(s) to %s", n_images, len(loaded),
             len(paths), output)
    return 0
