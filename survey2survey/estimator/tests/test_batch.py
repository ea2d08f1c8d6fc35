# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of transform_many: dask partitions, order, files, failures."""

import warnings

import dask
import numpy as np
import pytest
from astropy.utils.exceptions import AstropyUserWarning
from numpy.testing import assert_allclose

from survey2survey import Survey2Survey, transform_many
from survey2survey.exceptions import CorruptFileError, InvalidOptionError, OutputExistsError
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


@pytest.mark.filterwarnings("ignore::survey2survey.exceptions.IgnoredBandsWarning")  # gri data
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
    with pytest.raises(CorruptFileError, match=r"'.*broken.fits' could not be read"):
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


@pytest.fixture(scope="module")
def model_file(fitted_r, tmp_path_factory):
    """The single-band estimator saved to a file."""
    return fitted_r.save(tmp_path_factory.mktemp("model") / "r.s2s")


def _same_files(paths, reference):
    for path, ref in zip(paths, reference, strict=True):
        assert_allclose(read_cutout(path).data, read_cutout(ref).data, rtol=0, atol=0)


def test_pipeline_equals_sequential_and_model_file(fitted_r, model_file, source_files,
                                                   tmp_path):
    """The prefetching pipeline, the sequential path and a model file give identical files."""
    piped = transform_many(fitted_r, source_files, output_dir=tmp_path / "a", batch_size=2,
                           progress=False)
    serial = transform_many(fitted_r, source_files, output_dir=tmp_path / "b", batch_size=2,
                            progress=False, prefetch=0)
    from_file = transform_many(str(model_file), source_files, output_dir=tmp_path / "c",
                               batch_size=2, progress=False, scheduler="synchronous")
    _same_files(piped, serial)
    _same_files(from_file, serial)


def test_existing_outputs_refused_before_any_work(fitted_r, source_files, tmp_path):
    """Without overwrite or skip_existing, one existing output stops the run before it starts."""
    out = tmp_path / "out"
    first = transform_many(fitted_r, source_files[:1], output_dir=out, progress=False)
    before = first[0].read_bytes()
    with pytest.raises(OutputExistsError, match=r"1 of the 5 output file\(s\) exist.*"
                                                r"skip_existing=True"):
        transform_many(fitted_r, source_files, output_dir=out, progress=False, on_error="skip")
    assert sorted(p.name for p in out.iterdir()) == ["gal0.fits"]
    assert first[0].read_bytes() == before
    with pytest.raises(InvalidOptionError, match="contradict"):
        transform_many(fitted_r, source_files, output_dir=out, overwrite=True,
                       skip_existing=True)


def test_skip_existing_continues_an_interrupted_run(fitted_r, source_files, tmp_path):
    """skip_existing translates only the missing outputs and gives the same files as one run."""
    full = transform_many(fitted_r, source_files, output_dir=tmp_path / "full", batch_size=2,
                          progress=False)
    out = tmp_path / "out"
    done = transform_many(fitted_r, source_files[:3], output_dir=out, batch_size=2,
                          progress=False)
    stamps = [p.stat().st_mtime_ns for p in done]
    paths = transform_many(fitted_r, source_files, output_dir=out, batch_size=2,
                           progress=False, skip_existing=True)
    assert [p.name for p in paths] == [f"gal{k}.fits" for k in range(5)]
    assert [p.stat().st_mtime_ns for p in done] == stamps  # not rewritten
    assert sorted(p.name for p in out.iterdir()) == [f"gal{k}.fits" for k in range(5)]
    _same_files(paths, full)


def test_outputs_never_replace_inputs(fitted_r, source_files):
    """An output_dir holding the inputs is refused, even with overwrite=True."""
    before = [p.read_bytes() for p in source_files]
    folder = source_files[0].parent
    for kwargs in ({"overwrite": True}, {"skip_existing": True}, {}):
        with pytest.raises(InvalidOptionError, match="over an input file"):
            transform_many(fitted_r, folder, output_dir=folder, progress=False, **kwargs)
    assert [p.read_bytes() for p in source_files] == before


def test_on_error_callable_gets_every_failure(fitted_r, source_files, tmp_path):
    """A callable on_error receives (index, reason) for each bad input, and no warning is shown."""
    bad = tmp_path / "in" / "broken.fits"
    bad.write_bytes(b"not a FITS file")
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = transform_many(fitted_r, [bad, *source_files], output_dir=tmp_path / "out",
                               batch_size=2, progress=False,
                               on_error=lambda k, why: failures.append((k, why)))
    assert len(paths) == 5
    assert len(failures) == 1 and failures[0][0] == 0
    assert "broken.fits" in failures[0][1] and "could not be read" in failures[0][1]


def test_transform_options_checked(fitted_r, source_files):
    """Only uncertainty and n_samples are passed on; bad values fail before any work."""
    with pytest.raises(InvalidOptionError, match="output="):
        transform_many(fitted_r, source_files, output="x.fits")
    with pytest.raises(InvalidOptionError, match="n_samples"):
        transform_many(fitted_r, source_files, uncertainty=True, n_samples=1)
    with pytest.raises(InvalidOptionError, match="prefetch"):
        transform_many(fitted_r, source_files, prefetch=-1)


def test_local_cluster_matches_and_loads_once(model_file, fitted_r, source_files, tmp_path):
    """A 2-worker dask.distributed cluster gives bit-identical files, loading the model once."""
    distributed = pytest.importorskip("distributed")
    from survey2survey.estimator import batch

    files = []
    for k in range(4):  # 20 inputs: 3 tasks of 4 partitions of 2
        for path in source_files:
            files.append(path.parent / f"{path.stem}_{k}.fits")
            files[-1].write_bytes(path.read_bytes())
    reference = transform_many(fitted_r, files, output_dir=tmp_path / "ref", batch_size=2,
                               progress=False)
    batch.LOADS.clear()
    batch._MODELS.clear()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        paths = transform_many(str(model_file), files, output_dir=tmp_path / "dask",
                               batch_size=2, progress=False, scheduler=client)
        in_memory = transform_many(fitted_r, files[:6], batch_size=2, progress=False,
                                   scheduler=client)
    assert batch.LOADS[str(model_file.resolve())] == 1  # one process holds both workers
    assert [p.name for p in paths] == [p.name for p in reference]
    _same_files(paths, reference)
    for cutout, path in zip(in_memory, reference[:6], strict=True):
        assert_allclose(cutout.data, read_cutout(path).data, rtol=0, atol=0)


_RACER = """
import json, sys, time
from pathlib import Path
from survey2survey import transform_many
from survey2survey.exceptions import OutputExistsError

model, inputs, output, go, report = sys.argv[1:]
transform_many(model, sorted(Path(inputs).iterdir())[:1], progress=False)  # load, warm up
Path(report + ".ready").touch()
while not Path(go).exists():
    time.sleep(0.005)
reported = []
try:
    written = transform_many(model, inputs, output_dir=output, batch_size=10, progress=False,
                             on_error=lambda index, reason: reported.append(index))
    written = [p.name for p in written]
except OutputExistsError:
    written, reported = [], None  # refused before any work: the other run had started
Path(report).write_text(json.dumps({"written": written, "reported": reported}))
"""


@pytest.mark.slow
def test_two_processes_write_each_output_once(fitted_r, pairs, tmp_path):
    """Two runs writing the same 200 outputs: each file written once, the loser reports it."""
    import json
    import subprocess
    import sys

    other = Survey2Survey("aecnn", bands="r", epochs=1, batch_size=8, seed=7)
    other.fit(pairs[:8], validation=0, progress=False)
    models = [fitted_r.save(tmp_path / "a.s2s"), other.save(tmp_path / "b.s2s")]
    inputs = tmp_path / "in"
    source = pairs[N_TRAIN].source.select(["r"])
    content = write_cutout(source, tmp_path / "c.fits").read_bytes()
    inputs.mkdir()
    for k in range(200):
        (inputs / f"c{k:03d}.fits").write_bytes(content)
    go = tmp_path / "go"
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    procs = [subprocess.Popen([sys.executable, str(script), str(model), str(inputs),
                               str(tmp_path / "out"), str(go), str(tmp_path / f"{k}.json")])
             for k, model in enumerate(models)]
    import time

    while not all((tmp_path / f"{k}.json.ready").exists() for k in range(2)):
        time.sleep(0.01)  # both processes wait at the start line, model loaded
    go.touch()
    assert [proc.wait(timeout=300) for proc in procs] == [0, 0]
    reports = [json.loads((tmp_path / f"{k}.json").read_text()) for k in range(2)]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"c{k:03d}.fits" for k in range(200)]  # no temporary file left
    written = [set(r["written"]) for r in reports]
    assert not written[0] & written[1] and written[0] | written[1] == set(names)
    for report in reports:
        if report["reported"] is not None:  # the run started: what it did not write, it reported
            assert len(report["written"]) + len(report["reported"]) == 200
    expected = [m.transform(source, progress=False).data for m in (fitted_r, other)]
    assert not np.allclose(expected[0], expected[1])
    for k, mine in enumerate(written):
        for name in mine:  # the file holds the output of the run that says it wrote it
            assert_allclose(read_cutout(tmp_path / "out" / name).data, expected[k], rtol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_gpu_model_file_matches_cpu(model_file, source_files, tmp_path):
    """A model file loaded on a GPU (as a dask worker pins one) translates like the CPU."""
    from survey2survey.estimator import batch

    assert batch._worker_device(None).startswith("cuda:")
    gpu = transform_many(str(model_file), source_files, output_dir=tmp_path / "gpu",
                         device="cuda", progress=False)
    cpu = transform_many(str(model_file), source_files, output_dir=tmp_path / "cpu",
                         device="cpu", progress=False)
    for a, b in zip(gpu, cpu, strict=True):
        assert_allclose(read_cutout(a).data, read_cutout(b).data, rtol=1e-3)


def test_checks_of_transform_apply_and_warnings_are_gathered(fitted_r, source_files, tmp_path):
    """Pixel scales are checked as by transform (resample on request); out-of-range inputs
    give one warning for the whole run, not one per partition."""
    import astropy.units as u

    from survey2survey.alignment import regrid
    from survey2survey.exceptions import PixelScaleError

    coarse = write_cutout(regrid(read_cutout(source_files[0]), 0.6 * u.arcsec),
                          tmp_path / "coarse.fits")
    with pytest.raises(PixelScaleError, match="coarse.fits"):
        transform_many(fitted_r, [coarse], progress=False)
    (out,) = transform_many(fitted_r, [coarse], progress=False, resample=True)
    assert out.shape != read_cutout(coarse).shape
    bright = []
    for k, path in enumerate(source_files):
        cutout = read_cutout(path)
        bright.append(write_cutout(cutout.with_data(100 * cutout.data),
                                   tmp_path / f"bright{k}.fits"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = transform_many(fitted_r, bright, batch_size=2, progress=False)
    messages = [str(w.message) for w in caught if "training data" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("5 of 5 input cutout(s)")
    assert all(o.meta["S2SOOD"] > 0 for o in outputs)
