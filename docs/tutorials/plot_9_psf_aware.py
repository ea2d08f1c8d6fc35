"""
PSF-aware translation against classical deconvolution
=====================================================

Most of what separates an SDSS image from a DES image of the same galaxy is the
point-spread function. This tutorial compares, on the same held-out galaxies,
the classical translator (``sdss-des-deconvolve``: a Wiener filter from each
input's PSF to the PSF asked for) with the learned one that knows both PSFs
(``sdss-des-psfnet``, which starts from that filter), against the noise-free
DES truth rendered at each galaxy's own DES PSF (:doc:`/psf`).

The input PSFs are known as in real data: the ``PSFFWHM`` cards are off by a
few per cent, the real Moffat index varies from 2.5 to 5 while the header says
3, and some cutouts have no PSF card at all (``psf='realistic'``).

Small by default (24 galaxies of 96 x 96 pixels); ``S2S_TUTORIAL_SIZE=full``
uses 240 of 150 x 150, as the benchmark does.
"""

# %%
# Held-out pairs with realistic PSF knowledge
# -------------------------------------------
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.exceptions import UnknownPSFWarning
from survey2survey.metrics import aperture_magnitude_errors, fidelity_summary

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
n, size = (240, 150) if FULL else (24, 96)
pairs = make_survey_pairs(n, source_size=size, seed=910017, target_grid="source",
                          psf="realistic", seeing_spread=0.2, processes=1, progress=False)
print(f"{sum('PSFFWHM' not in p.source['r'].meta for p in pairs)} of {n} inputs "
      "state no PSF; the SDSS median stands in for them")

# %%
# Translate to each galaxy's own DES PSF
# --------------------------------------
# ``target_psf`` takes one PSF per input: here the DES cutouts themselves, whose
# ``PSFFWHM`` cards say what seeing each was taken in.
models = {name: Survey2Survey.from_pretrained(f"sdss-des-{name}")
          for name in ("deconvolve", "psfnet")}
sources = [p.source for p in pairs]
targets = [p.target for p in pairs]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UnknownPSFWarning)  # counted above
    translated = {name: model.transform(sources, target_psf=targets, progress=False)
                  for name, model in models.items()}


def band_sum(cutouts, scale=1.0):
    """The g+r+i image of each cutout in DES counts, as one (N, ny, nx) array."""
    return np.stack([scale * np.asarray(c.data).sum(axis=0) for c in cutouts])


truth = band_sum([p.target_truth for p in pairs])
images = {"do nothing": band_sum(sources, 1e3)}  # 1 nanomaggy = 1000 DES counts
images.update({name: band_sum(out) for name, out in translated.items()})

# %%
# Aperture photometry against the truth
# -------------------------------------
# Bias (median) and scatter (NMAD) of band-sum aperture magnitudes, in mag.
radii = {'1"': 1 / 0.396, '2"': 2 / 0.396, '4"': 4 / 0.396, '8"': 8 / 0.396}
rows = []
for name, image in images.items():
    errors = aperture_magnitude_errors(image, truth, list(radii.values()))
    summary = fidelity_summary(errors, list(radii))  # bias (median) and NMAD per aperture
    rows.append([name] + [f"{row['bias']:+.3f}/{row['nmad']:.3f}" for row in summary
                          if row["group"] == "all"])
table = Table(rows=rows, names=["image"] + list(radii))
table.pprint(max_width=100)

# %%
# The Wiener filter is told the wrong PSF shape, so it over-sharpens (a negative
# bias in small apertures); the network corrects the PSF from the image. At full
# size (240 galaxies, benchmark ``bench_psf.py``) the 1" bias/NMAD are -0.041/0.050
# for the filter and -0.010/0.047 for psfnet; with exactly known PSFs the filter
# reaches 0.011 and psfnet 0.007.

# %%
# One galaxy and one star
# -----------------------
# The brightest galaxy of the set, each image on the same asinh stretch, and the
# residuals against the truth on one linear scale set by the DES noise.
k = int(np.argmax(truth.sum(axis=(1, 2))))
noise = 1.4826 * np.median(np.abs(images["do nothing"][k] - truth[k]))
columns = ["do nothing", "deconvolve", "psfnet"]
fig, axes = plt.subplots(2, 4, figsize=(9, 4.8), constrained_layout=True)
stretch = np.arcsinh(truth[k] / (3 * noise))
vmax = stretch.max()
axes[0, 0].imshow(stretch, origin="lower", cmap="gray", vmin=0, vmax=vmax)
axes[0, 0].set_title("DES truth")
for ax, name in zip(axes[0, 1:], columns, strict=True):
    ax.imshow(np.arcsinh(images[name][k] / (3 * noise)), origin="lower", cmap="gray",
              vmin=0, vmax=vmax)
    ax.set_title(name)
axes[1, 0].axis("off")
axes[1, 0].text(0.05, 0.5, "image - truth\n(+-10 x noise)", transform=axes[1, 0].transAxes)
for ax, name in zip(axes[1, 1:], columns, strict=True):
    ax.imshow(images[name][k] - truth[k], origin="lower", cmap="RdBu_r",
              vmin=-10 * noise, vmax=10 * noise)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
