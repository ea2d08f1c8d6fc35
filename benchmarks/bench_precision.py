# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Inference precision of the default estimator: speed and aperture-flux change against fp32.

Translates held-out simulated SDSS cutouts (150 x 150, g, r, i) with the shipped
``sdss-des-aecnn`` model through `Survey2Survey.transform`, once per precision,
and prints the images per second (best of ``--repeat`` interleaved runs, ratio
to fp32 in the same run) and the largest relative change of 1", 2" and 8"
aperture fluxes (band sum) against the fp32 output.

Usage::

    python benchmarks/bench_precision.py [--n 32] [--repeat 3]
"""

import argparse
import time

import numpy as np
import torch

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.metrics import aperture_flux
from survey2survey.surveys import SDSS

PRECISIONS = ("fp32", "auto", "bf16")
APERTURES_ARCSEC = (1.0, 2.0, 8.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=32, help="cutouts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sources = list(make_survey_pairs(args.n, seed=910001, target_grid="source",
                                     progress=False).sources)
    model = Survey2Survey.from_pretrained("sdss-des-aecnn")
    pixel = SDSS.pixel_scale.to_value("arcsec / pix")
    seconds = {p: [] for p in PRECISIONS}
    outputs = {}
    for _ in range(args.repeat):
        for precision in PRECISIONS:
            model.set_params(precision=precision)
            start = time.perf_counter()
            outputs[precision] = model.transform(sources, progress=False)
            seconds[precision].append(time.perf_counter() - start)
    print(f"{args.n} cutouts of 150x150x3, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; auto -> "
          f"{model.translators_[0]._autocast_dtype('auto') or 'fp32'}")
    reference = np.stack([o.data.sum(axis=0) for o in outputs["fp32"]])
    best_fp32 = min(seconds["fp32"])
    print(f"{'precision':10s} {'img/s':>8s} {'ratio':>6s}  " +
          "  ".join(f'max|dF/F| {a:g}"' for a in APERTURES_ARCSEC))
    for precision in PRECISIONS:
        images = np.stack([o.data.sum(axis=0) for o in outputs[precision]])
        changes = []
        for arcsec in APERTURES_ARCSEC:
            flux = aperture_flux(images, r_max=arcsec / pixel)
            ref = aperture_flux(reference, r_max=arcsec / pixel)
            changes.append(float(np.max(np.abs(flux / ref - 1))))
        best = min(seconds[precision])
        print(f"{precision:10s} {args.n / best:8.1f} {best_fp32 / best:6.2f}  " +
              "  ".join(f"{c:14.1e}" for c in changes))


if __name__ == "__main__":
    main()
