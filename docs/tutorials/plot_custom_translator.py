"""
Writing and registering a plug-in translator
============================================

survey2survey's translators are plug-ins: the built-in AECNN and CycleGAN use
the same `~survey2survey.translators.Translator` API that your own model can. This
tutorial writes a small, physically motivated translator — a learnable
per-band gain plus a learnable smoothing kernel, roughly what separates two
surveys of different depth and seeing — registers it by name, fits it on a
toy mapping and saves it.
"""

# %%
# A toy mapping between two "surveys"
# -----------------------------------
# The source images are random blobs with noise; the target survey sees them
# 1.6 times brighter and blurred by a 3x3 kernel. Images are float32 tensors
# ``(N, bands, H, W)`` normalised to about [0, 1], the convention of every
# translator.

import matplotlib.pyplot as plt
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

model = Translator.create("gain-blur", in_channels=2, epochs=40, batch_size=8, patience=5)
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
axes[3].legend()
plt.show()

# %%
# Saving and loading
# ------------------
# ``save`` writes one safetensors file with a JSON configuration (name,
# parameters, versions, a SHA-256 of the weights) and your metadata;
# ``Translator.load`` rebuilds the translator by name — the plug-in must be
# installed (registered) where it is loaded. Nothing is ever unpickled.

import os
import tempfile

path = os.path.join(tempfile.mkdtemp(), "gain_blur.safetensors")
model.save(path, metadata={"source": "toy-sdss", "target": "toy-des"})
again = Translator.load(path)
print(again, again.metadata)
print("identical outputs:", torch.equal(again.predict(source), model.predict(source)))
