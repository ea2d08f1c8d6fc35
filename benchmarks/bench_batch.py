# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Batch translation throughput: the network alone against FITS folder -> FITS folder.

For AECNN (the default stride-1 network) and CycleGAN at 150x150x3, all in
the same run on the same machine, prints images per second of

- ``network``: ``Translator.predict`` on already encoded batches (the
  model-only rate every other row is compared with);
- ``transform (memory)``: ``Survey2Survey.transform`` on in-memory cutouts;
- ``folder, sequential``: ``transform_many(model, folder, output_dir=...)``
  with ``prefetch=0`` (read, translate, write, one batch after the other);
- ``folder, pipeline``: the default ``transform_many`` (the network in a
  background thread while FITS files are read and written).

With ``--dask``, also the same folder through a local ``dask.distributed``
cluster of 1 and of 2 worker processes (one thread each; each worker loads the
model file once), after a warm-up run that starts the workers.

Run::

    python benchmarks/bench_batch.py [--n 64] [--repeats 3] [--dask] [--device cpu]

About 5 minutes on 2 CPU cores (more with --dask).
"""

import argparse
import shutil
import tempfile
from pathlib import Path

import torch
from bench_translators import timed

from survey2survey import Survey2Survey, transform_many
from survey2survey.datasets import make_survey_pairs
from survey2survey.io import read_cutout, write_cutout


def fitted(name, pairs, device):
    """A quickly fitted estimator: the speed does not depend on the weights."""
    params = {"cyclegan": dict(epochs=1, batch_size=2)}.get(name, dict(epochs=1, batch_size=8))
    s2s = Survey2Survey(name, device=device, seed=0, **params)
    return s2s.fit(pairs, validation=0, progress=False)


def rate(function, n, repeats):
    """Images per second: the best of ``repeats`` calls (after one warm-up call)."""
    function()
    return n / min(timed(function) for _ in range(repeats))


def folder_run(model, inputs, work, **kwargs):
    """A function translating ``inputs`` into a fresh folder under ``work``."""
    def run():
        out = Path(tempfile.mkdtemp(dir=work))
        transform_many(model, inputs, output_dir=out, progress=False, **kwargs)
        shutil.rmtree(out)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=64, help="cutouts per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16, help="files per partition")
    parser.add_argument("--translators", default="aecnn,cyclegan")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dask", action="store_true", help="also 1 vs 2 dask workers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.n} cutouts "
          f"150x150x3 per run, partitions of {args.batch_size}, best of {args.repeats}")
    pairs = make_survey_pairs(max(args.n, 8), source_size=150, seed=11, progress=False)
    inputs = []
    for k, pair in enumerate(pairs[:args.n]):
        inputs.append(write_cutout(pair.source, work / "in" / f"c{k:05d}.fits"))
    cutouts = [read_cutout(path) for path in inputs]
    rows = []
    for name in args.translators.split(","):
        s2s = fitted(name, pairs[:8], args.device)
        model_file = s2s.save(work / f"{name}.s2s")
        translator = s2s.translators_[0]
        encoded = torch.stack([torch.from_numpy(
            s2s.codec_.encode_source(c.data).astype("float32")) for c in cutouts])
        batch = translator.inference_batch_size
        paths = [
            ("network", lambda t=translator, e=encoded, b=batch, p=s2s.precision: t.predict(
                e, precision=p, batch_size=b)),
            ("transform (memory)", lambda s=s2s: s.transform(cutouts, progress=False)),
            ("folder, sequential", folder_run(s2s, inputs, work, prefetch=0,
                                              batch_size=args.batch_size)),
            ("folder, pipeline", folder_run(s2s, inputs, work, batch_size=args.batch_size)),
        ]
        rates = [rate(function, args.n, args.repeats) for _, function in paths]
        for (label, _), value in zip(paths, rates, strict=True):
            rows.append((name, label, value, value / rates[0]))
        if args.dask:
            from distributed import Client, LocalCluster

            for workers in (1, 2):
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, Client(cluster) as client:
                    function = folder_run(str(model_file), inputs, work, scheduler=client,
                                          batch_size=args.batch_size)
                    value = rate(function, args.n, args.repeats)
                rows.append((name, f"dask, {workers} worker(s)", value, value / rates[0]))
    print()
    print(f"{'translator':<10} {'path':<22} {'img/s':>8} {'/ network':>10}")
    for name, label, value, ratio in rows:
        print(f"{name:<10} {label:<22} {value:>8.2f} {ratio:>10.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
