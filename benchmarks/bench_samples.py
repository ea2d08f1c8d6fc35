# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Probabilistic translation: calibrated errors and samples, against the truth and against DES.

Simulated SDSS -> DES pairs with realistic PSF knowledge and a 0.2 lognormal DES
seeing spread (the DES image on the SDSS grid): a calibration set and a separate
held-out set. Each model is calibrated (`Survey2Survey.calibrate_uncertainty`)
on the calibration pairs, then translates the held-out sources at each pair's
own DES PSF (PSF-aware models), and the script prints:

* **coverage** of the calibrated aperture errors of each band (as
  `Survey2Survey.aperture_photometry` gives them; g, r and i pooled) against the
  noise-free truth at 1", 2", 4", 8": on the central galaxies (all, bright and
  faint halves by band-sum true flux) and on blank sky (random apertures whose
  true flux is below the DES aperture noise); per-pixel coverage of
  ``transform(uncertainty=True)`` on source pixels (truth > 3 sigma_DES) and sky;
* **samples** (32 per input for part of the held-out set): the bias of their mean
  against the mean image; on blank sky (truth below half the DES noise, dilated),
  the noise power at 2-32 px and the empty-aperture noise at 1"-8" of the added
  target noise, of the samples and of the mean image (each minus the truth)
  against DES's own noise (DES minus truth), the pixel distribution (KS distance
  to DES's); SSIM l, c, s and MSSIM against DES of the mean image and of the
  samples (asinh of the band sum / 10 counts, data range 12, as
  ``bench_fidelity.py``);
* the time of 16 samples of a 150x150x3 cutout over one mean translation;

then the issue's goals, pass or fail. ``--model NAME=PATH`` adds a saved model
(e.g. a CycleGAN) to the shipped ``psfnet`` and ``deconvolve``. The calibration
is made against the calibration pairs' noise-free truth (as the shipped models'),
or with ``--against target`` against their noisy DES targets only (what real
pairs allow).

Usage::

    python benchmarks/bench_samples.py                 # full size (~15 min on 2 cores)
    python benchmarks/bench_samples.py --size small    # a smoke run
    python benchmarks/bench_samples.py --model cyclegan=cyclegan.s2s
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from astropy.utils.exceptions import AstropyUserWarning
from scipy.ndimage import binary_dilation
from scipy.stats import ks_2samp

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.metrics import (
    aperture_coverage,
    empty_aperture_noise,
    noise_power_spectrum,
    ssim_components,
    uncertainty_coverage,
)
from survey2survey.surveys import SDSS

BANDS = "gri"
PIXEL_SCALE = SDSS.pixel_scale.to_value("arcsec / pix")
RADII = (1.0, 2.0, 4.0, 8.0)
SCALES = (2, 4, 8, 16, 32)
SSIM_BETA, SSIM_RANGE = 10.0, 12.0
SIZES = {"full": {"size": 150, "n_calibration": 96, "n_heldout": 160, "n_sampled": 48},
         "small": {"size": 64, "n_calibration": 24, "n_heldout": 24, "n_sampled": 8}}
SEEDS = {"calibration": 920023, "heldout": 910023}
N_SAMPLES = 32
RANDOM_APERTURES = 6


def simulate(n, seed, size):
    return make_survey_pairs(n, "sdss", "des", BANDS, seed=seed, target_grid="source",
                             source_size=size, psf="realistic", seeing_spread=0.2,
                             progress=False)


def stack(cutouts, attribute="data"):
    return np.stack([np.asarray(getattr(c, attribute), dtype=float) for c in cutouts])


def disks(shape, centers, radius):
    yy, xx = np.indices(shape)
    return np.stack([(np.hypot(yy - y, xx - x) <= radius).astype(float) for y, x in centers])


class Heldout:
    """The truth side of the held-out set."""

    def __init__(self, pairs, rng):
        self.pairs = pairs
        self.truth = stack(pairs.target_truths)
        self.des = stack(pairs.targets)
        self.des_sigma = stack(pairs.targets, "uncertainty_array")
        n, _, ny, nx = self.truth.shape
        self.shape = (ny, nx)
        self.center = ((ny - 1) / 2, (nx - 1) / 2)
        sky_sigma = np.sqrt((np.median(self.des_sigma, axis=(2, 3)) ** 2).sum(axis=1))
        truth_sum = self.truth.sum(axis=1)
        busy = truth_sum > 0.5 * sky_sigma[:, None, None]
        self.blank = ~np.stack([binary_dilation(b, iterations=2) for b in busy])
        self.source_pixels = self.truth > 3 * np.median(self.des_sigma, axis=(2, 3),
                                                        keepdims=True)
        self.sky_positions = {}
        for radius in RADII:
            pixels = radius / PIXEL_SCALE
            chosen = []
            for k in range(n):
                ys = rng.uniform(pixels, ny - 1 - pixels, 4 * RANDOM_APERTURES)
                xs = rng.uniform(pixels, nx - 1 - pixels, 4 * RANDOM_APERTURES)
                weights = disks(self.shape, list(zip(ys, xs, strict=True)), pixels)
                true_flux = np.einsum("ahw,hw->a", weights, truth_sum[k])
                noise = np.sqrt(np.einsum("ahw,hw->a", weights,
                                          (self.des_sigma[k] ** 2).sum(axis=0)))
                keep = np.flatnonzero(np.abs(true_flux) < noise)[:RANDOM_APERTURES]
                chosen.append([(ys[i], xs[i]) for i in keep])
            self.sky_positions[radius] = chosen

    def target_psfs(self, model):
        return list(self.pairs.targets) if model.codec_.psf else None


def coverage_rows(model, heldout, means, sigmas_in):
    """Aperture coverage of each band's errors (pooled over g, r, i) per radius and group."""
    posterior = model.uncertainty_model_
    rows = {}
    for radius in RADII:
        pixels = radius / PIXEL_SCALE
        errors, sigmas, fluxes, sky_errors, sky_sigmas = [], [], [], [], []
        for k, mean in enumerate(means):
            weights = disks(heldout.shape, [heldout.center], pixels)
            errors.append(np.einsum("ahw,chw->ac", weights, mean - heldout.truth[k])[0])
            fluxes.append(np.einsum("ahw,chw->a", weights, heldout.truth[k])[0])
            sigmas.append(np.sqrt(posterior.aperture_variance(mean, sigmas_in[k], weights))[0])
            if heldout.sky_positions[radius][k]:
                weights = disks(heldout.shape, heldout.sky_positions[radius][k], pixels)
                sky_errors += list(np.einsum("ahw,chw->ac", weights,
                                             mean - heldout.truth[k]).ravel())
                sky_sigmas += list(np.sqrt(posterior.aperture_variance(
                    mean, sigmas_in[k], weights)).ravel())
        errors, sigmas, fluxes = np.array(errors), np.array(sigmas), np.array(fluxes)
        bright = fluxes > np.median(fluxes)
        label = f'{radius:g}"'
        rows[f"{label} galaxies"] = coverage(errors, sigmas)
        rows[f"{label} bright"] = coverage(errors[bright], sigmas[bright])
        rows[f"{label} faint"] = coverage(errors[~bright], sigmas[~bright])
        rows[f"{label} sky"] = coverage(sky_errors, sky_sigmas)
    return rows


def coverage(errors, sigmas):
    return aperture_coverage(errors, sigmas)[0] if len(errors) >= 5 else float("nan")


def pixel_coverage(model, heldout, sources):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        outputs = model.transform(sources, uncertainty=True, target_psf=heldout.target_psfs(
            model), progress=False)
    images, sigmas = stack(outputs), stack(outputs, "uncertainty_array")
    out = {}
    for label, chosen in (("source pixels", heldout.source_pixels),
                          ("sky pixels", ~heldout.source_pixels)):
        out[label] = uncertainty_coverage(images[chosen][None], heldout.truth[chosen][None],
                                          sigmas[chosen][None])[0]
    return out


def sample_rows(model, heldout, means, sigmas_in, n_sampled, rng):
    """Noise statistics, SSIM and mean-of-samples bias of the samples of ``n_sampled`` inputs."""
    posterior = model.uncertainty_model_
    index = np.arange(min(n_sampled, len(means)))
    truth, des, blank = heldout.truth[index], heldout.des[index], heldout.blank[index]
    samples, added, clean_means = [], [], []
    for k in index:
        seed = int(rng.integers(2 ** 31))
        noisy, _ = posterior.draw(means[k], sigmas_in[k], N_SAMPLES,
                                  np.random.default_rng(seed), noise=True)
        clean, _ = posterior.draw(means[k], sigmas_in[k], N_SAMPLES,
                                  np.random.default_rng(seed), noise=False)
        samples.append(noisy)
        added.append(noisy - clean)  # the same draws: the difference is the target noise
        clean_means.append(clean.mean(axis=0))
    samples, added = np.stack(samples), np.stack(added)  # (N, S, C, H, W)
    mean_images = np.stack([means[k] for k in index])
    out = {}
    weights = disks(heldout.shape, [heldout.center], 2.0 / PIXEL_SCALE)
    ratio = [np.einsum("chw,ahw->", m, weights) / np.einsum("chw,ahw->", means[k], weights)
             for m, k in zip(clean_means, index, strict=True)]
    out["draws_mean_ratio"] = float(np.median(ratio))
    out["samples_mean_ratio"] = float(np.median(
        [np.einsum("schw,ahw->", samples[i], weights) / N_SAMPLES
         / np.einsum("chw,ahw->", mean_images[i], weights) for i in range(len(index))]))
    # band-sum noise fields on blank sky, each against the truth
    sdss = stack([heldout.pairs.sources[int(k)] for k in index]) * model.codec_.factor[
        :, None, None]
    fields = {"DES noise (DES - truth)": (des - truth).sum(axis=1),
              "do nothing (SDSS - truth)": sdss.sum(axis=1) - truth.sum(axis=1),
              "added target noise": added[:, 0].sum(axis=1),
              "sample - truth": samples[:, 0].sum(axis=1) - truth.sum(axis=1),
              "mean image - truth": mean_images.sum(axis=1) - truth.sum(axis=1)}
    mask = ~blank
    out["power"] = {name: noise_power_spectrum(f, mask=mask, scales=SCALES).tolist()
                    for name, f in fields.items()}
    out["aperture noise"] = {name: empty_aperture_noise(
        f, [r / PIXEL_SCALE for r in RADII], mask=mask, n_apertures=60).tolist()
        for name, f in fields.items()}
    reference = fields["DES noise (DES - truth)"][blank]
    out["pixel KS vs DES"] = {name: float(ks_2samp(f[blank], reference).statistic)
                              for name, f in fields.items() if not name.startswith("DES")}
    out["pixel std"] = {name: float(np.std(f[blank])) for name, f in fields.items()}
    stretch = lambda x: np.arcsinh(x / SSIM_BETA)  # noqa: E731
    des_sum = stretch(des.sum(axis=1))
    components = {}
    # what a perfect sample would score: the same sky observed again by DES
    sigma = heldout.des_sigma[index]
    reobserved = truth + sigma * rng.standard_normal(truth.shape)
    for name, images in (("mean image", mean_images.sum(axis=1)),
                         ("samples", samples[:, :4].sum(axis=2)),
                         ("DES re-observed", reobserved.sum(axis=1))):
        values = {key: [] for key in ("l", "c", "s", "mssim")}
        for i in range(len(index)):
            result = ssim_components(stretch(images[i]), des_sum[i], data_range=SSIM_RANGE,
                                     maps=False)
            for key in values:
                values[key].append(float(np.median(result[key])))
        components[name] = {key: float(np.median(v)) for key, v in values.items()}
    out["ssim vs DES"] = components
    return out


def timing(model, source, target_psf):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        model.transform(source, target_psf=target_psf, progress=False)  # warm up
        times = {}
        for label, call in (("transform", lambda: model.transform(
                source, target_psf=target_psf, progress=False)),
                            ("sample x16", lambda: model.sample(
                                source, n_samples=16, target_psf=target_psf,
                                progress=False))):
            best = np.inf
            for _ in range(3):
                start = time.perf_counter()
                call()
                best = min(best, time.perf_counter() - start)
            times[label] = best
    return times


def evaluate(name, model, calibration, heldout, config, rng, against):
    start = time.perf_counter()
    truth = list(calibration.target_truths) if against == "truth" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        model.calibrate_uncertainty(list(calibration.sources), list(calibration.targets),
                                    truth=truth, progress=False)
    calibrate_seconds = time.perf_counter() - start
    print(f"[{name}] calibrated in {calibrate_seconds:.0f} s: {model.uncertainty_model_!r}",
          flush=True)
    sources = list(heldout.pairs.sources)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        outputs = model.transform(sources, target_psf=heldout.target_psfs(model),
                                  progress=False)
        read = model._read_inputs(sources, False)
    means = [np.asarray(o.data, dtype=float) for o in outputs]
    sigmas_in = [model._input_sigma(c) for c in read]
    result = {"calibrate_seconds": calibrate_seconds,
              "coverage": coverage_rows(model, heldout, means, sigmas_in),
              "pixel coverage": pixel_coverage(model, heldout, sources),
              "samples": sample_rows(model, heldout, means, sigmas_in, config["n_sampled"],
                                     rng)}
    target_psf = heldout.pairs.targets[0] if model.codec_.psf else None
    result["seconds"] = timing(model, sources[0], target_psf)
    print(f"[{name}] evaluated in {time.perf_counter() - start:.0f} s", flush=True)
    return result


def report(results):
    names = list(results)
    print("\n== aperture coverage of the calibrated errors (per band, vs the truth) ==")
    keys = list(results[names[0]]["coverage"])
    print(f"{'aperture / group':22s}" + "".join(f"{n:>14s}" for n in names))
    for key in keys:
        print(f"{key:22s}" + "".join(f"{results[n]['coverage'][key]:14.3f}" for n in names))
    for key in results[names[0]]["pixel coverage"]:
        print(f"{key:22s}" + "".join(f"{results[n]['pixel coverage'][key]:14.3f}"
                                     for n in names))
    for name in names:
        s = results[name]["samples"]
        print(f"\n== samples of {name} (blank sky, band sum; ratio to DES noise) ==")
        des_power = np.array(s["power"]["DES noise (DES - truth)"])
        des_ap = np.array(s["aperture noise"]["DES noise (DES - truth)"])
        print(f"{'field':26s}" + "".join(f"{f'P({x}px)':>9s}" for x in SCALES)
              + "".join(f"{f'ap {r:g}in':>9s}" for r in RADII) + f"{'KS':>7s}")
        for field, power in s["power"].items():
            ratio_p = np.array(power) / des_power
            ratio_a = np.array(s["aperture noise"][field]) / des_ap
            ks = s["pixel KS vs DES"].get(field, 0.0)
            print(f"{field:26s}" + "".join(f"{v:9.2f}" for v in ratio_p)
                  + "".join(f"{v:9.2f}" for v in ratio_a) + f"{ks:7.3f}")
        for label, comp in s["ssim vs DES"].items():
            print(f"SSIM vs DES, {label:15s}: l {comp['l']:.3f}  c {comp['c']:.3f}  "
                  f"s {comp['s']:.3f}  MSSIM {comp['mssim']:.3f}")
        draws, noisy = s["draws_mean_ratio"], s["samples_mean_ratio"]
        print(f"mean of 32 draws / mean image at 2\" (median): {draws:.4f}; with target "
              f"noise {noisy:.4f}")
        t = results[name]["seconds"]
        print(f"time: transform {t['transform']:.3f} s, 16 samples {t['sample x16']:.3f} s "
              f"({t['sample x16'] / t['transform']:.2f}x)")


def goals(results):
    print("\n== goals ==")
    for name, r in results.items():
        lines = []
        for key, value in r["coverage"].items():
            if np.isnan(value):
                continue
            lines.append((f"coverage {key} {value:.3f} in 0.63-0.73", abs(value - 0.6827) <= 0.05))
        value = r["pixel coverage"]["source pixels"]
        lines.append((f"source-pixel coverage {value:.3f} in 0.63-0.73",
                      abs(value - 0.6827) <= 0.05))
        s = r["samples"]
        des_power = np.array(s["power"]["DES noise (DES - truth)"])
        for field in ("added target noise", "sample - truth"):
            ratio = np.array(s["power"][field]) / des_power
            lines.append((f"{field}: power within 20% of DES at 2-32 px "
                          f"({np.round(ratio, 2).tolist()})",
                          bool(np.all(np.abs(ratio - 1) <= 0.2))))
            ratio = (np.array(s["aperture noise"][field])
                     / np.array(s["aperture noise"]["DES noise (DES - truth)"]))
            lines.append((f"{field}: aperture noise within 15% of DES at 1-8\" "
                          f"({np.round(ratio, 2).tolist()})",
                          bool(np.all(np.abs(ratio - 1) <= 0.15))))
        bias = s["draws_mean_ratio"] - 1
        lines.append((f"mean of 32 draws within 1% of the mean image ({bias:+.4f})",
                      abs(bias) < 0.01))
        c = s["ssim vs DES"]["samples"]["c"]
        ds = s["ssim vs DES"]["samples"]["s"] - s["ssim vs DES"]["mean image"]["s"]
        ds_des = s["ssim vs DES"]["DES re-observed"]["s"] - s["ssim vs DES"]["mean image"]["s"]
        lines.append((f"SSIM c of samples vs DES {c:.3f} >= 0.9", c >= 0.9))
        lines.append((f"SSIM s of samples within 0.02 of the mean image's ({ds:+.3f}; "
                      f"DES re-observed: {ds_des:+.3f})", abs(ds) <= 0.02))
        ratio = r["seconds"]["sample x16"] / r["seconds"]["transform"]
        lines.append((f"16 samples in {ratio:.2f}x one translation (< 3x)", ratio < 3))
        passed = sum(ok for _, ok in lines)
        print(f"-- {name}: {passed} of {len(lines)} goals met")
        for text, ok in lines:
            print(f"  [{'pass' if ok else 'FAIL'}] {text}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                        help="also evaluate this saved model")
    parser.add_argument("--only", nargs="+", default=None, help="evaluate only these models")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    parser.add_argument("--against", choices=("truth", "target"), default="truth",
                        help="calibrate against the noise-free truth or the noisy targets")
    args = parser.parse_args(argv)
    config = SIZES[args.size]
    start = time.perf_counter()
    calibration = simulate(config["n_calibration"], SEEDS["calibration"], config["size"])
    rng = np.random.default_rng(0)
    heldout = Heldout(simulate(config["n_heldout"], SEEDS["heldout"], config["size"]), rng)
    print(f"simulated in {time.perf_counter() - start:.0f} s", flush=True)
    models = {"psfnet": lambda: Survey2Survey.from_pretrained("sdss-des-psfnet"),
              "deconvolve": lambda: Survey2Survey.from_pretrained("sdss-des-deconvolve")}
    for item in args.model:
        name, path = item.split("=", 1)
        models[name] = lambda path=path: Survey2Survey.load(path)
    results = {}
    for name, load in models.items():
        if args.only and name not in args.only:
            continue
        results[name] = evaluate(name, load(), calibration, heldout, config, rng,
                                 args.against)
    report(results)
    goals(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
