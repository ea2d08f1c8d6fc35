# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: every metric of `survey2survey.metrics` on 10,000 images of 150x150.

Images are generated in chunks (a Sersic-like galaxy plus noise for the "source",
a less noisy version for the "target", and the noise-free truth), then run
through the pseudo-flux magnitude, mean S/N, radial profile, curve of growth,
the truth-based scores and SSIM l/c/s/MSSIM (target vs source). Prints a table
of seconds per metric and images per second. Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_metrics.py [--n 10000] [--chunk 500]
"""

import argparse
import os
import time

import numpy as np

from survey2survey import metrics


def _chunk(rng, n, size=150):
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    r = np.hypot(x, y)
    scale = rng.uniform(3, 12, n)[:, None, None]
    amp = rng.uniform(0.1, 1.0, n)[:, None, None]
    truth = amp * np.exp(-r / scale)
    source = truth + rng.normal(0, 0.02, truth.shape)
    target = truth + rng.normal(0, 0.005, truth.shape)
    return source, target, truth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    timings = dict.fromkeys([
        "pseudo_flux_magnitude", "signal_to_noise", "radial_profile", "curve_of_growth",
        "flux/magnitude error", "residual_rms + truth_snr", "ssim_components (l, c, s, MSSIM)"],
        0.0)
    done = 0
    while done < args.n:
        n = min(args.chunk, args.n - done)
        source, target, truth = _chunk(rng, n)
        m = metrics
        steps = [
            ("pseudo_flux_magnitude", m.pseudo_flux_magnitude, (source,), {}),
            ("signal_to_noise", m.signal_to_noise, (source,), {}),
            ("radial_profile", m.radial_profile, (source,), {}),
            ("curve_of_growth", m.curve_of_growth, (source,), {}),
            ("flux/magnitude error", m.flux_error, (source, truth), {}),
            ("flux/magnitude error", m.magnitude_error, (source, truth), {}),
            ("residual_rms + truth_snr", m.residual_rms, (source, truth), {}),
            ("residual_rms + truth_snr", m.truth_signal_to_noise, (source, truth), {}),
            ("ssim_components (l, c, s, MSSIM)", m.ssim_components, (target, source),
             {"data_range": 1.0, "maps": False}),
        ]
        for name, function, args_, kwargs in steps:
            start = time.perf_counter()
            function(*args_, **kwargs)
            timings[name] += time.perf_counter() - start
        done += n
    total = sum(timings.values())
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"{args.n} images of 150x150, chunks of {args.chunk}, OMP_NUM_THREADS={threads}, "
          f"{os.cpu_count()} CPU(s)")
    print(f"{'metric':<36} {'seconds':>8} {'images/s':>10}")
    print("-" * 56)
    for name, seconds in timings.items():
        print(f"{name:<36} {seconds:8.2f} {args.n / seconds:10.0f}")
    print("-" * 56)
    print(f"{'all metrics':<36} {total:8.2f} {args.n / total:10.0f}")


if __name__ == "__main__":
    main()
