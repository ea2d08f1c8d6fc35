# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The paper's study (Buncher, Sharma & Carrasco Kind 2021, Sec. 4) on simulated pairs.

Simulated SDSS -> DES pairs (DES rendered on the SDSS grid, so pixels compare
one to one) in three splits: training, validation (held-out pairs of the same
population) and external (SDSS-only galaxies, fainter and under worse seeing,
no DES counterpart: the paper's galaxies outside the overlap). The AECNN and
the CycleGAN are fitted with `~survey2survey.estimator.Survey2Survey` on the training
pairs and translate the validation and external SDSS cutouts. As in the paper,
every image is reduced to one layer (the mean of g, r, i, here in DES counts
at zero point 30) and `~survey2survey.metrics.evaluate` measures:

* pseudo-flux magnitude and mean S/N (Eqs. 6-7) in the aperture r < size / 2,
  and the magnitude error in that aperture against the noise-free truth (the
  DES truth for validation; the SDSS truth, same sky flux, for external);
* the SSIM components l, c, s and MSSIM (Eqs. 9-10) of SDSS/DES, AECNN/DES,
  CycleGAN/DES and of the reconstructions against their SDSS input, each
  pair with its joint data range (calibrated fluxes have no fixed range);
* median pseudo-luminosity profiles (Eq. 8).

One table (median [16th, 84th percentile], validation and external) is
printed and written to ``OUT/paper_table.ecsv``; ``OUT`` also receives the
evaluate tables and the figures ``fig03`` ... ``fig12``:

* Fig 3 / 4: validation / external comparison grids (residuals against DES
  with gamma 0.3, gains over SDSS with gamma 0.5, both with the paper's
  ``(P / P_max)^gamma``, ``P_max`` the brightest pixel shown);
* Figs 5-11: KDEs of pseudo-flux magnitude, S/N, radial profiles, l, c, s and
  MSSIM (validation solid, external dashed);
* Fig 12: artefact removal. The simulator draws no artefacts, so cosmic-ray
  hits (one band, 1-4 px, 30-150 sigma) and one satellite trail (all bands,
  ~1.5 px wide, 8-20 sigma) are injected into copies of the first
  ``n_artefact`` external SDSS inputs. Each model translates the clean and the
  damaged input; the *removed fraction* is ``1 - sum|out(damaged) -
  out(clean)| / sum|in(damaged) - in(clean)|`` on the band-mean layers (1: the
  artefact is gone from the output, 0: passed through, < 0: amplified). The
  figure shows the cases with the largest AECNN removed fraction; the table
  ``artefacts.ecsv`` has the distribution for both models.

Models are saved in ``--work`` and reused when the script runs again (delete
them to retrain).

Usage::

    python benchmarks/reproduce_paper.py --size small --threads 1   # ~11 min on one core
    python benchmarks/reproduce_paper.py --size paper --out paper-out  # paper-like, for a GPU
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from astropy.table import Table, vstack

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.metrics import EvaluationReport, evaluate, summarize
from survey2survey.surveys import DES, SDSS

BANDS = "gri"
SIZES = {
    # 64 px SDSS cutouts (25"), a few hundred pairs, short fits: minutes on one core
    "small": {"size": 64, "n_train": 256, "n_validation": 64, "n_external": 64,
              "n_artefact": 16, "epochs": 8, "cycle_epochs": 4,
              "cyclegan": {"base_channels": 16, "n_blocks": 3, "disc_channels": 16,
                           "batch_size": 8}},
    # the paper's 150 px cutouts, 5,000 + 538 pairs and as many external galaxies
    "paper": {"size": 150, "n_train": 5000, "n_validation": 538, "n_external": 538,
              "n_artefact": 64, "epochs": 100, "cycle_epochs": 200,
              "cyclegan": {"batch_size": 4}},
    # a smoke run of the whole script (about a minute)
    "tiny": {"size": 48, "n_train": 24, "n_validation": 8, "n_external": 8,
             "n_artefact": 4, "epochs": 1, "cycle_epochs": 1,
             "cyclegan": {"base_channels": 8, "n_blocks": 1, "disc_channels": 8,
                          "disc_layers": 2, "batch_size": 8}},
}
SEEDS = {"train": 13001, "validation": 13002, "external": 13003, "artefacts": 13004}
VALIDATION = 0.05  # the fit's own validation split (model selection)
MODELS = {"AECNN": "aecnn", "CycleGAN": "cyclegan"}
#: rows of the table: a set, or a pair 'a/b' (magnitudes and S/N are a's)
ROWS = ("DES", "SDSS", "SDSS/DES", "AECNN/DES", "CycleGAN/DES", "AECNN/SDSS", "CycleGAN/SDSS")
PAIRS = ("SDSS/DES", "AECNN/DES", "CycleGAN/DES", "AECNN/SDSS", "CycleGAN/SDSS",
         "AECNN/CycleGAN")
IMAGE_COLUMNS = {"pseudo_flux_magnitude": "F", "signal_to_noise": "S/N",
                 "magnitude_error": "dm(truth)"}
PAIR_COLUMNS = {"l": "l", "c": "c", "s": "s", "mssim": "MSSIM"}
KDE_FIGURES = {5: "pseudo_flux_magnitude", 6: "signal_to_noise", 8: "l", 9: "c", 10: "s",
               11: "mssim"}


def simulate(n, seed, split, size, processes):
    """Pairs with the DES image (and its truth) on the SDSS grid."""
    return make_survey_pairs(n, "sdss", "des", BANDS, seed=seed, split=split,
                             target_grid="source", source_size=size, processes=processes,
                             progress=False)


def layer(cutouts, survey=DES):
    """Band-mean layers ``(N, ny, nx)`` in DES counts at zero point 30."""
    factor = np.array([survey.flux_conversion(b, DES) for b in BANDS])[:, None, None]
    return np.stack([np.asarray(c.data, dtype=float) * factor for c in cutouts]).mean(axis=1)


def fit_model(label, train, work, size):
    """Fit (or reload from ``work``) one translator; returns the model and its fit record."""
    path, record = work / f"{MODELS[label]}.s2s", work / f"{MODELS[label]}.json"
    if path.exists() and record.exists():
        print(f"[{label}] reusing {path}", flush=True)
        return Survey2Survey.load(path), json.loads(record.read_text())
    if label == "CycleGAN":
        params = dict(size["cyclegan"], epochs=size["cycle_epochs"])
    else:
        params = {"epochs": size["epochs"]}
    model = Survey2Survey(translator=MODELS[label], source=SDSS, target=DES, bands=BANDS,
                          seed=0, **params)
    start = time.perf_counter()
    model.fit(train, validation=VALIDATION, progress=False)
    meta = {"fit_seconds": time.perf_counter() - start, "params": params}
    model.save(path, overwrite=True)
    record.write_text(json.dumps(meta, indent=1))
    print(f"[{label}] fitted in {meta['fit_seconds']:.0f} s ({params})", flush=True)
    return model, meta


def translate(models, cutouts):
    return {label: layer(model.transform(list(cutouts), progress=False))
            for label, model in models.items()}


def inject_artefacts(cutouts, seed):
    """Copies of SDSS cutouts with cosmic-ray hits and a satellite trail (see the docstring)."""
    rng = np.random.default_rng(seed)
    damaged = []
    for cutout in cutouts:
        data = np.asarray(cutout.data, dtype=float)
        sigma = np.median(cutout.uncertainty_array, axis=(1, 2))[:, None, None]
        nb, ny, nx = data.shape
        hits = np.zeros_like(data)
        for _ in range(rng.integers(3, 7)):  # cosmic rays: one band, a few pixels
            band, y, x = rng.integers(nb), rng.integers(1, ny - 2), rng.integers(1, nx - 2)
            length = rng.integers(1, 5)
            dy, dx = (0, 1) if rng.random() < 0.5 else (1, 0)
            for k in range(length):
                yy, xx = min(y + k * dy, ny - 1), min(x + k * dx, nx - 1)
                hits[band, yy, xx] += rng.uniform(30, 150) * sigma[band, 0, 0]
        # a satellite trail crossing the cutout: a line of Gaussian width 0.6 px
        yy, xx = np.mgrid[:ny, :nx]
        angle = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.3, 0.3) * ny
        distance = ((xx - nx / 2) * np.sin(angle) - (yy - ny / 2) * np.cos(angle) - offset)
        trail = np.exp(-0.5 * (distance / 0.6) ** 2)
        hits += trail[None] * rng.uniform(8, 20) * sigma
        damaged.append(cutout.with_data(data + hits, uncertainty=cutout.uncertainty_array))
    return damaged


def removed_fraction(inputs_clean, inputs_damaged, outputs_clean, outputs_damaged):
    """``1 - sum|out' - out| / sum|in' - in|`` per image (layers on one flux scale)."""
    injected = np.abs(inputs_damaged - inputs_clean).sum(axis=(1, 2))
    left = np.abs(outputs_damaged - outputs_clean).sum(axis=(1, 2))
    return 1 - left / injected


def combine(reports):
    """One `EvaluationReport` from several (one dataset each)."""
    profiles = {}
    for report in reports:
        profiles.update(report.profiles)
    return EvaluationReport(vstack([r.images for r in reports]),
                            vstack([r.pairs for r in reports]),
                            vstack([r.summary for r in reports]), reports[0].radius, profiles)


def paper_table(summary):
    """The wide table: one row per dataset and set/pair, median/p16/p84 of each metric."""
    lookup = {(str(r["dataset"]), str(r["subject"]), str(r["metric"])): r for r in summary}
    columns = {"dataset": [], "subject": [], "n": []}
    for metric in list(IMAGE_COLUMNS) + list(PAIR_COLUMNS):
        for stat in ("median", "p16", "p84"):
            columns[f"{metric}_{stat}"] = []
    for dataset in dict.fromkeys(map(str, summary["dataset"])):
        for subject in ROWS:
            first = subject.split("/")[0]
            found = [lookup.get((dataset, first, m)) for m in IMAGE_COLUMNS]
            found += [lookup.get((dataset, subject, m)) if "/" in subject else None
                      for m in PAIR_COLUMNS]
            if ("/" in subject and found[-1] is None) or found[0] is None:
                continue  # a pair this dataset lacks (no DES in the external set)
            columns["dataset"].append(dataset)
            columns["subject"].append(subject)
            columns["n"].append(int(found[0]["n"]))
            for metric, row in zip(list(IMAGE_COLUMNS) + list(PAIR_COLUMNS), found, strict=True):
                for stat in ("median", "p16", "p84"):
                    columns[f"{metric}_{stat}"].append(np.nan if row is None else row[stat])
    table = Table(columns)
    for name in table.colnames[3:]:
        table[name].format = ".4f"
    return table


def format_table(table):
    names = {**IMAGE_COLUMNS, **PAIR_COLUMNS}
    header = f"{'dataset':11s}{'subject':15s}" + "".join(f"{v:>22s}" for v in names.values())
    lines = [header, "-" * len(header)]
    for row in table:
        cells = ""
        for metric in names:
            med, lo, hi = (row[f"{metric}_{s}"] for s in ("median", "p16", "p84"))
            cells += " " * 22 if not np.isfinite(med) else (
                f"{med:>8.3f} [{lo:5.2f},{hi:5.2f}]" if abs(med) < 10 else
                f"{med:>8.2f} [{lo:5.1f},{hi:5.1f}]")
        lines.append(f"{row['dataset']:11s}{row['subject']:15s}{cells}")
    return "\n".join(lines)


def figures(report, sets, artefacts, out, n_columns):
    """Figs 3-12 as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("agg")
    from matplotlib import pyplot as plt

    from survey2survey.visualization import (
        plot_comparison_grid,
        plot_metric_kde,
        plot_radial_profiles,
    )

    paths = []

    def save(figure, name):
        path = out / name
        figure.savefig(path, dpi=80)
        plt.close(figure)
        paths.append(path)

    val, ext = sets["validation"], sets["external"]
    recs = {label: val[label] for label in MODELS}
    scale = float(np.nanmax(val["DES"][:n_columns]))  # the paper's 255: the brightest pixel
    save(plot_comparison_grid(val["SDSS"], recs, target=val["DES"], n_columns=n_columns,
                              residual_gamma=0.3, gain_gamma=0.5, stretch_scale=scale,
                              figure=plt.figure(figsize=(1.3 * n_columns + 1.4, 10.4),
                                                layout="constrained")),
         "fig03_validation_grid.png")
    recs = {label: ext[label] for label in MODELS}
    scale = float(np.nanmax(np.stack(list(recs.values()))[:, :n_columns]))
    save(plot_comparison_grid(ext["SDSS"], recs, n_columns=n_columns, gain_gamma=0.5,
                              stretch_scale=scale,
                              figure=plt.figure(figsize=(1.3 * n_columns + 1.4, 6.5),
                                                layout="constrained")),
         "fig04_external_grid.png")
    subjects = {"images": ["SDSS", "DES", "AECNN", "CycleGAN"],
                "pairs": ["SDSS/DES", "AECNN/DES", "CycleGAN/DES", "AECNN/SDSS",
                          "CycleGAN/SDSS"]}
    for number, metric in KDE_FIGURES.items():
        figure = plt.figure(figsize=(5.5, 3.8), layout="constrained")
        table = report.images if metric in IMAGE_COLUMNS else report.pairs
        which = subjects["images" if metric in IMAGE_COLUMNS else "pairs"]
        plot_metric_kde(table, metric, subjects=which, ax=figure.add_subplot())
        figure.axes[0].set_title(f"Fig {number}: validation (solid), external (dashed)",
                                 fontsize="small")
        save(figure, f"fig{number:02d}_{metric}.png")
    figure = plt.figure(figsize=(9, 3.8), layout="constrained")
    colors = {s: f"C{k}" for k, s in enumerate(subjects["images"])}
    for k, dataset in enumerate(report.profiles):
        profiles = {s: v for s, v in report.profiles[dataset].items() if s in subjects["images"]}
        plot_radial_profiles(report.radius, profiles, ax=figure.add_subplot(1, 2, k + 1),
                             title=dataset, colors=colors)
    save(figure, "fig07_radial_profiles.png")
    order = np.argsort(-artefacts["removed"]["AECNN"])[:n_columns]
    scale = float(np.nanmax(artefacts["SDSS (artefacts)"][order]))
    save(plot_comparison_grid(artefacts["SDSS (artefacts)"][order],
                              {"AECNN": artefacts["AECNN (artefacts)"][order],
                               "CycleGAN": artefacts["CycleGAN (artefacts)"][order]},
                              target=artefacts["AECNN"][order], target_label="AECNN clean",
                              source_label="SDSS+art.", n_columns=n_columns,
                              stretch_scale=scale,
                              figure=plt.figure(figsize=(1.3 * n_columns + 1.6, 10.4),
                                                layout="constrained")),
         "fig12_artefacts.png")
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", type=Path, default=Path("paper-study"),
                        help="folder for the table, the evaluate tables and the figures")
    parser.add_argument("--work", type=Path, default=Path("paper-study-work"),
                        help="folder for the fitted models (reused)")
    parser.add_argument("--threads", type=int, help="torch threads (and simulation processes)")
    parser.add_argument("--columns", type=int, default=6, help="galaxies in the figure grids")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    processes = args.threads or None
    size = SIZES[args.size]
    work = args.work / args.size
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train = simulate(size["n_train"], SEEDS["train"], "train", size["size"], processes)
    validation = simulate(size["n_validation"], SEEDS["validation"], "train", size["size"],
                          processes)
    external = simulate(size["n_external"], SEEDS["external"], "external", size["size"],
                        processes)
    simulated = time.perf_counter() - started
    print(f"simulated {len(train)} training, {len(validation)} validation and {len(external)} "
          f"external pairs of {size['size']} px in {simulated:.0f} s", flush=True)

    models, fits = {}, {}
    for label in MODELS:
        models[label], fits[label] = fit_model(label, train, work, size)

    sets = {
        "validation": {"SDSS": layer(validation.sources, SDSS), "DES": layer(validation.targets),
                       **translate(models, validation.sources),
                       "SDSS_truth": layer(validation.source_truths, SDSS),
                       "DES_truth": layer(validation.target_truths)},
        "external": {"SDSS": layer(external.sources, SDSS),
                     **translate(models, external.sources),
                     "SDSS_truth": layer(external.source_truths, SDSS)},
    }
    # truth-based scores: the DES truth where there is one, else the SDSS truth (same sky flux)
    truths = {"validation": {"SDSS": "SDSS_truth", "DES": "DES_truth", "AECNN": "DES_truth",
                             "CycleGAN": "DES_truth"},
              "external": {"SDSS": "SDSS_truth", "AECNN": "SDSS_truth",
                           "CycleGAN": "SDSS_truth"}}
    r_max = size["size"] / 2
    report = combine([evaluate({dataset: sets[dataset]}, pairs=PAIRS, truth=truths[dataset],
                               gain_reference="SDSS", r_max=r_max, data_range="joint")
                      for dataset in sets])
    report.write(args.out, overwrite=True)
    table = paper_table(report.summary)
    table.meta.update({"size": args.size, "cutout_px": size["size"], "r_max_px": r_max,
                       "n_train": len(train), "fits": fits})
    table.write(args.out / "paper_table.ecsv", format="ascii.ecsv", overwrite=True)

    # artefact removal (Fig 12)
    chosen = external.sources[:size["n_artefact"]]
    damaged = inject_artefacts(chosen, SEEDS["artefacts"])
    artefacts = {"SDSS": layer(chosen, SDSS), "SDSS (artefacts)": layer(damaged, SDSS)}
    for label, output in translate(models, damaged).items():
        artefacts[label] = sets["external"][label][:len(chosen)]
        artefacts[f"{label} (artefacts)"] = output
    artefacts["removed"] = {
        label: removed_fraction(artefacts["SDSS"], artefacts["SDSS (artefacts)"],
                                artefacts[label], artefacts[f"{label} (artefacts)"])
        for label in MODELS}
    removed = Table({"dataset": ["artefacts"] * (len(chosen) * len(MODELS)),
                     "set": [label for label in MODELS for _ in chosen],
                     "removed_fraction": np.concatenate(list(artefacts["removed"].values()))})
    removed_summary = summarize(removed, by="set", metrics=["removed_fraction"])
    removed.write(args.out / "artefacts.ecsv", format="ascii.ecsv", overwrite=True)

    paths = figures(report, sets, artefacts, args.out, args.columns)
    print()
    print(format_table(table))
    print("\nF: pseudo-flux magnitude (Eq. 6, zero point 30, DES counts), S/N: mean S/N (Eq. 7), "
          "dm(truth): magnitude error against the noise-free truth, both in r < "
          f"{r_max:g} px; l, c, s, MSSIM of the pair (joint data range).")
    print("\nartefact removal (injected cosmic rays and a satellite trail, "
          f"{len(chosen)} external inputs): removed fraction median [16th, 84th]")
    for row in removed_summary:
        print(f"  {row['subject']:9s} {row['median']:+.3f} [{row['p16']:+.3f}, {row['p84']:+.3f}]")
    print(f"\nwrote {args.out / 'paper_table.ecsv'}, the evaluate tables and {len(paths)} figures")
    for label, meta in fits.items():
        print(f"{label}: fitted in {meta['fit_seconds']:.0f} s with {meta['params']}")
    print(f"total {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
