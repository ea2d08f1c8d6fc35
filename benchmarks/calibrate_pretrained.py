# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Calibrate the error models of the shipped models (how their calibration is made).

Each shipped model (``survey2survey/estimator/data/sdss-des-*.s2s``) gets
`~survey2survey.Survey2Survey.calibrate_uncertainty` on simulated full-size
pairs it was never trained on (seed 920019; the DES image on the SDSS grid):
PSF-aware models on pairs with realistic PSF knowledge and a 0.2 lognormal
seeing spread, as in their training (``benchmarks/bench_psf.py``), the
PSF-blind AECNN on the default pairs of its training
(``benchmarks/bench_fidelity.py``); against the noise-free truth of the pairs
(``truth=``), which fixes the shape of the error distribution, not only its
variance. The weights are unchanged.

Usage::

    python benchmarks/calibrate_pretrained.py                 # all three, 128 pairs
    python benchmarks/calibrate_pretrained.py --models psfnet --n 64
"""

import argparse
import time
import warnings
from pathlib import Path

from astropy.utils.exceptions import AstropyUserWarning

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs

DATA = Path(__file__).resolve().parents[1] / "survey2survey" / "estimator" / "data"
SEED = 920019
PSF_AWARE = {"psfnet", "deconvolve"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["psfnet", "deconvolve", "aecnn"])
    parser.add_argument("--n", type=int, default=128, help="calibration pairs")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    pairs = {}
    for name in args.models:
        kind = "realistic" if name in PSF_AWARE else "nominal"
        if kind not in pairs:
            start = time.perf_counter()
            options = ({"psf": "realistic", "seeing_spread": 0.2} if kind == "realistic"
                       else {})
            pairs[kind] = make_survey_pairs(args.n, "sdss", "des", "gri", seed=SEED,
                                            target_grid="source",
                                            progress=False, **options)
            print(f"simulated {args.n} {kind} pairs in {time.perf_counter() - start:.0f} s",
                  flush=True)
        model = Survey2Survey.from_pretrained(f"sdss-des-{name}")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyUserWarning)
            model.calibrate_uncertainty(list(pairs[kind].sources), list(pairs[kind].targets),
                                        truth=list(pairs[kind].target_truths), progress=False)
        print(f"[{name}] calibrated in {time.perf_counter() - start:.0f} s: "
              f"{model.uncertainty_model_!r}", flush=True)
        model.save(args.out / f"sdss-des-{name}.s2s", overwrite=True)


if __name__ == "__main__":
    main()
