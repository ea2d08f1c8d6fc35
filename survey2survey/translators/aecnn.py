# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The deep convolutional autoencoder (AECNN) of Buncher, Sharma & Carrasco Kind (2021).

Table 1 of the paper: seven 3x3 convolutions with bias, 3->128->64->32
(encoder, ReLU), 32->32->64->128 (decoder, ReLU) and 128->3 (sigmoid), 200,899
weights for three bands; trained with the mean squared error and Adadelta.
"""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import BandMismatchError, TranslatorError
from .base import Translator
from .registry import register_translator

__all__ = ["AECNNTranslator", "AECNN_LAYERS"]

#: (name, output channels, activation) of the layers of Table 1, after the input
AECNN_LAYERS = (("down1", 128, "relu"), ("down2", 64, "relu"), ("down3", 32, "relu"),
                ("up1", 32, "relu"), ("up2", 64, "relu"), ("up3", 128, "relu"),
                ("decode", None, "sigmoid"))

# seven 3x3 stride-1 convolutions see 1 + 7 * 2 pixels
_RECEPTIVE_FIELD = 15
_RESAMPLING = ("pool", "none")
_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
_OPTIMIZERS = ("adadelta", "adam")


def _channels(bands, in_channels):
    if bands is None:
        return 3 if in_channels is None else in_channels, None
    names = None
    if isinstance(bands, str):
        names = list(bands)
        count = len(names)
    elif isinstance(bands, (list, tuple)):
        names = [str(b) for b in bands]
        count = len(names)
    else:
        count = bands
    if in_channels is not None and in_channels != count:
        msg = f"bands={bands!r} gives {count} channels but in_channels={in_channels!r}"
        raise BandMismatchError(msg)
    return count, names


@register_translator("aecnn")
class AECNNTranslator(Translator):
    """
    The paper's convolutional autoencoder (Table 1), registered as ``"aecnn"``.

    Parameters
    ----------
    bands : int, str or sequence of str, optional
        Number of bands, or their names (``"gri"``); 3 by default.
    in_channels, out_channels : int, optional
        Channel counts, if not given by ``bands`` (``out_channels`` defaults to
        ``in_channels``).
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
        Training loss; the paper uses the mean squared error.
    optimizer : {'adadelta', 'adam'}, optional
        The paper uses Adadelta.
    learning_rate : float, optional
        1.0 is Adadelta's standard rate; use about 1e-3 with Adam.
    epochs : int, optional
        Default 20 (the paper trained 500 epochs on 5,000 pairs; raise it for
        real data).
    batch_size : int, optional
        Default 16.
    **kwargs
        Training options of `~survey2survey.translators.Translator` (``seed``,
        ``patience``, ``checkpoint_every``, ``device``, ...).

    Examples
    --------
    >>> from survey2survey import Translator
    >>> model = Translator.create("aecnn", bands="gri")
    >>> {name: sum(p.numel() for p in layer.parameters())
    ...  for name, layer in model.network.named_children()}  # doctest: +NORMALIZE_WHITESPACE
    {'down1': 3584, 'down2': 73792, 'down3': 18464, 'up1': 9248, 'up2': 18496,
     'up3': 73856, 'decode': 3459}
    """

    def __init__(self, *, bands=None, in_channels=None, out_channels=None, resampling="none",
                 dropout=0.0, loss="mse", optimizer="adadelta", learning_rate=1.0, epochs=20,
                 batch_size=16, **kwargs):
        count, self.band_names = _channels(bands, in_channels)
        if resampling not in _RESAMPLING:
            msg = f"resampling must be one of {_RESAMPLING}, got {resampling!r}"
            raise TranslatorError(msg)
        if not 0 <= float(dropout) < 1:
            msg = f"dropout must be in [0, 1), got {dropout!r}"
            raise TranslatorError(msg)
        if loss not in _LOSSES:
            msg = f"loss must be one of {sorted(_LOSSES)}, got {loss!r}"
            raise TranslatorError(msg)
        if optimizer not in _OPTIMIZERS:
            msg = f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}"
            raise TranslatorError(msg)
        self.resampling = resampling
        self.dropout = float(dropout)
        self.loss_name = loss
        self.optimizer_name = optimizer
        self.learning_rate = float(learning_rate)
        self.size_multiple = 8 if resampling == "pool" else 1
        self.min_size = 8 if resampling == "pool" else _RECEPTIVE_FIELD
        super().__init__(in_channels=count, out_channels=out_channels, epochs=epochs,
                         batch_size=batch_size, **kwargs)

    def build_modules(self):
        """The Table 1 network as ``{'network': nn.Sequential(down1, ..., decode)}``."""
        layers = {}
        channels = self.in_channels
        pool = self.resampling == "pool"
        for name, out, activation in AECNN_LAYERS:
            out = self.out_channels if out is None else out
            block = [nn.Conv2d(channels, out, kernel_size=3, padding=1)]
            if activation == "sigmoid":
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

    def loss(self, prediction, target):
        """The training loss (``loss`` parameter; MSE by default)."""
        return _LOSSES[self.loss_name](prediction, target)

    def configure_optimizers(self):
        """Adadelta (default, as the paper) or Adam on the network."""
        if self.optimizer_name == "adadelta":
            optimizer = torch.optim.Adadelta(self.network.parameters(), lr=self.learning_rate)
        else:
            optimizer = torch.optim.Adam(self.network.parameters(), lr=self.learning_rate)
        return {"network": optimizer}
