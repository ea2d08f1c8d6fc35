# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tiny pairs, a model file and FITS inputs shared by the command-line tests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args, timeout=240, **kwargs):
    """Run ``python -m survey2survey ARGS`` in a subprocess; the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "survey2survey", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, **kwargs)


@pytest.fixture(scope="session")
def cli_pairs(tmp_path_factory):
    """A pairs folder of 10 single-band (r) simulated pairs, 24x24 SDSS pixels."""
    from survey2survey.datasets import make_survey_pairs, save_pairs

    pairs = make_survey_pairs(10, bands="r", seed=2, source_size=24, processes=1,
                              progress=False)
    return save_pairs(pairs, tmp_path_factory.mktemp("cli") / "pairs")


@pytest.fixture(scope="session")
def cli_model(cli_pairs):
    """A model file fitted for one epoch on ``cli_pairs``."""
    from survey2survey import Survey2Survey

    s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=4, seed=0)
    s2s.fit(cli_pairs, validation=0, progress=False)
    return s2s.save(cli_pairs.parent / "model.s2s")


@pytest.fixture
def cli_inputs(cli_pairs, tmp_path):
    """A folder with copies of the 10 source files of ``cli_pairs``."""
    folder = tmp_path / "in"
    folder.mkdir()
    for path in sorted((cli_pairs / "source").glob("*.fits")):
        (folder / path.name).write_bytes(path.read_bytes())
    return folder
