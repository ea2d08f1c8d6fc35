# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Property tests of `align` and `regrid` over random grids: rotations, pixel scales,
flips (parities) and sizes. Flux is conserved, sources stay where they are on the
sky, and pixel -> world -> pixel round-trips exactly on every output grid.
"""

import astropy.units as u
import numpy as np
import pytest
from numpy.testing import assert_allclose
from photutils.centroids import centroid_com

from survey2survey.alignment import align, regrid
from survey2survey.io import read_cutout

from .conftest import CENTRE, SOURCE, gaussian_image, make_wcs

pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: the sky both grids must cover around CENTRE (arcsec): 5 sigma of the widest source
FIELD = 24.0


@st.composite
def grids(draw):
    """A TAN grid on CENTRE: scale 0.2-0.6"/pix, any rotation, either parity, any size."""
    scale = draw(st.floats(0.2, 0.6))
    side = int(np.ceil(FIELD / scale))
    shape = (side + draw(st.integers(0, 12)), side + draw(st.integers(0, 12)))
    rotation = draw(st.floats(0.0, 360.0))
    flip = draw(st.booleans())
    return make_wcs(scale, shape, rotation=rotation, flip=flip), shape, scale


def _sum(image):
    data = np.asarray(image.data, dtype=float)
    if image.mask is not None:
        data = np.where(image.mask, 0.0, data)
    return float(np.nansum(data))


def _sky_centroid(image):
    data = np.nan_to_num(np.asarray(image.data, dtype=float))
    if image.mask is not None:
        data = np.where(image.mask, 0.0, data)
    return image.wcs.pixel_to_world(*centroid_com(data))


def _round_trip_error(wcs, shape, seed):
    """Largest |world_to_pixel(pixel_to_world(p)) - p| over random pixels of the grid."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, shape[1] - 0.5, 50)
    y = rng.uniform(-0.5, shape[0] - 0.5, 50)
    back = wcs.world_to_pixel(wcs.pixel_to_world(x, y))
    return max(np.abs(back[0] - x).max(), np.abs(back[1] - y).max())


@settings(max_examples=25, deadline=None, database=None)
@given(grids(), grids(), st.floats(1.5, 2.5), st.sampled_from(["adaptive", "exact"]),
       st.integers(0, 2**31))
def test_align_conserves_flux_and_position(source, onto, width, method, seed):
    """Any pair of grids: total flux within 1%, the source within 0.1 pixel on the sky."""
    wcs_in, shape_in, scale_in = source
    wcs_out, shape_out, scale_out = onto
    sigma = width * max(scale_in, scale_out)  # resolved on both grids
    image = gaussian_image(wcs_in, shape_in, sigma=sigma, flux=100.0)
    cutout = read_cutout((image, wcs_in), bands="r", unit="ct")
    aligned = align(cutout, (wcs_out, shape_out), method=method, min_coverage=0.0)
    assert aligned.shape == shape_out
    assert _sum(cutout["r"]) == pytest.approx(100.0, rel=1e-3)
    assert _sum(aligned["r"]) == pytest.approx(100.0, rel=0.01)
    separation = _sky_centroid(aligned["r"]).separation(SOURCE)
    assert separation < 0.1 * max(scale_in, scale_out) * u.arcsec
    # the output carries the grid it was asked for, and pixel <-> world round-trips on it
    x, y = np.array([0.0, shape_out[1] - 1.0, 7.3]), np.array([0.0, shape_out[0] - 1.0, 3.1])
    assert_allclose(aligned["r"].wcs.wcs_pix2world(x, y, 0), wcs_out.wcs_pix2world(x, y, 0),
                    rtol=0, atol=1e-12)
    assert _round_trip_error(aligned["r"].wcs, shape_out, seed) < 1e-8
    assert np.array_equal(cutout["r"].data, image)  # the input is untouched


@settings(max_examples=25, deadline=None, database=None)
@given(grids(), st.floats(0.2, 0.6), st.integers(0, 2**31))
def test_regrid_keeps_centre_flux_and_orientation(source, new_scale, seed):
    """regrid to any scale: same sky centre and parity, flux within 1%, exact round trip."""
    wcs_in, shape_in, scale_in = source
    sigma = 1.5 * max(scale_in, new_scale)
    image = gaussian_image(wcs_in, shape_in, sigma=sigma, flux=100.0)
    cutout = read_cutout((image, wcs_in), bands="r", unit="ct")
    out = regrid(cutout, new_scale * u.arcsec / u.pix)
    wcs_out = out["r"].wcs
    ny, nx = out.shape
    for new, old in ((ny, shape_in[0]), (nx, shape_in[1])):  # the same sky extent, rounded
        assert abs(new - old * scale_in / new_scale) <= 0.5 + 1e-6
    centre_in = wcs_in.pixel_to_world((shape_in[1] - 1) / 2, (shape_in[0] - 1) / 2)
    centre_out = wcs_out.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
    assert centre_in.separation(centre_out) < 1e-6 * u.arcsec
    scales = np.sqrt(np.abs(np.linalg.det(wcs_out.pixel_scale_matrix))) * 3600
    assert scales == pytest.approx(new_scale, rel=1e-9)
    parity = np.sign(np.linalg.det(wcs_out.pixel_scale_matrix))
    assert parity == np.sign(np.linalg.det(wcs_in.pixel_scale_matrix))
    assert _sum(out["r"]) == pytest.approx(100.0, rel=0.01)
    assert _sky_centroid(out["r"]).separation(SOURCE) < 0.1 * max(scale_in, new_scale) * u.arcsec
    assert _round_trip_error(wcs_out, out.shape, seed) < 1e-8


@settings(max_examples=25, deadline=None, database=None)
@given(grids(), st.integers(0, 2**31))
def test_align_onto_itself_is_the_identity(grid, seed):
    """Aligning a cutout onto its own grid returns its pixels (to rounding) whatever the grid."""
    wcs, shape, scale = grid
    rng = np.random.default_rng(seed)
    image = gaussian_image(wcs, shape, position=CENTRE, sigma=2 * scale) + rng.normal(
        0, 0.01, shape)
    cutout = read_cutout((image, wcs), bands="r", unit="ct")
    aligned = align(cutout, cutout, method="interp")
    assert_allclose(aligned["r"].data, image, rtol=1e-7, atol=1e-9)
