# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Test of the ``survey2survey demo`` command in --quick mode."""

from astropy.table import Table

from survey2survey.cli import main
from survey2survey.io import read_cutout


def test_demo_quick(tmp_path, capsys):
    """`survey2survey demo --quick` fits, translates, scores and writes FITS and PNGs."""
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mssim_recon" in printed and "flux_err_recon" in printed and "bias_recon" in printed
    for name in ("pairs.png", "demo.png", "scores.ecsv", "fidelity.ecsv", "sdss2des.s2s"):
        assert (out / name).is_file(), name
    translated = sorted((out / "heldout" / "aecnn").glob("*.fits"))
    assert len(translated) == 3
    cutout = read_cutout(translated[0])
    assert cutout.meta["S2STRANS"] == "aecnn" and str(cutout.unit) == "ct"
    assert len(Table.read(out / "scores.ecsv")) == 3
    fidelity = Table.read(out / "fidelity.ecsv")
    assert list(fidelity.colnames) == ["aperture", "bias_sdss", "nmad_sdss", "bias_recon",
                                       "nmad_recon"]
