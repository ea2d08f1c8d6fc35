# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the ``survey2survey evaluate`` command."""

import argparse

import pytest
from astropy.table import Table
from numpy.testing import assert_allclose

from survey2survey.cli import _evaluate
from survey2survey.exceptions import InputError, MetricError
from survey2survey.metrics import pseudo_flux_magnitude
from survey2survey.metrics.tests.test_evaluation import _sets, _write_layout


def _parser():
    parser = argparse.ArgumentParser(prog="survey2survey")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _evaluate.add_parser(subparsers)
    return parser


def test_cli_evaluate(tmp_path, capsys):
    """`survey2survey evaluate` reads the pairs layout and writes tables and figures."""
    sets = _sets(n=3)
    _write_layout(tmp_path / "validation", sets)
    _write_layout(tmp_path / "external", {"source": sets["source"][:2],
                                          "aecnn": sets["aecnn"][:2]})
    out = tmp_path / "out"
    args = _parser().parse_args(["evaluate", str(tmp_path / "validation"),
                                 str(tmp_path / "external"), "-o", str(out)])
    assert args.func(args) == 0
    names = {p.name for p in out.iterdir()}
    assert {"images.ecsv", "summary.ecsv", "profiles.png", "kde_mssim.png",
            "grid_validation.png", "grid_external.png"} <= names
    images = Table.read(out / "images.ecsv")
    src = images[(images["dataset"] == "validation") & (images["set"] == "source")]
    # MAGZERO brought every set to zero point 30: magnitudes equal the in-memory ones
    assert_allclose(src["pseudo_flux_magnitude"],
                    pseudo_flux_magnitude(sets["source"], r_max=16), rtol=1e-6)
    assert list(src["name"]) == ["gal000", "gal001", "gal002"]
    # the printed summary: 4 significant digits, under 100 columns
    printed = capsys.readouterr().out.splitlines()
    assert max(map(len, printed)) < 100, max(printed, key=len)
    row = next(line for line in printed if " mssim " in line)
    assert all(len(word.lstrip("-").replace(".", "").lstrip("0")) <= 4
               for word in row.split()[-3:]), row
    summary = Table.read(out / "summary.ecsv")  # stored in full precision
    assert summary["median"].info.format == ".4g"


def test_cli_errors(tmp_path):
    """Missing folders and bad options raise specific errors."""
    parser = _parser()
    args = parser.parse_args(["evaluate", str(tmp_path / "nowhere")])
    with pytest.raises(InputError, match="does not exist"):
        args.func(args)
    _write_layout(tmp_path / "v", {"source": _sets(n=2)["source"]})
    args = parser.parse_args(["evaluate", str(tmp_path / "v"), "--data-range", "wide",
                              "-o", str(tmp_path / "o")])
    with pytest.raises(MetricError, match="--data-range"):
        args.func(args)
    args = parser.parse_args(["evaluate", str(tmp_path / "v"), "--sets", "aecnn"])
    with pytest.raises(InputError, match="aecnn"):
        args.func(args)


def test_paper_mode_set_beside_calibrated_sets_is_refused(tmp_path, capsys):
    """8-bit paper-mode reconstructions (no MAGZERO) are not mixed with calibrated fluxes."""
    from survey2survey.cli import main
    from survey2survey.exceptions import UnitError
    from survey2survey.io import read_cutout, write_cutout

    sets = _sets(n=2)
    _write_layout(tmp_path / "v", {"source": sets["source"], "target": sets["target"],
                                   "aecnn": sets["aecnn"]})
    for path in sorted((tmp_path / "v" / "aecnn").glob("*.fits")):
        cutout = read_cutout(path)
        for band in cutout.bands:  # what a paper-mode estimator writes: 0-255, no zero point
            del cutout[band].meta["MAGZERO"]
            cutout[band].meta["S2SMODE"] = "paper"
        write_cutout(cutout, path, overwrite=True)
    args = _parser().parse_args(["evaluate", str(tmp_path / "v"), "-o", str(tmp_path / "o")])
    with pytest.raises(UnitError, match=r"'aecnn' \(8-bit paper mode\).*'source', 'target' "
                                        r"hold calibrated fluxes"):
        args.func(args)
    assert main(["evaluate", tmp_path / "v", "-o", tmp_path / "o"]) == 1
    assert "nothing is converted" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    # on their own, the paper-mode reconstructions are evaluated
    assert main(["evaluate", tmp_path / "v", "-o", tmp_path / "p", "--sets", "aecnn",
                 "--no-figures", "-q"]) == 0
