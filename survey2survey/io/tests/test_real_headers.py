# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Headers of real survey products: legacy WCS cards, DSS plate solutions, unit and band cards."""

import os
import subprocess
import sys
import textwrap
import warnings

import astropy.wcs.tests
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from numpy.testing import assert_allclose

from survey2survey.io import read_cutout, write_cutout
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
                "D2IMDIS1", "WAT1_001", "LTV1", "LTM1_1", "PC1_2", "CDELT1", "CTYPE1A"):
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
