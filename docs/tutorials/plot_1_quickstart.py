"""
Quickstart: the pretrained model on an SDSS field
=================================================

Load the shipped SDSS -> DES model by name, translate the sample SDSS field
(three frame files, g, r and i, in the SDSS frame format), check that the
output keeps the input's WCS by drawing contours in world coordinates, and
read the provenance cards the model writes into every output header.

Every tutorial reads ``S2S_TUTORIAL_SIZE``: unset (``small``), it runs in
seconds on a laptop CPU; ``S2S_TUTORIAL_SIZE=full`` runs the bigger version.
Here both are the same 200 x 200 field, which is already fast.
"""

# %%
# The model and the data
# ----------------------
# `~survey2survey.pretrained_models` lists the shipped models;
# `~survey2survey.estimator.Survey2Survey.from_pretrained` loads one by name.
# `~survey2survey.datasets.sample_sdss_frames` gives the paths of the sample
# frame files and `~survey2survey.io.read_cutout` reads the three as one
# `~survey2survey.io.Cutout` in nanomaggies.
import matplotlib.pyplot as plt
import numpy as np

from survey2survey import Survey2Survey, pretrained_models
from survey2survey.datasets import sample_sdss_frames
from survey2survey.io import read_cutout
from survey2survey.visualization import lupton_rgb

for name, description in pretrained_models().items():
    print(f"{name}: {description}")

s2s = Survey2Survey.from_pretrained("sdss-des-aecnn")
print(s2s)
frames = read_cutout(sample_sdss_frames())
print(frames)

# %%
# Translate
# ---------
# One call: the output is a `~survey2survey.io.Cutout` in DES counts (zero
# point 30) on the input's pixel grid. ``output="des_look.fits"`` would also
# write it to a FITS file.
des_look = s2s.transform(frames, progress=False)
print(des_look)

# One stretch in nanomaggies for both (1 DES count at zero point 30 = 1e-3 nanomaggy).
fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
for ax, image, title in zip(axes, (frames.data, 1e-3 * des_look.data),
                            ("SDSS (input)", "DES look (output)"), strict=True):
    ax.imshow(lupton_rgb(image, stretch=0.5), origin="lower")
    ax.set_title(title)
    ax.set_axis_off()

# %%
# The WCS is kept
# ---------------
# The output band carries exactly the input's WCS, so every pixel is at the same
# sky position. Below, the SDSS r image is drawn on `~astropy.visualization.wcsaxes.WCSAxes`
# (right ascension and declination on the axes) and the output's r band is
# contoured on top *in world coordinates*: ``transform=ax.get_transform(wcs)``
# places each contour through the output's own WCS. They land on the galaxies.
sdss_r, des_r = frames["r"], des_look["r"]
print("same WCS:", des_r.wcs.wcs.compare(sdss_r.wcs.wcs))
pixel = (120.0, 45.0)
print("SDSS pixel", pixel, "->", sdss_r.wcs.pixel_to_world(*pixel).to_string("hmsdms"))
print("DES  pixel", pixel, "->", des_r.wcs.pixel_to_world(*pixel).to_string("hmsdms"))

fig = plt.figure(figsize=(6, 5.6), layout="constrained")
ax = fig.add_subplot(projection=sdss_r.wcs)
ax.imshow(np.arcsinh(sdss_r.data / 0.05), origin="lower", cmap="gray_r")
levels = np.percentile(des_r.data, [97, 99, 99.7])
ax.contour(des_r.data, levels=levels, colors="tab:orange", linewidths=0.8,
           transform=ax.get_transform(des_r.wcs))
ax.coords[0].set_axislabel("Right ascension")
ax.coords[1].set_axislabel("Declination")
ax.coords.grid(color="tab:blue", alpha=0.3, linestyle=":")
ax.set_title("SDSS r with the DES-look r contours")

# %%
# Provenance
# ----------
# Each output band's header says what made it: the ``S2S*`` cards (package
# version, translator, a hash of the model parameters, source and target
# survey, mode, the fraction of pixels beyond the training range) and
# ``HISTORY`` lines; ``SURVEY``, ``BUNIT`` and ``MAGZERO`` describe the new
# flux scale. The input's own cards (run, camcol, filter...) are kept.
header = des_r.meta
for key in ("SURVEY", "BUNIT", "MAGZERO"):
    if key in header:
        print(f"{key:8s} = {header[key]!r}")
for card in header.cards:
    if card.keyword.startswith("S2S"):
        print(f"{card.keyword:8s} = {card.value!r:40s} / {card.comment}")
print("\n".join(str(line) for line in header["HISTORY"]))

# %%
# The flux is conserved: the output head only moves light between neighbouring
# pixels, so the total r flux of the field is the same in both units.
total_sdss = sdss_r.data.sum()  # nanomaggies
total_des = 1e-3 * des_r.data.sum()  # DES counts -> nanomaggies
print(f"total r flux: SDSS {total_sdss:.1f} nmgy, DES look {total_des:.1f} nmgy")
plt.show()
