# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``survey2survey demo``: the whole job on the embedded simulated data, in about a minute.

Simulates SDSS/DES pairs, aligns them, writes them as FITS with a quick-look
PNG, fits a small AECNN `~survey2survey.estimator.Survey2Survey`, translates held-out
SDSS cutouts to FITS, prints a before/after table (MSSIM vs DES, flux error vs
the noise-free truth) and writes a figure SDSS | DES | reconstruction | residual.
"""

import logging
import time

import numpy as np

from ._common import Formatter, add_output_options, check_output_folder, wrap

__all__ = ["add_parser", "run"]

log = logging.getLogger("survey2survey.cli")

_DESCRIPTION = wrap("""
    The whole job on simulated data, in about a minute on two CPU cores:
    simulates SDSS/DES pairs, aligns them, writes them as FITS files with a
    quick-look PNG, fits a small AECNN estimator, translates held-out SDSS
    cutouts to FITS, prints a before/after table (MSSIM against DES, aperture
    flux error against the noise-free truth) and writes a figure SDSS | DES |
    reconstruction | residual.

    Everything goes into OUTPUT: pairs/ (FITS), heldout/ (FITS), pairs.png,
    demo.png, scores.ecsv and the model sdss2des.s2s. An OUTPUT folder that is
    not empty is refused unless --overwrite is given (then its files are
    replaced).
    """)

_QUICK = dict(n_pairs=10, n_test=3, size=48, epochs=1)


def add_parser(subparsers):
    """Add the ``demo`` sub-command to an `argparse` sub-parser collection."""
    parser = subparsers.add_parser(
        "demo", help="simulate SDSS/DES pairs, fit a small AECNN and translate held-out cutouts",
        description=_DESCRIPTION, formatter_class=Formatter)
    parser.add_argument("-o", "--output", default="s2s-demo", metavar="OUTPUT",
                        help="output folder (default: ./s2s-demo)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into an OUTPUT folder that is not empty, replacing its "
                             "files")
    parser.add_argument("--n-pairs", type=int, default=96,
                        help="training pairs to simulate (default: 96)")
    parser.add_argument("--n-test", type=int, default=8,
                        help="held-out pairs translated and scored (default: 8)")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default: 20)")
    parser.add_argument("--size", type=int, default=64,
                        help="SDSS cutout side in pixels (default: 64, i.e. 25 arcsec, so the "
                             "fit converges in about a minute on 2 CPU cores; 150 is the "
                             "paper's size); the DES cutout covers the same field")
    parser.add_argument("--seed", type=int, default=0, help="simulation and training seed")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes for a smoke test (seconds)")
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def _say(message, start):
    log.info("[%6.1f s] %s", time.perf_counter() - start, message)


def _composite(cutout, survey):
    """A Lupton composite with one stretch in nanomaggies, whatever the survey's unit."""
    from ..surveys import SDSS
    from ..visualization import lupton_rgb

    factors = np.array([survey.flux_conversion(b, SDSS) for b in cutout.bands])
    return lupton_rgb(np.nan_to_num(cutout.data) * factors[:, None, None], stretch=0.5, Q=8)


def _quicklook(pairs, aligned, path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from ..surveys import DES, SDSS

    rows = min(3, len(pairs))
    fig, axes = plt.subplots(rows, 3, figsize=(7.5, 2.6 * rows), squeeze=False)
    for k in range(rows):
        for ax, image, title in zip(
                axes[k], [_composite(pairs[k].source, SDSS), _composite(pairs[k].target, DES),
                          _composite(aligned[k], DES)],
                ["SDSS", "DES (native grid)", "DES aligned on SDSS"], strict=False):
            ax.imshow(image, origin="lower")
            ax.set_title(title if k == 0 else "", fontsize=9)
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _figure(sources, targets, outputs, path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from ..surveys import DES, SDSS

    rows = min(4, len(sources))
    fig, axes = plt.subplots(rows, 4, figsize=(10, 2.6 * rows), squeeze=False)
    for k in range(rows):
        residual = (outputs[k].data - np.nan_to_num(targets[k].data)).mean(axis=0)
        limit = np.percentile(np.abs(residual), 99) or 1.0
        panels = [(_composite(sources[k], SDSS), "SDSS (input)", {}),
                  (_composite(targets[k], DES), "DES (target)", {}),
                  (_composite(outputs[k], DES), "reconstruction", {}),
                  (residual, "residual (recon - DES) [ct]",
                   dict(cmap="RdBu_r", vmin=-limit, vmax=limit))]
        for ax, (image, title, kwargs) in zip(axes[k], panels, strict=False):
            ax.imshow(image, origin="lower", **kwargs)
            ax.set_title(title if k == 0 else "", fontsize=9)
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _scores(s2s, test, sets, outputs):
    """Per-galaxy scores and the fidelity summary (2" and 8" radius, or the largest fitting)."""
    from astropy.table import Table, hstack

    from ..metrics import aperture_magnitude_errors, fidelity_summary, mssim

    pixel = s2s.source_.pixel_scale.value
    size = min(outputs[0].shape)
    radii = [2.0 / pixel, min(8.0 / pixel, size / 2 - 1)]
    names = [f'{r * pixel:.0f}"' for r in radii]
    factors = np.array([s2s.source_.flux_conversion(b, s2s.target_) for b in s2s.bands_])
    nothing = np.stack([np.nan_to_num(p.source.data) * factors[:, None, None] for p in test])
    recon = np.stack([o.data for o in outputs])
    targets = np.stack([np.nan_to_num(t.data) for t in sets["target"]])
    truths = np.stack([t.data for t in sets["target_truth"]])
    layer = s2s.codec_.analysis_layer
    rows = []
    for k, pair in enumerate(test):
        reference = layer(targets[k], s2s.target_)
        rows.append((pair.name,
                     mssim(layer(nothing[k], s2s.target_), reference,
                           data_range=s2s.codec_.data_range),
                     mssim(layer(recon[k], s2s.target_), reference,
                           data_range=s2s.codec_.data_range)))
    table = Table(rows=rows, names=("pair", "mssim_sdss", "mssim_recon"))
    errors = {}
    for key, images in (("sdss", nothing), ("recon", recon)):
        dm = aperture_magnitude_errors(images.sum(axis=1), truths.sum(axis=1), radii)
        errors[key] = dm
        for j, name in enumerate(names):
            table[f"flux_err_{key}_{name}"] = 10 ** (-0.4 * dm[:, j]) - 1
    for col in table.colnames[1:]:
        table[col].format = ".3f"
    summary = hstack([fidelity_summary(errors["sdss"], names)["aperture", "bias", "nmad"],
                      fidelity_summary(errors["recon"], names)["bias", "nmad"]],
                     table_names=["sdss", "recon"])
    for col in summary.colnames[1:]:
        summary[col].format = "+.4f"
    return table, summary


def run(args):
    """Run the demo; returns the exit status (0)."""
    import warnings

    from astropy.utils.exceptions import AstropyUserWarning

    from ..alignment import align
    from ..datasets import make_survey_pairs, save_pairs
    from ..estimator import Survey2Survey, transform_many
    from ..io import read_cutout, write_cutout

    start = time.perf_counter()
    n_pairs, n_test, epochs, size = args.n_pairs, args.n_test, args.epochs, args.size
    if args.quick:
        n_pairs, n_test, epochs, size = (_QUICK["n_pairs"], _QUICK["n_test"], _QUICK["epochs"],
                                         _QUICK["size"])
    overwrite = args.overwrite
    output = check_output_folder(args.output, overwrite=overwrite)
    output.mkdir(parents=True, exist_ok=True)

    _say(f"simulating {n_pairs + n_test} SDSS/DES pairs (GalSim)...", start)
    pairs = make_survey_pairs(n_pairs + n_test, seed=args.seed, source_size=size)
    save_pairs(pairs, output / "pairs", overwrite=overwrite)
    aligned_dir = output / "pairs" / "target_aligned"
    aligned_dir.mkdir(exist_ok=True)
    aligned = []
    for pair in pairs:
        aligned.append(align(pair.target, pair.source))
        write_cutout(aligned[-1], aligned_dir / f"{pair.name}.fits", overwrite=overwrite)
    _quicklook(pairs, aligned, output / "pairs.png")
    _say(f"wrote {output / 'pairs'} (FITS: source, target, truths, target_aligned) "
         f"and {output / 'pairs.png'}", start)

    train, test = pairs[:n_pairs], pairs[n_pairs:]
    s2s = Survey2Survey("aecnn", epochs=epochs, batch_size=8, seed=args.seed)
    _say(f"fitting {s2s!r} on {len(train)} pairs, {epochs} epoch(s)...", start)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AstropyUserWarning)
        s2s.fit(train, validation=0.1)
    for warning in caught:
        log.warning("%s", warning.message)
    history = s2s.history_[0]
    _say(f"fitted: loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}", start)
    s2s.save(output / "sdss2des.s2s", overwrite=overwrite)

    heldout = output / "heldout"
    sets = {"source": [p.source for p in test], "target": aligned[n_pairs:],
            "source_truth": [p.source_truth for p in test],
            "target_truth": [align(p.target_truth, p.source) for p in test]}
    for name, cutouts in sets.items():
        (heldout / name).mkdir(parents=True, exist_ok=True)
        for pair, cutout in zip(test, cutouts, strict=False):
            write_cutout(cutout, heldout / name / f"{pair.name}.fits", overwrite=overwrite)
    paths = transform_many(s2s, sorted((heldout / "source").glob("*.fits")),
                           output_dir=heldout / "aecnn", overwrite=overwrite)
    outputs = [read_cutout(p) for p in paths]
    _say(f"translated {len(paths)} held-out SDSS cutouts -> {heldout / 'aecnn'}", start)

    table, summary = _scores(s2s, test, sets, outputs)
    table.write(output / "scores.ecsv", overwrite=overwrite)
    summary.write(output / "fidelity.ecsv", overwrite=overwrite)
    print()
    print("Per held-out galaxy: MSSIM against DES (of the asinh-stretched band mean, so "
          "not the linear-flux MSSIM of `survey2survey evaluate`) and relative "
          "aperture-flux error against the noise-free DES truth")
    table.pprint(max_lines=-1, max_width=-1)
    print()
    print("Photometric fidelity against the truth (band sum; magnitudes, + = too faint): "
          "median bias and NMAD scatter, SDSS input (in DES units) beside the reconstruction")
    summary.pprint(max_lines=-1, max_width=-1)
    _figure(sets["source"], sets["target"], outputs, output / "demo.png")
    _say(f"wrote {output / 'scores.ecsv'}, {output / 'demo.png'} and the model "
         f"{output / 'sdss2des.s2s'}; next: survey2survey evaluate {heldout}", start)
    return 0
