# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Peak memory of ``transform_many`` over 1,000 and 10,000 small FITS files.

Each run is a fresh Python process that translates a folder of N small
cutouts (32x32, g r i) into another folder with the default pipeline and
reports its peak resident memory (``ru_maxrss``) and its rate. Memory should
not grow with N: only the partitions in flight are held.

Run::

    python benchmarks/bench_batch_memory.py [--sizes 1000,10000]

About 10 minutes on 2 CPU cores for 1,000 + 10,000 files.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from survey2survey import Survey2Survey, transform_many

    model, inputs, output = sys.argv[1:]
    estimator = Survey2Survey.load(model)
    start = time.perf_counter()
    paths = transform_many(estimator, inputs, output_dir=output, progress=False)
    spent = time.perf_counter() - start
    print(json.dumps({"n": len(paths), "seconds": spent,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    from survey2survey import Survey2Survey
    from survey2survey.datasets import make_survey_pairs
    from survey2survey.io import write_cutout

    work = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    pairs = make_survey_pairs(16, source_size=32, seed=3, processes=1, progress=False)
    s2s = Survey2Survey("aecnn", epochs=1, batch_size=8).fit(pairs[:8], validation=0,
                                                             progress=False)
    model = s2s.save(work / "model.s2s")
    contents = [write_cutout(p.source, work / f"{k}.fits").read_bytes()
                for k, p in enumerate(pairs)]
    print(f"{'files':>7} {'peak RSS (MiB)':>15} {'files/s':>8}")
    for size in map(int, args.sizes.split(",")):
        inputs = work / f"in{size}"
        inputs.mkdir()
        for k in range(size):
            (inputs / f"c{k:06d}.fits").write_bytes(contents[k % len(contents)])
        result = subprocess.run([sys.executable, "-c", CHILD, str(model), str(inputs),
                                 str(work / f"out{size}")], capture_output=True, text=True,
                                check=True)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{report['n']:>7} {report['peak_mib']:>15.0f} "
              f"{report['n'] / report['seconds']:>8.1f}", flush=True)
        shutil.rmtree(inputs)
        shutil.rmtree(work / f"out{size}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
