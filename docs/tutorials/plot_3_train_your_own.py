"""
Training your own: the classical translator in seconds, and fine-tuning psfnet
===============================================================================

Simulate pairs of the same galaxies seen by SDSS and DES, fit the classical
translator (``deconvolve``: a Wiener filter from each input's PSF to the target
PSF, whose fit only picks one regularisation per band) on them with
`~survey2survey.estimator.Survey2Survey`, then take the shipped PSF-aware model
(``sdss-des-psfnet``) and fine-tune it on the same pairs (a pretrained model
comes with ``warm_start=True``, so its ``fit`` continues training). Everything
is scored on held-out pairs against the noise-free DES truth, beside the
untranslated SDSS input.

Training a network from scratch takes longer than a gallery build: the shipped
``psfnet`` trained for 7.6 minutes on an NVIDIA H200 (2,400 pairs), the
PSF-blind AECNN for 72 minutes on two CPU cores (1,200 pairs); how far they get
is on the :doc:`/psf` and :doc:`/fidelity` pages, and
``benchmarks/bench_psf.py`` reruns it. By default this run is small (40
training pairs of 64 x 64 pixels, two fine-tuning epochs, about a minute on two
CPU cores); ``S2S_TUTORIAL_SIZE=full`` uses 400 pairs and ten epochs.
"""

# %%
# Simulate pairs
# --------------
# `~survey2survey.datasets.make_survey_pairs` renders the same scene as SDSS
# (0.396"/pix, nanomaggies) and DES (0.263"/pix, counts at zero point 30), each
# with its PSF and noise on a real TAN WCS, and the noise-free truth beside
# them. Each survey keeps its own grid: ``fit`` aligns the DES cutout onto the
# SDSS grid itself. ``psf='realistic'`` gives the SDSS PSFs the shapes and the
# header errors real data has, and ``seeing_spread`` a wide range of seeing.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.exceptions import UnknownPSFWarning
from survey2survey.metrics import aperture_magnitude_errors, fidelity_summary
from survey2survey.visualization import lupton_rgb

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
n_train, n_test, epochs = (400, 40, 10) if FULL else (40, 16, 2)
pairs = make_survey_pairs(n_train + n_test, source_size=64, seed=7, psf="realistic",
                          seeing_spread=0.2, processes=1, progress=False)
train, test = pairs[:n_train], pairs[n_train:]
header = train[0].source["r"].meta
for key in ("SURVEY", "MAGZERO", "PSFFWHM", "PSFFWHMT", "PIXSCALE", "SKYSIG"):
    print(f"{key:8s} = {header[key]!s:8s} / {header.comments[key]}")
warnings.simplefilter("ignore", UnknownPSFWarning)  # some realistic inputs state no PSF

# %%
# Fit the classical translator
# ----------------------------
# ``fit`` aligns every DES cutout onto its SDSS grid (flux-conserving
# reprojection), measures each survey's noise and picks the Wiener
# regularisation of each band on the pairs: no network is trained.
classical = Survey2Survey("deconvolve", source="sdss", target="des", bands="gri")
classical.fit(train, validation=0, progress=False)
print(classical, "regularisation per band:", classical.codec_.regularization)

# %%
# Fine-tune the pretrained psfnet
# -------------------------------
# ``from_pretrained`` gives a fitted estimator with ``warm_start=True``: a further
# ``fit`` continues training its network and keeps its encoding, instead of
# starting afresh; the shipped file is not touched. A tenth of the training
# rate, so that a few epochs on a few pairs adjust rather than overwrite it.
pretrained = Survey2Survey.from_pretrained("sdss-des-psfnet")
tuned = Survey2Survey.from_pretrained("sdss-des-psfnet")
tuned.set_params(learning_rate=1e-4, epochs=epochs, batch_size=8)
tuned.fit(train, validation=0.125, progress=False)
print(tuned.history_[0].to_table())

# %%
# Score on held-out pairs against the truth
# -----------------------------------------
# Each held-out galaxy is translated to its own DES PSF (``target_psf`` takes the
# DES cutouts, whose ``PSFFWHM`` cards state it), so the noise-free DES truth
# on the SDSS grid is the reference. Band-sum aperture magnitudes: bias (median)
# and scatter (NMAD), in mag.
sources = [p.source for p in test]
psf_of_des = [p.target for p in test]
truth_pairs = make_survey_pairs(n_train + n_test, source_size=64, seed=7, psf="realistic",
                                seeing_spread=0.2, target_grid="source", processes=1,
                                progress=False)[n_train:]
truth = np.stack([p.target_truth.data.sum(axis=0) for p in truth_pairs])
images = {"do nothing": np.stack([1e3 * s.data.sum(axis=0) for s in sources])}
for name, model in (("deconvolve (fitted here)", classical), ("psfnet (shipped)", pretrained),
                    ("psfnet (fine-tuned)", tuned)):
    out = model.transform(sources, target_psf=psf_of_des, progress=False)
    images[name] = np.stack([o.data.sum(axis=0) for o in out])
radii = {'1"': 1 / 0.396, '2"': 2 / 0.396, '4"': 4 / 0.396}
rows = []
for name, image in images.items():
    errors = aperture_magnitude_errors(image, truth, list(radii.values()))
    summary = fidelity_summary(errors, list(radii))  # bias (median) and NMAD per aperture
    rows.append([name] + [f"{row['bias']:+.3f}/{row['nmad']:.3f}" for row in summary
                          if row["group"] == "all"])
Table(rows=rows, names=["image"] + list(radii)).pprint(max_width=100)

# %%
# The same galaxies rendered with the DES image on the SDSS grid give the truth
# (``target_grid='source'``; a pair depends only on its seed and index). Every
# translation beats doing nothing; the network corrects the over-sharpening of
# the filter, which is told an approximate PSF. A couple of epochs on a few dozen
# pairs move the pretrained network little: fine-tuning pays with pairs of your
# own survey data, many of them.
#
# Look at it
# ----------
# SDSS | DES | deconvolve | fine-tuned psfnet, for three held-out galaxies, in one
# stretch (nanomaggies; 1 DES count = 1e-3 nanomaggy). DES on its own, finer grid.
outputs = {"deconvolve": classical.transform(sources[:3], progress=False),
           "psfnet, fine-tuned": tuned.transform(sources[:3], progress=False)}
fig, axes = plt.subplots(3, 4, figsize=(8.5, 6.6), layout="constrained")
for k, row in enumerate(axes):
    panels = [(test[k].source.data, "SDSS"), (1e-3 * test[k].target.data, "DES")]
    panels += [(1e-3 * outputs[name][k].data, name) for name in outputs]
    for ax, (image, title) in zip(row, panels, strict=True):
        ax.imshow(lupton_rgb(np.nan_to_num(image), stretch=0.5), origin="lower")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
plt.show()
