# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of transform_many: dask partitions, order, files, failures."""

import warnings

import dask
import numpy as np
import pytest
from astropy.utils.exceptions import AstropyUserWarning
from numpy.testing import assert_allclose

from survey2survey import Survey2Survey, transform_many
from survey2survey.exceptions import CorruptFileError, InvalidOptionError
from survey2survey.io import read_cutout, write_cutout

from .conftest import N_TRAIN


@pytest.fixture(scope="module")
def fitted_r(pairs):
    """A single-band (r) estimator fitted for one epoch: fast, for behaviour tests."""
    s2s = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, seed=1)
    return s2s.fit(pairs[:8], validation=0, progress=False)


@pytest.fixture
def source_files(pairs, tmp_path):
    """Five held-out SDSS cutouts written as FITS files."""
    paths = []
    for k, pair in enumerate(pairs[N_TRAIN:N_TRAIN + 5]):
        paths.append(write_cutout(pair.source, tmp_path / "in" / f"gal{k}.fits"))
    return paths


def test_order_and_schedulers_agree(fitted_r, pairs):
    """Partitions smaller than the input list keep input order under every scheduler."""
    cutouts = [p.source for p in pairs[N_TRAIN:N_TRAIN + 5]]
    filters = list(warnings.filters)
    serial = transform_many(fitted_r, cutouts, batch_size=2, progress=False)
    threaded = transform_many(fitted_r, cutouts, batch_size=2, progress=False,
                              scheduler="threads", num_workers=2)
    called = transform_many(fitted_r, cutouts, batch_size=3, progress=False, scheduler=dask.get)
    single = [fitted_r.transform(c, progress=False) for c in cutouts]
    assert len(threaded) == 5
    assert list(warnings.filters) == filters
    for a, b, c, d in zip(threaded, serial, single, called, strict=True):
        assert_allclose(a.data, b.data, rtol=0, atol=0)
        assert_allclose(a.data, d.data, rtol=0, atol=0)
        assert_allclose(a.data, c.data, rtol=1e-4)


def test_output_dir_one_file_per_input(fitted_r, source_files, tmp_path):
    """Each input file gives one output file named by its stem, readable and in counts."""
    paths = transform_many(fitted_r, source_files, output_dir=tmp_path / "out", batch_size=2,
                           progress=False)
    assert [p.name for p in paths] == [f"gal{k}.fits" for k in range(5)]
    out = read_cutout(paths[3])
    assert out.bands == ("r",) and str(out.unit) == "ct"
    with pytest.raises(FileExistsError):
        transform_many(fitted_r, source_files[:1], output_dir=tmp_path / "out", progress=False)


def test_bad_input_raises_naming_it(fitted_r, source_files, tmp_path):
    """By default a corrupt file raises its specific error, naming that file."""
    bad = tmp_path / "in" / "broken.fits"
    bad.write_bytes(source_files[0].read_bytes()[:3000])
    files = [*source_files[:2], bad, *source_files[2:]]
    with pytest.raises(CorruptFileError, match=r"input 2 \('.*broken.fits'\)"):
        transform_many(fitted_r, files, output_dir=tmp_path / "out", batch_size=2,
                       progress=False)


def test_skip_warns_and_keeps_the_rest(fitted_r, source_files, tmp_path):
    """on_error='skip' leaves bad inputs out and lists them in one warning."""
    bad = tmp_path / "in" / "broken.fits"
    bad.write_bytes(b"not a FITS file")
    files = [*source_files[:2], bad, *source_files[2:]]
    with pytest.warns(AstropyUserWarning, match=r"skipped 1 of 6 .*broken.fits"):
        paths = transform_many(fitted_r, files, output_dir=tmp_path / "out", batch_size=2,
                               progress=False, on_error="skip")
    assert [p.name for p in paths] == [f"gal{k}.fits" for k in range(5)]


def test_bad_options(fitted_r, source_files):
    """Processes, unknown schedulers or error modes and bad batch sizes are refused."""
    for kwargs, match in [({"scheduler": "processes"}, "copy the fitted model"),
                          ({"scheduler": "gpu"}, "scheduler must be"),
                          ({"on_error": "ignore"}, "on_error must be"),
                          ({"batch_size": 0}, "batch_size must be an integer >= 1")]:
        with pytest.raises(InvalidOptionError, match=match):
            transform_many(fitted_r, source_files, progress=False, **kwargs)
    assert np.isfinite(read_cutout(source_files[0]).data).all()
