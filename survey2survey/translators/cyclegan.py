# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
CycleGAN (Zhu et al. 2017) as used by Buncher, Sharma & Carrasco Kind (2021).

Two ResNet generators (X->Y, used by ``predict``, and Y->X), two 70x70
PatchGAN discriminators, the adversarial loss of the paper's Eq. 3 (binary
cross-entropy; least squares selectable), the L1 cycle-consistency loss both
ways (Eq. 4) weighted by ``lambda_cycle = 0.2`` (Eq. 5), an optional identity
loss, a history pool of 50 generated images per discriminator, Adam (2e-4,
betas 0.5/0.999) and a linear learning-rate decay to zero over the second half
of training. The building blocks are public so that plug-ins can reuse them.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import TrainingDataError, TranslatorError
from ..utils._validation import check_choice, check_int, check_number
from .base import Translator
from .registry import register_translator

__all__ = ["CycleGANTranslator", "ResnetGenerator", "PatchGANDiscriminator", "ImagePool",
           "GANLoss"]


_NORMS = ("instance", "batch")


def _norm(kind, channels):
    check_choice(kind, _NORMS, "norm")
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return nn.BatchNorm2d(channels)


class _ResnetBlock(nn.Module):
    """Two reflect-padded 3x3 convolutions with a skip connection."""

    def __init__(self, channels, norm, dropout):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(norm, channels),
                  nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        """The input plus the residual."""
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """
    The ResNet generator of Zhu et al. (2017) for images in [0, 1].

    A 7x7 convolution, ``n_downsampling`` stride-2 convolutions, ``n_blocks``
    residual blocks, as many transposed convolutions and a 7x7 convolution with
    tanh; inputs are mapped from [0, 1] to [-1, 1] and outputs back to [0, 1].
    Image sides must be multiples of ``2**n_downsampling``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    base_channels : int, optional
        Width of the first layer (64 in Zhu et al.).
    n_blocks : int, optional
        Residual blocks (9 at 256 px and 6 at 128 px in Zhu et al.).
    n_downsampling : int, optional
        Number of stride-2 stages.
    dropout : float, optional
        Dropout inside the residual blocks.
    norm : {'instance', 'batch'}, optional
        Normalisation layers.
    linear_output : bool, optional
        No tanh: unbounded outputs from a last convolution that starts at zero,
        for inputs and outputs that are not images in [0, 1] (calibrated flux).

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators import ResnetGenerator
    >>> net = ResnetGenerator(3, 3, base_channels=8, n_blocks=1)
    >>> net(torch.rand(1, 3, 16, 16)).shape
    torch.Size([1, 3, 16, 16])
    """

    def __init__(self, in_channels, out_channels, *, base_channels=64, n_blocks=6,
                 n_downsampling=2, dropout=0.0, norm="instance", linear_output=False):
        super().__init__()
        self.linear_output = bool(linear_output)
        width = base_channels
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), _norm(norm, width),
                  nn.ReLU(inplace=True)]
        for _ in range(n_downsampling):
            layers += [nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
                       _norm(norm, 2 * width), nn.ReLU(inplace=True)]
            width *= 2
        layers += [_ResnetBlock(width, norm, dropout) for _ in range(n_blocks)]
        for _ in range(n_downsampling):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1,
                                          output_padding=1),
                       _norm(norm, width // 2), nn.ReLU(inplace=True)]
            width //= 2
        last = nn.Conv2d(width, out_channels, 7)
        layers += [nn.ReflectionPad2d(3), last]
        if self.linear_output:  # unbounded values that start at zero (for an output head)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        else:
            layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        """Translate ``(N, in_channels, H, W)`` images in [0, 1] (any values when linear)."""
        if self.linear_output:
            return self.model(x)
        return 0.5 * (self.model(2 * x - 1) + 1)


class PatchGANDiscriminator(nn.Module):
    """
    The PatchGAN discriminator (Isola et al. 2017; 70x70 receptive field for ``n_layers=3``).

    Returns one logit per overlapping patch. Inputs in [0, 1] are mapped to
    [-1, 1] first.

    Parameters
    ----------
    in_channels : int
        Channels of the images judged.
    base_channels : int, optional
        Width of the first layer (64).
    n_layers : int, optional
        Stride-2 stages; 3 gives the 70x70 PatchGAN. Images need sides of at
        least ``8 * 2**(n_layers - 1)`` pixels.
    norm : {'instance', 'batch'}, optional
        Normalisation layers.

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators import PatchGANDiscriminator
    >>> PatchGANDiscriminator(3, base_channels=8)(torch.rand(1, 3, 70, 70)).shape
    torch.Size([1, 1, 6, 6])
    """

    def __init__(self, in_channels, *, base_channels=64, n_layers=3, norm="instance"):
        super().__init__()
        layers = [nn.Conv2d(in_channels, base_channels, 4, stride=2, padding=1),
                  nn.LeakyReLU(0.2, inplace=True)]
        width = base_channels
        for layer in range(1, n_layers + 1):
            out = base_channels * min(2 ** layer, 8)
            stride = 2 if layer < n_layers else 1
            layers += [nn.Conv2d(width, out, 4, stride=stride, padding=1), _norm(norm, out),
                       nn.LeakyReLU(0.2, inplace=True)]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        self.min_size = 8 * 2 ** (n_layers - 1)

    def forward(self, x):
        """Patch logits (real > 0) of ``(N, in_channels, H, W)`` images in [0, 1]."""
        return self.model(2 * x - 1)


class GANLoss(nn.Module):
    """
    Adversarial loss on discriminator logits.

    Parameters
    ----------
    mode : {'bce', 'lsgan'}, optional
        ``'bce'``: the log-likelihood loss of the paper's Eq. 3 (binary
        cross-entropy on logits); ``'lsgan'``: least squares (Mao et al. 2017),
        the default of Zhu et al.'s code.

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators import GANLoss
    >>> float(GANLoss("lsgan")(torch.ones(2, 1, 4, 4), True))
    0.0
    """

    def __init__(self, mode="bce"):
        super().__init__()
        self.mode = check_choice(mode, ("bce", "lsgan"), "gan_loss")

    def forward(self, logits, real):
        """The loss of ``logits`` against the label ``real`` (bool)."""
        logits = logits.float()
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        if self.mode == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(logits, target)


class ImagePool:
    """
    The history of generated images shown to a discriminator (Shrivastava et al. 2017).

    Until ``size`` images are stored each query returns its input; afterwards
    each image is, with probability 1/2, swapped for a stored one. Uses torch's
    global RNG (seeded by the training loop).

    Parameters
    ----------
    size : int, optional
        Pool capacity (50 in Zhu et al.); 0 disables the pool.

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators import ImagePool
    >>> pool = ImagePool(2)
    >>> pool.query(torch.zeros(3, 1, 4, 4)).shape
    torch.Size([3, 1, 4, 4])
    >>> len(pool)
    2
    """

    def __init__(self, size=50):
        self.size = int(size)
        self.images = []

    def __len__(self):
        return len(self.images)

    def query(self, images):
        """Return a batch mixing ``images`` with stored ones, updating the pool."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(1).item() < 0.5:
                index = int(torch.randint(len(self.images), (1,)).item())
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.cat(out)

    def state(self):
        """The stored images as one CPU tensor (or None when empty)."""
        return torch.cat(self.images).cpu() if self.images else None

    def load_state(self, tensor, device):
        """Restore images returned by `state`."""
        self.images = [] if tensor is None else [t.unsqueeze(0).to(device) for t in tensor]


@register_translator("cyclegan")
class CycleGANTranslator(Translator):
    """
    CycleGAN translator (Zhu et al. 2017, as in the paper), registered as ``"cyclegan"``.

    Trains on unpaired (or paired) source/target sets; ``predict`` applies the
    X->Y generator. Images are padded internally to a multiple of 4.
    ``predict(precision='auto')`` stays in fp32 (channels-last): in bf16 the
    instance-normalised generator drifts by up to ~2e-2; ask for
    ``precision='bf16'`` explicitly to trade that for speed.

    Parameters
    ----------
    in_channels : int, optional
        Number of input bands (3).
    out_channels : int, optional
        Number of output bands; defaults to ``in_channels``.
    base_channels : int, optional
        Generator width (64).
    n_blocks : int, optional
        Residual blocks per generator (6, Zhu et al.'s choice below 256 px).
    disc_channels : int, optional
        Discriminator width (64).
    disc_layers : int, optional
        PatchGAN stride-2 stages; 3 gives the 70x70 PatchGAN.
    gan_loss : {'bce', 'lsgan'}, optional
        ``'bce'`` is the paper's Eq. 3; ``'lsgan'`` the least-squares variant.
    lambda_cycle : float, optional
        Weight of the L1 cycle loss (Eq. 5): 0.2 as in the paper (Zhu et al. use 10).
    lambda_identity : float, optional
        Identity loss weight relative to ``lambda_cycle`` (Zhu et al.'s
        convention; 0.5 there); 0 (default) disables it.
    lambda_supervised : float, optional
        Weight of an extra supervised loss (`~Translator.loss`: the per-pixel
        weighted mean squared error, a chi-squared in the calibrated-flux
        pipeline) between translation and target when the data are paired
        (equal numbers, kept aligned); 0 (default) disables it.
    pool_size : int, optional
        Image history pool per discriminator (50).
    learning_rate : float, optional
        Adam rate (2e-4) for generators and discriminators, betas (0.5, 0.999).
    decay_start : int, optional
        Epoch at which the rate starts decaying linearly to zero; default
        ``epochs // 2`` (Zhu et al.: 100 constant + 100 decaying).
    dropout : float, optional
        Dropout in the residual blocks; > 0 enables ``predict_samples``.
    norm : {'instance', 'batch'}, optional
        Normalisation layers (instance, as Zhu et al.).
    epochs : int, optional
        Default 20.
    batch_size : int, optional
        Default 4.
    **kwargs
        Training options of `~survey2survey.translators.Translator`.

    Examples
    --------
    >>> from survey2survey import Translator
    >>> model = Translator.create("cyclegan", in_channels=3, base_channels=8, n_blocks=1)
    >>> model.paired, model.min_size, sorted(model.networks)
    (False, 32, ['discriminator_x', 'discriminator_y', 'generator_xy', 'generator_yx'])
    """

    paired = False
    size_multiple = 4
    inference_module = "generator_xy"
    # bf16 drifts by up to ~2e-2 through the instance-normalised residual blocks
    inference_autocast = False

    def __init__(self, *, in_channels=3, out_channels=None, base_channels=64, n_blocks=6,
                 disc_channels=64, disc_layers=3, gan_loss="bce", lambda_cycle=0.2,
                 lambda_identity=0.0, lambda_supervised=0.0, pool_size=50, learning_rate=2e-4,
                 decay_start=None, dropout=0.0, norm="instance", epochs=20, batch_size=4,
                 **kwargs):
        self.lambda_cycle = check_number(lambda_cycle, "lambda_cycle", minimum=0)
        self.lambda_identity = check_number(lambda_identity, "lambda_identity", minimum=0)
        self.lambda_supervised = check_number(lambda_supervised, "lambda_supervised", minimum=0)
        self.learning_rate = check_number(learning_rate, "learning_rate", minimum=0,
                                          exclusive_minimum=True)
        self.base_channels = check_int(base_channels, "base_channels", minimum=1)
        self.n_blocks = check_int(n_blocks, "n_blocks", minimum=0)
        self.disc_channels = check_int(disc_channels, "disc_channels", minimum=1)
        self.disc_layers = check_int(disc_layers, "disc_layers", minimum=1)
        self.gan_loss = GANLoss(gan_loss)
        self.decay_start = check_int(decay_start, "decay_start", minimum=0, allow_none=True)
        self.dropout = check_number(dropout, "dropout", minimum=0, maximum=1,
                                    exclusive_maximum=True)
        self.norm = check_choice(norm, _NORMS, "norm")
        self.pool_x = ImagePool(check_int(pool_size, "pool_size", minimum=0))
        self.pool_y = ImagePool(pool_size)
        self.min_size = 8 * 2 ** (self.disc_layers - 1)
        # generator: 7x7 conv (7), two stride-2 3x3 convs (+2, +4), the residual blocks'
        # 3x3 convs at 1/4 resolution (+8 each), two transposed convs (+8, +4), 7x7 conv (+6)
        self.receptive_field = 7 + 2 + 4 + 16 * self.n_blocks + 8 + 4 + 6
        super().__init__(in_channels=in_channels, out_channels=out_channels, epochs=epochs,
                         batch_size=batch_size, **kwargs)
        if self.lambda_identity > 0 and self.target_channels != self.in_channels:
            msg = (f"the identity loss needs as many output as input channels, "
                   f"got {self.in_channels} and {self.target_channels}")
            raise TranslatorError(msg)

    def build_modules(self):
        """Generators X->Y, Y->X and discriminators of X and Y."""
        def generator(n_in, n_out):
            return ResnetGenerator(n_in, n_out, base_channels=self.base_channels,
                                   n_blocks=self.n_blocks, dropout=self.dropout, norm=self.norm,
                                   linear_output=self.linear_output)

        def discriminator(n_in):
            return PatchGANDiscriminator(n_in, base_channels=self.disc_channels,
                                         n_layers=self.disc_layers, norm=self.norm)

        # X->Y gives out_channels (through the output head, if any, target_channels);
        # Y->X and D_Y see translated images, of target_channels
        return {"generator_xy": generator(self.in_channels, self.out_channels),
                "generator_yx": generator(self.target_channels, self.in_channels),
                "discriminator_x": discriminator(self.in_channels),
                "discriminator_y": discriminator(self.target_channels)}

    def check_training_data(self, source, target):
        """The supervised term needs pairs: equal numbers of source and target images."""
        if self.lambda_supervised > 0 and len(source) != len(target):
            msg = (f"lambda_supervised={self.lambda_supervised} needs paired data, but got "
                   f"{len(source)} source and {len(target)} target images")
            raise TrainingDataError(msg)

    def configure_optimizers(self):
        """Adam for both generators together and for both discriminators together."""
        nets = self._networks

        def adam(*names):
            params = [p for name in names for p in nets[name].parameters()]
            return torch.optim.Adam(params, lr=self.learning_rate, betas=(0.5, 0.999))

        return {"generators": adam("generator_xy", "generator_yx"),
                "discriminators": adam("discriminator_x", "discriminator_y")}

    def configure_schedulers(self, optimizers, epochs):
        """Constant rate until ``decay_start``, then linear decay to zero at ``epochs``."""
        start = epochs // 2 if self.decay_start is None else int(self.decay_start)
        span = max(epochs - start, 0) + 1

        def factor(epoch):
            return 1.0 - max(0, epoch + 1 - start) / span

        return {key: torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
                for key, optimizer in optimizers.items()}

    def _set_discriminators_trainable(self, flag):
        for key in ("discriminator_x", "discriminator_y"):
            for parameter in self._networks[key].parameters():
                parameter.requires_grad_(flag)

    def training_step(self, source, target, context):
        """One generator update (Eq. 5 + options) then one discriminator update."""
        nets = self._networks
        g_yx = nets["generator_yx"]
        d_x, d_y = nets["discriminator_x"], nets["discriminator_y"]
        self._set_discriminators_trainable(False)
        with context.autocast():
            fake_y = self.forward(source)  # X -> Y through the output head, if any
            fake_x = self.apply_padded(g_yx, target)
            cycle = (F.l1_loss(self.apply_padded(g_yx, fake_y).float(), source)
                     + F.l1_loss(self.forward(fake_x).float(), target))
            adversarial = self.gan_loss(d_y(fake_y), True) + self.gan_loss(d_x(fake_x), True)
            loss = adversarial + self.lambda_cycle * cycle
            logs = {"loss_adversarial": adversarial.detach(), "loss_cycle": cycle.detach()}
            if self.lambda_identity > 0:
                identity = (F.l1_loss(self.forward(target).float(), target)
                            + F.l1_loss(self.apply_padded(g_yx, source).float(), source))
                loss = loss + self.lambda_identity * self.lambda_cycle * identity
                logs["loss_identity"] = identity.detach()
            if self.lambda_supervised > 0:
                supervised = self._weighted_loss(fake_y.float(), target, context.weight)
                loss = loss + self.lambda_supervised * supervised
                logs["loss_supervised"] = supervised.detach()
        context.optimize(loss, "generators")
        self._set_discriminators_trainable(True)
        pooled_y = self.pool_y.query(fake_y.detach())
        pooled_x = self.pool_x.query(fake_x.detach())
        with context.autocast():
            loss_d = 0.5 * (self.gan_loss(d_y(target), True) + self.gan_loss(d_y(pooled_y), False)
                            + self.gan_loss(d_x(source), True)
                            + self.gan_loss(d_x(pooled_x), False))
        context.optimize(loss_d, "discriminators")
        logs.update(loss=loss.detach(), loss_discriminator=loss_d.detach())
        return logs

    def validation_step(self, source, target, weight=None):
        """``loss``: the cycle loss (needs no pairs); ``l1``: L1 of X->Y against the target."""
        g_yx = self._networks["generator_yx"]
        fake_y = self.forward(source).float()
        fake_x = self.apply_padded(g_yx, target).float()
        cycle = (F.l1_loss(self.apply_padded(g_yx, fake_y).float(), source)
                 + F.l1_loss(self.forward(fake_x).float(), target))
        return {"loss": cycle, "l1": F.l1_loss(fake_y, target)}

    def extra_state(self):
        """The two image pools, so that a resumed run continues exactly."""
        state = {}
        for key, pool in (("pool_x", self.pool_x), ("pool_y", self.pool_y)):
            images = pool.state()
            if images is not None:
                state[key] = images
        return state

    def load_extra_state(self, state):
        """Restore the image pools."""
        self.pool_x.load_state(state.get("pool_x"), self.device)
        self.pool_y.load_state(state.get("pool_y"), self.device)
