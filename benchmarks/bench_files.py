# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Files to files: survey2survey against a plain astropy + torch script on the same FITS files.

Simulated SDSS cutouts (150 x 150, g, r, i, with uncertainties) are written as
FITS files; the shipped ``sdss-des`` model (psfnet) translates them. Every path
is timed in the same run, round robin (so that load from other jobs hits them
alike), best of ``--repeats``:

- ``fits.open`` / ``read_cutout``: ms per file, astropy opening a file and
  reading every HDU's data and header, against ``read_cutout`` of it;
- ``writeto`` / ``write_cutout``: astropy writing the HDU list just read,
  against ``write_cutout`` of the cutout;
- ``model alone``: the network (``Translator.forward``, its PSF head
  included) on the already encoded batch, bf16 autocast + channels_last, at its
  best batch (searched over 1, 2, 4, 8, 16 before timing);
- ``plain script``: the unavoidable work a user's script does: astropy reads
  the SCI arrays and headers, the codec encodes them (with the PSFs of the
  headers' ``PSFFWHM`` cards, as ``transform`` does), the network runs as in
  ``model alone``, the codec decodes, astropy writes each output (the input's
  SCI headers with the output unit) - the baseline of every ratio;
- ``transform (memory)``: ``Survey2Survey.transform`` on the cutouts read once;
- ``transform_many``: folder to folder (default pipeline, and ``prefetch=0``);
- with ``--cli``: ``survey2survey transform`` on the folder in a fresh process
  (start-up included), and the same minus the start-up of a process that
  translates one file ("steady state");
- with ``--frame``: one 1489 x 2048 x 3 frame (noise and sky) through
  ``transform`` in 256-pixel tiles with a quarter-tile overlap (the former
  defaults) and with the defaults (tile from the device, overlap from the
  receptive field), once each, with the largest difference between the two;
  and the CLI on it as a FITS file, start-up included.

Run::

    python benchmarks/bench_files.py [--n 32] [--repeats 3] [--cli]

About 3 minutes on 2 CPU cores with the defaults.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from _timing import interleaved_seconds  # a sibling module of the scripts
from astropy.io import fits

from survey2survey import Survey2Survey, transform_many
from survey2survey.datasets import make_survey_pairs
from survey2survey.estimator._batching import auto_batch_size
from survey2survey.estimator._psfs import band_psf_array
from survey2survey.io import read_cutout, write_cutout
from survey2survey.translators.base import _cpu_has_fast_bf16


def header_psfs(headers, model):
    """The ``(C, 4)`` PSF array of the input from its SCI headers (as ``transform`` reads it)."""
    bands = {band: SimpleNamespace(meta=header) for band, header in zip(
        model.bands_, headers, strict=True)}
    return band_psf_array(bands, model.source_, model.bands_)


def plain_network(translator, encoded, batch, device):
    """The network as a user would run it: eval, inference_mode, bf16 autocast, channels_last."""
    fast = device.type == "cuda" or _cpu_has_fast_bf16()
    outputs = []
    translator.network.eval().to(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                enabled=fast):
        for chunk in encoded.split(batch):
            chunk = chunk.to(device).contiguous(memory_format=torch.channels_last)
            outputs.append(translator.forward(chunk).float().cpu())
    return torch.cat(outputs).numpy()


def plain_script(model, inputs, out_dir, batch, device):
    """Read SCI arrays + headers with astropy, encode, network, decode, write with astropy."""
    codec, translator = model.codec_, model.translators_[0]
    headers, images = [], []
    for path in inputs:
        with fits.open(path, memmap=False) as hdul:
            sci = [hdu for hdu in hdul if hdu.name == "SCI"]
            headers.append([hdu.header for hdu in sci])
            images.append(np.stack([hdu.data for hdu in sci]).astype(float))
    encoded = torch.from_numpy(np.stack([codec.encode_source(image, header_psfs(heads, model))
                                         for image, heads in zip(images, headers, strict=True)]))
    values = [codec.decode(v) for v in plain_network(translator, encoded, batch, device)]
    for path, heads, value in zip(inputs, headers, values, strict=True):
        hdus = [fits.PrimaryHDU()]
        for header, plane in zip(heads, value, strict=True):
            header = header.copy()
            header["BUNIT"] = "nmgy"
            hdus.append(fits.ImageHDU(plane.astype(np.float32), header=header))
        fits.HDUList(hdus).writeto(out_dir / path.name)


def best_batch(translator, encoded, device, sizes=(1, 2, 4, 8, 16)):
    """The batch size at which the plain network is fastest on this machine (one pass each)."""
    seconds = {}
    for size in sizes:
        plain_network(translator, encoded[:size], size, device)  # warm-up of this shape
        start = time.perf_counter()
        plain_network(translator, encoded, size, device)
        seconds[size] = time.perf_counter() - start
    return min(seconds, key=seconds.get), seconds


def fresh(work):
    return Path(tempfile.mkdtemp(dir=work))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=32, help="files per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="sdss-des")
    parser.add_argument("--device", default=None)
    parser.add_argument("--cli", action="store_true", help="also the command line")
    parser.add_argument("--frame", action="store_true", help="also a 1489x2048 frame")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_files_"))
    pairs = make_survey_pairs(args.n, seed=910001, target_grid="source", progress=False)
    inputs = [write_cutout(pair.source, work / "in" / f"c{k:05d}.fits")
              for k, pair in enumerate(pairs)]
    model = Survey2Survey.from_pretrained(args.model, device=args.device)
    translator = model.translators_[0]
    device = translator.device
    cutouts = [read_cutout(path) for path in inputs]
    encoded = torch.from_numpy(np.stack([model.codec_.encode_source(
        c.data, header_psfs([c[b].meta for b in model.bands_], model)) for c in cutouts]))
    batch, searched = best_batch(translator, encoded, device)
    auto = auto_batch_size(translator, cutouts[0].shape, "auto")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}; "
          f"{args.n} files of 150x150x3 ({model.translators_[0].name}); plain network s per "
          f"batch size: " + ", ".join(f"{k}: {v:.2f}" for k, v in searched.items())
          + f" -> best {batch}; transform's automatic batch: {auto}")

    one = inputs[0]
    hdul = fits.open(one, memmap=False)
    for hdu in hdul:
        hdu.data  # noqa: B018
    cutout = cutouts[0]

    def astropy_read():
        for _ in range(10):
            with fits.open(one, memmap=False) as h:
                for hdu in h:
                    hdu.data  # noqa: B018
                    hdu.header  # noqa: B018

    def s2s_read():
        for _ in range(10):
            read_cutout(one)

    def astropy_write():
        out = fresh(work)
        for k in range(10):
            hdul.writeto(out / f"{k}.fits")

    def s2s_write():
        out = fresh(work)
        for k in range(10):
            write_cutout(cutout, out / f"{k}.fits")

    def folder(**kwargs):
        return lambda: transform_many(model, inputs, output_dir=fresh(work), progress=False,
                                      **kwargs)

    paths = {
        "fits.open (10 files)": astropy_read,
        "read_cutout (10 files)": s2s_read,
        "writeto (10 files)": astropy_write,
        "write_cutout (10 files)": s2s_write,
        "model alone": lambda: plain_network(translator, encoded, batch, device),
        "plain script": lambda: plain_script(model, inputs, fresh(work), batch, device),
        "transform (memory)": lambda: model.transform(cutouts, progress=False),
        "transform_many": folder(),
        "transform_many prefetch=0": folder(prefetch=0),
    }
    if args.cli:
        def cli(files):
            def run():
                subprocess.run([sys.executable, "-m", "survey2survey", "transform", args.model,
                                *map(str, files), "--output-dir", str(fresh(work)), "--quiet"],
                               check=True)
            return run
        paths["CLI (fresh process)"] = cli(inputs)
        paths["CLI start-up + 1 file"] = cli(inputs[:1])
    seconds = interleaved_seconds(paths, args.repeats)
    best = {name: min(values) for name, values in seconds.items()}
    print()
    print(f"{'path':30s} {'seconds':>8s} {'files/s':>8s} {'vs plain':>9s} {'vs model':>9s}")
    for name in ("model alone", "plain script", "transform (memory)", "transform_many",
                 "transform_many prefetch=0", "CLI (fresh process)"):
        if name in best:
            print(f"{name:30s} {best[name]:8.2f} {args.n / best[name]:8.2f} "
                  f"{best['plain script'] / best[name]:9.2f} "
                  f"{best['model alone'] / best[name]:9.2f}")
    if args.cli:
        steady = best["CLI (fresh process)"] - best["CLI start-up + 1 file"]
        per_file = steady / (args.n - 1)
        plain_per_file = best["plain script"] / args.n
        print(f"{'CLI steady state':30s} {steady:8.2f} {1 / per_file:8.2f} "
              f"{plain_per_file / per_file:9.2f}")
    print()
    print(f"{'file I/O (ms per file)':30s} {'astropy':>8s} {'s2s':>8s} {'s2s/astropy':>12s}")
    for label, base, ours in (("read", "fits.open (10 files)", "read_cutout (10 files)"),
                              ("write", "writeto (10 files)", "write_cutout (10 files)")):
        print(f"{label:30s} {best[base] * 100:8.2f} {best[ours] * 100:8.2f} "
              f"{best[ours] / best[base]:12.2f}")
    if args.frame:
        frame_rows(model, work, args.model)
    shutil.rmtree(work)


def frame_rows(model, work, name):
    """A 1489 x 2048 frame: former tiling defaults against the current ones; the CLI."""
    import warnings

    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    scale = 0.396 / 3600
    wcs.wcs.cdelt, wcs.wcs.crval, wcs.wcs.crpix = [-scale, scale], [150, 2], [1024, 744]
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(3, 1489, 2048)) * 0.02 + 0.05).astype(np.float32)
    frame = read_cutout((data, wcs), bands=model.bands_, unit="nmgy")
    radius = (model.translators_[0].receptive_field + 1) // 2
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no PSF cards: the survey median, with a warning
        for label, params in (("256-px tiles, overlap max(64, 3 r)", dict(
                tile_size=256, overlap=max(64, 3 * radius))), ("defaults", {})):
            model.set_params(**params)
            start = time.perf_counter()
            out = model.transform(frame, progress=False)
            rows[label] = (time.perf_counter() - start, out)
            model.set_params(tile_size=None, overlap=None)
        path = write_cutout(frame, work / "frame.fits")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "survey2survey", "transform", name, str(path),
                        "--output-dir", str(fresh(work)), "--quiet"], check=True)
        cli = time.perf_counter() - start
    (old, a), (new, b) = rows.values()
    diff = max(float(np.nanmax(np.abs(a[band].data - b[band].data))) for band in a.bands)
    peak = max(float(np.nanmax(np.abs(a[band].data))) for band in a.bands)
    print()
    print(f"1489x2048x3 frame: former tiling {old:.1f} s, defaults {new:.1f} s "
          f"({old / new:.2f}x); max difference {diff:.2g} (peak {peak:.3g}); CLI with "
          f"start-up {cli:.1f} s")


if __name__ == "__main__":
    main()
