# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark of the embedded simulated dataset: pairs per second on 1 and 2 processes.

Renders full-size SDSS (150x150, 0.396"/pix) + DES (228x228, 0.263"/pix) gri
training pairs with `survey2survey.datasets.make_survey_pairs` and prints a
table of rates and the time projected for 1,000 pairs (target: < 90 s on two
cores), plus the time to save the pairs to FITS.

Usage: ``python benchmarks/bench_simulation.py [n_pairs] [max_processes]``
"""

import os
import sys
import tempfile
import time

from survey2survey.datasets import make_survey_pairs, save_pairs

__all__ = []


def main(n=200, max_processes=2):
    make_survey_pairs(2, processes=1, progress=False)  # warm GalSim's profile caches
    rows = []
    for processes in range(1, max_processes + 1):
        start = time.perf_counter()
        pairs = make_survey_pairs(n, seed=1, processes=processes, progress=False)
        elapsed = time.perf_counter() - start
        rows.append((f"simulate, {processes} process(es)", n, elapsed))
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        save_pairs(pairs[: max(n // 4, 1)], directory)
        rows.append(("save_pairs (4 FITS files/pair)", max(n // 4, 1),
                     time.perf_counter() - start))
    print(f"cpu_count={os.cpu_count()}  pairs: SDSS 150x150 + DES 228x228, bands gri")
    print(f"{'step':34s} {'pairs':>6s} {'seconds':>8s} {'pairs/s':>8s} {'s/1000 pairs':>13s}")
    for name, count, seconds in rows:
        rate = count / seconds
        print(f"{name:34s} {count:6d} {seconds:8.2f} {rate:8.2f} {1000 / rate:13.1f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
