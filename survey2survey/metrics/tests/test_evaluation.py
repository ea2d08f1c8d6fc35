# Licensed under a 3-clause BSD style license - see LICENSE.rst

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS
from numpy.testing import assert_allclose

from survey2survey.exceptions import MetricError, ShapeMismatchError
from survey2survey.io import Cutout, write_cutout
from survey2survey.metrics import evaluate, mssim, pseudo_flux_magnitude


def _sets(n=4, seed=0, shape=(32, 32)):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:shape[0], :shape[1]]
    amp = rng.uniform(50, 150, n)[:, None, None]
    truth = amp * np.exp(-((x - 15.5) ** 2 + (y - 15.5) ** 2) / 18.0) + 0.0
    return {
        "source": truth + rng.normal(0, 5.0, truth.shape),
        "target": truth + rng.normal(0, 1.0, truth.shape),
        "aecnn": truth + rng.normal(0, 0.5, truth.shape),
        "source_truth": truth,
        "target_truth": truth,
    }


def test_evaluate_tables():
    """Per-image, per-pair and summary tables hold the metrics of each set and pair."""
    sets = _sets()
    before = {k: v.copy() for k, v in sets.items()}
    report = evaluate({"validation": sets, "external": {"source": sets["source"][:2]}},
                      r_max=15, data_range=200)
    images = report.images
    assert set(images["dataset"]) == {"validation", "external"}
    row = images[(images["set"] == "aecnn")]
    assert_allclose(row["pseudo_flux_magnitude"],
                    pseudo_flux_magnitude(sets["aecnn"], r_max=15))
    assert np.all(row["snr_gain"] > 3)
    assert np.all(np.isnan(images[images["set"] == "source_truth"]["flux_error"]))
    pairs = report.pairs
    assert list(dict.fromkeys(pairs["pair"])) == ["source/target", "aecnn/target",
                                                  "aecnn/source"]
    sel = pairs["pair"] == "aecnn/target"
    assert_allclose(pairs["mssim"][sel], mssim(sets["aecnn"], sets["target"], data_range=200))
    summary = report.summary
    med = summary[(summary["subject"] == "aecnn") & (summary["metric"] == "residual_rms")]
    assert_allclose(med["median"][0], 0.5, rtol=0.2)
    assert med["p16"][0] <= med["median"][0] <= med["p84"][0]
    assert report.profiles["validation"]["target"].shape == (4, 15)
    for k in sets:
        np.testing.assert_array_equal(sets[k], before[k])


def test_evaluate_options_and_errors():
    """Explicit pairs, joint data range; bad specifications raise."""
    sets = _sets()
    report = evaluate(sets, pairs=["target/source"], r_max=15, data_range="joint")
    assert set(report.pairs["pair"]) == {"target/source"}
    assert set(report.images["dataset"]) == {"data"}
    with pytest.raises(MetricError, match="data_range is required"):
        evaluate(sets, r_max=15)
    with pytest.raises(MetricError, match="pair"):
        evaluate(sets, pairs=["target"], r_max=15, data_range=1)
    with pytest.raises(ShapeMismatchError, match="same number"):
        evaluate({"source": sets["source"], "target": sets["target"][:2]}, r_max=15,
                 data_range=1)
    with pytest.raises(MetricError, match="mapping"):
        evaluate([sets["source"]])


def test_report_write(tmp_path):
    """The report writes readable ECSV tables, atomically and without overwriting."""
    report = evaluate(_sets(), r_max=15, data_range=200)
    paths = report.write(tmp_path)
    assert {p.name for p in paths} == {"images.ecsv", "pairs.ecsv", "summary.ecsv",
                                       "profiles.ecsv"}
    assert len(Table.read(tmp_path / "pairs.ecsv")) == len(report.pairs)
    with pytest.raises(FileExistsError):
        report.write(tmp_path)


def _write_layout(directory, sets):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-1.1e-4, 1.1e-4]
    wcs.wcs.crpix = [16.5, 16.5]
    for name, stack in sets.items():
        zp = 22.5 if name.startswith("source") else 30.0
        for k, image in enumerate(stack):
            data = np.stack([image, image]) * 10 ** (-0.4 * (30.0 - zp))
            cutout = Cutout.from_arrays(data, wcs, "gr", unit="ct")
            for band in cutout.bands:
                cutout[band].meta["MAGZERO"] = zp
            write_cutout(cutout, directory / name / f"gal{k:03d}.fits")
