# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""extract_cutout: Cutout2D at a sky position on every band of a large frame or tile."""

import astropy.units as u
import numpy as np
import pytest
from astropy.nddata import CCDData, StdDevUncertainty
from numpy.testing import assert_array_equal

from survey2survey.exceptions import InvalidOptionError, NoOverlapError
from survey2survey.io import extract_cutout, read_cutout
from survey2survey.tests.helpers import make_wcs

SHAPE = (120, 160)


def _field(offset=3):
    """g and r of one field on grids offset by a few pixels, as SDSS frames are."""
    rng = np.random.default_rng(7)
    bands = {}
    for k, band in enumerate("gr"):
        wcs = make_wcs(SHAPE, 0.396, ra=20.0 + k * offset * 0.396 / 3600, dec=0.1)
        data = rng.normal(0, 1, SHAPE)
        mask = np.zeros(SHAPE, bool)
        mask[60, 80] = True
        bands[band] = CCDData(data, unit="nmgy", wcs=wcs, mask=mask,
                              uncertainty=StdDevUncertainty(np.full(SHAPE, 0.5 + k)),
                              meta={"FILTER": band, "RUN": 4263})
    return read_cutout(bands)


def test_every_band_is_centred_on_the_position():
    """Each band is cut on its own WCS, so the same sky position is at every centre."""
    field = _field()
    position = field["g"].wcs.pixel_to_world(80, 60)
    cut = extract_cutout(field, position, 21, register=False)
    assert cut.bands == ("g", "r") and cut.shape == (21, 21)
    for band in cut.bands:
        centre = cut[band].wcs.pixel_to_world(10, 10)
        assert centre.separation(position).arcsec < 1e-3
        assert cut[band].meta["RUN"] == 4263 and cut[band].unit == u.nmgy
    assert cut["g"].mask[10, 10]  # the masked pixel went along
    assert_array_equal(cut["g"].data, field["g"].data[50:71, 70:91])
    assert_array_equal(cut["r"].data, field["r"].data[50:71, 73:94])  # 3 pixels over
    assert np.all(cut["r"].uncertainty.array == 1.5)
    assert np.isclose(cut.meta["CUTRA"], position.ra.deg)


def test_angle_size_edges_and_errors():
    """Angular sizes, partial cutouts at the edge (NaN, masked), strict mode and no overlap."""
    field = _field()
    corner = field["g"].wcs.pixel_to_world(2, 2)
    cut = extract_cutout(field, corner, 10 * u.arcsec, register=False)
    assert cut.shape == (25, 25)
    g = cut["g"]
    assert np.isnan(g.data[0, 0]) and g.mask[0, 0] and np.isnan(g.uncertainty.array[0, 0])
    assert not g.mask[-1, -1]
    trimmed = extract_cutout(field, corner, 10 * u.arcsec, mode="trim", bands="g")
    assert trimmed.bands == ("g",) and trimmed.shape == (15, 15)
    with pytest.raises(NoOverlapError, match="does not fit in band '[gr]'"):
        extract_cutout(field, corner, 10 * u.arcsec, mode="strict")
    far = field["g"].wcs.pixel_to_world(1000, 1000)
    with pytest.raises(NoOverlapError, match="does not overlap band '[gr]'"):
        extract_cutout(field, far, 10)
    from astropy.coordinates import SkyCoord

    with pytest.raises(NoOverlapError, match="not on the projection of band '[gr]'"):
        extract_cutout(field, SkyCoord(200.0, -30.0, unit="deg"), 10)
    with pytest.raises(InvalidOptionError, match="mode must be one of"):
        extract_cutout(field, corner, 10, mode="exact")
    with pytest.raises(InvalidOptionError, match="SkyCoord or an"):
        extract_cutout(field, "centre", 10)
    by_pixel = extract_cutout(field, (80, 60), (5, 7))
    assert by_pixel.shape == (5, 7)


def test_extract_from_sample_frames_file():
    """From files: the sample frames, read with their noise model and cut."""
    from survey2survey.datasets import sample_sdss_frames

    frames = read_cutout(sample_sdss_frames())
    centre = frames["r"].wcs.pixel_to_world(99.5, 99.5)
    cut = extract_cutout(sample_sdss_frames(), centre, (40, 30), sdss_uncertainty=True)
    assert cut.shape == (40, 30) and cut.uncertainty_array.shape == (3, 40, 30)
    assert cut.meta["SURVEY"] == "SDSS"


def test_bands_registered_onto_the_reference_cut():
    """By default every band is resampled onto the r band's cut: one WCS, no sub-pixel offsets."""
    field = _field(offset=3.4)
    position = field["g"].wcs.pixel_to_world(80, 60)
    cut = extract_cutout(field, position, 21)
    assert cut.meta["REGREF"] == "r" and cut.shape == (21, 21)
    plain = extract_cutout(field, position, 21, register=False)
    assert_array_equal(cut["r"].data, plain["r"].data)  # the reference is never resampled
    x, y = cut["g"].wcs.world_to_pixel(position)
    xr, yr = cut["r"].wcs.world_to_pixel(position)
    assert abs(x - xr) < 1e-6 and abs(y - yr) < 1e-6
    xg, yg = plain["g"].wcs.world_to_pixel(position)
    assert max(abs(xg - xr), abs(yg - yr)) > 0.1  # cut on its own grid: offset
    assert not cut["g"].mask[1:-1, 1:-1].all()
    assert cut["g"].mask[9:12, 9:12].any()  # the masked pixel of g went along
    assert cut["g"].uncertainty is not None
