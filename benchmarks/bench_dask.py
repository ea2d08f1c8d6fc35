# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Dask workers: ``transform_many`` on a local ``dask.distributed`` cluster of 1 and 2 workers.

``--n`` simulated SDSS cutouts (150 x 150, g, r, i) as FITS files, translated by
a shipped model (``--model``, loaded from its file once per worker) into a
folder; each worker process has one dask thread. Timed round robin in the same
run (best of ``--repeats``, after a warm-up run that starts the workers and
loads the model), with the ratio to the 1-worker cluster:

- ``local``: ``transform_many`` in this process, no dask (torch on every core);
- ``dask 1 worker`` and ``dask 2 workers``: torch threads per worker from its
  host's cores (the package default: 2 and 1 on a 2-core machine);
- with ``--one-thread``, also both clusters with one torch thread per worker
  (``batch.WORKER_TORCH_THREADS = 1``), the comparison of the issue.

Run::

    python benchmarks/bench_dask.py [--n 128] [--repeats 2] [--one-thread]
"""

import argparse
import shutil
import tempfile
from pathlib import Path

import torch
from _timing import interleaved_seconds  # a sibling module of the scripts
from distributed import Client, LocalCluster

from survey2survey import transform_many
from survey2survey.datasets import make_survey_pairs
from survey2survey.estimator import batch
from survey2survey.estimator.pretrained import pretrained_path
from survey2survey.io import write_cutout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="sdss-des")
    parser.add_argument("--one-thread", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_dask_"))
    pairs = make_survey_pairs(args.n, seed=910001, target_grid="source", progress=False)
    inputs = [write_cutout(p.source, work / "in" / f"c{k:05d}.fits")
              for k, p in enumerate(pairs)]
    model = str(pretrained_path(args.model))
    clusters = {}
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        clusters[workers] = (cluster, Client(cluster))

    def run(client=None, threads=None):
        def go():
            batch.WORKER_TORCH_THREADS = threads
            out = Path(tempfile.mkdtemp(dir=work))
            transform_many(model, inputs, output_dir=out, batch_size=args.batch_size,
                           progress=False, scheduler=client)
            shutil.rmtree(out)
        return go

    paths = {"local (no dask)": run(),
             "dask 1 worker": run(clusters[1][1]),
             "dask 2 workers": run(clusters[2][1])}
    if args.one_thread:
        paths["dask 1 worker, 1 torch thread"] = run(clusters[1][1], 1)
        paths["dask 2 workers, 1 torch thread"] = run(clusters[2][1], 1)
    for function in paths.values():  # warm-up: workers started, model loaded once each
        function()
    seconds = interleaved_seconds(paths, args.repeats)
    for cluster, client in clusters.values():
        client.close()
        cluster.close()
    best = {name: min(values) for name, values in seconds.items()}
    print(f"torch {torch.__version__}; {args.n} files of 150x150x3, partitions of "
          f"{args.batch_size}, model {args.model}, best of {args.repeats}")
    print(f"{'path':32s} {'seconds':>8s} {'files/s':>8s} {'vs 1 worker':>12s}")
    for name, value in best.items():
        base = best["dask 1 worker, 1 torch thread"] if "1 torch thread" in name \
            else best["dask 1 worker"]
        print(f"{name:32s} {value:8.2f} {args.n / value:8.2f} {base / value:12.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
