# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the paper's AECNN (Table 1)."""

import numpy as np
import pytest
import torch

from survey2survey import Translator
from survey2survey.exceptions import (
    BandMismatchError,
    ImageTooSmallError,
    InvalidDataError,
    InvalidOptionError,
    TranslatorError,
)
from survey2survey.translators import AECNNTranslator

from .conftest import toy_pairs

TABLE_1 = {"down1": 3584, "down2": 73792, "down3": 18464, "up1": 9248, "up2": 18496,
           "up3": 73856, "decode": 3459}


@pytest.mark.parametrize("resampling", ["pool", "none"])
def test_parameter_counts_match_table_1(resampling):
    """Three bands give 200,899 weights, layer by layer as Table 1."""
    model = Translator.create("aecnn", in_channels=3, resampling=resampling)
    assert sum(p.numel() for p in model.parameters()) == 200_899
    per_layer = {name: sum(p.numel() for p in layer.parameters())
                 for name, layer in model.network.named_children()}
    assert per_layer == TABLE_1


def test_other_band_counts():
    """One or five bands change only the first and last layers; band names are not its job."""
    one = Translator.create("aecnn", in_channels=1)
    assert one.predict(torch.rand(1, 1, 16, 16)).shape[1] == 1
    model = Translator.create("aecnn", in_channels=5, out_channels=2)
    assert model.predict(torch.rand(2, 5, 16, 16)).shape == (2, 2, 16, 16)
    with pytest.raises(TypeError, match="bands"):
        AECNNTranslator(bands="gri")


@pytest.mark.parametrize("resampling", ["pool", "none"])
def test_odd_sizes_keep_their_shape(resampling):
    """33x37 images come back 33x37, in (0, 1) from the sigmoid."""
    batch = np.random.default_rng(0).random((2, 3, 33, 37))
    out = Translator.create("aecnn", resampling=resampling).predict(batch)
    assert out.shape == (2, 3, 33, 37) and out.dtype == torch.float32
    assert out.min() > 0 and out.max() < 1


def test_too_small_and_bad_batches():
    """Too small, wrongly banded, NaN or non-4-D batches raise specific errors."""
    with pytest.raises(ImageTooSmallError, match="4x9 pixels, smaller than the 8"):
        Translator.create("aecnn", resampling="pool").predict(torch.rand(1, 3, 4, 9))
    model = Translator.create("aecnn")
    with pytest.raises(ImageTooSmallError, match="14x20 pixels, smaller than the 15"):
        model.predict(torch.rand(1, 3, 14, 20))
    with pytest.raises(BandMismatchError, match="has 2 channels .* expects 3"):
        model.predict(torch.rand(1, 2, 16, 16))
    bad = torch.rand(1, 3, 16, 16)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(InvalidDataError, match="NaN"):
        model.predict(bad)
    with pytest.raises(InvalidDataError, match="4-D"):
        model.predict(torch.rand(3, 16, 16))
    with pytest.raises(InvalidOptionError, match="precision must be one of"):
        model.predict(torch.rand(1, 3, 16, 16), precision="fp8")


def test_fast_path_agrees_with_fp32():
    """The default (fast) inference agrees with exact fp32 to the stated 2e-2."""
    model = Translator.create("aecnn")
    batch = torch.rand(3, 3, 24, 24)
    exact = model.predict(batch, precision="fp32")
    assert torch.allclose(model.predict(batch), exact, atol=2e-2)
    assert torch.allclose(model.predict(batch, precision="bf16"), exact, atol=2e-2)


def test_predict_does_not_mutate_input():
    """predict leaves the caller's array untouched."""
    batch = np.random.default_rng(1).random((2, 3, 20, 20), dtype=np.float32)
    copy = batch.copy()
    Translator.create("aecnn").predict(batch)
    np.testing.assert_array_equal(batch, copy)


def test_loss_decreases_on_toy_mapping():
    """A few epochs on a learnable mapping lower the training and validation MSE."""
    source, target = toy_pairs()
    model = Translator.create("aecnn", epochs=3, batch_size=4)
    history = model.fit(source, target, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert model.is_fitted and model.history is history


def test_predict_samples_with_dropout():
    """MC-dropout samples differ from each other; without dropout it raises."""
    model = Translator.create("aecnn", in_channels=1, dropout=0.3)
    samples = model.predict_samples(torch.rand(2, 1, 16, 16), 3, seed=0)
    assert samples.shape == (3, 2, 1, 16, 16)
    assert not torch.equal(samples[0], samples[1])
    with pytest.raises(TranslatorError, match="no dropout"):
        Translator.create("aecnn").predict_samples(torch.rand(1, 3, 16, 16), 2)


def test_bad_parameters():
    """Invalid options raise InvalidOptionError naming the parameter; a bad device says why."""
    with pytest.raises(InvalidOptionError, match="resampling must be one of"):
        AECNNTranslator(resampling="stride")
    with pytest.raises(InvalidOptionError, match=r"dropout must be a number in \[0, 1\)"):
        AECNNTranslator(dropout=1.5)
    with pytest.raises(InvalidOptionError, match="epochs must be an integer >= 1"):
        AECNNTranslator(epochs=0)
    with pytest.raises(TranslatorError, match="device must be"):
        AECNNTranslator(device="warp-drive")
