# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The PSF-aware learned translator: a residual network on top of classical PSF matching.

Registered as ``"psfnet"``. It sees each input band in units of its noise, the
same bands after the Wiener filter from their input PSF to the target PSF
(`~survey2survey.translators.PSFMatchingHead.restore`), and both PSFs, which
condition every residual block through feature-wise affine modulation (FiLM,
Perez et al. 2018) rather than as constant image channels. Its last layer starts
at zero, so the untrained network *is* the classical ``deconvolve`` translator;
training can only add what the linear filter cannot: priors on galaxy shapes,
denoising of faint sources, stars without ringing, a correction of an
approximate or missing input PSF from the image itself.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..utils._validation import check_int
from .aecnn import AECNNTranslator
from .registry import register_translator

__all__ = ["PSFNetTranslator"]

_N_PSF = 7  # PSF parameters per band (survey2survey.psf.N_PSF_PARAMETERS)


def _psf_features(params):
    """Normalised conditioning features ``(N, 7 C)`` from ``(N, C, 7)`` PSF parameters."""
    fwhm_in = params[..., 0].clamp(min=0.1)
    fwhm_out = params[..., 3].clamp(min=0.1)
    features = torch.stack([
        torch.log(fwhm_in) - 1.0, torch.log(fwhm_out) - 1.0,
        5.0 * torch.log(fwhm_out / fwhm_in), (params[..., 1] - 3.0) / 2.0,
        params[..., 2] - 1.0, params[..., 5] - 1.0, 2.0 * params[..., 6] - 1.0], dim=-1)
    return features.reshape(len(params), -1)


class _FiLMBlock(nn.Module):
    def __init__(self, channels, condition, dropout):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(condition, 2 * channels)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x, condition):
        gamma, beta = self.film(condition)[..., None, None].chunk(2, dim=1)
        h = F.relu(self.conv1(x) * (1.0 + gamma) + beta)
        return x + self.conv2(self.dropout(h))


class PSFConditionedNet(nn.Module):
    """
    A two-level residual U-Net whose blocks are modulated by the PSF parameters.

    Input: ``(N, 8 C + C, H, W)``: the encoded bands, their ``7 C`` constant PSF
    channels and the Wiener-filtered bands; output: ``2 C`` transport fields
    (last layer zero-initialised).
    """

    def __init__(self, bands, width=32, blocks=2, dropout=0.0):
        super().__init__()
        self.bands = int(bands)
        condition = 64
        self.condition = nn.Sequential(nn.Linear(_N_PSF * bands, condition), nn.ReLU(),
                                       nn.Linear(condition, condition), nn.ReLU())
        self.stem = nn.Conv2d(4 * bands, width, 3, padding=1)
        self.level0 = nn.ModuleList(_FiLMBlock(width, condition, dropout) for _ in range(blocks))
        self.down1 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.level1 = nn.ModuleList(_FiLMBlock(2 * width, condition, dropout)
                                    for _ in range(blocks))
        self.down2 = nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1)
        self.level2 = nn.ModuleList(_FiLMBlock(2 * width, condition, dropout)
                                    for _ in range(blocks))
        self.up2 = nn.Conv2d(4 * width, 2 * width, 3, padding=1)
        self.up1 = nn.Conv2d(3 * width, width, 3, padding=1)
        self.decode = nn.ModuleList(_FiLMBlock(width, condition, dropout) for _ in range(blocks))
        self.out = nn.Conv2d(width, 2 * bands, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        c = self.bands
        images, restored = x[:, :c], x[:, -c:]
        params = x[:, c:c * (1 + _N_PSF), 0, 0].float().reshape(len(x), c, _N_PSF)
        condition = self.condition(_psf_features(params))
        h = self.stem(torch.cat([images / 10.0, torch.asinh(images), restored / 10.0,
                                 torch.asinh(restored)], dim=1))
        for block in self.level0:
            h = block(h, condition)
        h1 = F.relu(self.down1(h))
        for block in self.level1:
            h1 = block(h1, condition)
        h2 = F.relu(self.down2(h1))
        for block in self.level2:
            h2 = block(h2, condition)
        up = F.interpolate(h2, size=h1.shape[-2:], mode="nearest")
        h1 = F.relu(self.up2(torch.cat([up, h1], dim=1)))
        up = F.interpolate(h1, size=h.shape[-2:], mode="nearest")
        h = F.relu(self.up1(torch.cat([up, h], dim=1)))
        for block in self.decode:
            h = block(h, condition)
        return self.out(h)


@register_translator("psfnet")
class PSFNetTranslator(AECNNTranslator):
    """
    PSF-conditioned residual translator on top of the Wiener filter, registered as ``"psfnet"``.

    Use it through `~survey2survey.estimator.Survey2Survey` (``translator='psfnet'``), which
    gives it the PSF-aware encoding: the input and target PSF of every band,
    from header cards or ``transform(..., target_psf=...)``. Trained with the
    AECNN's recipe (Adam, cosine schedule, weighted chi-squared).

    Parameters
    ----------
    width : int, optional
        Channels at full resolution (twice that at 1/2 and 1/4).
    blocks : int, optional
        Residual blocks per level.
    dropout : float, optional
        Dropout in the residual blocks (enables Monte-Carlo dropout samples).
    **kwargs
        Training options as for `~survey2survey.translators.AECNNTranslator`
        (``learning_rate``, ``epochs``, ``batch_size``...) and
        `~survey2survey.translators.Translator`.

    Examples
    --------
    >>> from survey2survey import Translator
    >>> model = Translator.create('psfnet', in_channels=24, out_channels=6,
    ...                           target_channels=3, linear_output=True)
    >>> model.receptive_field
    76
    """

    psf_aware = True

    def __init__(self, *, width=32, blocks=2, dropout=0.0, **kwargs):
        self.width = check_int(width, "width", minimum=4)
        self.blocks = check_int(blocks, "blocks", minimum=1)
        kwargs.pop("resampling", None)
        super().__init__(dropout=dropout, **kwargs)
        self.size_multiple = 4
        self.min_size = 16
        self.receptive_field = 76

    def build_modules(self):
        """``{'network': PSFConditionedNet}``."""
        bands = self.target_channels
        return {"network": PSFConditionedNet(bands, self.width, self.blocks, self.dropout)}

    def forward(self, batch):
        """The head's output for the network's transport on top of the Wiener filter."""
        if self.head is None:
            restored = batch[:, :self.target_channels]
        else:
            restored = self.head.restore(batch)
        raw = self.apply_padded(self.network, torch.cat([batch, restored.to(batch.dtype)], 1))
        if self.head is None:
            return raw
        return self.head(raw.contiguous(), batch, restored=restored)
