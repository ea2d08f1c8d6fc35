# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Test of the ``survey2survey demo`` command in --quick mode."""

from astropy.table import Table

from survey2survey.cli import main
from survey2survey.io import read_cutout


def test_demo_quick(tmp_path, capsys):
    """`demo --quick`: pretrained and fine-tuned translations, scored, as FITS and PNGs."""
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert max(map(len, printed.splitlines())) < 100
    for name in ("sdss", "pretrained", "finetuned", "mssim", "bias_2\"", "nmad_8\""):
        assert name in printed, name
    for name in ("pairs.png", "demo.png", "scores.ecsv", "fidelity.ecsv", "sdss2des.s2s"):
        assert (out / name).is_file(), name
    for model in ("pretrained", "finetuned"):
        translated = sorted((out / "heldout" / model).glob("*.fits"))
        assert len(translated) == 3
        cutout = read_cutout(translated[0])
        assert cutout.meta["S2STRANS"] == "aecnn" and str(cutout.unit) == "ct"
    assert len(Table.read(out / "scores.ecsv")) == 3
    fidelity = Table.read(out / "fidelity.ecsv")
    assert list(fidelity["input"]) == ["sdss", "pretrained", "finetuned"]
    # the shipped model beats the untranslated input on its own printed table
    assert fidelity["mssim"][1] > fidelity["mssim"][0]
