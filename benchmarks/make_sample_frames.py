# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Regenerate the sample SDSS frames shipped in ``survey2survey/datasets/data``.

Three simulated frames (g, r, i; 200x200 pixels; a GalSim scene seen with SDSS's
PSF and the noise of the SDSS frame data model) written as
``frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2`` following the SDSS
frame data model, from the fixed seed in
`survey2survey.datasets.SAMPLE_FRAME`. The output is byte-identical for a given
survey2survey, GalSim and numpy version. Run with
``python benchmarks/make_sample_frames.py [--output DIR]``; it prints each
file's size.
"""

import argparse
from pathlib import Path

from survey2survey.datasets import (
    SAMPLE_FRAME,
    frame_bytes,
    sdss_frame_name,
    simulate_sdss_frames,
)

__all__ = []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[1] / "survey2survey" / "datasets" / "data"
    parser.add_argument("--output", type=Path, default=default, help="destination folder")
    args = parser.parse_args(argv)
    sample = SAMPLE_FRAME
    frames = simulate_sdss_frames(sample["seed"], bands=sample["bands"], shape=sample["shape"],
                                  ra=sample["ra"], dec=sample["dec"], run=sample["run"],
                                  camcol=sample["camcol"], field=sample["field"])
    args.output.mkdir(parents=True, exist_ok=True)
    for band, hdul in frames.items():
        path = args.output / sdss_frame_name(band, sample["run"], sample["camcol"],
                                             sample["field"])
        path.write_bytes(frame_bytes(hdul))
        print(f"{path}: {path.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
