# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Property tests: FITS headers declaring any data size are refused or read, never allocated
beyond the cap (#21).
"""

import pytest
from astropy.io import fits

from survey2survey.exceptions import InputError
from survey2survey.io import _open, read_cutout

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CAP = 2**20  # 1 MiB for the test: every declared size above it must be refused unread


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bitpix=st.sampled_from([8, 16, 32, 64, -32, -64]),
       shape=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=3),
       extension=st.booleans())
def test_declared_sizes_are_capped(tmp_path, monkeypatch, bitpix, shape, extension):
    """A header declaring more than the cap is refused by name; smaller ones are not."""
    monkeypatch.setattr(_open, "MAX_FITS_BYTES", CAP)
    cards = {"BITPIX": bitpix, "NAXIS": len(shape)}
    cards.update({f"NAXIS{k + 1}": n for k, n in enumerate(shape)})
    declared = abs(bitpix) // 8
    for n in shape:
        declared *= n
    header = fits.Header({"SIMPLE": True, **cards})
    raw = header.tostring().encode()
    if extension:  # an empty primary HDU, the big one as an IMAGE extension
        primary = fits.Header({"SIMPLE": True, "BITPIX": 8, "NAXIS": 0, "EXTEND": True})
        image = fits.Header({"XTENSION": "IMAGE", **cards, "PCOUNT": 0, "GCOUNT": 1})
        raw = primary.tostring().encode() + image.tostring().encode()
    path = tmp_path / "declared.fits"
    path.write_bytes(raw + b"\0" * 2880)  # far less data than declared
    try:
        read_cutout(path, bands="g")
    except InputError as exc:  # CorruptFileError, or a clear refusal of the content
        if declared > CAP:
            assert "declares" in str(exc) and "a cutout may hold" in str(exc)
    else:
        pytest.fail("a header without WCS or data was read")
