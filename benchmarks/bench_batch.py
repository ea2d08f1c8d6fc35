# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Batch translation throughput: the network alone against FITS folder -> FITS folder.

For AECNN (the default stride-1 network) and CycleGAN at 150x150x3, all in
the same run on the same machine, prints images per second of

- ``network``: ``Translator.predict`` on already encoded batches (the
  model-only rate every other row is compared with);
- ``transform (memory)``: ``Survey2Survey.transform`` on in-memory cutouts;
- ``read + transform + write``: what a loop over files did before
  ``transform_many`` parsed each file once: ``read_cutout``, then
  ``Survey2Survey.transform`` on the cutouts (which checks and copies them
  again), then ``write_cutout``, one partition after the other;
- ``folder, sequential``: ``transform_many(model, folder, output_dir=...)``
  with ``prefetch=0`` (read, translate, write, one batch after the other);
- ``folder, pipeline``: the default ``transform_many`` (the network in a
  background thread while FITS files are read and written).

With ``--dask``, also the same folder through a local ``dask.distributed``
cluster of 1 and of 2 worker processes (one thread each; each worker loads the
model file once), after a warm-up run that starts the workers.

Run::

    python benchmarks/bench_batch.py [--n 64] [--size 150] [--repeats 3] [--dask]

About 5 minutes on 2 CPU cores (more with --dask).
"""

import argparse
import shutil
import tempfile
from pathlib import Path

import torch
from bench_translators import best_rates

from survey2survey import Survey2Survey, transform_many
from survey2survey.datasets import make_survey_pairs
from survey2survey.io import read_cutout, write_cutout


def fitted(name, pairs, device):
    """A quickly fitted estimator: the speed does not depend on the weights."""
    params = {"cyclegan": dict(epochs=1, batch_size=2)}.get(name, dict(epochs=1, batch_size=8))
    s2s = Survey2Survey(name, device=device, seed=0, **params)
    return s2s.fit(pairs, validation=0, progress=False)


def folder_run(model, inputs, work, **kwargs):
    """A function translating ``inputs`` into a fresh folder under ``work``."""
    def run():
        out = Path(tempfile.mkdtemp(dir=work))
        transform_many(model, inputs, output_dir=out, progress=False, **kwargs)
        shutil.rmtree(out)
    return run


def read_transform_write(s2s, inputs, work, batch_size):
    """A function doing read_cutout -> transform -> write_cutout per partition."""
    def run():
        out = Path(tempfile.mkdtemp(dir=work))
        for start in range(0, len(inputs), batch_size):
            chunk = inputs[start:start + batch_size]
            cutouts = [read_cutout(path, s2s.bands_) for path in chunk]
            for path, result in zip(chunk, s2s.transform(cutouts, progress=False),
                                    strict=True):
                write_cutout(result, out / path.name)
        shutil.rmtree(out)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=64, help="cutouts per run")
    parser.add_argument("--size", type=int, default=150, help="SDSS cutout side (pixels)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16, help="files per partition")
    parser.add_argument("--translators", default="aecnn,cyclegan")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dask", action="store_true", help="also 1 vs 2 dask workers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.n} cutouts "
          f"{args.size}x{args.size}x3 per run, partitions of {args.batch_size}, best of "
          f"{args.repeats}")
    pairs = make_survey_pairs(max(args.n, 8), source_size=args.size, seed=11, progress=False)
    inputs = []
    for k, pair in enumerate(pairs[:args.n]):
        inputs.append(write_cutout(pair.source, work / "in" / f"c{k:05d}.fits"))
    cutouts = [read_cutout(path) for path in inputs]
    clusters = []
    if args.dask:  # started once, before any timing; each worker loads each model once
        from distributed import Client, LocalCluster

        for workers in (1, 2):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            clusters.append((workers, cluster, Client(cluster)))
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
            ("read + transform + write", read_transform_write(s2s, inputs, work,
                                                              args.batch_size)),
            ("folder, sequential", folder_run(s2s, inputs, work, prefetch=0,
                                              batch_size=args.batch_size)),
            ("folder, pipeline", folder_run(s2s, inputs, work, batch_size=args.batch_size)),
        ]
        for workers, _, client in clusters:
            paths.append((f"dask, {workers} worker(s)",
                          folder_run(str(model_file), inputs, work, scheduler=client,
                                     batch_size=args.batch_size)))
        # interleaved (round robin), so that load from other processes hits every path alike
        rates = best_rates([function for _, function in paths], args.n, args.repeats)
        for (label, _), value in zip(paths, rates, strict=True):
            rows.append((name, label, value, value / rates[0]))
    for _, cluster, client in clusters:
        client.close()
        cluster.close()
    print()
    print(f"{'translator':<10} {'path':<26} {'img/s':>8} {'/ network':>10}")
    for name, label, value, ratio in rows:
        print(f"{name:<10} {label:<26} {value:>8.2f} {ratio:>10.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
