# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Inference precision of the default estimator: speed and aperture-flux change against fp32.

Translates held-out simulated SDSS cutouts (150 x 150, g, r, i) with a shipped
model (``--model``: ``sdss-des``, the psfnet default, or ``sdss-des-aecnn``) through
`Survey2Survey.transform`, once per precision,
beside a plain PyTorch forward of the same network and output head on the
already-encoded batch (fp32, and bf16 autocast with channels-last memory), and
prints the images per second (best of ``--repeat`` interleaved runs, ratio to
the plain fp32 forward in the same run) and the largest relative change of 1",
2" and 8" aperture fluxes (band sum) against ``transform`` in fp32. The row
``transform bf16, all layers`` computes the first convolution in bf16 too (the
package keeps it in fp32: the raw fluxes it sees lose too much in bf16).

Usage::

    python benchmarks/bench_precision.py [--model sdss-des] [--n 32] [--repeat 3]
"""

import argparse
import time

import numpy as np
import torch

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.estimator._batching import auto_batch_size
from survey2survey.estimator._psfs import band_psf_array
from survey2survey.metrics import aperture_flux
from survey2survey.surveys import SDSS

PRECISIONS = ("fp32", "auto", "bf16")
APERTURES_ARCSEC = (1.0, 2.0, 8.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=32, help="cutouts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="sdss-des")
    args = parser.parse_args(argv)
    sources = list(make_survey_pairs(args.n, seed=910001, target_grid="source",
                                     progress=False).sources)
    model = Survey2Survey.from_pretrained(args.model)
    pixel = SDSS.pixel_scale.to_value("arcsec / pix")
    translator = model.translators_[0]
    network = translator.network.eval()
    encoded = torch.from_numpy(np.stack([model.codec_.encode_source(  # PSFs of the headers
        c.data, band_psf_array(c, model.source_, model.bands_)) for c in sources]))
    batch_size = {p: auto_batch_size(translator, (150, 150), p) for p in ("fp32", "bf16")}

    def plain(fast):
        memory = torch.channels_last if fast else torch.contiguous_format
        network.to(memory_format=memory)
        outputs = []
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
            for batch in encoded.split(batch_size["bf16" if fast else "fp32"]):
                batch = batch.contiguous(memory_format=memory)
                outputs.append(translator.forward(batch))
        network.to(memory_format=torch.contiguous_format)
        return [model.codec_.decode(o) for o in torch.cat(outputs).float().numpy()]

    def all_layers_bf16():
        layers = translator._input_layers
        translator._input_layers = list  # no layer kept in fp32
        try:
            return [o.data for o in model.transform(sources, precision="bf16", progress=False)]
        finally:
            translator._input_layers = layers

    paths = {"plain fp32": lambda: plain(False), "plain bf16+CL": lambda: plain(True)}
    for precision in PRECISIONS:
        def run(precision=precision):
            return [o.data for o in model.transform(sources, precision=precision,
                                                    progress=False)]
        paths[f"transform {precision}"] = run
    paths["transform bf16, all layers"] = all_layers_bf16
    seconds = {name: [] for name in paths}
    outputs = {}
    for _ in range(args.repeat):
        for name, function in paths.items():
            start = time.perf_counter()
            outputs[name] = function()
            seconds[name].append(time.perf_counter() - start)
    print(f"{args.model} ({translator.name}): {args.n} cutouts of 150x150x3, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; auto -> "
          f"{translator._autocast_dtype('auto') or 'fp32'}; batches {batch_size}")
    reference = np.stack([o.sum(axis=0) for o in outputs["transform fp32"]])
    baseline = min(seconds["plain fp32"])
    print(f"{'path':27s} {'img/s':>8s} {'ratio':>6s}  " +
          "  ".join(f'max|dF/F| {a:g}"' for a in APERTURES_ARCSEC))
    for name in paths:
        images = np.stack([o.sum(axis=0) for o in outputs[name]])
        changes = []
        for arcsec in APERTURES_ARCSEC:
            flux = aperture_flux(images, r_max=arcsec / pixel)
            ref = aperture_flux(reference, r_max=arcsec / pixel)
            changes.append(float(np.max(np.abs(flux / ref - 1))))
        best = min(seconds[name])
        print(f"{name:27s} {args.n / best:8.1f} {baseline / best:6.2f}  " +
              "  ".join(f"{c:14.1e}" for c in changes))


if __name__ == "__main__":
    main()
