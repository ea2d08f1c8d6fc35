# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``survey2survey demo``: the shipped pretrained model on held-out simulated pairs, and a
short fine-tune, in under a minute.

Simulates SDSS/DES pairs, writes them as FITS with a quick-look PNG, translates
held-out SDSS cutouts with the pretrained AECNN and with a copy fine-tuned for a
few epochs on the other pairs, prints a before/after table (MSSIM vs DES,
aperture-flux bias and scatter vs the noise-free truth) and writes a figure
SDSS | DES | reconstruction | residual.
"""

import logging
import textwrap
import time

import numpy as np

from ._common import Formatter, add_output_options, check_output_folder, wrap

__all__ = ["add_parser", "run"]

log = logging.getLogger("survey2survey.cli")

_DESCRIPTION = wrap("""
    The whole job on simulated data in under a minute (18 s and 55 s
    measured on two busy CPU cores): simulates SDSS/DES pairs (GalSim), translates the
    held-out SDSS cutouts to FITS with the shipped pretrained model
    (sdss-des-aecnn), fine-tunes a copy of it for a few epochs on the other
    pairs (the way to adapt it to your data: see the training tutorial),
    translates again, prints a before/after table (MSSIM against DES,
    aperture-flux bias and scatter against the noise-free truth) and writes a
    figure SDSS | DES | reconstruction | residual.

    Everything goes into OUTPUT: heldout/ (FITS: source, target, truths,
    pretrained, finetuned; 'survey2survey evaluate OUTPUT/heldout' scores
    them), pairs.png, demo.png, scores.ecsv,
    fidelity.ecsv and the fine-tuned model sdss2des.s2s. An OUTPUT folder
    that is not empty is refused unless --overwrite is given (then its files
    are replaced).
    """)

#: the shipped model the demo starts from, and the fine-tuning rate: a tenth of the
#: training rate, so that a few epochs on a few pairs adapt it without undoing it
_MODEL = "sdss-des-aecnn"
_FINE_TUNE_RATE = 1e-4
_QUICK = dict(n_pairs=6, n_test=3, size=48, epochs=1)


def add_parser(subparsers):
    """Add the ``demo`` sub-command to an `argparse` sub-parser collection."""
    parser = subparsers.add_parser(
        "demo", help="the pretrained model and a short fine-tune on simulated pairs",
        description=_DESCRIPTION, formatter_class=Formatter)
    parser.add_argument("-o", "--output", default="s2s-demo", metavar="OUTPUT",
                        help="output folder (default: ./s2s-demo)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into an OUTPUT folder that is not empty, replacing its "
                             "files")
    parser.add_argument("--n-pairs", type=int, default=16, metavar="N",
                        help="pairs simulated for the fine-tuning (default: 16)")
    parser.add_argument("--n-test", type=int, default=8, metavar="N",
                        help="held-out pairs translated and scored (default: 8)")
    parser.add_argument("--epochs", type=int, default=2, metavar="N",
                        help="fine-tuning epochs (default: 2)")
    parser.add_argument("--size", type=int, default=64, metavar="N",
                        help="SDSS cutout side in pixels (default: 64, i.e. 25 arcsec; 150 is "
                             "the paper's size); the DES cutout covers the same field")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="simulation and training seed")
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
                  (_composite(outputs[k], DES), "reconstruction (fine-tuned)", {}),
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
    """
    Per-galaxy scores and the summary of each model beside the untranslated SDSS input:
    MSSIM against DES, and aperture-flux errors against the truth (2" and 8" radius, or
    the largest that fits).
    """
    from astropy.table import Table

    from ..metrics import aperture_magnitude_errors, fidelity_summary, mssim

    pixel = s2s.source_.pixel_scale.value
    size = min(outputs[next(iter(outputs))][0].shape)
    radii = [2.0 / pixel, min(8.0 / pixel, size / 2 - 1)]
    names = [f'{r * pixel:.0f}"' for r in radii]
    factors = np.array([s2s.source_.flux_conversion(b, s2s.target_) for b in s2s.bands_])
    images = {"sdss": np.stack([np.nan_to_num(p.source.data) * factors[:, None, None]
                                for p in test])}
    images.update({key: np.stack([o.data for o in found]) for key, found in outputs.items()})
    targets = np.stack([np.nan_to_num(t.data) for t in sets["target"]])
    truths = np.stack([t.data for t in sets["target_truth"]]).sum(axis=1)
    layer = s2s.codec_.analysis_layer
    table = Table({"pair": [pair.name for pair in test]})
    summary = Table(names=("input", "mssim", *[f"{w}_{n}" for n in names
                                               for w in ("bias", "nmad")]),
                    dtype=("U12", float, *[float] * 2 * len(names)))
    for key, stack in images.items():
        table[f"mssim_{key}"] = [mssim(layer(image, s2s.target_), layer(target, s2s.target_),
                                       data_range=s2s.codec_.data_range)
                                 for image, target in zip(stack, targets, strict=True)]
        errors = aperture_magnitude_errors(stack.sum(axis=1), truths, radii)
        for j, name in enumerate(names):
            table[f"flux_err_{key}_{name}"] = 10 ** (-0.4 * errors[:, j]) - 1
        fidelity = fidelity_summary(errors, names)
        summary.add_row([key, np.median(table[f"mssim_{key}"]),
                         *[v for row in fidelity for v in (row["bias"], row["nmad"])]])
    for col in table.colnames[1:]:
        table[col].format = ".3f"
    summary["mssim"].format = ".3f"
    for col in summary.colnames[2:]:
        summary[col].format = "+.4f"
    return table, summary


def run(args):
    """Run the demo; returns the exit status (0)."""
    import copy
    import warnings

    from astropy.utils.exceptions import AstropyUserWarning

    from ..alignment import align
    from ..datasets import make_survey_pairs
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
    # only the held-out pairs are written (for `evaluate`): the fine-tuning pairs stay in
    # memory, as `survey2survey simulate` would write them
    train, test = pairs[:n_pairs], pairs[n_pairs:]
    heldout = output / "heldout"
    sets = {"source": [p.source for p in test],
            "target": [align(p.target, p.source) for p in test],
            "source_truth": [p.source_truth for p in test],
            "target_truth": [align(p.target_truth, p.source) for p in test]}
    for name, cutouts in sets.items():
        (heldout / name).mkdir(parents=True, exist_ok=True)
        for pair, cutout in zip(test, cutouts, strict=True):
            write_cutout(cutout, heldout / name / f"{pair.name}.fits", overwrite=overwrite)
    _quicklook(test, sets["target"], output / "pairs.png")
    _say(f"wrote the {n_test} held-out pairs to {heldout} (FITS) and {output / 'pairs.png'}",
         start)

    pretrained = Survey2Survey.from_pretrained(_MODEL)
    tuned = copy.deepcopy(pretrained)  # fine-tuned; the pretrained one is kept as it is
    tuned.set_params(learning_rate=_FINE_TUNE_RATE, seed=args.seed)
    _say(f"fine-tuning {_MODEL} on {len(train)} pairs, {epochs} epoch(s) at learning rate "
         f"{_FINE_TUNE_RATE:g}...", start)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AstropyUserWarning)
        tuned.fit(train, validation=0, epochs=epochs)
    for warning in caught:
        log.warning("%s", warning.message)
    history = tuned.history_[0]
    _say(f"fine-tuned: loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}", start)
    tuned.save(output / "sdss2des.s2s", overwrite=overwrite)

    outputs = {}
    for key, model in (("pretrained", pretrained), ("finetuned", tuned)):
        paths = transform_many(model, sorted((heldout / "source").glob("*.fits")),
                               output_dir=heldout / key, overwrite=overwrite)
        outputs[key] = [read_cutout(p) for p in paths]
    _say(f"translated {n_test} held-out SDSS cutouts -> {heldout / 'pretrained'} and "
         f"{heldout / 'finetuned'}", start)

    table, summary = _scores(pretrained, test, sets, outputs)
    table.write(output / "scores.ecsv", overwrite=overwrite)
    summary.write(output / "fidelity.ecsv", overwrite=overwrite)
    print()
    print(textwrap.fill(
        f"{n_test} held-out galaxies: median MSSIM against DES (of the asinh-stretched band "
        "mean, not the linear-flux MSSIM of 'survey2survey evaluate'), and the aperture-flux "
        "error against the noise-free DES truth (band sum, magnitudes, + = too faint): median "
        "bias and NMAD scatter. 'sdss' is the untranslated input in DES units; per-galaxy "
        f"values in {output / 'scores.ecsv'}.", width=88))
    summary.pprint(max_lines=-1, max_width=-1)
    for row in summary[1:]:  # said plainly, where a translation does not beat its input
        worse = [name for name in summary.colnames[1:]
                 if (row[name] < summary[0][name] if name == "mssim"
                     else abs(row[name]) > abs(summary[0][name]))]
        print(f"{row['input']}: better than the SDSS input on every column" if not worse
              else f"{row['input']}: not better than the SDSS input on {', '.join(worse)}")
    _figure(sets["source"], sets["target"], outputs["finetuned"], output / "demo.png")
    _say(f"wrote {output / 'scores.ecsv'}, {output / 'demo.png'} and the fine-tuned model "
         f"{output / 'sdss2des.s2s'}; next: survey2survey evaluate {heldout}", start)
    return 0
