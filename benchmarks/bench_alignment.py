# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark `survey2survey.alignment.align`: milliseconds per 150x150 output band.

A DES-like cutout (228x228 at 0.263"/pix, about 60") holding a Gaussian galaxy
and white noise is aligned onto the SDSS grid of the same sky area (150x150 at
0.396"/pix), as when a native DES cutout is paired with its SDSS counterpart.
For each method the script prints the median time per band of ``align`` on a
one-band and on a three-band (gri) cutout, the same with a mask and an
uncertainty map (three more planes to resample), the bare ``reproject`` call on
one band for comparison, and the total flux ratio (output / input) of the
galaxy. Run with ``python benchmarks/bench_alignment.py [--repeat N]``.
"""

import argparse
import platform
import time

import numpy as np
import reproject
from astropy.nddata import CCDData, StdDevUncertainty
from astropy.wcs import WCS

from survey2survey.alignment import align, footprint_overlap
from survey2survey.io import Cutout, read_cutout

__all__ = []

METHODS = {
    "adaptive": lambda data, wcs, out: reproject.reproject_adaptive(
        (data, wcs), out, shape_out=(150, 150), conserve_flux=True),
    "exact": lambda data, wcs, out: reproject.reproject_exact((data, wcs), out,
                                                              shape_out=(150, 150)),
    "interp": lambda data, wcs, out: reproject.reproject_interp((data, wcs), out,
                                                                shape_out=(150, 150)),
}


def tan_wcs(scale, n):
    """A north-up TAN WCS of ``scale`` arcsec/pix centred on an n x n grid."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [(n + 1) / 2, (n + 1) / 2]
    wcs.wcs.cd = [[-scale / 3600, 0], [0, scale / 3600]]
    wcs.pixel_shape = (n, n)
    return wcs


def des_cutout(bands, *, masked=False, noise=True):
    """A DES-like 228x228 cutout: a Gaussian galaxy plus white noise in every band."""
    wcs = tan_wcs(0.263, 228)
    y, x = np.mgrid[0:228, 0:228]
    galaxy = 5000 * np.exp(-((x - 113.2) ** 2 + (y - 114.1) ** 2) / (2 * 8.0 ** 2))
    rng = np.random.default_rng(0)
    images = {}
    for band in bands:
        data = galaxy + (rng.normal(0, 2.6, galaxy.shape) if noise else 0)
        mask = np.zeros(galaxy.shape, dtype=bool)
        if masked:
            mask[50:53, 60:64] = True
            data[100, 100] = np.nan
        images[band] = CCDData(data, unit="ct", wcs=wcs, meta={"FILTER": band},
                               mask=mask if masked else None,
                               uncertainty=StdDevUncertainty(np.full(galaxy.shape, 2.6))
                               if masked else None)
    return read_cutout(Cutout(images))


def median_ms(function, repeat):
    """Median wall time of ``function()`` in milliseconds (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per entry")
    args = parser.parse_args(argv)

    grid = (tan_wcs(0.396, 150), (150, 150))
    one = des_cutout("r")
    three = des_cutout("gri")
    three_masked = des_cutout("gri", masked=True)
    noiseless = des_cutout("r", noise=False)
    print(f"survey2survey alignment benchmark: DES 228x228 @ 0.263\"/pix -> SDSS 150x150 "
          f"@ 0.396\"/pix; reproject {reproject.__version__}, {platform.processor() or 'cpu'}, "
          f"median of {args.repeat} calls")
    print(f"footprint_overlap: {median_ms(lambda: footprint_overlap(one, grid), args.repeat):.1f}"
          f" ms per pair")
    header = (f"{'method':<9} {'reproject 1 band':>17} {'align 1 band':>13} "
              f"{'align gri /band':>16} {'+mask+unc /band':>16} {'flux out/in':>12}")
    print(header)
    print("-" * len(header))
    data, wcs = one["r"].data, one["r"].wcs
    for method, bare in METHODS.items():
        t_bare = median_ms(lambda: bare(data, wcs, grid[0]), args.repeat)  # noqa: B023
        t_one = median_ms(lambda: align(one, grid, method=method), args.repeat)  # noqa: B023
        t_three = median_ms(lambda: align(three, grid, method=method), args.repeat) / 3  # noqa: B023
        t_masked = median_ms(lambda: align(three_masked, grid, method=method),  # noqa: B023
                             args.repeat) / 3
        ratio = align(noiseless, grid, method=method).data.sum() / noiseless.data.sum()
        print(f"{method:<9} {t_bare:>14.1f} ms {t_one:>10.1f} ms {t_three:>13.1f} ms "
              f"{t_masked:>13.1f} ms {ratio:>12.5f}")
    print("flux out/in: total flux of the noise-free galaxy after / before align")


if __name__ == "__main__":
    main()
