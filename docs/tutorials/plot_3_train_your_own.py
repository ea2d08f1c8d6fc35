"""
Training your own: an AECNN from simulated pairs, and fine-tuning
=================================================================

Simulate pairs of the same galaxies seen by SDSS and DES, fit the paper's AECNN
on them with `~survey2survey.estimator.Survey2Survey`, then take the shipped
pretrained model and fine-tune it on the same pairs (a pretrained model comes
with ``warm_start=True``, so its ``fit`` continues training). All three are scored on held-out pairs
against DES and against the noise-free truth.

By default the run is small (40 training pairs of 48 x 48 SDSS pixels, a few
epochs) so that it takes well under a minute and a half on two CPU cores;
``S2S_TUTORIAL_SIZE=full`` trains on 400 pairs of 64 x 64 pixels for longer.
The small numbers below are what this short run gives, not what the
method can do.
"""

# %%
# Simulate pairs
# --------------
# `~survey2survey.datasets.make_survey_pairs` renders the same scene as SDSS
# (0.396"/pix, nanomaggies) and DES (0.263"/pix, counts at zero point 30), each
# with its PSF and noise on a real TAN WCS, and the noise-free truth beside
# them. Each survey keeps its own grid: ``fit`` aligns the DES cutout onto the
# SDSS grid itself.
import os

import matplotlib.pyplot as plt
import numpy as np

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.visualization import lupton_rgb

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
n_train, n_test, size, epochs = (400, 40, 64, 40) if FULL else (40, 8, 48, 6)

pairs = make_survey_pairs(n_train + n_test, source_size=size, seed=7, processes=1,
                          progress=False)
train, test = pairs[:n_train], pairs[n_train:]
print(train[0].source, train[0].target, sep="\n")
header = train[0].target["r"].meta
for key in ("SURVEY", "MAGZERO", "PSFFWHM", "PIXSCALE", "SKYSIG"):
    print(f"{key:8s} = {header[key]!s:8s} / {header.comments[key]}")

# %%
# Fit an AECNN
# ------------
# ``fit`` aligns every DES cutout onto its SDSS grid (flux-conserving
# reprojection), fits the asinh normalisation of each survey and trains the
# translator. Translator parameters (``epochs``, ``batch_size``, the optimiser...)
# pass straight through the constructor; here Adam instead of the paper's
# Adadelta, for a fast fit.
own = Survey2Survey("aecnn", source="sdss", target="des", bands="gri", epochs=epochs,
                    batch_size=8, seed=0, optimizer="adam", learning_rate=1e-3)
own.fit(train, validation=0.125, progress=False)
print(own, "rejected pairs:", own.n_rejected_)
print(own.history_[0].to_table()[-3:])

# %%
# Fine-tune the pretrained model
# ------------------------------
# ``from_pretrained`` gives a fitted estimator (trained on 1,200 simulated
# pairs) with ``warm_start=True``: a further ``fit`` continues training its
# network and keeps its flux encoding, instead of starting afresh; the shipped
# file is not touched. A few epochs at the pretrained model's own settings.
pretrained = Survey2Survey.from_pretrained("sdss-des-aecnn")
tuned = Survey2Survey.from_pretrained("sdss-des-aecnn")
tuned.fit(train, validation=0.125, epochs=2 if not FULL else 10, progress=False)
print(tuned.history_[0].to_table())

# %%
# Score on held-out pairs
# -----------------------
# `~survey2survey.estimator.Survey2Survey.score_table` translates the held-out
# SDSS cutouts, compares them with the DES cutouts (MSSIM of the band-averaged
# layer in the DES stretch) and, given the noise-free truth, measures the
# relative aperture-flux error (median of its absolute value); the SDSS
# columns are the untranslated SDSS image converted to DES counts. MSSIM is
# computed in each model's own flux stretch, so compare each translation with
# the SDSS value on its own row, not across rows. The numbers are this short
# run's: a few epochs on 40 small cutouts are not enough to judge a model, and
# the first epochs of fine-tuning start a fresh optimiser on the pretrained
# weights.
sources = [p.source for p in test]
targets = [p.target for p in test]
truths = [p.target_truth for p in test]
print(f"{'model':22s} {'MSSIM: translated':>17s} {'SDSS':>6s}   "
      f"{'|flux error|: translated':>24s} {'SDSS':>6s}")
for name, model in (("own AECNN", own), ("pretrained", pretrained),
                    ("pretrained, fine-tuned", tuned)):
    table = model.score_table(sources, targets, truth=truths, progress=False)
    print(f"{name:22s} {np.mean(table['mssim']):17.3f} {np.mean(table['mssim_baseline']):6.3f}"
          f"   {np.median(np.abs(table['flux_error_truth'])):24.3f}"
          f" {np.median(np.abs(table['flux_error_truth_baseline'])):6.3f}")

# %%
# SDSS fluxes are already unbiased (the same light, blurred and noisier), so a
# translation can only add flux error; the flux-conserving output head keeps it
# small. What the translation adds is the DES look: depth-like appearance and
# structure, which MSSIM against DES measures.
#
# Look at it
# ----------
# SDSS | DES | own AECNN | fine-tuned pretrained, for three held-out galaxies,
# in one stretch (nanomaggies; 1 DES count = 1e-3 nanomaggy). DES is shown on
# its own, finer grid.
outputs = {"own AECNN": own.transform(sources[:3], progress=False),
           "fine-tuned": tuned.transform(sources[:3], progress=False)}
fig, axes = plt.subplots(3, 4, figsize=(8.5, 6.6), layout="constrained")
for k, row in enumerate(axes):
    images = [(test[k].source.data, "SDSS"), (1e-3 * test[k].target.data, "DES")]
    images += [(1e-3 * outputs[name][k].data, name) for name in outputs]
    for ax, (image, title) in zip(row, images, strict=True):
        ax.imshow(lupton_rgb(image, stretch=0.5), origin="lower")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(own.history_[0]["loss"], label="own AECNN, training")
ax.plot(own.history_[0]["val_loss"], label="own AECNN, validation")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.set_yscale("log")
_ = ax.legend()
plt.show()
