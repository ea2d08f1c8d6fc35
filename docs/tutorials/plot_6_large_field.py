"""
A large field: tiling without seams
===================================

A network is trained on small cutouts, but survey frames are thousands of
pixels wide. `~survey2survey.estimator.Survey2Survey` translates any field
larger than ``tile_size`` in overlapping tiles and cross-fades them
(``overlap``, ``blend``), leaving every kept pixel at least one receptive-field
radius inside its tile, so the result is the same as translating the field in
one piece. This tutorial checks that on a simulated SDSS field, and shows the
seams that naive, non-overlapping tiles leave.

Small by default (a 400 x 400 field); ``S2S_TUTORIAL_SIZE=full`` simulates a
1024 x 1024 one.
"""

# %%
# A simulated SDSS field
# ----------------------
# `~survey2survey.datasets.simulate_sdss_frames` writes frames in the SDSS frame
# format (a galaxy scene with SDSS's PSF and the frame noise model);
# `~survey2survey.io.read_cutout` reads the three bands as one cutout.
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from astropy.stats import mad_std

from survey2survey import Survey2Survey
from survey2survey.datasets import simulate_sdss_frames
from survey2survey.io import read_cutout
from survey2survey.visualization import lupton_rgb

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
side = 1024 if FULL else 400
field = read_cutout(list(simulate_sdss_frames(seed=5, shape=(side, side)).values()))
print(field)

# %%
# Tiled and in one piece
# ----------------------
# ``tile_size=96`` cuts the field into about 25 tiles (the default overlap is
# derived from the network's receptive field); ``tile_size=side`` translates it
# in one piece. Parameters are changed with ``set_params``.
s2s = Survey2Survey.from_pretrained("sdss-des-aecnn")
results, seconds = {}, {}
for tile_size in (96, side):
    s2s.set_params(tile_size=tile_size)
    start = time.perf_counter()
    results[tile_size] = s2s.transform(field, progress=False)
    seconds[tile_size] = time.perf_counter() - start
    print(f"tile_size={tile_size}: {seconds[tile_size]:.1f} s")

tiled, whole = results[96].data, results[side].data
noise = mad_std(whole[1])  # robust scatter of the r band: mostly the sky noise
print(f"largest |tiled - one piece|: {np.abs(tiled - whole).max():.2e} DES counts "
      f"(the r-band background noise is {noise:.2f} counts)")

# %%
# Naive tiles, for comparison
# ---------------------------
# Translating 100 x 100 blocks one by one and pasting them together: near each
# block edge the network sees zero padding instead of the neighbouring sky, and
# the output changes there.
block = 100
naive = np.zeros_like(whole)
for y in range(0, side, block):
    for x in range(0, side, block):
        piece = field.with_data(field.data[:, y:y + block, x:x + block],
                                wcs=field.wcs.slice((slice(y, y + block), slice(x, x + block))))
        naive[:, y:y + block, x:x + block] = s2s.transform(piece, progress=False).data
print(f"largest |naive tiles - one piece|: {np.abs(naive - whole).max():.2e} DES counts")

# %%
# Look at it
# ----------
# The translated field, and the r-band difference from the one-piece
# translation for the overlapping tiles and for the naive ones, on one scale:
# plus or minus the translated image's sky noise (its robust standard deviation,
# `~astropy.stats.mad_std`), so that a difference as large as the noise is
# full colour. Scaled to the largest difference instead, one bright pixel
# would leave everything else white and the seams invisible.
fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), layout="constrained")
axes[0].imshow(lupton_rgb(1e-3 * tiled, stretch=0.5), origin="lower")
axes[0].set_title(f"translated, tile_size=96 ({side} x {side})")
noise = mad_std(whole[1])
print(f"sky noise of the translated r band: {noise:.3g} ct; largest differences: "
      f"overlapping tiles {np.abs(tiled - whole)[1].max():.3g}, "
      f"naive tiles {np.abs(naive - whole)[1].max():.3g}")
for ax, image, title in ((axes[1], tiled - whole, "overlapping tiles - one piece"),
                         (axes[2], naive - whole, "naive tiles - one piece")):
    shown = ax.imshow(image[1], origin="lower", cmap="RdBu_r", vmin=-noise, vmax=noise)
    ax.set_title(f"{title}\n[r, ct; colour range: sky noise]", fontsize=10)
fig.colorbar(shown, ax=axes[1:], shrink=0.8, extend="both")
for ax in axes:
    ax.set_axis_off()
plt.show()
