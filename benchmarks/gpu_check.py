# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
GPU check: the numbers of docs/performance.rst's GPU section, in one run of a few minutes.

On one GPU (``--device cuda``, the default when there is one), with the shipped
``sdss-des`` model (psfnet) and simulated 150 x 150 x 3 SDSS cutouts, prints

- ``transform`` cutouts/s in memory (automatic batch, and each ``--batches``),
  with peak GPU memory;
- files to files: ``transform_many`` from a folder of FITS files into another,
  cutouts/s, against the model alone on the same cutouts (ratio);
- training images/s (``Survey2Survey.fit``, one epoch of a fresh psfnet);
- the largest change of 1", 2" and 8" aperture fluxes in bf16 and fp16
  against fp32 (goal: under 1e-3);
- the network's FLOPs per cutout (torch's FLOP counter) and the achieved rate
  as a percentage of the GPU's peak dense bf16 rate (``--peak-tflops``, else a
  table of known GPUs).

Every section checks its time budget; the whole run takes under 8 minutes on
an H100/H200-class GPU (most of it simulating cutouts). ``--quick`` is a smoke
test of the script on any machine (CPU included): a few cutouts, every section.
``--json PATH`` also writes the numbers.

Run::

    python benchmarks/gpu_check.py [--device cuda] [--n 2048] [--json gpu.json]
    python benchmarks/gpu_check.py --quick      # CPU smoke test, about a minute
"""

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from survey2survey import Survey2Survey, transform_many
from survey2survey.datasets import make_survey_pairs
from survey2survey.estimator._batching import auto_batch_size
from survey2survey.estimator._psfs import band_psf_array
from survey2survey.io import write_cutout
from survey2survey.metrics import aperture_flux
from survey2survey.surveys import SDSS

#: peak dense bf16 tensor-core rates (TFLOP/s) of GPUs by a part of their name
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 PCIe": 756.0, "H100": 756.0,
                    "GH200": 989.0, "A100": 312.0, "L40S": 362.0, "L40": 181.0, "L4": 121.0,
                    "A10G": 70.0, "A10": 125.0, "RTX 4090": 165.0, "RTX 3090": 71.0}


def peak_tflops(device, given):
    if given is not None:
        return given
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    return None


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(function, device, repeats=2):
    """Best wall time of ``repeats`` calls after one warm-up call."""
    function()
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def network_flops(translator, encoded):
    """FLOPs of one forward of the network (its PSF head included) per cutout."""
    from torch.utils.flop_counter import FlopCounterMode

    batch = encoded[:2].to(translator.device)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        translator.forward(batch)
    return counter.get_total_flops() / len(batch)


def model_alone(translator, encoded, batch, device):
    """The network on the encoded cutouts (bf16 autocast, channels_last), as a user would."""
    translator.network.eval().to(memory_format=torch.channels_last)
    dtype = translator._autocast_dtype("auto")
    outputs = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.bfloat16,
                                                enabled=dtype is not None):
        for chunk in encoded.split(batch):
            chunk = chunk.to(device, non_blocking=True).contiguous(
                memory_format=torch.channels_last)
            outputs.append(translator.forward(chunk).float().cpu())
    return outputs


def flux_changes(model, sources, precisions):
    """Largest relative change of 1", 2", 8" aperture fluxes (band sum) against fp32."""
    pixel = SDSS.pixel_scale.to_value("arcsec / pix")
    images = {p: np.stack([o.data.sum(axis=0) for o in model.transform(
        sources, precision=p, progress=False)]) for p in ("fp32",) + tuple(precisions)}
    changes = {}
    for precision in precisions:
        changes[precision] = [float(np.max(np.abs(
            aperture_flux(images[precision], r_max=a / pixel)
            / aperture_flux(images["fp32"], r_max=a / pixel) - 1))) for a in (1.0, 2.0, 8.0)]
    return changes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--n", type=int, default=2048, help="cutouts for transform")
    parser.add_argument("--files", type=int, default=512, help="FITS files for files-to-files")
    parser.add_argument("--train", type=int, default=512, help="pairs for one training epoch")
    parser.add_argument("--batches", default="64,256,1024", help="explicit transform batches")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--budget", type=float, default=450.0, help="seconds for the run")
    parser.add_argument("--quick", action="store_true", help="smoke test (any device)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.files, args.train, args.batches = 8, 8, 8, "4"
    start = time.perf_counter()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    results = {"device": name, "torch": torch.__version__, "n": args.n}
    print(f"gpu_check on {name} ({device}), torch {torch.__version__}")

    pool = max(args.n, args.files, args.train, 32)
    simulated = min(pool, 1024)  # simulation dominates the run: repeat the cutouts beyond this
    pairs = make_survey_pairs(simulated, seed=910001, target_grid="source", progress=False)
    sources = [pairs[k % simulated].source for k in range(pool)]
    results["simulation_s"] = round(time.perf_counter() - start, 1)
    print(f"simulated {simulated} pairs in {results['simulation_s']} s")

    model = Survey2Survey.from_pretrained("sdss-des", device=str(device))
    translator = model.translators_[0]
    cutouts = sources[:args.n]
    auto = auto_batch_size(translator, (150, 150), "auto")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = timed(lambda: model.transform(cutouts, progress=False), device)
    results["transform_cutouts_per_s"] = round(args.n / seconds, 1)
    results["auto_batch"] = auto
    if device.type == "cuda":
        results["peak_memory_GiB"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    print(f"transform, automatic batch ({auto}): {args.n / seconds:.1f} cutouts/s"
          + (f", peak memory {results['peak_memory_GiB']} GiB" if device.type == "cuda"
             else ""))
    for size in [int(b) for b in args.batches.split(",") if b]:
        if time.perf_counter() - start > args.budget * 0.5:
            print(f"  batch {size}: skipped (time budget)")
            continue
        seconds = timed(lambda s=size: model.transform(cutouts, batch_size=s, progress=False),
                        device, repeats=1)
        results[f"transform_batch_{size}"] = round(args.n / seconds, 1)
        print(f"transform, batch {size}: {args.n / seconds:.1f} cutouts/s")

    encoded = torch.from_numpy(np.stack([model.codec_.encode_source(  # the headers' PSFs
        c.data, band_psf_array(c, model.source_, model.bands_))
        for c in cutouts]).astype(np.float32))
    alone = timed(lambda: model_alone(translator, encoded, auto, device), device)
    results["model_alone_cutouts_per_s"] = round(args.n / alone, 1)
    flops = network_flops(translator, encoded)
    results["gflop_per_cutout"] = round(flops / 1e9, 2)
    peak = peak_tflops(device, args.peak_tflops)
    achieved = flops * args.n / alone / 1e12
    results["achieved_tflops"] = round(achieved, 2)
    if peak:
        results["percent_of_peak_bf16"] = round(100 * achieved / peak, 2)
    print(f"model alone: {args.n / alone:.1f} cutouts/s; {flops / 1e9:.2f} GFLOP per cutout "
          f"-> {achieved:.2f} TFLOP/s" + (f" = {100 * achieved / peak:.1f}% of the "
                                          f"{peak:g} TFLOP/s bf16 peak" if peak else ""))

    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    try:
        files = [write_cutout(c, work / "in" / f"c{k:05d}.fits")
                 for k, c in enumerate(sources[:args.files])]
        outputs = []

        def folder():
            out = work / f"out{len(outputs)}"
            outputs.append(out)
            transform_many(model, files, output_dir=out, progress=False)

        seconds = timed(folder, device, repeats=1)
        results["files_to_files_per_s"] = round(args.files / seconds, 1)
        alone_files = timed(lambda: model_alone(translator, encoded[:args.files], auto, device),
                            device, repeats=1) if args.files <= args.n else alone
        ratio = (args.files / seconds) / (min(args.files, args.n) / alone_files)
        results["files_to_files_vs_model"] = round(ratio, 2)
        print(f"files to files (transform_many): {args.files / seconds:.1f} files/s = "
              f"{ratio:.2f} of the model alone")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if time.perf_counter() - start < args.budget * 0.8:
        trainer = Survey2Survey("psfnet", epochs=1, batch_size=32 if device.type == "cuda"
                                else 4, seed=0, device=str(device))
        train = pairs[:min(args.train, simulated)]
        begin = time.perf_counter()
        trainer.fit(train, validation=0, progress=False)
        synchronize(device)
        fit_s = time.perf_counter() - begin
        results["train_images_per_s"] = round(len(train) / fit_s, 1)
        print(f"training (fit, 1 epoch of {len(train)} pairs, preparation included): "
              f"{len(train) / fit_s:.1f} images/s")
    else:
        print("training: skipped (time budget)")

    held = sources[:32] if not args.quick else sources[:4]
    precisions = ("bf16", "fp16")
    changes = flux_changes(model, held, precisions)
    for precision, values in changes.items():
        results[f"{precision}_max_dF_F_1_2_8"] = [float(f"{v:.2e}") for v in values]
        print(f"{precision}: max |dF/F| 1\"/2\"/8\" = "
              + " / ".join(f"{v:.1e}" for v in values)
              + ("  (within 1e-3)" if max(values) < 1e-3 else "  (OVER 1e-3)"))
    results["total_s"] = round(time.perf_counter() - start, 1)
    print(f"total {results['total_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
