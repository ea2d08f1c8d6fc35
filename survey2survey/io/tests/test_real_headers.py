# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Headers of real survey products: legacy WCS cards, DSS plate solutions, unit and band cards."""

import os
import subprocess
import sys
import textwrap
import warnings

import astropy.units as u
import astropy.wcs.tests
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from numpy.testing import assert_allclose

from survey2survey.exceptions import UnitError
from survey2survey.io import ZERO_POINT_KEYS, header_zero_point, read_cutout, write_cutout
from survey2survey.utils._wcs import is_wcs_keyword, strip_wcs_keywords

#: astropy's own DSS test file: a DSS1 plate cutout whose header holds a plate solution,
#: pre-standard PC001001 cards, a CD matrix and CROTA at once.
DSS_FILE = os.path.join(os.path.dirname(astropy.wcs.tests.__file__), "data",
                        "dss.14.29.56-62.41.05.fits.gz")


def _sky(wcs_or_header, shape):
    """Sky positions (deg) of a 5x5 grid of pixels over ``shape``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = wcs_or_header if isinstance(wcs_or_header, WCS) else WCS(wcs_or_header, naxis=2)
    y, x = np.meshgrid(np.linspace(0, shape[0] - 1, 5), np.linspace(0, shape[1] - 1, 5))
    return np.array(wcs.all_pix2world(x.ravel(), y.ravel(), 0))


def ps1_header(rotation=90.0):
    """A Pan-STARRS1 stack cutout header: ``PC001001``-style matrix, CDELT, no BUNIT/FILTER."""
    header = fits.Header()
    header["CTYPE1"] = "RA---TAN"
    header["CTYPE2"] = "DEC--TAN"
    header["CRVAL1"] = 150.1163213
    header["CRVAL2"] = 2.2058108
    header["CRPIX1"] = 20.5
    header["CRPIX2"] = 15.5
    header["CDELT1"] = -6.9444445e-05
    header["CDELT2"] = 6.9444445e-05
    c, s = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    header["PC001001"] = c
    header["PC001002"] = -s
    header["PC002001"] = s
    header["PC002002"] = c
    header["RADECSYS"] = "ICRS"
    header["EXPTIME"] = 1120.0
    header["HIERARCH FPA.ZP"] = 25.0
    return header


def test_strip_wcs_keywords_removes_competing_cards_only():
    """Legacy, plate and distortion cards go; look-alikes (PSFFWHM, CDATE, PCOUNT...) stay."""
    for key in ("PC001001", "CD002001", "RADECSYS", "PLTRAH", "PLTDECSN", "AMDX12", "AMDY3",
                "PPO6", "CNPIX1", "XPIXELSZ", "CQDIS1", "DQ1.NAXES", "CPDIS2", "DP1.EXTVER",
                "D2IMDIS1", "PROJP3", "WAT1_001", "LTV1", "LTM1_1", "PC1_2", "CDELT1", "CTYPE1A"):
        assert is_wcs_keyword(key), key
    for key in ("PSFFWHM", "CDATE", "PCOUNT", "PLATEID", "DATE-OBS", "OBJCTX", "MAGZERO",
                "FILTER", "DQ", "AMDX", "PLTLABEL"):
        assert not is_wcs_keyword(key), key
    header = ps1_header()
    header["PSFFWHM"] = 1.1
    stripped = strip_wcs_keywords(header)
    assert list(stripped) == ["EXPTIME", "FPA.ZP", "PSFFWHM"]
    assert "PC001001" in header  # the input is not modified


@pytest.mark.parametrize("rotation", [0.0, 90.0, 33.0])
def test_ps1_legacy_pc_cards_round_trip(tmp_path, rotation):
    """A PC001001-style WCS is written as one standard WCS that reads back to the same sky."""
    header = ps1_header(rotation)
    image = np.random.default_rng(1).normal(size=(30, 40)).astype(np.float32)
    path = tmp_path / "ps1.fits"
    fits.PrimaryHDU(image, header).writeto(path)
    cutout = read_cutout(path, bands="r", unit="ct")
    out = write_cutout(cutout, tmp_path / "out.fits")
    written = fits.getheader(out, "SCI")
    assert not [k for k in written if k in ("PC001001", "PC001002", "RADECSYS")]
    assert_allclose(_sky(written, image.shape), _sky(header, image.shape), atol=1e-10)
    back = read_cutout(out)
    assert_allclose(_sky(back["r"].wcs, image.shape), _sky(header, image.shape), atol=1e-10)
    # written twice: nothing accumulates
    again = fits.getheader(write_cutout(back, tmp_path / "again.fits"), "SCI")
    assert_allclose(_sky(again, image.shape), _sky(header, image.shape), atol=1e-10)


def test_dss_plate_cards_never_written(tmp_path):
    """The DSS file's plate solution and legacy cards are dropped on write; its sky is kept."""
    with pytest.warns(Warning, match="SKEW"):
        cutout = read_cutout(DSS_FILE, bands="r", unit="adu")
    header = fits.Header(cutout["r"].meta)
    assert "AMDX1" in header  # kept in memory, as read
    out = write_cutout(cutout, tmp_path / "dss.fits")
    with open(out, "rb") as stream:
        raw = stream.read()
    for key in (b"PLTRAH  ", b"AMDX1   ", b"PPO3    ", b"CNPIX1  ", b"PC001001", b"CROTA2  "):
        assert key not in raw, key


ROUND_TRIP = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    from astropy.io import fits
    from astropy.wcs import WCS
    warnings.simplefilter("ignore")
    source, written = sys.argv[1], sys.argv[2]
    with fits.open(source) as hdul:
        hdul.verify("fix")
        reference = WCS(hdul[0].header)
    if written == "write":
        from survey2survey.io import read_cutout, write_cutout
        write_cutout(read_cutout(source, bands="r", unit="adu"), sys.argv[3])
        sys.exit(0)
    header = fits.getheader(written, "SCI")
    y, x = np.mgrid[0:100:9, 0:100:9]
    sky1 = np.array(reference.all_pix2world(x.ravel(), y.ravel(), 0))
    sky2 = np.array(WCS(header).all_pix2world(x.ravel(), y.ravel(), 0))
    from survey2survey.io import read_cutout
    sky3 = np.array(read_cutout(written)["r"].wcs.all_pix2world(x.ravel(), y.ravel(), 0))
    print(np.abs(sky1 - sky2).max(), np.abs(sky1 - sky3).max())
""")


def _run(*args):
    return subprocess.run([sys.executable, "-c", ROUND_TRIP, *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("plate_only", [False, True])
def test_dss_round_trip_in_a_separate_process(tmp_path, plate_only):
    """Read, write and read back astropy's DSS file in child processes: no crash, same sky."""
    source = DSS_FILE
    if plate_only:  # only the plate solution: no CTYPE, CRPIX, CD, PC or CDELT cards
        with fits.open(DSS_FILE) as hdul:
            hdul.verify("silentfix")
            header = hdul[0].header.copy()
            data = hdul[0].data
        for key in [k for k in header if k.startswith(("CTYPE", "CRPIX", "CRVAL", "CDELT",
                                                       "CROTA", "CD1_", "CD2_", "PC00"))]:
            del header[key]
        source = tmp_path / "plate.fits"
        fits.PrimaryHDU(data, header).writeto(source)
    out = tmp_path / "out.fits"
    write = _run(source, "write", out)
    assert write.returncode == 0, write.stderr[-2000:]
    check = _run(source, out)
    assert check.returncode == 0, check.stderr[-2000:]
    direct, via_reader = map(float, check.stdout.split())
    assert direct < 1e-9
    assert via_reader < 1e-9


DATA = os.path.join(os.path.dirname(__file__), "data")
#: 40x40 crop of astroquery's UKIDSS test image (WFCAM K, ZPN WCS, FILTER and EXP_TIME in the
#: primary header, MAGZPT in the image extension); header and WCS kept, CRPIX moved.
UKIDSS_K = os.path.join(DATA, "ukidss-k-crop.fits.gz")
#: 20x20 crop of astroquery's MAGPIS test image (VLA 20 cm, BUNIT='JY/BEAM', GLON-SIN).
MAGPIS = os.path.join(DATA, "magpis-20cm-crop.fits.gz")


@pytest.mark.parametrize("bunit", ["electrons", "electron", "e-", "counts", "ELECTRONS"])
def test_des_dr1_electrons_read_as_counts_with_magzero(tmp_path, bunit):
    """DES DR1 coadd cutouts say BUNIT='electrons': read as counts calibrated by MAGZERO."""
    from survey2survey.estimator._inputs import conversion_factor
    from survey2survey.surveys import DES, SDSS
    from survey2survey.tests.helpers import make_wcs

    from .products import des_hdulist

    science = np.full((12, 14), 100.0, np.float32)
    hdul = des_hdulist("r", science, np.ones_like(science), np.zeros((12, 14)),
                       make_wcs((12, 14), 0.263), fpack=False)
    hdul["SCI"].header["BUNIT"] = bunit
    hdul.writeto(tmp_path / "des.fits")
    cutout = read_cutout(tmp_path / "des.fits")
    assert cutout.unit == u.ct
    assert conversion_factor(cutout["r"], DES, "r", "des") == 1.0
    assert np.isclose(conversion_factor(cutout["r"], SDSS, "r", "des"), 1e-3)  # ZP 30 -> 22.5


def test_radio_unit_refused_clearly():
    """MAGPIS's JY/BEAM is refused as not optical, naming the card, before bands are asked."""
    with pytest.raises(UnitError, match="BUNIT='JY/BEAM', a radio surface brightness"):
        read_cutout(MAGPIS)
    with pytest.raises(UnitError, match="radio"):
        read_cutout(MAGPIS, bands="L", unit="Jy/beam")


def test_ukidss_primary_filter_and_magzpt(tmp_path):
    """UKIDSS: band from the primary FILTER card; MAGZPT (Vega, per second) as an AB zero point."""
    cutout = read_cutout(UKIDSS_K, unit="adu")
    assert cutout.bands == ("K",) and cutout.unit == u.adu
    meta = cutout["K"].meta
    # 24.053 + 2.5 log10(10 s) - 0.05 (1.067 - 1) + 1.900 (K_AB - K_Vega, Hewett et al. 2006)
    expected = 24.053 + 2.5 - 0.05 * 0.067 + 1.900
    assert np.isclose(header_zero_point(meta), expected)
    with fits.open(UKIDSS_K) as hdul:
        raw = hdul[1].data.astype(float)
        reference = _sky(hdul[1].header, raw.shape)
    assert cutout["K"].data.dtype.kind == "f"  # BSCALE = 0.7071 applied
    assert_allclose(cutout["K"].data, raw)
    assert_allclose(_sky(cutout["K"].wcs, raw.shape), reference, atol=1e-10)
    written = fits.getheader(write_cutout(cutout, tmp_path / "k.fits"), "SCI")
    assert "PROJP1" not in written and "PV2_3" in written
    assert_allclose(_sky(written, raw.shape), reference, atol=1e-10)
    assert "MAGZPT" in ZERO_POINT_KEYS
    # without EXP_TIME the MAGZPT card does not calibrate the pixel values
    assert header_zero_point({"MAGZPT": 24.0, "FILTER": "K"}) is None
    assert header_zero_point({"MAGZPT": 24.0, "FILTER": "r", "EXP_TIME": 10.0}) is None


def test_hsc_primary_filter_and_hierarch_cards_read_quietly(tmp_path):
    """An HSC cutout: FILTER 'HSC-R2' in the primary header is band 'r'; no HIERARCH warnings."""
    from survey2survey.tests.helpers import make_wcs

    primary = fits.PrimaryHDU()
    primary.header["FILTER"] = "HSC-R2"
    primary.header["HIERARCH FLUXMAG0"] = 63095734448.0
    primary.header["HIERARCH AR_HDU"] = 5
    primary.header["HIERARCH DET-ID-LONG-NAME"] = 42
    header = make_wcs((10, 10), 0.168).to_header()
    header["BUNIT"] = "nJy"
    image = fits.ImageHDU(np.ones((10, 10), np.float32), header, name="IMAGE")
    fits.HDUList([primary, image]).writeto(tmp_path / "hsc.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cutout = read_cutout(tmp_path / "hsc.fits")
        write_cutout(cutout, tmp_path / "out.fits")
    assert cutout.bands == ("r",)
    assert np.isclose(header_zero_point(cutout["r"].meta), 27.0)


def test_sdss_frame_states_its_zero_point():
    """SDSS frames in nanomaggies carry MAGZERO = 22.5 (so evaluate can compare them)."""
    from survey2survey.datasets import sample_sdss_frames

    cutout = read_cutout(sample_sdss_frames())
    assert cutout.unit == u.nmgy
    assert all(header_zero_point(cutout[b].meta) == 22.5 for b in cutout.bands)


def test_cut_sdss_frame_with_stale_extensions_warns(tmp_path):
    """A real frame cut by another tool, HDU1/HDU2 left for the 96-column frame: a warning."""
    from astropy.utils.exceptions import AstropyUserWarning

    from survey2survey.datasets import real_sdss_frames

    with fits.open(real_sdss_frames()[1]) as hdul:
        hdul[0].data = hdul[0].data[:, 10:50].copy()  # 40 of the 96 columns, WCS not updated
        hdul.writeto(tmp_path / "cut.fits")
    with pytest.warns(AstropyUserWarning, match=r"40 x 96 pixels but HDU1 \(calibration "
                                                r"vector\) has 96 values.*XINTERP has 96"):
        read_cutout(tmp_path / "cut.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_cutout(real_sdss_frames()[1])  # the consistent file reads quietly


def test_hsc_mask_planes_and_variance(tmp_path):
    """HSC IMAGE/MASK/VARIANCE: only bad mask planes mask a pixel; VARIANCE is the noise."""
    from survey2survey.tests.helpers import make_wcs

    primary = fits.PrimaryHDU()
    primary.header["FILTER"] = "HSC-I2"
    primary.header["HIERARCH FLUXMAG0"] = 63095734448.0
    header = make_wcs((10, 12), 0.168).to_header()
    image = fits.ImageHDU(np.ones((10, 12), np.float32), header, name="IMAGE")
    bits = np.zeros((10, 12), np.int32)
    bits[2:5, 2:5] = 1 << 5  # DETECTED: a source, good pixels
    bits[7, 7] = 1 << 1  # SAT
    bits[8, 8] = (1 << 5) | (1 << 8)  # DETECTED and NO_DATA
    mask_header = header.copy()
    for name, plane in (("BAD", 0), ("SAT", 1), ("INTRP", 2), ("CR", 3), ("EDGE", 4),
                        ("DETECTED", 5), ("NO_DATA", 8)):
        mask_header[f"HIERARCH MP_{name}"] = plane
    variance = np.full((10, 12), 0.04, np.float32)
    variance[0, 0] = 0  # no data
    fits.HDUList([primary, image, fits.ImageHDU(bits, mask_header, name="MASK"),
                  fits.ImageHDU(variance, header, name="VARIANCE")]).writeto(tmp_path / "h.fits")
    cutout = read_cutout(tmp_path / "h.fits")
    band = cutout["i"]
    assert not band.mask[2:5, 2:5].any()
    assert band.mask[7, 7] and band.mask[8, 8] and band.mask[0, 0] and band.mask.sum() == 3
    assert_allclose(band.uncertainty.array[1:], 0.2, rtol=1e-6)


def test_wide_image_with_corners_off_the_projection_is_written(tmp_path):
    """A SIN image whose corners lie beyond the projection's horizon still writes."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = [10.0, 20.0]
    wcs.wcs.crpix = [20.5, 20.5]
    wcs.wcs.cdelt = [-4.0, 4.0]  # 160 degrees across: the corners are off the sky
    cutout = read_cutout((np.ones((40, 40)), wcs), bands="r", unit="ct")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        corner = cutout["r"].wcs.pixel_to_world_values(0, 0)
    assert not np.isfinite(corner).all()
    back = read_cutout(write_cutout(cutout, tmp_path / "wide.fits"))
    assert_allclose(back["r"].wcs.wcs.crval, [10.0, 20.0])
