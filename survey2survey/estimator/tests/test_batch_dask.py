# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""transform_many on dask: tasks spread over the workers, torch threads per worker."""

import pytest
from numpy.testing import assert_array_equal

from survey2survey import Survey2Survey, transform_many
from survey2survey.estimator import batch
from survey2survey.io import read_cutout, write_cutout

from .conftest import N_TRAIN


@pytest.fixture(scope="module")
def fitted_r(pairs):
    """A single-band (r) estimator fitted for one epoch: fast, for behaviour tests."""
    s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, seed=1)
    return s2s.fit(pairs[:8], validation=0, progress=False)


def test_task_size_spreads_inputs_over_workers():
    """128 files in partitions of 64 on 2 workers: 4 tasks of 32, not one of 128."""
    assert batch._task_size(128, 64, 2) == 32
    assert batch._task_size(128, 64, 1) == 64
    assert batch._task_size(10_000, 16, 2) == 16 * batch.PARTITIONS_PER_TASK
    assert batch._task_size(3, 64, 8) == 1
    assert batch._task_size(128, 64, None) == 64 * batch.PARTITIONS_PER_TASK


def test_worker_threads_share_the_host_cores():
    """Outside a worker process nothing changes; inside, the host's cores are shared."""
    assert batch.worker_torch_threads({"127.0.0.1": 2}) is None
    assert batch._host("tcp://10.1.2.3:4567") == "10.1.2.3"
    assert batch._host("tcp://[::1]:4567") == "[::1]"


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
def test_every_worker_gets_tasks_and_outputs_match(fitted_r, pairs, tmp_path, monkeypatch):
    """Eight inputs, partitions of 64, two workers: both work; files equal the serial run's."""
    distributed = pytest.importorskip("distributed")
    files = [write_cutout(p.source, tmp_path / "in" / f"c{k}.fits")
             for k, p in enumerate(list(pairs[N_TRAIN:N_TRAIN + 4]) * 2)]
    reference = transform_many(fitted_r, files, output_dir=tmp_path / "ref", progress=False)
    log = tmp_path / "tasks.log"  # tasks are serialised even in-process: a file records them
    run_task = batch._run_task

    def recording(model, entries, settings):
        with open(log, "a") as stream:
            stream.write(f"{distributed.get_worker().name} {len(entries)}\n")
        return run_task(model, entries, settings)

    monkeypatch.setattr(batch, "_run_task", recording)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        paths = transform_many(fitted_r, files, output_dir=tmp_path / "dask", progress=False,
                               scheduler=client)
    seen = [line.split() for line in log.read_text().splitlines()]
    assert len({name for name, _ in seen}) == 2
    assert sorted(int(size) for _, size in seen) == [2, 2, 2, 2]
    for ours, ref in zip(paths, reference, strict=True):
        assert_array_equal(read_cutout(ours).data, read_cutout(ref).data)
