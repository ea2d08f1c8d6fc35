"""
Reading real survey files and fetching cutouts
==============================================

Survey archives deliver images in their own layouts; `~survey2survey.io.read_cutout`
recognises each from its headers (see :ref:`real-data`). This tutorial reads an
SDSS frame, a DES coadd cutout, a Legacy Surveys cutout and a hips2fits image,
cuts a cutout out of a frame at a sky position, translates it, registers and
translates real SDSS g, r, i frames (whose pixel grids differ by up to 12
pixels), and shows how `~survey2survey.datasets.fetch_cutout` downloads
cutouts from the archives.

The documentation is built offline, so the DES, Legacy Surveys and hips2fits
files here are written by the tutorial itself, extension by extension as the
archives lay them out, from a simulated galaxy; the SDSS frames are the sample
field that ships with the package. Nothing is downloaded unless you set
``S2S_TUTORIAL_ONLINE=1``.
"""

# %%
# SDSS frames
# -----------
# ``frame-{band}-{run}-{camcol}-{field}.fits.bz2`` files: HDU0 in nanomaggies,
# then the calibration vector, the sky and the astrometry. With
# ``sdss_uncertainty=True`` the reader rebuilds the per-pixel noise from the
# data model (counts, gain and dark variance of the CCD).
import os
import tempfile
from pathlib import Path

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from astropy.io import fits

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs, sample_sdss_frames
from survey2survey.io import extract_cutout, read_cutout

paths = sample_sdss_frames()
print([Path(p).name for p in paths])
with fits.open(paths[1]) as hdul:
    for index, hdu in enumerate(hdul):
        print(index, type(hdu).__name__, hdu.shape if hdu.is_image else hdu.columns.names)
frames = read_cutout(paths, sdss_uncertainty=True)
print(frames)
print("r-band noise (median, nmgy):", np.median(frames["r"].uncertainty.array).round(4))

# %%
# Cut a cutout at a sky position
# ------------------------------
# `~survey2survey.io.extract_cutout` cuts every band around a
# `~astropy.coordinates.SkyCoord`, keeping units, mask and uncertainty; bands
# on different grids are resampled onto the r band's cut (see below). Sizes
# are in pixels or angles.
centre = frames["r"].wcs.pixel_to_world(120, 80)
cutout = extract_cutout(frames, centre, 25 * u.arcsec)
print(centre.to_string("hmsdms"), cutout)

# %%
# Files in the DES, Legacy Surveys and hips2fits layouts
# ------------------------------------------------------
# One simulated galaxy as DES sees it (counts at zero point 30, with its noise).
# We write it three ways:
#
# - a DES DR1/DR2 coadd cutout: ``SCI``, ``MSK`` and ``WGT`` (inverse variance)
#   extensions, tile-compressed as the ``.fits.fz`` tiles are;
# - a Legacy Surveys viewer ``fits-cutout``: one ``(band, y, x)`` cube in
#   nanomaggies with ``BANDS`` and ``BAND0..2`` cards, and its ``INVVAR`` HDU;
# - a hips2fits image: one plane with a WCS and nothing else.
des = make_survey_pairs(1, source_size=48, seed=3, processes=1, progress=False)[0].target
folder = Path(tempfile.mkdtemp())

hdus = [fits.PrimaryHDU()]
for band in des.bands:
    header = des[band].wcs.to_header()
    header.update(BAND=band, MAGZERO=30.0, TILENAME="DES0123-0041")
    weight = 1 / des[band].uncertainty.array ** 2
    mask = np.zeros(des.shape, np.int16)
    mask[:3, :10] = 2  # a few flagged pixels
    for name, data in (("SCI", des[band].data), ("MSK", mask), ("WGT", weight)):
        hdus.append(fits.CompImageHDU(data.astype(mask.dtype if name == "MSK" else np.float32),
                                      header=header, name=name))
fits.HDUList(hdus).writeto(folder / "DES0123-0041_gri_cutout.fits.fz")

header = des.wcs.to_header()
header.update(SURVEY="DES", VERSION="DR1", IMAGETYP="IMAGE", BANDS="gri",
              BAND0="g", BAND1="r", BAND2="i")
invvar_header = header.copy()
invvar_header["IMAGETYP"] = "INVVAR"
nanomaggies = 1e-3 * des.data  # counts at zero point 30 -> nanomaggies (zero point 22.5)
invvar = 1 / (1e-3 * des.uncertainty_array) ** 2
fits.HDUList([fits.PrimaryHDU(nanomaggies.astype(np.float32), header=header),
              fits.ImageHDU(invvar.astype(np.float32), header=invvar_header)]
             ).writeto(folder / "legacysurvey_cutout.fits")

fits.PrimaryHDU(nanomaggies[1].astype(np.float32), header=des.wcs.to_header()).writeto(
    folder / "hips2fits_r.fits")

# %%
# One reader for all
# ------------------
# The layout is recognised from the headers; hips2fits images carry no band or
# unit cards, so those are given. Each result has the data, WCS, unit, mask
# and (where the product has one) uncertainty of every band.
des_file = read_cutout(folder / "DES0123-0041_gri_cutout.fits.fz")
legacy = read_cutout(folder / "legacysurvey_cutout.fits")
hips = read_cutout(folder / "hips2fits_r.fits", format="hips2fits", bands="r", unit="nmgy")
for name, item in (("DES", des_file), ("Legacy Surveys", legacy), ("hips2fits", hips)):
    band = item["r"]
    print(f"{name:15s} {item}  masked={int(band.mask.sum()) if band.mask is not None else 0}"
          f"  uncertainty={'yes' if band.uncertainty is not None else 'no'}")
# fpack's lossy float quantisation changes values by a small fraction of the noise
difference = (1e3 * legacy["r"].data - des_file["r"].data) / des_file["r"].uncertainty.array
print(f"DES file vs Legacy Surveys file: largest difference {np.abs(difference).max():.3f} sigma")

# %%
# Translate a cut-out
# -------------------
# The cutout of the SDSS frame goes straight into the pretrained model; the
# output is in DES counts on the cutout's grid.
s2s = Survey2Survey.from_pretrained("sdss-des-aecnn")
out = s2s.transform(cutout, progress=False)
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
panels = ((cutout["r"].data, "SDSS frame cutout [nmgy]"), (out["r"].data, "translated [DES ct]"),
          (des_file["r"].data, "DES cutout file [ct]"))
for ax, (image, title) in zip(axes, panels, strict=True):
    ax.imshow(np.arcsinh(image / np.percentile(image, 90)), origin="lower", cmap="gray_r")
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
plt.show()

# %%
# Real SDSS frames: bands on different grids
# ------------------------------------------
# `~survey2survey.datasets.real_sdss_frames` ships real frames: g, r and i of
# SDSS run 2583, camcol 2, field 136 (Stripe 82), cut to 96 x 96 pixels around
# an isolated star, their headers, WCS, calibration vectors and sky grids kept.
# SDSS images the bands one after the other as the sky drifts over the camera,
# so each band's frame has its own pixel grid: the same star sits at other
# pixels in each band.
from photutils.aperture import CircularAperture, aperture_photometry

from survey2survey.alignment import is_registered, register_bands
from survey2survey.datasets import REAL_FRAME, real_sdss_frames

real = read_cutout(real_sdss_frames(), sdss_uncertainty=True)
star = real["r"].wcs.pixel_to_world(*REAL_FRAME["star_r"])
for band in real.bands:
    x, y = real[band].wcs.world_to_pixel(star)
    print(f"{band}: the star is at pixel ({x:5.1f}, {y:5.1f})")
print("bands on one grid:", is_registered(real))

# %%
# Register, then translate
# ------------------------
# `~survey2survey.alignment.register_bands` resamples the g and i frames onto
# the r frame's grid (flux-conserving; the reference band is r, else the
# middle band). ``transform`` does this itself for such inputs; here we do it
# to look at it. The 11.8-pixel strip of the r grid that the g frame does not
# reach is masked.
registered = register_bands(real)
print(registered.meta["REGREF"], "reference; largest shift",
      registered.meta["REGMAXSH"], "pixels")
real_out = s2s.transform(real, progress=False)  # registers, then translates
print(real_out)

# the star's 4" aperture photometry: registered input, translated output
factor = 10 ** (0.4 * (30 - 22.5))  # nanomaggies -> DES counts at zero point 30
aperture = CircularAperture(REAL_FRAME["star_r"], r=2.0 / 0.396)
print("band  input mag  output mag  difference")
for band in real.bands:
    flux_in = aperture_photometry(registered[band].data, aperture)["aperture_sum"][0]
    flux_out = aperture_photometry(np.nan_to_num(real_out[band].data),
                                   aperture)["aperture_sum"][0]
    mag_in = 22.5 - 2.5 * np.log10(flux_in)
    mag_out = 30.0 - 2.5 * np.log10(flux_out)
    print(f"{band:4s}  {mag_in:9.3f}  {mag_out:10.3f}  {mag_out - mag_in:+10.3f}")

fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), layout="constrained")
scale = np.percentile(registered["r"].data, 99)
panels = ((real["g"].data - real["r"].data, "g - r, as read"),
          (registered["g"].data - registered["r"].data, "g - r, registered"),
          (registered["r"].data, "r input [nmgy]"),
          (real_out["r"].data / factor, "r translated [nmgy]"))
for ax, (image, title) in zip(axes, panels, strict=True):
    ax.imshow(np.arcsinh(np.nan_to_num(image) / (0.05 * scale)), origin="lower",
              cmap="RdBu_r" if "-" in title else "gray_r")
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
plt.show()

# %%
# Fetching cutouts from the archives
# ----------------------------------
# `~survey2survey.datasets.fetch_cutout` downloads a cutout at a position: SDSS
# frames (found with astroquery), the Legacy Surveys viewer's cutout service
# (the default for DES, layer ``des-dr1``) or CDS hips2fits, each read with the
# matching layout above. Downloads are cached by astropy. This cell needs the
# network, so it only runs when ``S2S_TUTORIAL_ONLINE=1`` is set.
if os.environ.get("S2S_TUTORIAL_ONLINE") == "1":
    from astropy.coordinates import SkyCoord

    from survey2survey.datasets import fetch_cutout

    position = SkyCoord(ra=20.3, dec=0.2, unit="deg")  # in Stripe 82, where SDSS and DES overlap
    sdss = fetch_cutout(position, "sdss", size=64, bands="gri", sdss_uncertainty=True)
    des_dr1 = fetch_cutout(position, "des", size=96, bands="gri")
    print(sdss, des_dr1, sep="\n")
    print(s2s.transform(sdss, progress=False))
else:
    print("offline: set S2S_TUTORIAL_ONLINE=1 to download SDSS and DES cutouts")
