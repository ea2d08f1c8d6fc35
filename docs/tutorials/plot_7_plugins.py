"""
Your own translator plug-in and your own survey
===============================================

survey2survey's translators are plug-ins: the built-in AECNN and CycleGAN use
the same `~survey2survey.translators.Translator` API that your own model can. This
tutorial writes a small, physically motivated translator — a learnable
per-band gain plus a learnable smoothing kernel, roughly what separates two
surveys of different depth and seeing — registers it by name, fits it on a
toy mapping and saves it. Then it describes a survey the package does not
know, the Hyper Suprime-Cam Subaru Strategic Program (HSC-SSP), registers it
(`~survey2survey.surveys.register_survey`) and simulates SDSS/HSC pairs with it.

The toy problem is the same at every size (it takes a few seconds);
``S2S_TUTORIAL_SIZE=full`` only trains longer.
"""

# %%
# A toy mapping between two "surveys"
# -----------------------------------
# The source images are random blobs with noise; the target survey sees them
# 1.6 times brighter and blurred by a 3x3 kernel. Images are float32 tensors
# ``(N, bands, H, W)`` normalised to about [0, 1], the convention of every
# translator.

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from survey2survey import Translator
from survey2survey.translators import available_translators, register_translator

generator = torch.Generator().manual_seed(0)
n, size = 48, 32
yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
centres = torch.rand(n, 2, generator=generator) * 16 + 8
widths = torch.rand(n, 1, 1, generator=generator) * 3 + 1.5
blobs = torch.exp(-((xx - centres[:, 0, None, None]) ** 2
                    + (yy - centres[:, 1, None, None]) ** 2) / (2 * widths ** 2))
source = (0.5 * blobs[:, None] + 0.02 * torch.randn(n, 1, size, size, generator=generator))
source = source.repeat(1, 2, 1, 1).clamp(0, 1)          # two bands

kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
target = 1.6 * F.conv2d(source, kernel.expand(2, 1, 3, 3), padding=1, groups=2)

# %%
# The plug-in
# -----------
# A translator sets its own attributes, calls ``super().__init__`` with the
# channel counts and training options, and returns its networks from
# ``build_modules()`` (the one used for inference under ``"network"``). Here
# the default supervised training step (mean squared error, Adam) is enough;
# GANs override ``training_step`` instead. Constructor parameters are recorded
# automatically in ``params`` and saved with the weights.


class GainAndBlur(nn.Module):
    """A per-band gain times a per-band 3x3 convolution."""

    def __init__(self, bands):
        super().__init__()
        self.blur = nn.Conv2d(bands, bands, 3, padding=1, groups=bands, bias=False,
                              padding_mode="replicate")
        self.gain = nn.Parameter(torch.ones(1, bands, 1, 1))

    def forward(self, x):
        return self.gain * self.blur(x)


@register_translator("gain-blur")
class GainBlurTranslator(Translator):
    """Learns the flux scaling and PSF change between two surveys."""

    min_size = 3

    def __init__(self, *, learning_rate=0.05, **kwargs):
        self.learning_rate = learning_rate
        super().__init__(**kwargs)

    def build_modules(self):
        return {"network": GainAndBlur(self.in_channels)}

    def configure_optimizers(self):
        return {"network": torch.optim.Adam(self.network.parameters(), lr=self.learning_rate)}


print(available_translators())

# %%
# Fitting by name
# ---------------
# Once registered, the translator is created by name like the built-ins and
# trained by the shared loop: validation split, per-epoch history, early
# stopping, checkpoints and resume all come for free. A package would declare
# it in its ``pyproject.toml`` entry-point group ``survey2survey.translators``
# instead of calling the decorator.

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
model = Translator.create("gain-blur", in_channels=2, epochs=200 if FULL else 40, batch_size=8,
                          patience=5)
history = model.fit(source, target, validation=0.25, progress=False)
print(history.to_table()[-3:])
# the flux ratio is the gain times the sum of the kernel (the true value is 1.6)
with torch.no_grad():
    flux_ratio = model.network.gain.flatten() * model.network.blur.weight.sum(dim=(1, 2, 3))
print("learned flux ratio per band:", flux_ratio)

# %%
# ``predict`` works on any image size, returns a float32 CPU tensor, and never
# modifies its input.

prediction = model.predict(source[:1])
fig, axes = plt.subplots(1, 4, figsize=(11, 3), layout="constrained")
for ax, image, title in zip(axes[:3], (source[0, 0], target[0, 0], prediction[0, 0]),
                            ("source", "target", "translated"), strict=True):
    ax.imshow(image.numpy(), origin="lower", vmin=0, vmax=float(target[0, 0].max()), cmap="magma")
    ax.set_title(title)
    ax.set_axis_off()
axes[3].plot(history.epochs, history["loss"], label="training")
axes[3].plot(history.epochs, history["val_loss"], label="validation")
axes[3].set_yscale("log")
axes[3].set_xlabel("epoch")
axes[3].set_ylabel("MSE")
_ = axes[3].legend()
plt.show()

# %%
# Saving and loading
# ------------------
# ``save`` writes one safetensors file with a JSON configuration (name,
# parameters, versions, a SHA-256 of the weights) and your metadata;
# ``Translator.load`` rebuilds the translator by name — the plug-in must be
# installed (registered) where it is loaded. Nothing is ever unpickled.

import tempfile

path = os.path.join(tempfile.mkdtemp(), "gain_blur.safetensors")
model.save(path, metadata={"source": "toy-sdss", "target": "toy-des"})
again = Translator.load(path)
print(again, again.metadata)
print("identical outputs:", torch.equal(again.predict(source), model.predict(source)))

# %%
# Your own survey
# ---------------
# A `~survey2survey.surveys.Survey` holds what the package needs to know about
# a survey: pixel scale, bands, flux unit and zero point, PSF, sky, noise and
# depth, with their references. Below, the HSC-SSP Wide layer: 0.168"/pix
# and coadd fluxes in counts at zero point 27 (Aihara et al. 2018, PASJ 70,
# S4 and S8, the survey and the first data release); median seeing and 5-sigma
# point-source depths of the second data release (Aihara et al. 2019, PASJ 71,
# 114). The sky brightness and pixel noise are round illustrative values:
# measure them on the images you use.
import astropy.units as u

from survey2survey.datasets import make_survey_pairs
from survey2survey.surveys import Survey, available_surveys, get_survey, register_survey

hsc = Survey(
    name="HSC",
    pixel_scale=0.168 * u.arcsec / u.pix,
    bands="griz",
    zero_point={b: 27.0 for b in "griz"},
    flux_unit="count",
    psf_fwhm={"g": 0.77, "r": 0.76, "i": 0.58, "z": 0.68},
    sky_brightness={"g": 22.1, "r": 21.1, "i": 20.3, "z": 19.4},
    noise_sigma={"g": 0.03, "r": 0.04, "i": 0.05, "z": 0.08},
    depth={"g": 26.6, "r": 26.2, "i": 26.2, "z": 25.3},
    psf_model="moffat",
    cutout_size=354,
    depth_definition="5-sigma, point sources (PDR2 Wide)",
    references="Aihara et al. 2018, PASJ 70, S4 and S8; Aihara et al. 2019, PASJ 71, 114",
)
register_survey(hsc)
print(available_surveys())
print(get_survey("hsc").pixel_scale, "one HSC count =",
      f"{hsc.flux_conversion('r', get_survey('des')):.3f} DES counts")

# %%
# Once registered, the survey is known by name everywhere: the simulator,
# `~survey2survey.estimator.Survey2Survey` (``target="hsc"``), the command line.
# Two SDSS/HSC pairs of the same galaxies, each on its own grid:
hsc_pairs = make_survey_pairs(2, "sdss", "hsc", bands="gri", source_size=48, seed=4,
                              processes=1, progress=False)
print(hsc_pairs[0].source, hsc_pairs[0].target, sep="\n")
fig, axes = plt.subplots(2, 2, figsize=(6, 6), layout="constrained")
for row, pair in zip(axes, hsc_pairs, strict=True):
    for ax, cutout in zip(row, (pair.source, pair.target), strict=True):
        header = cutout["r"].meta
        ax.imshow(np.arcsinh(cutout["r"].data / (3 * header["SKYSIG"])), origin="lower",
                  cmap="gray_r")
        ax.set_title(f"{header['SURVEY']} r, {header['PIXSCALE']}\"/pix, "
                     f"FWHM {header['PSFFWHM']:.2f}\"", fontsize=9)
        ax.set_axis_off()
plt.show()
