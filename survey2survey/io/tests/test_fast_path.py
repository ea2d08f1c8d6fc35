# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The fast FITS path: the same files, headers and WCS as the checked path, for less work."""

import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey.io import fits as s2s_fits
from survey2survey.io import read_cutout, write_cutout
from survey2survey.utils import _wcs


def _wcs_tan(crval=(150.0, 2.0)):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = [16.5, 12.5]
    wcs.wcs.crval = list(crval)
    wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
    wcs.wcs.pc = [[0.98, 0.17], [-0.17, 0.98]]
    return wcs


def _cutout(dtype=np.float32):
    rng = np.random.default_rng(3)
    data = rng.normal(size=(3, 24, 32)).astype(dtype)
    cutout = read_cutout((data, _wcs_tan()), bands="gri", unit="nmgy")
    for band in cutout.bands:
        cutout[band].meta["PSFFWHM"] = (1.3, "arcsec")
        cutout[band].meta["OBSERVER"] = "someone"
        cutout[band].meta.add_history("made for a test")
    return cutout


def test_plain_wcs_detection():
    """TAN without distortion is plain; SIP, TPV, a DSS plate (wcslib's TPD) and 3-D are not."""
    assert _wcs.is_plain_wcs(_wcs_tan())
    sip = _wcs_tan()
    sip.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    header = sip.to_header()
    header["A_ORDER"], header["B_ORDER"], header["A_2_0"], header["B_0_2"] = 2, 2, 1e-5, 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not _wcs.is_plain_wcs(WCS(header))
    tpv = _wcs_tan()
    tpv.wcs.ctype = ["RA---TPV", "DEC--TPV"]
    tpv.wcs.set_pv([(1, 1, 1.0), (2, 1, 1.0)])
    assert not _wcs.is_plain_wcs(tpv)
    assert not _wcs.is_plain_wcs(WCS(naxis=3))
    plate = fits.Header({"PLTRAH": 14, "PLTRAM": 29, "PLTRAS": 56.0, "PLTDECSN": "-",
                         "PLTDECD": 62, "PLTDECM": 41, "PLTDECS": 5.0, "PLTSCALE": 67.2,
                         "XPIXELSZ": 25.0, "YPIXELSZ": 25.0, "CNPIX1": 0, "CNPIX2": 0,
                         "PPO3": 0.0, "PPO6": 0.0, "AMDX1": 67.0, "AMDX2": 0.0, "AMDX3": 0.0,
                         "AMDY1": 67.0, "AMDY2": 0.0, "AMDY3": 0.0, "AMDX4": 1e-6,
                         "AMDY4": 1e-6})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dss = WCS(plate)
        except Exception:  # noqa: BLE001 - an astropy without DSS support: nothing to test
            dss = None
    if dss is not None and dss.naxis == 2:
        assert not _wcs.is_plain_wcs(dss)


def test_fast_path_writes_the_checked_path_headers(tmp_path, monkeypatch):
    """Skipping the read-back checks of a plain WCS writes byte-identical files."""
    cutout = _cutout()
    fast = write_cutout(cutout, tmp_path / "fast.fits")
    monkeypatch.setattr(s2s_fits, "is_plain_wcs", lambda wcs, header=None: False)
    monkeypatch.setattr(_wcs, "is_plain_wcs", lambda wcs, header=None: False)
    slow = write_cutout(cutout, tmp_path / "slow.fits")
    with fits.open(fast) as one, fits.open(slow) as two:
        assert len(one) == len(two)
        for a, b in zip(one, two, strict=True):
            assert a.header.tostring() == b.header.tostring()
            if a.data is not None:
                assert_array_equal(a.data, b.data)


def test_round_trip_keeps_wcs_headers_and_float32(tmp_path):
    """WCS, cards, history and float32 data survive write + read on the fast path."""
    cutout = _cutout()
    back = read_cutout(write_cutout(cutout, tmp_path / "c.fits"))
    x, y = np.meshgrid(np.arange(0, 32, 7.0), np.arange(0, 24, 5.0))
    for band in cutout.bands:
        assert back[band].data.dtype == np.float32
        assert_array_equal(back[band].data, cutout[band].data)
        assert_allclose(back[band].wcs.all_pix2world(x, y, 0),
                        cutout[band].wcs.all_pix2world(x, y, 0), rtol=0, atol=1e-12)
        assert back[band].meta["OBSERVER"] == "someone"
        assert back[band].meta["PSFFWHM"] == 1.3
        assert "made for a test" in str(back[band].meta["HISTORY"])


def test_bands_sharing_a_wcs_get_their_own_copy(tmp_path):
    """The WCS parsed once per file is copied per band: changing one leaves the others."""
    back = read_cutout(write_cutout(_cutout(), tmp_path / "c.fits"))
    assert back["g"].wcs is not back["r"].wcs
    before = back["r"].wcs.wcs.crval.copy()
    back["g"].wcs.wcs.crval = [0.0, 0.0]
    assert_array_equal(back["r"].wcs.wcs.crval, before)


def test_bands_with_their_own_wcs_read_each(tmp_path):
    """Bands on different grids keep their own WCS (parsing once per distinct WCS)."""
    data = np.ones((24, 32), dtype=np.float32)
    cutout = read_cutout({"g": (data, _wcs_tan((150.0, 2.0))),
                          "r": (data, _wcs_tan((150.0001, 2.0)))}, unit="nmgy")
    back = read_cutout(write_cutout(cutout, tmp_path / "c.fits"))
    assert_allclose(back["g"].wcs.wcs.crval, [150.0, 2.0])
    assert_allclose(back["r"].wcs.wcs.crval, [150.0001, 2.0])


def test_edited_own_file_with_a_bad_card_is_fixed_on_write(tmp_path):
    """Own files are not verified on reading; a card broken by hand is fixed, with a warning."""
    cutout = _cutout()
    cutout["g"].meta["MYCARD"] = 5
    raw = bytearray(write_cutout(cutout, tmp_path / "a.fits").read_bytes())
    start = raw.find(b"MYCARD  = ")
    raw[start:start + 80] = b"MYCARD  = 0.0000000000000E+00 0.0000000000000E+00".ljust(80)
    edited = tmp_path / "edited.fits"
    edited.write_bytes(bytes(raw))
    back = read_cutout(edited)
    assert_array_equal(back["g"].data, cutout["g"].data)
    with pytest.warns(AstropyUserWarning, match="MYCARD"):
        out = write_cutout(back, tmp_path / "out.fits")
    assert_array_equal(read_cutout(out)["g"].data, cutout["g"].data)


def test_edited_own_file_with_a_broken_wcs_names_it(tmp_path):
    """A failure while reading an unverified own file still gives a clear error."""
    raw = bytearray(write_cutout(_cutout(), tmp_path / "a.fits").read_bytes())
    start = raw.find(b"CTYPE1  = ")
    raw[start:start + 80] = b"CTYPE1  = 'RA---XYZ'".ljust(80)
    edited = tmp_path / "edited.fits"
    edited.write_bytes(bytes(raw))
    from survey2survey.exceptions import InputError

    with pytest.raises(InputError, match="WCS"):
        read_cutout(edited)
