# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of `survey2survey.alignment.align` and `footprint_overlap`."""

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, InverseVariance, NDData, StdDevUncertainty
from astropy.wcs import WCS
from numpy.testing import assert_allclose
from photutils.aperture import SkyCircularAperture
from photutils.centroids import centroid_com

from survey2survey.alignment import align, footprint_overlap
from survey2survey.exceptions import (
    InputError,
    InsufficientCoverageError,
    InvalidOptionError,
    MissingWCSError,
    NoOverlapError,
)
from survey2survey.io import Cutout, read_cutout, write_cutout
from survey2survey.utils._wcs import wcs_to_header

from .conftest import (
    CENTRE,
    DES_SCALE,
    DES_SHAPE,
    SDSS_SCALE,
    SDSS_SHAPE,
    SOURCE,
    gaussian_image,
    make_cutout,
    make_wcs,
)

METHODS = ["adaptive", "exact", "interp"]
# (input scale, input shape, output scale, output shape)
DIRECTIONS = {
    "des->sdss": (DES_SCALE, DES_SHAPE, SDSS_SCALE, SDSS_SHAPE),
    "sdss->des": (SDSS_SCALE, SDSS_SHAPE, DES_SCALE, DES_SHAPE),
}


def aperture_flux(image, *, radius=9 * u.arcsec):
    """Sum of one band inside a sky circle around SOURCE."""
    aperture = SkyCircularAperture(SOURCE, r=radius).to_pixel(image.wcs)
    mask = None if image.mask is None else np.asarray(image.mask)
    return float(aperture.do_photometry(np.asarray(image.data), mask=mask)[0][0])


def sky_centroid(image):
    """Sky position of the centre of mass of one band."""
    x, y = centroid_com(np.asarray(image.data, dtype=float))
    return image.wcs.pixel_to_world(x, y)


def snapshot(cutout):
    """Deep copies of what align must not change."""
    return [(b, im.data.copy(), None if im.mask is None else im.mask.copy(),
             im.wcs.to_header_string(), dict(im.meta)) for b, im in cutout.items()]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_flux_conserved(method, direction):
    """Total flux in a large aperture changes by < 1% for each method and direction."""
    scale_in, shape_in, scale_out, shape_out = DIRECTIONS[direction]
    cutout = make_cutout(scale_in, shape_in)
    aligned = align(cutout, (make_wcs(scale_out, shape_out), shape_out), method=method)
    before, after = aperture_flux(cutout["r"]), aperture_flux(aligned["r"])
    assert_allclose(before, 100.0, rtol=1e-3)
    assert abs(after / before - 1) < 0.01
    assert aligned.shape == shape_out


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_point_source_position(method, direction):
    """A compact source lands on the same sky position, to < 0.1 source pixel."""
    scale_in, shape_in, scale_out, shape_out = DIRECTIONS[direction]
    cutout = make_cutout(scale_in, shape_in, sigma=1.2 * scale_in)
    aligned = align(cutout, (make_wcs(scale_out, shape_out), shape_out), method=method)
    tolerance = 0.1 * scale_in * u.arcsec
    assert sky_centroid(cutout["r"]).separation(SOURCE) < tolerance
    assert sky_centroid(aligned["r"]).separation(sky_centroid(cutout["r"])) < tolerance


@pytest.mark.parametrize("method", METHODS)
def test_rotation_and_flip(method):
    """A grid rotated by 30 deg and flipped keeps flux and sky positions."""
    wcs_out = make_wcs(SDSS_SCALE, SDSS_SHAPE, rotation=30, flip=True)
    for sigma in (1.5, 1.2 * DES_SCALE):  # extended, then compact
        cutout = make_cutout(DES_SCALE, DES_SHAPE, sigma=sigma)
        aligned = align(cutout, (wcs_out, SDSS_SHAPE), method=method, min_coverage=0.5)
        assert abs(aperture_flux(aligned["r"], radius=6 * u.arcsec)
                   / aperture_flux(cutout["r"], radius=6 * u.arcsec) - 1) < 0.01
        separation = sky_centroid(aligned["r"]).separation(sky_centroid(cutout["r"]))
        assert separation < 0.1 * DES_SCALE * u.arcsec
    # the rotated square grid reaches beyond the input: its corners are masked
    assert aligned["r"].mask[0, 0] and not aligned["r"].mask[32, 32]
    assert 0.5 < aligned.meta["COVERAGE"] < 0.95


def test_flip_compact_flux_adaptive():
    """Regression: adaptive keeps a compact source's flux across a parity flip."""
    for dx in (-3.1, 0.4, 2.7):
        position = CENTRE.spherical_offsets_by(dx * u.arcsec, -dx / 2 * u.arcsec)
        wcs_in = make_wcs(DES_SCALE, DES_SHAPE)
        image = gaussian_image(wcs_in, DES_SHAPE, position=position, sigma=0.32)
        cutout = read_cutout((image, wcs_in), bands="r", unit="ct")
        aligned = align(cutout, (make_wcs(SDSS_SCALE, SDSS_SHAPE, flip=True), SDSS_SHAPE))
        assert abs(aligned["r"].data.sum() / 100.0 - 1) < 0.005


@pytest.mark.parametrize("method", METHODS)
def test_surface_brightness_mode(method):
    """With conserve_flux=False a flat image keeps its value per pixel."""
    wcs = make_wcs(DES_SCALE, DES_SHAPE)
    cutout = read_cutout((np.full(DES_SHAPE, 3.0), wcs), bands="g", unit="ct")
    sdss = make_wcs(SDSS_SCALE, SDSS_SHAPE)
    flat = align(cutout, (sdss, SDSS_SHAPE), method=method, conserve_flux=False)
    flux = align(cutout, (sdss, SDSS_SHAPE), method=method)
    good = ~flat["g"].mask
    assert_allclose(flat["g"].data[good], 3.0, rtol=1e-3)
    assert_allclose(flux["g"].data[good], 3.0 * (SDSS_SCALE / DES_SCALE) ** 2, rtol=1e-3)
    assert flat.meta["ALIGNFLX"] is False and flux.meta["ALIGNFLX"] is True


@pytest.mark.parametrize("method", METHODS)
def test_partial_overlap_masks_uncovered(method):
    """Output pixels the cutout does not reach are masked, set to 0, and counted."""
    cutout = make_cutout(DES_SCALE, DES_SHAPE)
    centre = CENTRE.spherical_offsets_by(-12.7 * u.arcsec, 0 * u.arcsec)  # half a grid west
    wcs_out = make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=centre)
    aligned = align(cutout, (wcs_out, SDSS_SHAPE), method=method, min_coverage=0.3)
    image = aligned["r"]
    assert np.isfinite(image.data).all()
    assert 0.4 < aligned.meta["COVERAGE"] < 0.6
    assert_allclose(1 - image.mask.mean(), aligned.meta["COVERAGE"], atol=1e-9)
    # west is +x: the right half of the output lies beyond the cutout
    assert image.mask[:, -5:].all() and not image.mask[:, :5].any()
    assert (image.data[image.mask] == 0).all()
    with pytest.raises(InsufficientCoverageError, match=r"fraction 0\.[45]\d* .*min_coverage=0.9"):
        align(cutout, (wcs_out, SDSS_SHAPE), method=method)


def test_no_overlap_raises(des_cutout):
    """A grid elsewhere on the sky raises NoOverlapError naming centres and separation."""
    far = CENTRE.spherical_offsets_by(0 * u.arcsec, 60 * u.arcsec)
    wcs_out = make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=far)
    with pytest.raises(NoOverlapError, match=r"150\.000000, \+2\.000000.*60\.0 arcsec apart"):
        align(des_cutout, (wcs_out, SDSS_SHAPE))
    opposite = make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=CENTRE.directional_offset_by(0, 170 * u.deg))
    with pytest.raises(NoOverlapError, match="does not overlap"):
        align(des_cutout, (opposite, SDSS_SHAPE), method="exact")


def test_missing_wcs_raises(sdss_grid):
    """A cutout or grid without a celestial WCS raises MissingWCSError."""
    with pytest.raises(MissingWCSError, match="no WCS"):
        align(NDData(np.ones((8, 8)), unit="nmgy", meta={"FILTER": "r"}), sdss_grid)
    cutout = make_cutout(DES_SCALE, DES_SHAPE)
    with pytest.raises(MissingWCSError, match="onto has no WCS keywords"):
        align(cutout, fits.Header({"NAXIS": 2, "NAXIS1": 8, "NAXIS2": 8}))


@pytest.mark.parametrize(("onto", "match"), [
    (WCS(wcs_to_header(make_wcs(SDSS_SCALE, SDSS_SHAPE))), "pixel_shape"),
    (fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN"}), "NAXIS1/NAXIS2"),
    ((make_wcs(SDSS_SCALE, SDSS_SHAPE), (0, 5)), "two positive integers"),
    ((make_wcs(SDSS_SCALE, SDSS_SHAPE), "64x64"), "two positive integers"),
    (42, "cannot take a pixel grid from onto of type int"),
])
def test_bad_onto_raises(des_cutout, onto, match):
    """Targets without a usable grid raise InputError naming the problem."""
    with pytest.raises(InputError, match=match):
        align(des_cutout, onto)


def test_bad_parameters_raise(des_cutout, sdss_grid):
    """An unknown method or a coverage outside [0, 1] raises InvalidOptionError."""
    with pytest.raises(InvalidOptionError, match="method must be one of .*got 'lanczos'"):
        align(des_cutout, sdss_grid, method="lanczos")
    with pytest.raises(InvalidOptionError, match="min_coverage must be .* got 1.5"):
        align(des_cutout, sdss_grid, min_coverage=1.5)
    assert issubclass(InvalidOptionError, ValueError)


def test_onto_types_agree(des_cutout, sdss_grid, tmp_path):
    """Every accepted kind of target gives the same grid and result."""
    wcs, shape = sdss_grid
    header = wcs_to_header(wcs)
    header["NAXIS"], header["NAXIS1"], header["NAXIS2"] = 2, shape[1], shape[0]
    zeros = np.zeros(shape)
    sdss = read_cutout((np.stack([zeros, zeros]), wcs), bands="gr", unit="nmgy")
    path = tmp_path / "plain.fits"  # a plain image: no FILTER card
    fits.PrimaryHDU(zeros, header=wcs_to_header(wcs)).writeto(path)
    targets = [sdss, sdss["r"], CCDData(zeros, wcs=wcs, unit="nmgy"),
               fits.ImageHDU(zeros, header=wcs_to_header(wcs)), header, wcs, str(path),
               fits.HDUList([fits.PrimaryHDU(zeros, header=wcs_to_header(wcs))])]
    reference = align(des_cutout, sdss_grid)
    for onto in targets:
        aligned = align(des_cutout, onto)
        assert aligned.shape == shape
        assert_allclose(aligned.data, reference.data, atol=1e-12)
        assert_allclose(aligned.wcs.wcs.crval, wcs.wcs.crval)


def test_input_not_mutated(sdss_grid):
    """Neither the cutout (data, mask, WCS, meta) nor the target grid is changed."""
    cutout = make_cutout(DES_SCALE, DES_SHAPE, bands="gr")
    mask = np.zeros(DES_SHAPE, dtype=bool)
    mask[10:12, 10:12] = True
    data = cutout["g"].data.copy()
    data[5, 5] = np.nan
    wcs_in = cutout["g"].wcs
    ccd = CCDData(data, unit="nmgy", wcs=wcs_in, mask=mask,
                  uncertainty=StdDevUncertainty(np.full(DES_SHAPE, 0.1)),
                  meta=fits.Header({"FILTER": "g", "NOTE": "keep"}))
    cutout = Cutout({"g": ccd, "r": cutout["r"]}, meta=fits.Header({"SURVEY": "DES"}))
    before, meta_before = snapshot(cutout), cutout.meta.copy()
    wcs_out, shape = sdss_grid
    grid_header = wcs_out.to_header_string()
    align(cutout, sdss_grid)
    align(ccd, sdss_grid)
    after = snapshot(cutout)
    for (b0, d0, m0, w0, h0), (b1, d1, m1, w1, h1) in zip(before, after, strict=True):
        assert b0 == b1 and w0 == w1 and h0 == h1
        assert_allclose(d0, d1, equal_nan=True)
        assert (m0 is None and m1 is None) or (m0 == m1).all()
    assert cutout.meta == meta_before and "ALIGNED" not in cutout.meta
    assert wcs_out.to_header_string() == grid_header and wcs_out.pixel_shape == shape[::-1]


@pytest.mark.parametrize("method", METHODS)
def test_mask_and_nan_propagation(method, sdss_grid):
    """Masked and NaN input pixels are masked where they land and do not spread."""
    clean = make_cutout(DES_SCALE, DES_SHAPE)
    wcs_in = clean["r"].wcs
    data = clean["r"].data.copy()
    data[30, 30] = np.nan
    mask = np.zeros(DES_SHAPE, dtype=bool)
    mask[60:63, 70:73] = True
    data[mask] = 1e6  # a masked value must not leak into the output
    dirty = read_cutout(CCDData(data, unit="nmgy", wcs=wcs_in, mask=mask,
                                meta={"FILTER": "r"}))
    aligned = align(dirty, sdss_grid, method=method)
    reference = align(clean, sdss_grid, method=method)
    image = aligned["r"]
    assert np.isfinite(image.data).all() and image.data.max() < 10
    wcs_out = sdss_grid[0]
    for x, y in ((30, 30), (71, 61)):
        xo, yo = np.round(wcs_out.world_to_pixel(wcs_in.pixel_to_world(x, y))).astype(int)
        assert image.mask[yo, xo] and image.data[yo, xo] == 0
    assert 2 <= image.mask.sum() <= 16
    good = ~image.mask
    assert_allclose(image.data[good], reference["r"].data[good], rtol=0.05, atol=1e-3)
    assert not reference["r"].mask.any()


def test_units_and_metadata_kept(sdss_grid):
    """Units, band headers, cutout meta and dtype are kept; alignment cards added."""
    wcs = make_wcs(DES_SCALE, DES_SHAPE)
    image = gaussian_image(wcs, DES_SHAPE).astype(np.float32)
    header = fits.Header({"FILTER": "i", "MAGZERO": 30.0, "PSF": "Kolmogorov"})
    cutout = Cutout({"i": CCDData(image, unit="ct", wcs=wcs, meta=header)},
                    meta=fits.Header({"SURVEY": "DES"}))
    aligned = align(cutout, sdss_grid, method="exact")
    band = aligned["i"]
    assert band.unit == u.ct and aligned.unit == u.ct
    assert band.data.dtype == np.float32
    assert band.meta["MAGZERO"] == 30.0 and band.meta["PSF"] == "Kolmogorov"
    assert "CTYPE1" not in band.meta
    meta = aligned.meta
    assert meta["SURVEY"] == "DES" and meta["ALIGNED"] is True
    assert meta["ALIGNMTH"] == "exact" and meta["COVERAGE"] == 1.0
    assert "reproject_exact" in str(meta["HISTORY"])
    assert aligned.wcs.pixel_shape == SDSS_SHAPE[::-1]


def test_write_round_trip(des_cutout, sdss_grid, tmp_path):
    """An aligned cutout writes to FITS and reads back with its mask and cards."""
    aligned = align(des_cutout, (make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=CENTRE.
                                          spherical_offsets_by(3 * u.arcsec, 0 * u.deg)),
                                 SDSS_SHAPE), min_coverage=0.5)
    back = read_cutout(write_cutout(aligned, tmp_path / "aligned.fits"))
    assert_allclose(back.data, aligned.data)
    assert (back.mask == aligned.mask).all() and aligned.mask.any()
    assert back.meta["ALIGNMTH"] == "adaptive" and back.meta["COVERAGE"] < 1


@pytest.mark.parametrize("method", METHODS)
def test_uncertainty_propagation(method):
    """A white-noise sigma map is resampled so that aperture variances are conserved."""
    wcs = make_wcs(DES_SCALE, DES_SHAPE)
    ccd = CCDData(np.zeros(DES_SHAPE), unit="ct", wcs=wcs, meta={"FILTER": "r"},
                  uncertainty=InverseVariance(np.full(DES_SHAPE, 4.0)))  # sigma 0.5
    cutout = read_cutout(ccd)
    grid = (make_wcs(SDSS_SCALE, SDSS_SHAPE), SDSS_SHAPE)
    ratio = (SDSS_SCALE / DES_SCALE) ** 2
    flux = align(cutout, grid, method=method)["r"]
    brightness = align(cutout, grid, method=method, conserve_flux=False)["r"]
    assert isinstance(flux.uncertainty, StdDevUncertainty)
    assert_allclose(flux.uncertainty.array[5:-5, 5:-5], 0.5 * np.sqrt(ratio), rtol=1e-3)
    assert_allclose(brightness.uncertainty.array[5:-5, 5:-5], 0.5 / np.sqrt(ratio), rtol=1e-3)


def test_bands_on_different_grids(sdss_grid):
    """Bands with their own WCS are each resampled from it onto the common grid."""
    shifted_centre = CENTRE.spherical_offsets_by(2 * u.arcsec, 1 * u.arcsec)
    images = {}
    for band, centre in (("g", CENTRE), ("r", shifted_centre)):
        wcs = make_wcs(DES_SCALE, DES_SHAPE, centre=centre, rotation=10 if band == "r" else 0)
        images[band] = CCDData(gaussian_image(wcs, DES_SHAPE), unit="nmgy", wcs=wcs)
    aligned = align(images, sdss_grid, min_coverage=0.8)
    assert aligned.bands == ("g", "r")
    assert_allclose(aligned["g"].data, aligned["r"].data, atol=2e-3 * aligned.data.max())
    assert aligned.meta["COVERAGE"] < 1


def test_footprint_overlap_matches_coverage(des_cutout, sdss_grid):
    """footprint_overlap estimates align's COVERAGE without resampling."""
    assert footprint_overlap(des_cutout, sdss_grid) == 1.0
    for offset in (6, 12.7, 20):
        centre = CENTRE.spherical_offsets_by(offset * u.arcsec, 0 * u.arcsec)
        grid = (make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=centre), SDSS_SHAPE)
        estimate = footprint_overlap(des_cutout, grid)
        coverage = align(des_cutout, grid, min_coverage=0).meta["COVERAGE"]
        assert abs(estimate - coverage) <= 2 / SDSS_SHAPE[1]
    far = CENTRE.spherical_offsets_by(0 * u.deg, 1 * u.deg)
    assert footprint_overlap(des_cutout, (make_wcs(SDSS_SCALE, SDSS_SHAPE, centre=far),
                                          SDSS_SHAPE)) == 0.0
    galactic = WCS(naxis=2)
    galactic.wcs.ctype = ["GLON-TAN", "GLAT-TAN"]
    position = CENTRE.galactic
    galactic.wcs.crval = [position.l.deg, position.b.deg]
    galactic.wcs.crpix = [32.5, 32.5]
    galactic.wcs.cdelt = [-SDSS_SCALE / 3600, SDSS_SCALE / 3600]
    assert footprint_overlap(des_cutout, (galactic, SDSS_SHAPE)) > 0.8
