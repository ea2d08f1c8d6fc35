# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Per-band registration: bands on different grids put on the reference band's grid."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from photutils.aperture import CircularAperture, aperture_photometry

from survey2survey.alignment import is_registered, reference_band, register_bands
from survey2survey.exceptions import BandMismatchError, InsufficientCoverageError
from survey2survey.io import read_cutout
from survey2survey.tests.helpers import make_wcs

SHAPE = (100, 120)
SCALE = 0.396
#: band offsets (pixels) from the r grid, as large as those of SDSS frames of one field
OFFSETS = {"g": (3.37, -2.81), "r": (0.0, 0.0), "i": (-10.6, 0.45)}


def _band_wcs(offset):
    wcs = make_wcs(SHAPE, SCALE)
    wcs.wcs.crpix = wcs.wcs.crpix + np.array(offset)
    return wcs


def _stars():
    """Sky positions and fluxes of isolated stars, 25 pixels apart."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[20:SHAPE[0] - 15:25, 20:SHAPE[1] - 15:25]
    xs = xs.ravel() + rng.uniform(-0.5, 0.5, xs.size)
    ys = ys.ravel() + rng.uniform(-0.5, 0.5, ys.size)
    ra, dec = make_wcs(SHAPE, SCALE).pixel_to_world_values(xs, ys)
    return ra, dec, rng.uniform(50, 500, xs.size), xs, ys


def _render(wcs, ra, dec, flux, fwhm_arcsec=1.4):
    """Gaussian stars (flux per star) on the grid of ``wcs``."""
    sigma = fwhm_arcsec / 2.3548 / SCALE
    x, y = wcs.world_to_pixel_values(ra, dec)
    yy, xx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    image = np.zeros(SHAPE)
    for xi, yi, f in zip(x, y, flux, strict=True):
        image += f * np.exp(-((xx - xi) ** 2 + (yy - yi) ** 2) / (2 * sigma ** 2)) \
            / (2 * np.pi * sigma ** 2)
    return image


def _field():
    ra, dec, flux, xs, ys = _stars()
    bands = {b: (_render(_band_wcs(o), ra, dec, flux), _band_wcs(o)) for b, o in OFFSETS.items()}
    return read_cutout(bands, unit="nmgy"), xs, ys


def test_reference_band_choice():
    assert reference_band("gri") == "r" and reference_band("ugriz") == "r"
    assert reference_band("gz") == "z" and reference_band("JHK") == "H"
    with pytest.raises(BandMismatchError):
        reference_band("")


@pytest.mark.parametrize("method", ["auto", "adaptive"])
def test_isolated_star_flux_kept(method):
    """Stars of bands offset by up to 10.6 px: after registration, fluxes within 0.1%."""
    cutout, xs, ys = _field()
    assert not is_registered(cutout)
    registered = register_bands(cutout, method=method)
    assert is_registered(registered)
    assert registered.meta["REGREF"] == "r"
    assert np.isclose(registered.meta["REGMAXSH"], np.hypot(10.6, 0.45), atol=1e-3)
    assert_array_equal(registered["r"].data, cutout["r"].data)  # never resampled
    truth = aperture_photometry(cutout["r"].data, CircularAperture(np.c_[xs, ys], r=4 / SCALE))
    core = aperture_photometry(cutout["r"].data, CircularAperture(np.c_[xs, ys], r=2 / SCALE))
    for band in "gi":
        image = registered[band]
        inside = np.array([not image.mask[int(y) - 11:int(y) + 12, int(x) - 11:int(x) + 12].any()
                           for x, y in zip(xs, ys, strict=True)])
        assert inside.sum() >= 9
        flux = aperture_photometry(image.data, CircularAperture(np.c_[xs, ys], r=4 / SCALE))
        change = flux["aperture_sum"] / truth["aperture_sum"] - 1
        assert np.max(np.abs(change[inside])) < 1e-3  # measured: 2e-9 (interp), 1e-8 (adaptive)
        # within 2": the resampling smooths a little (measured 0.3% interp, 0.6% adaptive)
        flux2 = aperture_photometry(image.data, CircularAperture(np.c_[xs, ys], r=2 / SCALE))
        change2 = flux2["aperture_sum"] / core["aperture_sum"] - 1
        assert np.max(np.abs(change2[inside])) < 0.01
        assert "register_bands" in str(image.meta["HISTORY"])
        # pixels of the r grid that the band does not reach are masked
        assert image.mask.any() and image.mask.mean() < 0.15


def test_registered_input_is_returned_unchanged():
    cutout = read_cutout((np.ones((3, 10, 10)), make_wcs((10, 10))), bands="gri", unit="nmgy")
    same = register_bands(cutout)
    assert "REGREF" not in same.meta
    assert_array_equal(same.data, cutout.data)
    with pytest.raises(BandMismatchError, match="reference='z'"):
        register_bands(cutout, reference="z")


def test_band_of_another_field_refused():
    """A band that covers too little of the reference grid is refused."""
    far = make_wcs(SHAPE, SCALE)
    far.wcs.crpix = far.wcs.crpix + np.array([90.0, 0.0])
    cutout = read_cutout({"g": (np.ones(SHAPE), far), "r": (np.ones(SHAPE), make_wcs(SHAPE))},
                         unit="nmgy")
    with pytest.raises(InsufficientCoverageError, match="band 'g' covers only"):
        register_bands(cutout)


def _centroid(image, x, y, half=7):
    from photutils.centroids import centroid_2dg

    xi, yi = int(round(x)), int(round(y))
    box = np.nan_to_num(image[yi - half:yi + half + 1, xi - half:xi + half + 1])
    cx, cy = centroid_2dg(box)
    return cx + xi - half, cy + yi - half


def test_real_sdss_frames_registered():
    """Real g, r, i frames (g 11.8 px off r): the star lands on one pixel, its flux kept."""
    from survey2survey.datasets import REAL_FRAME, real_sdss_frames

    frames = read_cutout(real_sdss_frames())
    assert not is_registered(frames)
    registered = register_bands(frames)
    assert registered.meta["REGREF"] == "r" and 11 < registered.meta["REGMAXSH"] < 12.5
    xr, yr = _centroid(registered["r"].data, *REAL_FRAME["star_r"])
    sky = registered["r"].wcs.pixel_to_world(xr, yr)
    for band in "gi":
        x, y = _centroid(registered[band].data, xr, yr)
        # the same sky position in every band (measured: g 0.09 px, i 0.03 px, within the
        # per-band astrometry of SDSS)
        assert np.hypot(x - xr, y - yr) < 0.15
        own_x, own_y = frames[band].wcs.world_to_pixel(sky)  # the star on the band's own grid
        for radius, tolerance in ((4.0, 1e-3), (2.0, 0.01)):
            before = aperture_photometry(frames[band].data,
                                         CircularAperture((own_x, own_y), r=radius / SCALE))
            after = aperture_photometry(registered[band].data,
                                        CircularAperture((xr, yr), r=radius / SCALE))
            change = after["aperture_sum"][0] / before["aperture_sum"][0] - 1
            assert abs(change) < tolerance, (band, radius, change)
