# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
A pix2pix-style U-Net translator, written exactly as a third-party plug-in.

This module uses only the public API (``from survey2survey import Translator``
and public names of `survey2survey.translators`) and is registered only
through the entry point declared in ``pyproject.toml``::

    [project.entry-points."survey2survey.translators"]
    unet = "survey2survey.translators.unet:UNetTranslator"

so ``Translator.create("unet")`` proves the plug-in mechanism end to end.
The generator is the U-Net of Isola et al. (2017): 4x4 stride-2 convolutions
down to a bottleneck and transposed convolutions back up with skip
connections; the optional conditional PatchGAN discriminator and the L1 weight
of 100 follow pix2pix.
"""

import torch
import torch.nn.functional as F
from torch import nn

from survey2survey import Translator
from survey2survey.exceptions import InvalidOptionError
from survey2survey.translators import GANLoss, PatchGANDiscriminator

__all__ = ["UNetGenerator", "UNetTranslator"]


class UNetGenerator(nn.Module):
    """
    The pix2pix U-Net generator for images in [0, 1] (sigmoid output).

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    base_channels : int, optional
        Width of the first layer (64); level ``k`` has
        ``base_channels * min(2**k, 8)`` channels.
    depth : int, optional
        Number of stride-2 levels; image sides must be multiples of ``2**depth``.
    dropout : float, optional
        Dropout after the decoder's inner layers (pix2pix uses 0.5 as noise).
    linear_output : bool, optional
        No sigmoid: unbounded outputs from a last layer that starts at zero.

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators.unet import UNetGenerator
    >>> UNetGenerator(3, 2, base_channels=8, depth=3)(torch.rand(1, 3, 16, 16)).shape
    torch.Size([1, 2, 16, 16])
    """

    def __init__(self, in_channels, out_channels, *, base_channels=64, depth=5, dropout=0.0,
                 linear_output=False):
        super().__init__()
        if depth < 2:
            msg = f"depth must be at least 2, got {depth!r}"
            raise InvalidOptionError(msg)
        widths = [base_channels * min(2 ** level, 8) for level in range(depth)]
        self.downs = nn.ModuleList([nn.Conv2d(in_channels, widths[0], 4, stride=2, padding=1)])
        for level in range(1, depth):
            layers = [nn.LeakyReLU(0.2), nn.Conv2d(widths[level - 1], widths[level], 4, stride=2,
                                                   padding=1)]
            if level < depth - 1:  # no normalisation at the 1-pixel bottleneck
                layers.append(nn.BatchNorm2d(widths[level]))
            self.downs.append(nn.Sequential(*layers))
        self.ups = nn.ModuleList()
        for level in range(depth - 1, 0, -1):
            n_in = widths[level] if level == depth - 1 else 2 * widths[level]
            layers = [nn.ReLU(), nn.ConvTranspose2d(n_in, widths[level - 1], 4, stride=2,
                                                    padding=1),
                      nn.BatchNorm2d(widths[level - 1])]
            if dropout > 0 and level >= depth - 3:
                layers.append(nn.Dropout(dropout))
            self.ups.append(nn.Sequential(*layers))
        last = nn.ConvTranspose2d(2 * widths[0], out_channels, 4, stride=2, padding=1)
        if linear_output:  # unbounded values that start at zero (for an output head)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.final = nn.Sequential(nn.ReLU(), last)
        else:
            self.final = nn.Sequential(nn.ReLU(), last, nn.Sigmoid())

    def forward(self, x):
        """Translate ``(N, in_channels, H, W)`` images (sides multiples of ``2**depth``)."""
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = torch.cat([up(x), skip], dim=1)
        return self.final(x)


class UNetTranslator(Translator):
    """
    pix2pix-style U-Net translator (plug-in, entry point ``unet``).

    Parameters
    ----------
    in_channels : int, optional
        Number of input bands (3).
    out_channels : int, optional
        Number of output bands; defaults to ``in_channels``.
    base_channels : int, optional
        Generator width (64).
    depth : int, optional
        U-Net levels (5: 150x150 images are padded to 160x160).
    dropout : float, optional
        Decoder dropout; > 0 enables ``predict_samples``.
    adversarial : bool, optional
        Add pix2pix's conditional PatchGAN loss to the L1 loss (default True).
    lambda_l1 : float, optional
        Weight of the L1 loss relative to the adversarial one (100, pix2pix).
    disc_channels, disc_layers : int, optional
        PatchGAN width and stride-2 stages (64, 3: 70x70 patches).
    gan_loss : {'bce', 'lsgan'}, optional
        Adversarial loss.
    learning_rate : float, optional
        Adam rate (2e-4, betas 0.5/0.999).
    epochs, batch_size : int, optional
        Defaults 20 and 4.
    **kwargs
        Training options of `~survey2survey.translators.Translator`.

    Examples
    --------
    >>> import torch
    >>> from survey2survey import Translator
    >>> model = Translator.create("unet", base_channels=8, depth=3, adversarial=False)
    >>> model.predict(torch.rand(1, 3, 33, 37)).shape
    torch.Size([1, 3, 33, 37])
    """

    def __init__(self, *, in_channels=3, out_channels=None, base_channels=64, depth=5,
                 dropout=0.0, adversarial=True, lambda_l1=100.0, disc_channels=64,
                 disc_layers=3, gan_loss="bce", learning_rate=2e-4, epochs=20, batch_size=4,
                 **kwargs):
        self.base_channels = int(base_channels)
        self.depth = int(depth)
        self.dropout = float(dropout)
        self.adversarial = bool(adversarial)
        self.lambda_l1 = float(lambda_l1)
        self.disc_channels = int(disc_channels)
        self.disc_layers = int(disc_layers)
        self.gan_loss = GANLoss(gan_loss)
        self.learning_rate = float(learning_rate)
        self.size_multiple = 2 ** self.depth
        # 4x4 stride-2 convolutions down to 1/2**depth and back: the whole padded image
        self.receptive_field = 2 ** (self.depth + 2)
        self.min_size = 8 * 2 ** (self.disc_layers - 1) if self.adversarial else 4
        super().__init__(in_channels=in_channels, out_channels=out_channels, epochs=epochs,
                         batch_size=batch_size, **kwargs)

    def build_modules(self):
        """The U-Net generator and, with ``adversarial``, a conditional PatchGAN."""
        modules = {"network": UNetGenerator(self.in_channels, self.out_channels,
                                            base_channels=self.base_channels, depth=self.depth,
                                            dropout=self.dropout,
                                            linear_output=self.linear_output)}
        if self.adversarial:  # judges (source, translation) pairs
            modules["discriminator"] = PatchGANDiscriminator(
                self.in_channels + self.target_channels, base_channels=self.disc_channels,
                n_layers=self.disc_layers)
        return modules

    def configure_optimizers(self):
        """Adam (2e-4, betas 0.5/0.999) for the generator and the discriminator."""
        return {key: torch.optim.Adam(module.parameters(), lr=self.learning_rate,
                                      betas=(0.5, 0.999))
                for key, module in self.networks.items()}

    def training_step(self, source, target, context):
        """pix2pix: generator on adversarial + L1 loss, then the discriminator."""
        discriminator = self.networks.get("discriminator")
        with context.autocast():
            fake = self.forward(source)
        # L1 as pix2pix; weighted where fit has per-pixel weights (inverse variances)
        l1 = (F.l1_loss(fake.float(), target) if context.weight is None
              else (context.weight.sqrt() * (fake.float() - target).abs()).mean())
        loss = self.lambda_l1 * l1
        with context.autocast():
            if discriminator is not None:
                discriminator.requires_grad_(False)
                adversarial = self.gan_loss(discriminator(torch.cat([source, fake], 1)), True)
                loss = loss + adversarial
        context.optimize(loss, "network")
        logs = {"loss": loss.detach(), "loss_l1": l1.detach()}
        if discriminator is not None:
            discriminator.requires_grad_(True)
            with context.autocast():
                real_pair = torch.cat([source, target], 1)
                fake_pair = torch.cat([source, fake.detach()], 1)
                loss_d = 0.5 * (self.gan_loss(discriminator(real_pair), True)
                                + self.gan_loss(discriminator(fake_pair), False))
            context.optimize(loss_d, "discriminator")
            logs.update(loss_adversarial=adversarial.detach(), loss_discriminator=loss_d.detach())
        return logs

    def validation_step(self, source, target, weight=None):
        """``loss``: the L1 error of the translation against the target."""
        error = (self.forward(source).float() - target).abs()
        return {"loss": (error if weight is None else weight.sqrt() * error).mean()}
