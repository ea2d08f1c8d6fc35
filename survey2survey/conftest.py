# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Package-wide pytest configuration: astropy header and deterministic seeds."""

import os

import numpy as np
import pytest

try:
    from pytest_astropy_header.display import PYTEST_HEADER_MODULES, TESTED_VERSIONS
except ImportError:  # pragma: no cover
    PYTEST_HEADER_MODULES = {}
    TESTED_VERSIONS = {}

os.environ.setdefault("MPLBACKEND", "agg")


def pytest_configure(config):
    config.option.astropy_header = True
    PYTEST_HEADER_MODULES.pop("Pandas", None)
    PYTEST_HEADER_MODULES.pop("h5py", None)
    PYTEST_HEADER_MODULES["reproject"] = "reproject"
    PYTEST_HEADER_MODULES["photutils"] = "photutils"
    PYTEST_HEADER_MODULES["torch"] = "torch"
    PYTEST_HEADER_MODULES["galsim"] = "galsim"
    from survey2survey import __version__

    TESTED_VERSIONS["survey2survey"] = __version__


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed numpy (and torch when loaded) before each test for reproducibility."""
    np.random.seed(12345)  # noqa: NPY002 - seeds legacy global state used by third parties
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(12345)
