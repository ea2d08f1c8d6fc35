# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the paper's 8-bit Lupton pipeline and the provenance cards."""

import numpy as np
import pytest
from astropy.visualization import make_lupton_rgb

from survey2survey.estimator._paper import (
    PAPER_STRETCH,
    array_to_composite,
    average_layer,
    composite_to_array,
    to_nanomaggies,
)
from survey2survey.estimator._provenance import params_hash, provenance_header
from survey2survey.exceptions import BandMismatchError
from survey2survey.surveys import DES, SDSS
from survey2survey.visualization import lupton_rgb


def test_composite_is_astropy_lupton():
    """The composite is make_lupton_rgb of (i, r, g) as (R, G, B), 8-bit."""
    rng = np.random.default_rng(0)
    gri = rng.random((3, 12, 12))
    rgb = lupton_rgb(gri, stretch=0.5, Q=8)
    ref = make_lupton_rgb(gri[2], gri[1], gri[0], stretch=0.5, Q=8)
    assert rgb.dtype == np.uint8
    assert np.array_equal(rgb, ref)


def test_8bit_round_trip_and_average_layer():
    """8-bit composites survive network-array conversion; the layer is the RGB mean."""
    rgb = np.random.default_rng(1).integers(0, 256, (2, 5, 6, 3), dtype=np.uint8)
    arr = composite_to_array(rgb)
    assert arr.shape == (2, 3, 5, 6) and arr.dtype == np.float32
    assert np.array_equal(array_to_composite(arr), rgb)
    assert np.allclose(average_layer(rgb), rgb.mean(axis=-1))


def test_surveys_share_one_physical_stretch():
    """The same sky in SDSS nmgy and DES counts gives the same composite."""
    nmgy = np.random.default_rng(2).random((3, 8, 8))
    assert np.allclose(to_nanomaggies(nmgy * 1000, DES, "gri"), to_nanomaggies(nmgy, SDSS, "gri"))
    assert np.array_equal(lupton_rgb(to_nanomaggies(nmgy * 1000, DES, "gri"), stretch=0.5),
                          lupton_rgb(nmgy, stretch=PAPER_STRETCH))
    with pytest.raises(BandMismatchError, match="exactly 3 bands"):
        lupton_rgb(np.zeros((2, 4, 4)))


def test_provenance_cards():
    """The provenance header names version, translator, hash, surveys and has HISTORY."""
    from survey2survey import __version__

    header = provenance_header(translator="aecnn", params={"a": 1}, source="SDSS", target="DES")
    assert header["S2SVER"] == __version__
    assert header["S2SHASH"] == params_hash({"a": 1}) != params_hash({"a": 2})
    assert header["S2SSRC"] == "SDSS" and header["S2STGT"] == "DES"
    assert "translated SDSS" in "".join(header["HISTORY"])  # long cards wrap
