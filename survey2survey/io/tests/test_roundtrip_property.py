# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Property test: write_cutout/read_cutout round-trips every WCS form, data, mask and noise."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, InverseVariance, StdDevUncertainty, VarianceUncertainty
from astropy.wcs import WCS
from numpy.testing import assert_array_equal

from survey2survey.io import read_cutout, write_cutout

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FORMS = ("tan-cd", "tan-pc", "crota2", "sip", "tpv-pc", "tpv-cd")
UNCERTAINTIES = (None, StdDevUncertainty, VarianceUncertainty, InverseVariance)


@st.composite
def wcs_headers(draw):
    """A celestial WCS header of any of the forms surveys write."""
    form = draw(st.sampled_from(FORMS))
    ra = draw(st.floats(0, 359.999))
    dec = draw(st.floats(-80, 80))
    scale = draw(st.floats(0.05, 2.0)) / 3600
    rotation = np.radians(draw(st.floats(0, 360)))
    flip = draw(st.sampled_from([-1.0, 1.0]))
    cos, sin = np.cos(rotation), np.sin(rotation)
    projection = "TPV" if form.startswith("tpv") else "TAN"
    header = fits.Header()
    header["CTYPE1"] = f"RA---{projection}" + ("-SIP" if form == "sip" else "")
    header["CTYPE2"] = f"DEC--{projection}" + ("-SIP" if form == "sip" else "")
    header["CRVAL1"], header["CRVAL2"] = ra, dec
    header["CRPIX1"] = draw(st.floats(-500, 2500))
    header["CRPIX2"] = draw(st.floats(-500, 2500))
    pc = np.array([[-flip * cos, sin], [flip * sin, cos]])  # a rotation, maybe flipped
    if form in ("tan-cd", "tpv-cd", "sip"):
        for i in range(2):
            for j in range(2):
                header[f"CD{i + 1}_{j + 1}"] = scale * pc[i, j]
    elif form == "crota2":
        header["CDELT1"], header["CDELT2"] = -scale, scale
        header["CROTA2"] = float(np.degrees(rotation))
    else:
        stretch = draw(st.floats(0.8, 1.25))
        header["CDELT1"], header["CDELT2"] = -scale * stretch, scale
        for i in range(2):
            for j in range(2):
                header[f"PC{i + 1}_{j + 1}"] = pc[i, j]
    if form == "sip":
        header["A_ORDER"], header["B_ORDER"] = 2, 2
        header["A_2_0"] = draw(st.floats(-1e-5, 1e-5))
        header["B_0_2"] = draw(st.floats(-1e-5, 1e-5))
        header["A_1_1"] = draw(st.floats(-1e-5, 1e-5))
    if projection == "TPV":
        for axis in (1, 2):
            header[f"PV{axis}_1"] = 1.0
            for j in (0, 2, 4, 5, 6):
                header[f"PV{axis}_{j}"] = draw(st.floats(-3e-3, 3e-3))
    return form, header


@st.composite
def bands(draw):
    """One band: real data (float32/64, some NaN), a mask and maybe an uncertainty."""
    ny, nx = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = (rng.normal(0, 10 ** draw(st.integers(-3, 6)), (ny, nx))).astype(dtype)
    if draw(st.booleans()):
        data[rng.random((ny, nx)) < 0.2] = np.nan
    data.flat[0] = 1.0  # at least one finite pixel
    mask = rng.random((ny, nx)) < draw(st.floats(0, 0.5)) if draw(st.booleans()) else None
    kind = draw(st.sampled_from(UNCERTAINTIES))
    uncertainty = None if kind is None else kind(np.abs(rng.normal(1, 0.5, (ny, nx))))
    return data, mask, uncertainty


@settings(max_examples=40, deadline=None, database=None)
@given(wcs_headers(), bands(), st.sampled_from(["nmgy", "ct", "", "uJy"]))
def test_fits_round_trip_is_exact(wcs_form, band, unit):
    """Data, dtype, mask, uncertainty, unit and WCS (to 1e-6 arcsec over 2048 px) survive."""
    form, header = wcs_form
    data, mask, uncertainty = band
    ccd = CCDData(data, unit=unit, wcs=WCS(header), mask=mask, uncertainty=uncertainty,
                  meta={"FILTER": "r"})
    cutout = read_cutout(ccd)
    with tempfile.TemporaryDirectory() as folder:
        back = read_cutout(write_cutout(cutout, Path(folder) / "c.fits"))
    a, b = cutout["r"], back["r"]
    assert b.data.dtype == a.data.dtype
    assert_array_equal(b.data, a.data)
    assert b.unit == a.unit
    assert_array_equal(np.asarray(b.mask, bool) if b.mask is not None else False,
                       np.asarray(a.mask, bool) if a.mask is not None else False)
    if uncertainty is None:
        assert b.uncertainty is None
    else:
        assert type(b.uncertainty) is type(a.uncertainty)
        assert_array_equal(b.uncertainty.array, a.uncertainty.array)
    x = np.array([0, 2047, 0, 2047, 1023.5, 3.0])
    y = np.array([0, 0, 2047, 2047, 1023.5, 1.0])
    expected = a.wcs.pixel_to_world(x, y)
    got = b.wcs.pixel_to_world(x, y)
    separation = expected.separation(got).arcsec
    assert np.all(separation < 1e-6), (form, separation.max())
