# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The deep convolutional autoencoder (AECNN) of Buncher, Sharma & Carrasco Kind (2021).

Table 1 of the paper: seven 3x3 convolutions with bias, 3->128->64->32
(encoder, ReLU), 32->32->64->128 (decoder, ReLU) and 128->3 (sigmoid), 200,899
weights for three bands; trained with the mean squared error and Adadelta.
With ``linear_output=True`` (the calibrated-flux pipeline) the last layer is
linear, starts at zero and feeds a flux-conserving output head.
"""

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from ..utils._validation import check_choice, check_int, check_number
from .base import Translator
from .registry import register_translator

__all__ = ["AECNNTranslator"]

# (name, output channels, activation) of the layers of Table 1, after the input
_LAYERS = (("down1", 128, "relu"), ("down2", 64, "relu"), ("down3", 32, "relu"),
                ("up1", 32, "relu"), ("up2", 64, "relu"), ("up3", 128, "relu"),
                ("decode", None, "sigmoid"))

# seven 3x3 stride-1 convolutions see 1 + 7 * 2 pixels; with pooling, the 3x3 kernels at
# 1/2, 1/4, 1/8 resolution (and the pools) widen that to 52
_RECEPTIVE_FIELD = {"none": 15, "pool": 52}
_RESAMPLING = ("pool", "none")
_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
_OPTIMIZERS = ("adam", "adadelta")
_SCHEDULES = ("cosine", "none")


@register_translator("aecnn")
class AECNNTranslator(Translator):
    """
    The paper's convolutional autoencoder (Table 1), registered as ``"aecnn"``.

    Parameters
    ----------
    in_channels : int, optional
        Number of input bands (3: the paper's g, r, i).
    out_channels : int, optional
        Number of output bands; defaults to ``in_channels``.
    resampling : {'pool', 'none'}, optional
        ``'none'`` (default): stride-1 convolutions at full resolution, as
        another version of the paper describes; the smallest image is the
        15-pixel receptive field. ``'pool'``: each encoder convolution is
        followed by a 2x2 max-pool and each decoder convolution by a 2x
        nearest-neighbour upsampling, as the down-/up-sampling labels of
        Table 1 say; images are padded internally to a multiple of 8. Same
        weights either way; ``'none'`` learns calibrated fluxes much faster
        (see the translators guide).
    dropout : float, optional
        Dropout rate after each hidden layer; > 0 enables
        `~Translator.predict_samples` (Monte-Carlo dropout). Default 0.
    loss : {'mse', 'l1'}, optional
        Training loss (per-pixel weighted when ``fit`` is given weights); the
        paper uses the mean squared error.
    optimizer : {'adam', 'adadelta'}, optional
        Adam (default): with the cosine schedule it converges where the paper's
        Adadelta (``optimizer='adadelta', learning_rate=1.0, schedule='none'``,
        which ``Survey2Survey(mode='paper')`` uses) left galaxy fluxes swinging
        by 30% from one epoch to the next.
    learning_rate : float, optional
        Peak rate (1e-3 for Adam; 1.0 is Adadelta's standard rate).
    schedule : {'cosine', 'none'}, optional
        ``'cosine'``: a linear warm-up over ``warmup_steps`` optimizer steps, then
        a cosine decay to zero at the end of training (stepped every batch).
    warmup_steps : int, optional
        Length of the warm-up (50; at most a tenth of the training steps).
    epochs : int, optional
        Default 20 (the paper trained 500 epochs on 5,000 pairs; raise it for
        small training sets: an epoch is one pass over the training images).
    batch_size : int, optional
        Default 16.
    **kwargs
        Options of `~survey2survey.translators.Translator` (``linear_output``,
        ``seed``, ``patience``, ``crop_size``, ``ema_decay``, ``device``, ...).
        With ``linear_output=True`` the ``decode`` layer has no sigmoid and
        starts at zero.

    Examples
    --------
    >>> from survey2survey import Translator
    >>> model = Translator.create("aecnn", in_channels=3)
    >>> {name: sum(p.numel() for p in layer.parameters())
    ...  for name, layer in model.network.named_children()}  # doctest: +NORMALIZE_WHITESPACE
    {'down1': 3584, 'down2': 73792, 'down3': 18464, 'up1': 9248, 'up2': 18496,
     'up3': 73856, 'decode': 3459}
    """

    def __init__(self, *, in_channels=3, out_channels=None, resampling="none", dropout=0.0,
                 loss="mse", optimizer="adam", learning_rate=1e-3, schedule="cosine",
                 warmup_steps=50, epochs=20, batch_size=16, **kwargs):
        self.resampling = check_choice(resampling, _RESAMPLING, "resampling")
        self.dropout = check_number(dropout, "dropout", minimum=0, maximum=1,
                                    exclusive_maximum=True)
        self.loss_name = check_choice(loss, tuple(_LOSSES), "loss")
        self.optimizer_name = check_choice(optimizer, _OPTIMIZERS, "optimizer")
        self.learning_rate = check_number(learning_rate, "learning_rate", minimum=0)
        self.schedule = check_choice(schedule, _SCHEDULES, "schedule")
        self.warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)
        self.size_multiple = 8 if resampling == "pool" else 1
        self.min_size = 8 if resampling == "pool" else _RECEPTIVE_FIELD["none"]
        self.receptive_field = _RECEPTIVE_FIELD[resampling]
        super().__init__(in_channels=in_channels, out_channels=out_channels, epochs=epochs,
                         batch_size=batch_size, **kwargs)

    def build_modules(self):
        """The Table 1 network as ``{'network': nn.Sequential(down1, ..., decode)}``."""
        layers = {}
        channels = self.in_channels
        pool = self.resampling == "pool"
        for name, out, activation in _LAYERS:
            out = self.out_channels if out is None else out
            block = [nn.Conv2d(channels, out, kernel_size=3, padding=1)]
            if activation == "sigmoid":
                if self.linear_output:  # the head adds the input: start at "do nothing"
                    nn.init.zeros_(block[0].weight)
                    nn.init.zeros_(block[0].bias)
                else:
                    block.append(nn.Sigmoid())
            else:
                block.append(nn.ReLU(inplace=True))
                if self.dropout > 0:
                    block.append(nn.Dropout(self.dropout))
                if pool and name.startswith("down"):
                    block.append(nn.MaxPool2d(2))
                elif pool:
                    block.append(nn.Upsample(scale_factor=2, mode="nearest"))
            layers[name] = nn.Sequential(*block)
            channels = out
        return {"network": nn.Sequential(OrderedDict(layers))}

    def loss(self, prediction, target, weight=None):
        """The training loss (``loss`` parameter; MSE by default), per-pixel weighted."""
        if weight is None:
            return _LOSSES[self.loss_name](prediction, target)
        error = prediction - target
        error = error ** 2 if self.loss_name == "mse" else error.abs()
        return (weight * error).mean()

    def configure_optimizers(self):
        """Adam (default) or the paper's Adadelta on the network."""
        if self.optimizer_name == "adadelta":
            optimizer = torch.optim.Adadelta(self.network.parameters(), lr=self.learning_rate)
        else:
            optimizer = torch.optim.Adam(self.network.parameters(), lr=self.learning_rate)
        return {"network": optimizer}

    def configure_schedulers(self, optimizers, epochs):
        """With ``schedule='cosine'``: linear warm-up, then cosine decay to zero, every step."""
        if self.schedule == "none":
            return {}
        total = max(1, epochs * (self.steps_per_epoch or 1))
        warmup = min(self.warmup_steps, total // 10)  # short runs: at most a tenth of them

        def factor(step):
            rise = min(1.0, (step + 1) / warmup) if warmup else 1.0
            return rise * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizers["network"], factor)
        return {"network": {"scheduler": scheduler, "interval": "step"}}
