# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the U-Net plug-in, which must behave as a third-party package."""

import ast
import inspect

import torch

from survey2survey import Translator
from survey2survey.translators import unet

from .conftest import TINY, toy_pairs


def test_plugin_uses_only_the_public_api():
    """unet.py imports nothing private from survey2survey and does not self-register."""
    tree = ast.parse(inspect.getsource(unet))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("survey2survey"):
            assert node.level == 0
            assert not any(part.startswith("_") for part in node.module.split("."))
            assert not any(alias.name.startswith("_") for alias in node.names)
    assert "register_translator" not in inspect.getsource(unet)


def test_loss_decreases_with_and_without_gan():
    """The L1 loss falls on the toy mapping, with and without the PatchGAN."""
    source, target = toy_pairs(n=8)
    for adversarial in (True, False):
        model = Translator.create("unet", epochs=3, batch_size=4, adversarial=adversarial,
                                  **TINY["unet"])
        history = model.fit(source, target, validation=0, progress=False)
        key = "loss_l1"
        assert history[key][-1] < history[key][0]
        assert ("discriminator" in model.networks) is adversarial


def test_odd_sizes_and_dropout_samples():
    """Odd sizes keep their shape and decoder dropout gives MC samples."""
    model = Translator.create("unet", dropout=0.5, adversarial=False, **TINY["unet"])
    assert model.predict(torch.rand(2, 3, 33, 37)).shape == (2, 3, 33, 37)
    assert model.predict_samples(torch.rand(1, 3, 16, 16), 2).shape == (2, 1, 3, 16, 16)
