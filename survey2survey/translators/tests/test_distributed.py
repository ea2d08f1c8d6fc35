# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Data-parallel training: 2 gloo processes follow the loss curve of one process."""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from numpy.testing import assert_allclose

from survey2survey import Translator
from survey2survey.exceptions import InvalidOptionError

# a constant rate: a cosine schedule spans the epochs of each fit, so a resumed run would differ
PARAMS = dict(in_channels=1, epochs=3, batch_size=4, seed=0, optimizer="adam",
              schedule="none", learning_rate=1e-2)

_WORKER = """
import json, sys
import torch
from survey2survey import Translator

params = json.loads(sys.argv[1])
out, checkpoints = sys.argv[2], sys.argv[3]
generator = torch.Generator().manual_seed(5)
x = torch.rand(10, 1, 16, 16, generator=generator)
y = 0.5 * x + 0.1
full = Translator.create("aecnn", **params)
full.fit(x, y, validation=2, distributed=True, progress=False)
part = Translator.create("aecnn", **params)
part.fit(x, y, validation=2, epochs=2, distributed=True, progress=False,
         checkpoint_dir=checkpoints)
resumed = Translator.create("aecnn", **params)
resumed.fit(x, y, validation=2, distributed=True, progress=False, checkpoint_dir=checkpoints,
            resume=True)
rank = torch.distributed.get_rank()
with open(f"{out}.{rank}", "w") as handle:
    json.dump({"full": full.history.to_dict(), "resumed": resumed.history.to_dict(),
               "weights": full.weights_sha256(), "resumed_weights": resumed.weights_sha256()},
              handle)
torch.distributed.destroy_process_group()
"""


def free_port():
    """A TCP port free on this machine now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _data():
    generator = torch.Generator().manual_seed(5)
    x = torch.rand(10, 1, 16, 16, generator=generator)
    return x, 0.5 * x + 0.1


@pytest.mark.slow
def test_two_gloo_processes_follow_one(tmp_path):
    """2 processes x 2 images per batch give the loss curve of 1 process x 4; resume too."""
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    port = str(free_port())
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port, OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen(
            [sys.executable, str(script), json.dumps(PARAMS), str(tmp_path / "out"),
             str(tmp_path / "ckpt")], env=env, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
    ranks = [json.loads((tmp_path / f"out.{rank}").read_text()) for rank in range(2)]
    single = Translator.create("aecnn", **PARAMS)
    x, y = _data()
    single.fit(x, y, validation=2, progress=False)
    expected = single.history.to_dict()
    for result in ranks:  # every rank records the global history
        for key in ("loss", "val_loss"):
            assert_allclose(result["full"]["values"][key], expected["values"][key], rtol=2e-5)
            assert_allclose(result["resumed"]["values"][key], result["full"]["values"][key],
                            rtol=1e-6)
    # both ranks end with the same weights, and resuming reaches them too
    assert ranks[0]["weights"] == ranks[1]["weights"] == ranks[0]["resumed_weights"]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["checkpoint.safetensors"]


def test_distributed_needs_a_process_group():
    """distributed=True outside torchrun (and without a process group) says what to do."""
    model = Translator.create("aecnn", **PARAMS)
    x, y = _data()
    with pytest.raises(InvalidOptionError, match="torchrun"):
        model.fit(x, y, distributed=True, progress=False)
    with pytest.raises(InvalidOptionError, match="distributed must be"):
        model.fit(x, y, distributed="yes", progress=False)


def test_progress_bar_counts_batches(capsys):
    """The training bar advances once per batch (3 epochs x 2 batches), with rate and epoch."""
    model = Translator.create("aecnn", **PARAMS)
    x, y = _data()
    model.fit(x, y, validation=2, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "batch/s" in err and "epoch=3/3" in err
