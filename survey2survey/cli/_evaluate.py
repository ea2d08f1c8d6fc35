# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``survey2survey evaluate`` sub-command: metrics tables (ECSV) and figures
(PNG) for folders of cutouts in the pairs layout ``DIRECTORY/<set>/<name>.fits``.
"""

import sys
from pathlib import Path

import numpy as np

from ..exceptions import InputError, MetricError, ShapeMismatchError
from ..io import header_zero_point
from ..metrics import IMAGE_METRICS, PAIR_METRICS, evaluate

__all__ = ["add_parser", "run", "load_sets", "KNOWN_SETS"]

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
images.ecsv, pairs.ecsv, summary.ecsv, profiles.ecsv and PNG figures to OUTPUT.
"""


def add_parser(subparsers):
    """Add the ``evaluate`` sub-command to an `argparse` sub-parser collection."""
    parser = subparsers.add_parser(
        "evaluate", help="metrics tables and figures for folders of cutouts",
        description=_DESCRIPTION)
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
    parser.set_defaults(func=run)
    return parser


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
    """
    from ..io import read_cutout

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
        files[name] = {p.stem: p for p in folder.glob("*.fits")}
    common = sorted(set.intersection(*(set(f) for f in files.values())))
    if not common:
        msg = f"the sets {list(sets)} of {str(directory)!r} share no file name"
        raise InputError(msg)
    grid = grid if grid in sets else sets[0]
    stacks, cutouts = {}, {}
    grid_cutouts = {}
    for name in [grid] + [s for s in sets if s != grid]:
        layers = []
        for k, stem in enumerate(common):
            cutout = read_cutout(files[name][stem])
            if name == grid:
                grid_cutouts[stem] = cutout
            elif cutout.shape != grid_cutouts[stem].shape:
                from ..alignment import align

                cutout = align(cutout, grid_cutouts[stem])
            if k == 0:
                cutouts[name] = cutout
            layers.append(_layer(cutout, zero_point))
        stacks[name] = np.stack(layers)
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


def run(args):
    """Run ``survey2survey evaluate`` for parsed ``args``; return the exit status."""
    output = Path(args.output)
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
    print(f"survey2survey evaluate: {n_images} image(s) in {len(loaded)} dataset(s); "
          f"wrote {len(paths)} file(s) to {output}", file=sys.stdout)
    return 0
