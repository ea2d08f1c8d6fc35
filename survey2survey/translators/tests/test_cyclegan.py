# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the CycleGAN translator and its building blocks."""

import pytest
import torch

from survey2survey import Translator
from survey2survey.exceptions import InvalidOptionError, TrainingDataError, TranslatorError
from survey2survey.translators import ImagePool

from .conftest import TINY, toy_pairs


def test_defaults_follow_the_paper():
    """lambda_cycle 0.2, BCE loss, pool 50, Adam 2e-4 (0.5, 0.999), linear decay."""
    model = Translator.create("cyclegan", **TINY["cyclegan"])
    assert model.lambda_cycle == 0.2 and model.gan_loss.mode == "bce"
    assert model.pool_x.size == 50 and not model.paired
    optimizers = model.configure_optimizers()
    group = optimizers["generators"].param_groups[0]
    assert group["lr"] == 2e-4 and tuple(group["betas"]) == (0.5, 0.999)
    scheduler = model.configure_schedulers(optimizers, 4)["generators"]
    rates = []
    for _ in range(4):
        rates.append(optimizers["generators"].param_groups[0]["lr"])
        optimizers["generators"].step()
        scheduler.step()
    assert rates[:2] == [2e-4, 2e-4] and rates[2] > rates[3] > 0


def test_parameters_are_the_inference_generator():
    """parameters() yields only the X->Y generator used by predict."""
    model = Translator.create("cyclegan", **TINY["cyclegan"])
    ids = {id(p) for p in model.networks["generator_xy"].parameters()}
    assert {id(p) for p in model.parameters()} == ids


def test_unpaired_fit_lowers_cycle_loss():
    """Unequal, unpaired sets train; the cycle-consistency loss decreases."""
    source, target = toy_pairs(n=10)
    model = Translator.create("cyclegan", epochs=3, batch_size=2, lambda_identity=0.5,
                              **TINY["cyclegan"])
    history = model.fit(source, target[:7], validation=0, progress=False)
    assert history["loss_cycle"][-1] < history["loss_cycle"][0]
    assert "loss_identity" in history
    assert model.predict(torch.rand(1, 3, 17, 19)).shape == (1, 3, 17, 19)


def test_paired_options_and_lsgan():
    """lambda_supervised needs pairs; LSGAN trains; validation reports cycle and l1."""
    source, target = toy_pairs(n=6)
    model = Translator.create("cyclegan", epochs=2, batch_size=2, gan_loss="lsgan",
                              lambda_supervised=1.0, **TINY["cyclegan"])
    with pytest.raises(TrainingDataError, match="needs paired data"):
        model.fit(source, target[:5], progress=False)
    history = model.fit(source, target, validation=2, progress=False)
    assert {"val_loss", "val_l1", "loss_supervised"} <= set(history)


def test_too_small_for_the_discriminator():
    """Images below the PatchGAN's minimum are refused."""
    from survey2survey.exceptions import ImageTooSmallError

    model = Translator.create("cyclegan", **TINY["cyclegan"])
    with pytest.raises(ImageTooSmallError, match="smaller than the 16"):
        model.predict(torch.rand(1, 3, 12, 12))


def test_bad_options():
    """Unknown GAN losses and identity loss across channel counts are refused."""
    with pytest.raises(InvalidOptionError, match="gan_loss must be"):
        Translator.create("cyclegan", gan_loss="wgan")
    with pytest.raises(TranslatorError, match="identity loss needs"):
        Translator.create("cyclegan", in_channels=3, out_channels=1, lambda_identity=0.5)


def test_image_pool_swaps_after_filling():
    """Once full, the pool returns a mix of stored and new images and keeps its size."""
    torch.manual_seed(0)
    pool = ImagePool(2)
    pool.query(torch.zeros(2, 1, 2, 2))
    out = pool.query(torch.ones(8, 1, 2, 2))
    assert len(pool) == 2 and out.shape == (8, 1, 2, 2)
    assert 0 < float(out.mean()) < 1


def test_auto_precision_stays_fp32():
    """CycleGAN opts out of bf16 autocast: 'auto' agrees with fp32 to 1e-4."""
    model = Translator.create("cyclegan", **TINY["cyclegan"])
    batch = torch.rand(2, 3, 20, 20)
    assert torch.allclose(model.predict(batch), model.predict(batch, precision="fp32"),
                          atol=1e-4)
