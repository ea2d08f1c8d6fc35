# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Bad inputs to every public entry point, one table per entry point.

Each row gives the call, the bad input, and the outcome: the exception class and
a phrase of its message (or, for inputs handled on purpose, a check of the
result or a warning). Every row also checks that no input object or file was
modified. Numbers in the ids are the items of the reliability issue (#12), ids
starting with ``21-`` the cases of its second pass (#21); the
table in ``docs/reliability.rst`` lists the same outcomes.
"""

import gzip
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path
from types import SimpleNamespace

import astropy.units as u
import numpy as np
import pytest
import torch
from astropy.io import fits
from astropy.nddata import CCDData, NDData, StdDevUncertainty, VarianceUncertainty
from astropy.utils.exceptions import AstropyUserWarning

from survey2survey import Survey2Survey, Translator, transform_many
from survey2survey.alignment import align, regrid
from survey2survey.cli import EXIT_FAILED, EXIT_USAGE, main
from survey2survey.datasets import load_pairs, make_survey_pairs, save_pairs
from survey2survey.exceptions import (
    ApertureError,
    BandMismatchError,
    CorruptFileError,
    ImageTooSmallError,
    InputError,
    InsufficientCoverageError,
    InvalidDataError,
    InvalidOptionError,
    InvalidWCSError,
    MetricError,
    MissingWCSError,
    NoOverlapError,
    NotFittedError,
    OutputExistsError,
    PixelScaleError,
    ShapeMismatchError,
    Survey2SurveyError,
    TrainingDataError,
    TranslatorError,
    UnitError,
    UnknownSurveyError,
    WeightsFileError,
)
from survey2survey.io import Cutout, read_cutout, write_cutout
from survey2survey.metrics import mssim, pseudo_flux_magnitude
from survey2survey.tests.helpers import make_wcs

BANDS = "gr"
SIZE = 24


# --- fixtures: a tiny 1-epoch model and its inputs, built once --------------------------

@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """Pairs, a 1-epoch two-band (g, r) model, its file and FITS inputs, built once."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    pairs = make_survey_pairs(8, bands=BANDS, source_size=SIZE, seed=3, processes=1,
                              progress=False)
    model = Survey2Survey("aecnn", bands=BANDS, epochs=1, batch_size=8)
    model.fit(pairs, validation=0, progress=False)
    model_file = model.save(folder / "model.s2s")
    pairs_dir = save_pairs(pairs[:3], folder / "pairs")
    inputs = folder / "inputs"
    inputs.mkdir()
    for k, pair in enumerate(pairs[:3]):
        write_cutout(pair.source, inputs / f"c{k}.fits")
    return SimpleNamespace(folder=folder, pairs=pairs, model=model, model_file=model_file,
                           pairs_dir=pairs_dir, inputs=inputs, source=pairs[0].source,
                           target=pairs[0].target)


# --- "no input was modified" -------------------------------------------------------------

def _digest(data):
    return hashlib.sha256(data).hexdigest()


def _array_print(array):
    array = np.asanyarray(array)
    mask = np.ma.getmaskarray(array).tobytes() if np.ma.isMaskedArray(array) else b""
    body = array.tobytes() if array.dtype != object else repr(array.tolist()).encode()
    return ("array", str(array.dtype), array.shape, _digest(body), _digest(mask))


def _fingerprint(obj):
    """A comparable summary of everything an input holds (file bytes for paths)."""
    if isinstance(obj, (str, Path)) and len(str(obj)) < 1000 and Path(obj).exists():
        path = Path(obj)
        if not (path.is_dir() or path.is_file()):  # a FIFO or device: never read it
            return ("special", stat.S_IFMT(path.stat().st_mode))
        if path.is_dir():
            return ("dir", tuple((str(p.relative_to(path)), _digest(p.read_bytes()))
                                 for p in sorted(path.rglob("*")) if p.is_file()))
        return ("file", _digest(path.read_bytes()))
    if isinstance(obj, u.Quantity):
        return ("quantity", _array_print(obj.value), str(obj.unit))
    if isinstance(obj, np.ndarray):
        return _array_print(obj)
    if isinstance(obj, NDData):
        header = obj.wcs.to_header_string(relax=True) if obj.wcs is not None else None
        uncertainty = (None if obj.uncertainty is None
                       else (type(obj.uncertainty).__name__, _array_print(obj.uncertainty.array)))
        return ("nddata", _array_print(obj.data), None if obj.mask is None
                else _array_print(obj.mask), uncertainty, str(obj.unit), repr(dict(obj.meta)),
                header)
    if isinstance(obj, Cutout):
        return ("cutout", tuple((b, _fingerprint(obj[b])) for b in obj.bands),
                repr(dict(obj.meta)))
    if isinstance(obj, fits.HDUList):
        return ("hdulist", tuple(_fingerprint(h) for h in obj))
    if isinstance(obj, (fits.PrimaryHDU, fits.ImageHDU)):
        return ("hdu", obj.header.tostring(), None if obj.data is None
                else _array_print(obj.data))
    if isinstance(obj, fits.Header):
        return ("header", obj.tostring())
    if isinstance(obj, Survey2Survey):
        weights = [t.weights_sha256() for t in obj.translators_ or []] if obj.is_fitted else []
        return ("estimator", repr(obj.get_params()), weights)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_fingerprint(o) for o in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((k, _fingerprint(v)) for k, v in obj.items()))
    if hasattr(obj, "wcs") and hasattr(obj, "to_header_string"):  # a WCS
        return ("wcs", obj.to_header_string(relax=True))
    if hasattr(obj, "source") and hasattr(obj, "name"):  # a SurveyPair
        return ("pair", obj.name, _fingerprint(obj.source), _fingerprint(obj.target))
    return ("value", repr(obj))


def _check(call, args, kwargs, expected, phrase):
    """Run ``call(*args, **kwargs)``: expect the error (or warning, or check); inputs intact."""
    before = _fingerprint((args, kwargs))
    if isinstance(expected, type) and issubclass(expected, Warning):
        with pytest.warns(expected, match=phrase):
            call(*args, **kwargs)
    elif isinstance(expected, type) and issubclass(expected, BaseException):
        with pytest.raises(expected, match=phrase) as info:
            call(*args, **kwargs)
        if issubclass(expected, Survey2SurveyError):
            assert isinstance(info.value, Survey2SurveyError)
    else:  # handled on purpose: a check of the result
        expected(call(*args, **kwargs))
    assert _fingerprint((args, kwargs)) == before, "an input was modified"


# --- inputs ----------------------------------------------------------------------------

def _ccd(c, band="g", **changes):
    """One band of the source cutout as a CCDData (FILTER card kept unless meta= is given)."""
    image = c.source[band]
    values = dict(data=image.data.copy(), unit=image.unit, wcs=image.wcs, meta=dict(image.meta))
    values.update(changes)
    return CCDData(**values)


def _at_scale(c, scale_arcsec):
    """The source cutout with every band's WCS at another pixel scale."""
    bands = {b: _ccd(c, b, wcs=make_wcs((SIZE, SIZE), scale_arcsec)) for b in BANDS}
    return read_cutout(bands)


def _truncated(c, tmp, *, gz=False):
    path = write_cutout(c.source, tmp / "whole.fits")
    raw = path.read_bytes()
    with fits.open(path) as hdul:
        boundary = hdul.fileinfo(2)["hdrLoc"]  # where the second band starts
    if gz:
        packed = gzip.compress(raw)
        out = tmp / "cut.fits.gz"
        out.write_bytes(packed[:len(packed) * 3 // 4])
    else:
        out = tmp / "cut.fits"
        out.write_bytes(raw[:boundary])
    path.unlink()
    return out


def _far_bands(c):
    far = make_wcs((SIZE, SIZE), 0.396, ra=151.1)
    return {"g": (c.source["g"].data.copy(), c.source["g"].wcs), "r": (c.source["r"].data.copy(),
                                                                     far)}


def _cube(c):
    return np.stack([c.source[b].data for b in BANDS]), c.source["g"].wcs


def _negative_sigma(c):
    sigma = np.full((SIZE, SIZE), 0.1)
    sigma[3, 3] = -0.1
    return _ccd(c, uncertainty=StdDevUncertainty(sigma))


def _masked(c):
    data = np.ma.masked_array(c.source["g"].data.copy(), mask=np.zeros((SIZE, SIZE), bool))
    data.mask[2, 3] = True
    return data, c.source["g"].wcs


def _has_mask_at(y, x):
    def check(cutout):
        assert cutout["g"].mask[y, x] and cutout["g"].mask.sum() == 1
    return check


def _is_float32(cutout):
    assert cutout["g"].data.dtype == np.float32


def _plain_fits(c, tmp):
    path = tmp / "plain.fits"
    path.write_text("SIMPLE  = not really a FITS file")
    return path


# --- read_cutout ----------------------------------------------------------------------

READ_CUTOUT = [
    pytest.param(lambda c, t: ((c.source["g"].data.copy(),), {"bands": "g"}),
                 InputError, "cannot read a cutout from ndarray", id="bare-array"),
    pytest.param(lambda c, t: ((_ccd(c, wcs=None),), {}), MissingWCSError, "WCS",
                 id="ccddata-without-wcs"),
    pytest.param(lambda c, t: ((_cube(c),), {}), BandMismatchError, "pass bands=",
                 id="7-cube-without-band-cards"),
    pytest.param(lambda c, t: ((_far_bands(c),), {}), BandMismatchError,
                 "do not overlap on the sky", id="7-bands-1-degree-apart"),
    pytest.param(lambda c, t: ((_truncated(c, t),), {}), CorruptFileError, "truncated",
                 id="8-truncated-at-hdu-boundary"),
    pytest.param(lambda c, t: ((_truncated(c, t),), {"bands": "gr"}), CorruptFileError,
                 "truncated", id="8-truncated-with-bands"),
    pytest.param(lambda c, t: ((_truncated(c, t, gz=True),), {}), CorruptFileError,
                 "truncated", id="8-truncated-gz"),
    pytest.param(lambda c, t: ((_negative_sigma(c),), {}), InvalidDataError,
                 "negative .* must be >= 0", id="13-negative-stddev"),
    pytest.param(lambda c, t: (((np.ones((SIZE, SIZE), complex), c.source["g"].wcs),),
                               {"bands": "g"}), InvalidDataError, "must hold real numbers",
                 id="16-complex"),
    pytest.param(lambda c, t: (((np.ones((SIZE, SIZE), bool), c.source["g"].wcs),),
                               {"bands": "g"}), InvalidDataError, "got dtype bool",
                 id="16-bool"),
    pytest.param(lambda c, t: (((np.ones((SIZE, SIZE), object), c.source["g"].wcs),),
                               {"bands": "g"}), InvalidDataError, "got dtype object",
                 id="16-object"),
    pytest.param(lambda c, t: (((np.ones((1, 2, SIZE, SIZE)), c.source["g"].wcs),),
                               {"bands": "gr"}), InvalidDataError,
                 "4-D data are not supported", id="20-4d-array"),
    pytest.param(lambda c, t: ((_ccd(c, meta={}),), {"bands": "gr", "what": "input[0]"}),
                 BandMismatchError, r"dict \{band: image\} or read_cutout\(\[",
                 id="23-single-band-for-two"),
    pytest.param(lambda c, t: (((np.full((SIZE, SIZE), np.nan), c.source["g"].wcs),),
                               {"bands": "g"}), InvalidDataError, "finite",
                 id="all-nan"),
    pytest.param(lambda c, t: ((_ccd(c, unit="m"),), {"unit": "nmgy"}), UnitError, "unit",
                 id="conflicting-unit"),
    pytest.param(lambda c, t: ((t / "missing.fits",), {}), InputError, "missing.fits",
                 id="missing-file"),
    pytest.param(lambda c, t: ((_plain_fits(c, t),), {}), CorruptFileError, "plain.fits",
                 id="not-fits"),
    pytest.param(lambda c, t: ((_masked(c),), {"bands": "g"}), _has_mask_at(2, 3),
                 None, id="5-masked-array-keeps-mask"),
    pytest.param(lambda c, t: (((c.source["g"].data.astype(np.float16), c.source["g"].wcs),),
                               {"bands": "g"}), _is_float32, None, id="16-float16-widened"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), READ_CUTOUT)
def test_read_cutout(ctx, tmp_path, build, expected, phrase):
    """read_cutout: the one parser of every input."""
    args, kwargs = build(ctx, tmp_path)
    _check(read_cutout, args, kwargs, expected, phrase)


# --- write_cutout, save_pairs, load_pairs -------------------------------------------------

def _existing(t, name="out.fits"):
    path = t / name
    path.write_bytes(b"earlier result")
    return path


def _pair_named(c, name):
    from dataclasses import replace
    return [replace(c.pairs[0], name=name)]


def _pairs_with_truncated_file(c, t):
    import shutil
    folder = shutil.copytree(c.pairs_dir, t / "pairs")
    victim = sorted((folder / "target").glob("*.fits"))[1]
    victim.write_bytes(victim.read_bytes()[:4000])
    return folder


FILES = [
    pytest.param(write_cutout, lambda c, t: ((c.source, _existing(t)), {}), OutputExistsError,
                 "exists; pass overwrite=True", id="write-over-existing"),
    pytest.param(write_cutout, lambda c, t: ((np.ones((4, 4)), t / "x.fits"), {}), InputError,
                 "cannot read a cutout from ndarray", id="write-bare-array"),
    pytest.param(save_pairs, lambda c, t: ((_pair_named(c, "../x"), t / "p"), {}), InputError,
                 "is not a plain file name", id="13-pair-name-dotdot"),
    pytest.param(save_pairs, lambda c, t: ((_pair_named(c, str(t / "x")), t / "p"), {}),
                 InputError, "is not a plain file name", id="13-pair-name-absolute"),
    pytest.param(save_pairs, lambda c, t: (([1, 2], t / "p"), {}), InputError,
                 "expects SurveyPair objects", id="save-non-pairs"),
    pytest.param(save_pairs, lambda c, t: ((c.pairs[:1], c.pairs_dir), {}), OutputExistsError,
                 "exists", id="save-over-existing"),
    pytest.param(load_pairs, lambda c, t: ((t / "nowhere",), {}), InputError,
                 "does not exist", id="load-missing-folder"),
    pytest.param(load_pairs, lambda c, t: ((_pairs_with_truncated_file(c, t),), {}),
                 CorruptFileError, r"target/.*\.fits", id="14-truncated-pair-file"),
]


@pytest.mark.parametrize(("call", "build", "expected", "phrase"), FILES)
def test_files(ctx, tmp_path, call, build, expected, phrase):
    """Writing and reading cutouts and pair folders."""
    args, kwargs = build(ctx, tmp_path)
    _check(call, args, kwargs, expected, phrase)
    if call is save_pairs:  # nothing written, inside or outside the folder
        assert not (tmp_path / "x.fits").exists() and not (tmp_path / "p").exists()


# --- align, regrid --------------------------------------------------------------------

def _shifted_grid(c, arcsec):
    """The source grid moved east by ``arcsec`` (on the target's own sky)."""
    ra, dec = c.source["g"].wcs.wcs.crval
    wcs = make_wcs((SIZE, SIZE), 0.396, ra=ra + arcsec / 3600 / np.cos(np.radians(dec)),
                   dec=dec)
    return read_cutout({b: _ccd(c, b, wcs=wcs) for b in BANDS})


def _flux_conserved(c):
    def check(aligned):
        assert aligned.shape == c.source.shape
    return check


ALIGN = [
    pytest.param(align, lambda c: ((c.target, _shifted_grid(c, 3600)), {}), NoOverlapError,
                 "does not overlap the target grid", id="align-no-overlap"),
    pytest.param(align, lambda c: ((c.target, _shifted_grid(c, 9)), {}),
                 InsufficientCoverageError, "cover", id="align-partial-overlap"),
    pytest.param(align, lambda c: ((c.target, c.source), {"method": "nearest"}),
                 InvalidOptionError, "method must be one of", id="align-bad-method"),
    pytest.param(align, lambda c: ((c.target, c.source), {"min_coverage": 2}),
                 InvalidOptionError, "min_coverage", id="align-bad-coverage"),
    pytest.param(align, lambda c: ((c.target, np.ones((SIZE, SIZE))), {}), InputError,
                 "cannot take a pixel grid from onto of type ndarray",
                 id="align-onto-array-without-wcs"),
    pytest.param(regrid, lambda c: ((c.source, -1 * u.arcsec), {}), InputError,
                 "pixel_scale must be one positive, finite angle", id="regrid-negative-scale"),
    pytest.param(regrid, lambda c: ((c.source, 1 * u.m), {}), UnitError,
                 "pixel_scale must be an angle per pixel", id="regrid-length-scale"),
    pytest.param(regrid, lambda c: ((c.source, 0.396), {}), UnitError,
                 "must be a Quantity in arcsec/pix", id="regrid-bare-number"),
    pytest.param(regrid, lambda c: ((c.source, "1 m"), {}), UnknownSurveyError,
                 "unknown survey '1 m'; available surveys", id="regrid-unknown-survey"),
    pytest.param(align, lambda c: ((c.target, c.source), {}), _flux_conserved,
                 None, id="align-ok"),
]


@pytest.mark.parametrize(("call", "build", "expected", "phrase"), ALIGN)
def test_alignment(ctx, call, build, expected, phrase):
    """align and regrid."""
    args, kwargs = build(ctx)
    _check(call, args, kwargs, expected, phrase)


# --- Survey2Survey.fit ----------------------------------------------------------------

def _fitter(**params):
    def fit(*args, **kwargs):
        options = dict(dict(translator="aecnn", bands=BANDS, epochs=1, batch_size=8), **params)
        return Survey2Survey(**options).fit(*args, **kwargs)
    return fit


_QUIET = {"validation": 0, "progress": False}


def _a_file(t):
    path = t / "file"
    path.write_text("x")
    return path


FIT = [
    pytest.param(_fitter(), lambda c, t: (([p.source for p in c.pairs[:2]],), _QUIET),
                 TrainingDataError, "target cutouts are needed", id="fit-without-targets"),
    pytest.param(_fitter(overlap=0), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "receptive-field radius", id="9-overlap-0"),
    pytest.param(_fitter(tile_size=16), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "tile_size=16 is too small for this translator: its tiles "
                 "need an overlap of 24 px", id="9-tile-16"),
    pytest.param(_fitter(overlap=-3), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "overlap must be an integer >= 0", id="9-overlap-negative"),
    pytest.param(_fitter(batch_size=-1), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "batch_size must be an integer >= 1",
                 id="17-batch-size-negative"),
    pytest.param(_fitter(mode="bogus"), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "mode must be one of", id="mode-bogus"),
    pytest.param(_fitter(n_ensemble=0), lambda c, t: ((c.pairs[:2],), _QUIET),
                 InvalidOptionError, "n_ensemble must be an integer >= 1", id="n-ensemble-0"),
    pytest.param(_fitter(device="cuda"), lambda c, t: ((c.pairs[:2],), _QUIET),
                 TranslatorError, "not available on this machine .*available: cpu",
                 id="22-cuda-without-cuda",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")),
    pytest.param(_fitter(), lambda c, t: ((c.pairs[:2],), dict(_QUIET, resume=True)),
                 TranslatorError, "needs the checkpoint_dir", id="13-resume-without-dir"),
    pytest.param(_fitter(), lambda c, t: ((c.pairs[:2],), dict(_QUIET, checkpoint_dir=_a_file(t))),
                 TranslatorError, "is not a directory", id="20-checkpoint-dir-is-a-file"),
    pytest.param(_fitter(), lambda c, t: ((_pairs_with_truncated_file(c, t),), _QUIET),
                 CorruptFileError, r"target/.*\.fits", id="14-truncated-file-in-pairs-dir"),
    pytest.param(_fitter(), lambda c, t: (([_at_scale(c, 3.96)], [c.target]), _QUIET),
                 PixelScaleError, "has 3.96 arcsec pixels but the model expects SDSS's 0.396",
                 id="6-source-at-3.96-arcsec"),
    pytest.param(_fitter(), lambda c, t: ((t / "nowhere",), _QUIET), InputError,
                 "pairs directory .*nowhere' does not exist", id="missing-pairs-dir"),
    pytest.param(_fitter(), lambda c, t: ((c.inputs,), _QUIET), InputError,
                 "has no 'source' folder", id="folder-without-source"),
]


@pytest.mark.parametrize(("call", "build", "expected", "phrase"), FIT)
def test_fit(ctx, tmp_path, call, build, expected, phrase):
    """Survey2Survey.fit refuses bad data and options before training."""
    args, kwargs = build(ctx, tmp_path)
    _check(call, args, kwargs, expected, phrase)


# --- Survey2Survey.transform and score ------------------------------------------------

def _brighter(c):
    return c.source.with_data(c.source.data * 100)


def _ood_flagged(out):
    assert 0 < out["g"].meta["S2SOOD"] <= 1


def _mask_carried(out):
    assert out["g"].mask[2, 3] and out["g"].mask.sum() == 1
    assert out["r"].mask is None or not out["r"].mask.any()


def _masked_bands(c):
    data = np.ma.masked_array(c.source["g"].data.copy(), mask=np.zeros((SIZE, SIZE), bool))
    data.mask[2, 3] = True
    return {"g": (data, c.source["g"].wcs), "r": _ccd(c, "r")}


def _transform(c):
    return c.model.transform


TRANSFORM = [
    pytest.param(lambda c, t: ((_at_scale(c, 3.96),), {}), PixelScaleError,
                 "resample", id="6-pixel-scale-3.96"),
    pytest.param(lambda c, t: ((_at_scale(c, 3600),), {}), PixelScaleError,
                 "resample", id="6-pixel-scale-3600"),
    pytest.param(lambda c, t: (([_ccd(c, "g", meta={}), _ccd(c, "r", meta={})],), {}),
                 BandMismatchError, r"dict \{band: image\}", id="23-list-of-single-bands"),
    pytest.param(lambda c, t: ((c.source,), {"batch_size": -1}), InvalidOptionError,
                 "batch_size must be an integer >= 1", id="17-batch-size-negative"),
    pytest.param(lambda c, t: ((c.source,), {"batch_size": 0}), InvalidOptionError,
                 "batch_size must be an integer >= 1", id="17-batch-size-0"),
    pytest.param(lambda c, t: (({b: CCDData(np.ones((8, 8)), unit="nmgy", wcs=make_wcs((8, 8)))
                                 for b in BANDS},), {}), ImageTooSmallError, "8x8",
                 id="too-small"),
    pytest.param(lambda c, t: (({b: (np.ones((SIZE, SIZE), complex), c.source[b].wcs)
                                 for b in BANDS},), {}), InvalidDataError,
                 "must hold real numbers", id="16-complex"),
    pytest.param(lambda c, t: (((np.ones((2, SIZE, SIZE)), c.source["g"].wcs),), {}),
                 BandMismatchError, "order cannot be assumed", id="7-unlabelled-cube"),
    pytest.param(lambda c, t: (({"g": _ccd(c, "g"), "r": (c.source["r"].data.copy(),
                                                          make_wcs((SIZE, SIZE), ra=151.1))},),
                               {}), BandMismatchError, "do not overlap on the sky",
                 id="7-bands-apart"),
    pytest.param(lambda c, t: ((c.source,), {"output": _existing(t)}), OutputExistsError,
                 "exists", id="output-exists"),
    pytest.param(lambda c, t: (([c.source, c.source],), {"output": t / "o.fits"}), InputError,
                 "transform_many", id="output-for-a-list"),
    pytest.param(lambda c, t: ((c.source.data,), {}), InputError,
                 "cannot read a cutout from ndarray", id="bare-array"),
    pytest.param(lambda c, t: ((_brighter(c),), {}), AstropyUserWarning,
                 r"outside the range of the training data \(up to \d+%", id="11-100x-brighter"),
    pytest.param(lambda c, t: ((c.source.with_data(-c.source.data),), {}), AstropyUserWarning,
                 "outside the range of the training data", id="11-negated"),
    pytest.param(lambda c, t: ((_masked_bands(c),), {}), _mask_carried, None,
                 id="5-masked-array-mask-carried",
                 marks=pytest.mark.filterwarnings("ignore:.*carry no unit")),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), TRANSFORM)
@pytest.mark.filterwarnings("ignore:.*outside the range of the training data")
def test_transform(ctx, tmp_path, build, expected, phrase):
    """Survey2Survey.transform; the fitted model is not modified either."""
    args, kwargs = build(ctx, tmp_path)
    kwargs = dict(kwargs, progress=False)
    before = _fingerprint(ctx.model)
    _check(ctx.model.transform, args, kwargs, expected, phrase)
    assert _fingerprint(ctx.model) == before


def test_out_of_range_fraction_in_provenance(ctx):
    """Item 11: the out-of-range fraction is in each output's S2SOOD card."""
    with pytest.warns(AstropyUserWarning, match="1 of 1 input cutout"):
        _ood_flagged(ctx.model.transform(_brighter(ctx), progress=False))


SCORE = [
    pytest.param(lambda c: (([p.source for p in c.pairs[:2]], [c.target]), {}),
                 TrainingDataError, "got 2 source and 1 target cutouts", id="unequal-lengths"),
    pytest.param(lambda c: (([c.source],), {}), TrainingDataError, "target cutouts are needed",
                 id="no-target"),
    pytest.param(lambda c: (([_at_scale(c, 0.263)], [c.target]), {}), PixelScaleError,
                 "has 0.263 arcsec pixels", id="6-source-at-des-scale"),
    pytest.param(lambda c: ((c.pairs[:2],), {}), lambda s: 0 < s <= 1, None,
                 id="score-is-a-float"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), SCORE)
def test_score(ctx, build, expected, phrase):
    """Survey2Survey.score."""
    args, kwargs = build(ctx)
    if callable(expected) and not isinstance(expected, type):
        assert expected(ctx.model.score(*args, progress=False, **kwargs))
        return
    _check(ctx.model.score, args, dict(kwargs, progress=False), expected, phrase)


def test_unfitted_model_is_refused(ctx):
    """transform and score before fit: NotFittedError."""
    model = Survey2Survey("aecnn", bands=BANDS)
    for call in (model.transform, model.score):
        _check(call, (ctx.source,), {}, NotFittedError, "not fitted")


# --- model files: Survey2Survey.load, Translator.load ---------------------------------

def _rewrite(c, t, name, *, edit_config=None, rehash=True, forge_members=False,
             edit_member=None):
    """A copy of the model file with its configuration (or a member's) edited."""
    from safetensors.torch import load as load_tensors
    from safetensors.torch import save as save_tensors

    from survey2survey.estimator._archive import _METADATA_KEY, config_sha256
    from survey2survey.translators._persistence import METADATA_KEY
    from survey2survey.translators._persistence import config_sha256 as member_sha256

    with zipfile.ZipFile(c.model_file) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["estimator.json"])
    if edit_config is not None:
        edit_config(config)
        if rehash:
            config["sha256"] = config_sha256(config)
        members["estimator.json"] = json.dumps(config).encode()
    for name_ in [n for n in members if n.endswith(".safetensors")]:
        if not (forge_members or edit_member):
            continue
        blob = members[name_]
        length = int.from_bytes(blob[:8], "little")
        meta = json.loads(json.loads(blob[8:8 + length])["__metadata__"][METADATA_KEY])
        if forge_members:  # a careful forger: the copy and its hash follow the edit
            meta["metadata"][_METADATA_KEY] = config
            meta["config_sha256"] = member_sha256(meta)
        if edit_member is not None:
            edit_member(meta)
        members[name_] = save_tensors(load_tensors(blob),
                                      metadata={METADATA_KEY: json.dumps(meta)})
    out = t / name
    with zipfile.ZipFile(out, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out


def _set(section, key, value):
    def edit(config):
        config[section][key] = value
    return edit


def _bomb(t, *, declared):
    out = t / "bomb.s2s"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("estimator.json", b" " * (20 * 2**20 if declared else 2**20))
    return out


def _pickle(t):
    import pickle
    out = t / "model.s2s"
    out.write_bytes(pickle.dumps({"weights": [1.0]}))
    return out


def _hi_doubled(config):
    config["state"]["codec"]["hi"] = [2 * v for v in config["state"]["codec"]["hi"]]


def _member_params(meta):
    meta["params"]["resampling"] = "pool"


LOAD = [
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_hi_doubled, rehash=False),
                 WeightsFileError, "does not match its recorded SHA-256 \\(it was edited\\)",
                 id="4-normaliser-hi-doubled"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "target",
                                                                        "SDSS"),
                                       rehash=False),
                 WeightsFileError, "it was edited", id="4-target-des-to-sdss"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "mode",
                                                                        "bogus")),
                 WeightsFileError, "saved with another estimator configuration",
                 id="4-mode-bogus-rehashed"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_member=_member_params),
                 WeightsFileError, "does not match its recorded SHA-256",
                 id="4-member-resampling-pool"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "n_ensemble",
                                                                        0),
                                       forge_members=True),
                 WeightsFileError, "n_ensemble must be an integer >= 1",
                 id="18-forged-n-ensemble-0"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "tile_size",
                                                                        "abc"),
                                       forge_members=True),
                 WeightsFileError, "tile_size must be an integer", id="18-forged-tile-size"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "overlap", 0),
                                       forge_members=True),
                 WeightsFileError, "receptive-field radius", id="9-forged-overlap-0"),
    pytest.param(lambda c, t: _bomb(t, declared=True), WeightsFileError,
                 "declares .* bytes, over the .* allowed", id="19-zip-bomb-large"),
    pytest.param(lambda c, t: _bomb(t, declared=False), WeightsFileError, "zip bomb",
                 id="19-zip-bomb-ratio"),
    pytest.param(lambda c, t: _pickle(t), WeightsFileError, "not a zip archive",
                 id="pickle"),
    pytest.param(lambda c, t: t / "missing.s2s", WeightsFileError, "no such estimator file",
                 id="missing"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), LOAD)
def test_load(ctx, tmp_path, build, expected, phrase):
    """Survey2Survey.load: edited, forged, oversized or foreign files are refused."""
    _check(Survey2Survey.load, (build(ctx, tmp_path),), {}, expected, phrase)
    assert Survey2Survey.load(ctx.model_file).is_fitted  # the original still loads


def test_translator_load_refuses_pickles_and_edits(ctx, tmp_path):
    """Translator.load: never unpickles; an edited parameter is refused."""
    _check(Translator.load, (_pickle(tmp_path),), {}, WeightsFileError, "never unpickles")
    member = tmp_path / "member.safetensors"
    ctx.model.translators_[0].save(member)
    from safetensors.torch import load_file, save_file

    from survey2survey.translators._persistence import METADATA_KEY, read_weights_file

    config, _ = read_weights_file(member)
    _member_params(config)
    save_file(load_file(member), member, metadata={METADATA_KEY: json.dumps(config)})
    _check(Translator.load, (member,), {}, WeightsFileError, "was edited")


# --- transform_many -------------------------------------------------------------------

def _copy_inputs(c, t):
    import shutil
    return shutil.copytree(c.inputs, t / "inputs")


def _partly_filled(c, t):
    out = t / "out"
    out.mkdir()
    (out / "c1.fits").write_bytes(b"an earlier output")
    return out


TRANSFORM_MANY = [
    pytest.param(lambda c, t: ((c.model, c.inputs), {"output_dir": c.inputs,
                                                     "overwrite": True}),
                 InvalidOptionError, "over an input file", id="3-output-over-inputs"),
    pytest.param(lambda c, t: ((c.model, c.inputs), {"output_dir": _partly_filled(c, t)}),
                 OutputExistsError, "skip_existing=True", id="15-partly-filled-folder"),
    pytest.param(lambda c, t: ((c.model, c.inputs), {"batch_size": 0}), InvalidOptionError,
                 "batch_size must be an integer >= 1", id="17-batch-size-0"),
    pytest.param(lambda c, t: ((c.model, c.inputs), {"on_error": "ignore"}),
                 InvalidOptionError, "on_error must be", id="on-error-bogus"),
    pytest.param(lambda c, t: ((c.model, c.inputs), {"scheduler": "processes"}),
                 InvalidOptionError, "copy the fitted model", id="processes-scheduler"),
    pytest.param(lambda c, t: ((c.model, [c.inputs / "c0.fits", t / "missing.fits"]),
                               {}), InputError, "missing.fits", id="missing-input-named"),
    pytest.param(lambda c, t: ((c.model, c.inputs), {"skip_existing": True}),
                 InvalidOptionError, "skip_existing=True needs an output_dir",
                 id="skip-existing-without-output-dir"),
    pytest.param(lambda c, t: ((t / "missing.s2s", c.inputs), {}), InputError,
                 "missing.s2s' cannot be read", id="missing-model-file"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), TRANSFORM_MANY)
def test_transform_many(ctx, tmp_path, build, expected, phrase):
    """transform_many refuses before any work; inputs are never replaced."""
    args, kwargs = build(ctx, tmp_path)
    _check(transform_many, args, dict(kwargs, progress=False), expected, phrase)


# --- metrics --------------------------------------------------------------------------

METRICS = [
    pytest.param(mssim, lambda: ((np.ones((10, 10)), np.ones((10, 10))), {"data_range": 1}),
                 MetricError, "at least 11x11 pixels .*got 10x10", id="13-mssim-10px"),
    pytest.param(mssim, lambda: ((np.ones((16, 16)), np.ones((16, 18))), {"data_range": 1}),
                 ShapeMismatchError, "must have the same shape", id="mssim-shapes"),
    pytest.param(mssim, lambda: ((np.ones((16, 16)), np.ones((16, 16))), {}), MetricError,
                 "data_range is required", id="mssim-float-without-range"),
    pytest.param(mssim, lambda: ((np.full((16, 16), np.nan), np.ones((16, 16))),
                                 {"data_range": 1}), MetricError, "no finite pixel",
                 id="mssim-nan"),
    pytest.param(pseudo_flux_magnitude, lambda: ((np.ones((16, 16)),), {"r_max": 40}),
                 ApertureError, "does not fit in the 16x16 image", id="aperture-too-large"),
    pytest.param(mssim, lambda: ((np.ones((16, 16)), np.ones((16, 16))), {"data_range": 1}),
                 lambda value: value == pytest.approx(1.0), None, id="mssim-identical"),
]


@pytest.mark.parametrize(("call", "build", "expected", "phrase"), METRICS)
def test_metrics(call, build, expected, phrase):
    """The metrics refuse what they cannot measure."""
    args, kwargs = build()
    if callable(expected) and not isinstance(expected, type):
        assert expected(call(*args, **kwargs))
        return
    _check(call, args, kwargs, expected, phrase)


# --- the command line -----------------------------------------------------------------

def _evaluated(t):
    out = t / "scores"
    out.mkdir()
    (out / "summary.ecsv").write_text("# an earlier result\n")
    return out


def _non_empty(t):
    out = t / "demo"
    out.mkdir()
    (out / "sdss2des.s2s").write_bytes(b"my model")
    return out


def _paper_set_beside_calibrated(c, t):
    """A results layout whose 'aecnn' set is 8-bit paper-mode output (no MAGZERO)."""
    import shutil
    folder = shutil.copytree(c.pairs_dir, t / "heldout")
    (folder / "aecnn").mkdir()
    for path in sorted((folder / "target").glob("*.fits")):
        cutout = read_cutout(path)
        for band in cutout.bands:
            del cutout[band].meta["MAGZERO"]
            cutout[band].meta["S2SMODE"] = "paper"
        write_cutout(cutout, folder / "aecnn" / path.name)
    return folder


CLI = [
    pytest.param(lambda c, t: ["evaluate", _paper_set_beside_calibrated(c, t), "-o", t / "e",
                               "--sets", "source", "target", "aecnn"], EXIT_FAILED,
                 "8-bit paper mode", id="12-evaluate-paper-beside-calibrated"),
    pytest.param(lambda c, t: ["demo", "--quick", "-o", _non_empty(t)], EXIT_FAILED,
                 "not empty", id="2-demo-into-non-empty-folder"),
    pytest.param(lambda c, t: ["evaluate", c.pairs_dir, "-o", _evaluated(t)], EXIT_FAILED,
                 "--overwrite", id="15-evaluate-rerun"),
    pytest.param(lambda c, t: ["transform", c.model_file, c.inputs, "-o", c.inputs,
                               "--overwrite"], EXIT_USAGE, "over an input file",
                 id="3-transform-over-inputs"),
    pytest.param(lambda c, t: ["transform", c.model_file, c.inputs, "-o", _partly_filled(c, t)],
                 EXIT_FAILED, "--skip-existing", id="15-transform-partly-filled"),
    pytest.param(lambda c, t: ["transform", t / "none.s2s", c.inputs, "-o", t / "o"],
                 EXIT_FAILED, "none.s2s", id="missing-model"),
    pytest.param(lambda c, t: ["transform", c.model_file, c.inputs, "-o", t / "o",
                               "--batch-size", "-1"], EXIT_USAGE, "batch_size must be",
                 id="17-cli-batch-size"),
    pytest.param(lambda c, t: ["fit", c.pairs_dir, "-o", t / "m.s2s", "--resume"], EXIT_USAGE,
                 "--checkpoint-dir", id="13-cli-resume-without-dir"),
    pytest.param(lambda c, t: ["fit", c.pairs_dir, "-o", c.model_file], EXIT_FAILED,
                 "exists; pass --overwrite", id="fit-over-model"),
    pytest.param(lambda c, t: ["bogus"], EXIT_USAGE, "invalid choice", id="unknown-command"),
]


@pytest.mark.parametrize(("build", "status", "phrase"), CLI)
def test_cli(ctx, tmp_path, capsys, build, status, phrase):
    """The command line: exit status 1 or 2, one line without a traceback, nothing replaced."""
    argv = [str(a) for a in build(ctx, tmp_path)]
    before = _fingerprint([ctx.folder, tmp_path])
    assert main(argv) == status
    err = capsys.readouterr().err
    assert phrase in err and "Traceback" not in err
    assert _fingerprint([ctx.folder, tmp_path]) == before


def test_fingerprints_see_modifications(ctx, tmp_path):
    """The "no input was modified" check sees an in-place change of data, mask, meta or file."""
    ccd = _ccd(ctx)
    before = _fingerprint(([ccd],))
    ccd.data[0, 0] += 1
    assert _fingerprint(([ccd],)) != before
    for change in (lambda c: c.meta.update(FILTER="r"),
                   lambda c: setattr(c, "mask", np.zeros((SIZE, SIZE), bool))):
        ccd = _ccd(ctx)
        before = _fingerprint({"x": ccd})
        change(ccd)
        assert _fingerprint({"x": ccd}) != before
    path = _existing(tmp_path)
    before = _fingerprint(tmp_path)
    path.write_bytes(b"changed")
    assert _fingerprint(tmp_path) != before and _fingerprint(path) != _fingerprint(tmp_path)


# === second pass (#21): ids start with 21- ===============================================

# --- strict booleans, output paths (data loss) --------------------------------------------

def _copy_of_input(c, t, name="in.fits"):
    path = t / name
    path.write_bytes((c.inputs / "c0.fits").read_bytes())
    return path


def _link_to(target, t, name="link.fits"):
    link = t / name
    link.symlink_to(target)
    return link


def _a_folder(t, name="out.fits"):
    folder = t / name
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    return folder


def _transform_call(c, *args, **kwargs):
    return c.model.transform, args, dict(kwargs, progress=False)


def _member_file(c, t):
    path = t / "member.safetensors"
    path.write_bytes(b"an earlier translator")
    return path


OPTIONS_AND_PATHS = [
    pytest.param(lambda c, t: (write_cutout, (c.source, _existing(t)), {"overwrite": "False"}),
                 InvalidOptionError, "overwrite must be True or False; got 'False' \\(str\\)",
                 id="21-write-cutout-overwrite-False-string"),
    pytest.param(lambda c, t: _transform_call(c, c.source, output=_existing(t),
                                              overwrite="no"),
                 InvalidOptionError, "overwrite must be True or False; got 'no'",
                 id="21-transform-overwrite-no-string"),
    pytest.param(lambda c, t: (c.model.save, (_existing(t, "m.s2s"),), {"overwrite": "no"}),
                 InvalidOptionError, "overwrite must be True or False", id="21-save-overwrite-no"),
    pytest.param(lambda c, t: (c.model.translators_[0].save, (_member_file(c, t),),
                               {"overwrite": "no"}),
                 InvalidOptionError, "overwrite must be True or False",
                 id="21-translator-save-overwrite-no"),
    pytest.param(lambda c, t: (save_pairs, (c.pairs[:1], c.pairs_dir), {"overwrite": "False"}),
                 InvalidOptionError, "overwrite must be True or False",
                 id="21-save-pairs-overwrite-False-string"),
    pytest.param(lambda c, t: _transform_call(c, _at_scale(c, 3.96), resample="no"),
                 InvalidOptionError, "resample must be True or False; got 'no'",
                 id="21-resample-no-string"),
    pytest.param(lambda c, t: _transform_call(c, c.source, uncertainty="yes"),
                 InvalidOptionError, "uncertainty must be True or False",
                 id="21-uncertainty-yes-string"),
    pytest.param(lambda c, t: (transform_many, (c.model, c.inputs),
                               {"output_dir": _partly_filled(c, t), "skip_existing": "no",
                                "progress": False}),
                 InvalidOptionError, "skip_existing must be True or False",
                 id="21-transform-many-skip-existing-no"),
    pytest.param(lambda c, t: (transform_many, (c.model, c.inputs),
                               {"output_dir": t / "o", "resample": "no", "progress": False}),
                 InvalidOptionError, "resample must be True or False",
                 id="21-transform-many-resample-no"),
    pytest.param(lambda c, t: (align, (c.target, c.source), {"conserve_flux": "no"}),
                 InvalidOptionError, "conserve_flux must be True or False",
                 id="21-align-conserve-flux-no"),
    pytest.param(lambda c, t: (regrid, (c.source, 0.263 * u.arcsec / u.pix),
                               {"parallel": "yes"}),
                 InvalidOptionError, "parallel must be True or False", id="21-regrid-parallel-yes"),
    pytest.param(lambda c, t: (_fitter(), (c.pairs[:2],), dict(_QUIET, resume="no")),
                 InvalidOptionError, "resume must be True or False", id="21-fit-resume-no"),
    pytest.param(lambda c, t: (c.model.score, (c.pairs[:2],), {"progress": "no"}),
                 InvalidOptionError, "progress must be True or False", id="21-score-progress-no"),
    pytest.param(lambda c, t: _transform_call(c, _copy_of_input(c, t),
                                              output=t / "in.fits", overwrite=True),
                 InvalidOptionError, "never replaces its input, even with overwrite=True",
                 id="21-transform-output-onto-input"),
    pytest.param(lambda c, t: _transform_call(c, _copy_of_input(c, t),
                                              output=t / "sub" / ".." / "in.fits",
                                              overwrite=True),
                 InvalidOptionError, "never replaces its input", id="21-output-onto-input-dotdot"),
    pytest.param(lambda c, t: _transform_call(c, _link_to(_copy_of_input(c, t), t),
                                              output=t / "in.fits", overwrite=True),
                 InvalidOptionError, "never replaces its input",
                 id="21-output-onto-input-through-link"),
    pytest.param(lambda c, t: _transform_call(c, c.source, output=_a_folder(t)),
                 OutputExistsError, "is a directory: an output file cannot replace a folder",
                 id="21-output-is-a-folder"),
    pytest.param(lambda c, t: _transform_call(c, c.source, output=_a_folder(t),
                                              overwrite=True),
                 OutputExistsError, "not even with overwrite=True",
                 id="21-output-is-a-folder-overwrite"),
    pytest.param(lambda c, t: _transform_call(c, c.source, output=123), InvalidOptionError,
                 "output must be a file path .*got 123 \\(int\\)", id="21-output-123"),
    pytest.param(lambda c, t: (write_cutout, (c.source, os.fsencode(t / "x.fits")), {}),
                 InvalidOptionError, "path must be a file path .*bytes",
                 id="21-write-cutout-bytes-path"),
    pytest.param(lambda c, t: _transform_call(c, os.fsencode(c.inputs / "c0.fits")),
                 InputError, "a bytes path .* is not supported", id="21-bytes-input-path"),
    pytest.param(lambda c, t: (transform_many, (c.model, [_copy_of_input(c, t, "a.fits"),
                                                          os.fsencode(t / "a.fits")]),
                               {"progress": False}),
                 InputError, "a bytes path", id="21-transform-many-bytes-input"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), OPTIONS_AND_PATHS)
@pytest.mark.filterwarnings("ignore:.*outside the range of the training data")
def test_options_and_paths(ctx, tmp_path, build, expected, phrase):
    """Strings are not booleans; an output never replaces its input or a folder (#21)."""
    call, args, kwargs = build(ctx, tmp_path)
    before = _fingerprint(tmp_path)
    _check(call, args, kwargs, expected, phrase)
    assert _fingerprint(tmp_path) == before, "a file in the folder was changed"


def test_long_output_names(ctx, tmp_path):
    """A legal 242-byte file name is written: the temporary name is not longer (#21)."""
    name = "x" * 237 + ".fits"
    assert len(name.encode()) == 242
    out = tmp_path / name
    ctx.model.transform(ctx.source, output=out, progress=False)
    assert read_cutout(out).bands == tuple(BANDS)
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes((ctx.inputs / "c0.fits").read_bytes())
    (written,) = transform_many(ctx.model, [source], output_dir=tmp_path / "o", progress=False)
    assert written.name == name and not list((tmp_path / "o").glob(".*"))


# --- transform_many: duplicate names, folders in the way, skip_existing ------------------

def _same_stems(c, t, names):
    paths = []
    for k, name in enumerate(names):
        folder = t / f"d{k}"
        folder.mkdir()
        data = (c.inputs / "c0.fits").read_bytes()
        path = folder / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        paths.append(path)
    return paths


def _in_one_folder(c, t, names):
    folder = t / "same"
    folder.mkdir()
    data = (c.inputs / "c0.fits").read_bytes()
    for name in names:
        (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return [folder / name for name in names]


MANY_NAMES = [
    pytest.param(lambda c, t: _same_stems(c, t, ["x.fits", "x.fits"]),
                 "inputs input 0 .* and input 1 .* would both be written to 'x.fits'",
                 id="21-same-name-two-folders"),
    pytest.param(lambda c, t: _in_one_folder(c, t, ["x.fits", "x.fits.gz"]),
                 "would both be written to 'x.fits'", id="21-x.fits-beside-x.fits.gz"),
]


@pytest.mark.parametrize(("build", "phrase"), MANY_NAMES)
def test_transform_many_names(ctx, tmp_path, build, phrase):
    """The duplicate-output-name check names both inputs instead of crashing (#21)."""
    inputs = build(ctx, tmp_path)
    _check(transform_many, (ctx.model, inputs), {"output_dir": tmp_path / "o",
                                                "progress": False},
           InputError, phrase)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("overwrite", [False, True], ids=["21-folder-in-the-way",
                                                          "21-overwrite-over-a-folder"])
def test_transform_many_folder_in_the_way(ctx, tmp_path, overwrite):
    """A folder where one output goes fails that input; the others are written (#21)."""
    out = tmp_path / "o"
    out.mkdir()
    _a_folder(out, "c1.fits")
    reasons = []
    before = _fingerprint([ctx.inputs, out / "c1.fits"])
    written = transform_many(ctx.model, ctx.inputs, output_dir=out, overwrite=overwrite,
                             on_error=lambda index, reason: reasons.append((index, reason)),
                             progress=False)
    assert [p.name for p in written] == ["c0.fits", "c2.fits"]
    assert len(reasons) == 1 and reasons[0][0] == 1 and "is a directory" in reasons[0][1]
    assert _fingerprint([ctx.inputs, out / "c1.fits"]) == before


def test_cli_overwrite_over_a_folder(ctx, tmp_path, capsys):
    """``--overwrite`` over a folder: that input fails (exit 1), the batch carries on (#21)."""
    out = tmp_path / "o"
    out.mkdir()
    _a_folder(out, "c1.fits")
    status = main(["transform", str(ctx.model_file), str(ctx.inputs), "-o", str(out),
                   "--overwrite"])
    err = capsys.readouterr().err
    assert status == EXIT_FAILED and "is a directory" in err and "Traceback" not in err
    assert (out / "c0.fits").is_file() and (out / "c2.fits").is_file()
    assert (out / "c1.fits" / "keep.txt").read_text() == "mine"


def _foreign_output(c, t, out):
    """A real output of this model whose S2SHASH says another model made it."""
    cutout = c.model.transform(c.inputs / "c2.fits", progress=False)
    for band in cutout.bands:
        cutout[band].meta["S2SHASH"] = "0123456789abcdef"
    write_cutout(cutout, out / "c2.fits")


def test_skip_existing_keeps_only_complete_outputs(ctx, tmp_path):
    """skip_existing keeps complete outputs of this model and reports the rest (#21)."""
    out = tmp_path / "o"
    transform_many(ctx.model, [ctx.inputs / "c0.fits"], output_dir=out, progress=False)
    good = (out / "c0.fits").read_bytes()
    (out / "c1.fits").write_text("a text file")
    _foreign_output(ctx, tmp_path, out)
    dangling = tmp_path / "nowhere.fits"
    (tmp_path / "in").mkdir()
    for name in ("c0", "c1", "c2"):
        (tmp_path / "in" / f"{name}.fits").write_bytes((ctx.inputs / f"{name}.fits").read_bytes())
    (tmp_path / "in" / "c3.fits").write_bytes((ctx.inputs / "c0.fits").read_bytes())
    (out / "c3.fits").symlink_to(dangling)
    before = _fingerprint(out)
    with pytest.warns(AstropyUserWarning, match="skipped 3 of 4") as caught:
        written = transform_many(ctx.model, tmp_path / "in", output_dir=out,
                                 skip_existing=True, on_error="skip", progress=False)
    text = str(caught[0].message)
    assert "c1.fits' exists but is not a complete output of this model" in text
    assert "not this model's" in text and "dangling symbolic link" in text
    assert written == [out / "c0.fits"] and (out / "c0.fits").read_bytes() == good
    assert _fingerprint(out) == before
    with pytest.raises(OutputExistsError, match="c1.fits' exists but is not a complete output"):
        transform_many(ctx.model, tmp_path / "in", output_dir=out, skip_existing=True,
                       progress=False)


# --- hostile files: FIFOs, devices, declared sizes, calibration cards ----------------------

def _fifo(t):
    path = t / "pipe.fits"
    os.mkfifo(path)
    return path


def _huge_header(t):
    """A 2880-byte header declaring 100000 x 100000 float64 pixels (74.5 GiB)."""
    header = fits.Header({"SIMPLE": True, "BITPIX": -64, "NAXIS": 2, "NAXIS1": 100000,
                          "NAXIS2": 100000})
    path = t / "huge.fits"
    path.write_bytes(header.tostring().encode() + b"\0" * 2880)
    return path


def _huge_tile_compressed(c, t):
    """A 24x24 tile-compressed (.fz) image whose ZNAXIS1/2 cards declare 200000x200000."""
    header = c.source["g"].wcs.to_header()
    header["FILTER"], header["BUNIT"] = "g", "nmgy"
    path = t / "huge.fits.fz"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(
        np.ones((SIZE, SIZE), np.float32), header)]).writeto(path)
    raw = path.read_bytes()
    for key in (b"ZNAXIS1 ", b"ZNAXIS2 "):
        start = raw.index(key)
        raw = raw[:start] + f"{key.decode()}= {200000:>20}".ljust(80).encode() + raw[start + 80:]
    path.write_bytes(raw)
    return path


def _edited_card(c, t, key, value, *, band="g", extension="SCI"):
    path = write_cutout(c.source, t / f"{key.lower()}.fits")
    with fits.open(path, mode="update") as hdul:
        for hdu in hdul:
            if hdu.name == extension and hdu.header.get("FILTER") == band:
                hdu.header[key] = value
    return path


def _duplicate_sci(c, t, key):
    path = write_cutout(c.source, t / "dup.fits")
    with fits.open(path, mode="update") as hdul:
        sci = [hdu for hdu in hdul if hdu.name == "SCI"]
        if key == "EXTVER":
            sci[1].header["EXTVER"] = sci[0].header["EXTVER"]
        else:
            sci[1].header["FILTER"] = sci[0].header["FILTER"]
    return path


def _ccd_with_sigma(c, sigma, unit=None, kind=StdDevUncertainty, data_unit=None):
    changes = {} if data_unit is None else {"unit": data_unit}
    return _ccd(c, uncertainty=kind(np.full((SIZE, SIZE), sigma), unit=unit), **changes)


def _uncert_card(c, t, key, value):
    """The source written with an uncertainty whose first UNCERT extension has ``key=value``."""
    bands = {b: _ccd(c, b, uncertainty=StdDevUncertainty(np.full((SIZE, SIZE), 0.1)))
             for b in BANDS}
    path = write_cutout(read_cutout(bands), t / "uncert.fits")
    with fits.open(path, mode="update") as hdul:
        hdul["UNCERT", 1].header[key] = value
    return path


def _sigma_in_data_unit(expected):
    def check(cutout):
        sigma = cutout["g"].uncertainty
        assert str(sigma.unit) == str(cutout["g"].unit)
        np.testing.assert_allclose(sigma.array, expected, rtol=1e-12)
    return check


def _unknown_uncertainty(c):
    from astropy.nddata import UnknownUncertainty
    return _ccd(c, uncertainty=UnknownUncertainty(np.ones((SIZE, SIZE))))


HOSTILE_FILES = [
    pytest.param(lambda c, t: ((_fifo(t),), {}), InputError,
                 "is a FIFO \\(named pipe\\), not a regular file", id="21-fifo-input"),
    pytest.param(lambda c, t: (("/dev/zero",), {"bands": "g"}), InputError,
                 "'/dev/zero' is a character device, not a regular file", id="21-dev-zero"),
    pytest.param(lambda c, t: ((_huge_header(t),), {}), CorruptFileError,
                 "HDU 0 declares 80000000000 bytes .*74.5 GiB.*over the 4 GiB",
                 id="21-header-declares-74-GiB"),
    pytest.param(lambda c, t: ((_huge_tile_compressed(c, t),), {}), CorruptFileError,
                 "HDU 1 declares 160000000000 bytes .*149 GiB", id="21-fz-declares-149-GiB"),
    pytest.param(lambda c, t: ((_edited_card(c, t, "BSCALE", 0),), {}), CorruptFileError,
                 "BSCALE = 0, which would make every pixel value 0", id="21-bscale-0"),
    pytest.param(lambda c, t: ((_duplicate_sci(c, t, "EXTVER"),), {}), CorruptFileError,
                 "two SCI extensions with EXTVER 1 .*one band would be lost",
                 id="21-duplicate-extver"),
    pytest.param(lambda c, t: ((_duplicate_sci(c, t, "FILTER"),), {}), BandMismatchError,
                 "two SCI extensions with FILTER 'g'", id="21-duplicate-filter"),
    pytest.param(lambda c, t: ((_ccd_with_sigma(c, 0.5, "uJy", data_unit="Jy"),), {}),
                 _sigma_in_data_unit(0.5e-6), None, id="21-sigma-in-uJy-converted"),
    pytest.param(lambda c, t: ((_ccd_with_sigma(c, 0.25, "nmgy2", VarianceUncertainty),), {}),
                 lambda cutout: np.testing.assert_allclose(
                     cutout["g"].uncertainty.array, 0.25), None,
                 id="21-variance-in-data-unit-squared"),
    pytest.param(lambda c, t: ((_uncert_card(c, t, "BUNIT", "m"),), {}), UnitError,
                 "uncertainty is in m, which cannot be converted to the data unit",
                 id="21-sigma-in-metres"),
    pytest.param(lambda c, t: ((_unknown_uncertainty(c),), {}), InvalidDataError,
                 "is a UnknownUncertainty, which says nothing", id="21-unknown-uncertainty"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), HOSTILE_FILES)
def test_hostile_files(ctx, tmp_path, build, expected, phrase):
    """read_cutout refuses files that would hang, exhaust memory or lose a band (#21)."""
    args, kwargs = build(ctx, tmp_path)
    _check(read_cutout, args, kwargs, expected, phrase)


def test_compressed_file_expanding_past_the_cap(ctx, tmp_path, monkeypatch):
    """A .fits.gz expanding past MAX_FITS_BYTES is refused while decompressing (#21)."""
    from survey2survey.io import _open

    monkeypatch.setattr(_open, "MAX_FITS_BYTES", 2**20)
    path = tmp_path / "bomb.fits.gz"
    header = fits.Header({"SIMPLE": True, "BITPIX": 8, "NAXIS": 1, "NAXIS1": 4 * 2**20})
    path.write_bytes(gzip.compress(header.tostring().encode() + b"\0" * (4 * 2**20)))
    assert path.stat().st_size < 20_000
    _check(read_cutout, (path,), {}, CorruptFileError,
           "gzip stream expands to more than 1048576 bytes")


@pytest.mark.parametrize(("card", "value"), [("MAGZERO", 99.0), ("MAGZERO", -99.0),
                                             ("MAGZERO", 0.0)],
                         ids=["21-magzero-99", "21-magzero-minus-99", "21-magzero-0"])
def test_placeholder_zero_points(ctx, tmp_path, card, value):
    """A placeholder MAGZERO is refused, not applied (it scaled the image by 1e-30) (#21)."""
    path = _edited_card(ctx, tmp_path, card, value)
    _check(ctx.model.transform, (path,), {"progress": False}, UnitError,
           f"{card} = {value!r} states an AB zero point .*outside the plausible 1 to 50")


# --- model files: hostile archives, forged shapes, NaN weights, odd paths -----------------

def _patched_first_entry(c, t, *, flags=None, method=None):
    """The model file with the zip flags or compression method of its first member patched."""
    import struct

    raw = bytearray(c.model_file.read_bytes())
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    if flags is not None:
        raw[local + 6:local + 8] = struct.pack("<H", flags)
        raw[central + 8:central + 10] = struct.pack("<H", flags)
    if method is not None:
        raw[local + 8:local + 10] = struct.pack("<H", method)
        raw[central + 10:central + 12] = struct.pack("<H", method)
    out = t / "patched.s2s"
    out.write_bytes(bytes(raw))
    return out


def _nested_json(t, depth=100_000):
    out = t / "nested.s2s"
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("estimator.json", "[" * depth + "]" * depth)
    return out


def _forged_in_channels(meta):
    from survey2survey.translators._persistence import config_sha256 as member_sha256

    meta["params"]["in_channels"] = 4e6
    meta["config_sha256"] = member_sha256(meta)


def _fifo_model(t):
    path = t / "model.s2s"
    os.mkfifo(path)
    return path


def _folder_model(t):
    path = t / "model.s2s"
    path.mkdir()
    return path


HOSTILE_MODELS = [
    pytest.param(lambda c, t: _nested_json(t), WeightsFileError,
                 "nests JSON more than 64 levels deep", id="21-nested-json"),
    pytest.param(lambda c, t: _patched_first_entry(c, t, flags=0x1), WeightsFileError,
                 "member 'estimator.json' is encrypted", id="21-zip-encryption-flag"),
    pytest.param(lambda c, t: _patched_first_entry(c, t, method=99), WeightsFileError,
                 "uses zip compression method 99", id="21-zip-compression-99"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_member=_forged_in_channels),
                 WeightsFileError, "does not fit the network its stored parameters describe: "
                 "tensor .* would have shape \\[\\d+, 4000000, ", id="21-forged-in-channels-4e6"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("params", "translator",
                                                                        "unet"),
                                       forge_members=True),
                 WeightsFileError, "its parameters name the translator 'unet' but its members "
                 "hold \\['aecnn'\\] translators", id="21-forged-translator-name"),
    pytest.param(lambda c, t: _rewrite(c, t, "a.s2s", edit_config=_set("state", "source", "DES"),
                                       forge_members=True),
                 WeightsFileError, "contradicts its parameters: source 'DES' in its fitted "
                 "state but 'SDSS' in its parameters", id="21-forged-source-named"),
    pytest.param(lambda c, t: _folder_model(t), WeightsFileError,
                 "estimator file .*model.s2s' is a directory, not a regular file",
                 id="21-model-path-is-a-folder"),
    pytest.param(lambda c, t: _fifo_model(t), WeightsFileError,
                 "is a FIFO \\(named pipe\\), not a regular file", id="21-model-path-is-a-fifo"),
    pytest.param(lambda c, t: os.fsencode(c.model_file), WeightsFileError,
                 "must be named by a str or os.PathLike path; got b'", id="21-model-bytes-path"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), HOSTILE_MODELS)
def test_hostile_models(ctx, tmp_path, build, expected, phrase):
    """Survey2Survey.load maps every archive problem to WeightsFileError, allocating nothing."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _check(Survey2Survey.load, (build(ctx, tmp_path),), {}, expected, phrase)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 500_000, f"loading grew the peak memory by {grown_kib} KiB"


def test_nan_weights_refused_at_load(ctx, tmp_path):
    """A translator file whose tensors hold NaN (hashes recomputed) is refused (#21)."""
    from safetensors.torch import load_file, save_file

    from survey2survey.translators._persistence import (
        METADATA_KEY,
        config_sha256,
        read_weights_file,
        weights_sha256,
    )

    member = ctx.model.translators_[0].save(tmp_path / "member.safetensors")
    config, _ = read_weights_file(member)
    tensors = load_file(member)
    name = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = float("nan")
    config["sha256"] = weights_sha256(tensors)
    config["config_sha256"] = config_sha256(config)
    save_file(tensors, member, metadata={METADATA_KEY: json.dumps(config)})
    _check(Translator.load, (member,), {}, WeightsFileError,
           f"holds 1 non-finite .* in tensor {name!r}")


def test_model_path_messages_in_transform_many(ctx, tmp_path):
    """A folder, FIFO or bytes path given as the model to transform_many says so (#21)."""
    folder = _folder_model(tmp_path)
    _check(transform_many, (folder, ctx.inputs), {"progress": False}, WeightsFileError,
           "is a directory, not a regular file")
    _check(transform_many, (_fifo(tmp_path), ctx.inputs), {"progress": False},
           WeightsFileError, "is a FIFO")
    _check(transform_many, (os.fsencode(ctx.model_file), ctx.inputs), {"progress": False},
           WeightsFileError, "must be named by a str or os.PathLike path")


@pytest.mark.parametrize("kind", ["folder", "fifo"], ids=["21-cli-model-folder",
                                                          "21-cli-model-fifo"])
def test_cli_model_path_is_not_a_file(ctx, tmp_path, capsys, kind):
    """``survey2survey transform FOLDER ...`` names the problem, one line (#21)."""
    model = _folder_model(tmp_path) if kind == "folder" else _fifo_model(tmp_path)
    status = main(["transform", str(model), str(ctx.inputs), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == EXIT_FAILED and "Traceback" not in err
    assert ("is a directory" if kind == "folder" else "is a FIFO") in err


# --- training divergence, thread-safe sampling --------------------------------------------

def _spoil_weights_at(epoch_to_spoil, factor):
    def callback(translator, epoch, logs):
        if epoch == epoch_to_spoil:
            with torch.no_grad():
                for parameter in translator.parameters():
                    parameter.mul_(factor)
    return callback


@pytest.mark.parametrize(("rate", "factor", "phrase", "kept"), [
    (1e-3, float("nan"), "at epoch 2 with learning_rate=0.001: non-finite loss",
     "keeps the weights of its best epoch \\(1"),
    (1e-3, 3.0, "at epoch 2 with learning_rate=0.001: the training loss exploded to .* times "
     "the first batch's", "keeps the weights of its best epoch \\(1"),
    (1e12, None, "at epoch 0 with learning_rate=1000000000000.0: the training loss exploded "
     "to .*e\\+25", "no epoch finished before it diverged"),
], ids=["21-divergence-nan", "21-divergence-exploding", "21-learning-rate-1e12"])
def test_training_divergence(rate, factor, phrase, kept):
    """Divergence stops training with the learning rate named; the best weights are kept."""
    x = torch.rand(8, 2, 24, 24, generator=torch.Generator().manual_seed(0))
    y = 0.5 * x
    before = x.clone()
    model = Translator.create("aecnn", in_channels=2, epochs=4, batch_size=4,
                              learning_rate=rate, linear_output=True)
    callbacks = [] if factor is None else [_spoil_weights_at(1, factor)]
    with pytest.raises(TranslatorError, match=f"training diverged {phrase}.*{kept}"):
        model.fit(x, y, validation=0, progress=False, callbacks=callbacks)
    if factor is not None:
        assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
        assert model.history.restored_epoch == 1
    assert torch.equal(x, before)


def test_seeded_mc_dropout_is_thread_safe():
    """Four threads sampling one network give the sequential, seeded result (#21)."""
    import threading

    model = Translator.create("aecnn", in_channels=2, dropout=0.3)
    x = torch.rand(3, 2, 24, 24, generator=torch.Generator().manual_seed(1))
    reference = model.predict_samples(x, 6, seed=5)
    results, errors = [], []

    def run():
        try:
            for _ in range(3):
                results.append(model.predict_samples(x, 6, seed=5))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 12
    assert all(torch.equal(r, reference) for r in results)
    assert float(reference.std(0).mean()) > 0  # the samples do differ


# --- uncertainties: NaN input sigma; all-zero input ----------------------------------------

@pytest.fixture(scope="module")
def calibrated(ctx):
    import copy

    model = copy.deepcopy(ctx.model)
    return model.calibrate_uncertainty(ctx.pairs[3:8], progress=False)


# --- Survey2Survey.sample and aperture_photometry (#19) -----------------------------------

def _aperture():
    from photutils.aperture import CircularAperture

    return CircularAperture((10.0, 10.0), r=3.0)


SAMPLING_CASES = [
    pytest.param(lambda c: ((c.source,), {"n_samples": 0}), InvalidOptionError, "n_samples",
                 id="19-zero-samples"),
    pytest.param(lambda c: ((c.source,), {"n_samples": 2.5}), InvalidOptionError, "n_samples",
                 id="19-fractional-samples"),
    pytest.param(lambda c: ((c.source,), {"seed": -1}), InvalidOptionError, "seed",
                 id="19-negative-seed"),
    pytest.param(lambda c: ((c.source,), {"noise": "yes"}), InvalidOptionError, "noise",
                 id="19-noise-not-bool"),
    pytest.param(lambda c: ((c.source,), {"n_samples": 2, "target_psf": 1.0}),
                 InvalidOptionError, "PSF-aware", id="19-target-psf-psf-blind"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), SAMPLING_CASES)
def test_sample(ctx, calibrated, build, expected, phrase):
    args, kwargs = build(ctx)
    _check(calibrated.sample, args, dict(kwargs, progress=False), expected, phrase)


APERTURE_CASES = [
    pytest.param(lambda c: ((c.source, [(10, 10)]), {}), InvalidOptionError,
                 "photutils aperture", id="19-not-an-aperture"),
    pytest.param(lambda c: ((c.source, "r=3"), {}), InvalidOptionError,
                 "photutils aperture", id="19-aperture-as-text"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), APERTURE_CASES)
def test_aperture_photometry(ctx, calibrated, build, expected, phrase):
    args, kwargs = build(ctx)
    _check(calibrated.aperture_photometry, args, dict(kwargs, progress=False), expected,
           phrase)


def test_sampling_an_uncalibrated_model_is_refused(ctx):
    """sample and aperture_photometry before calibrate_uncertainty: NotCalibratedError."""
    from survey2survey.exceptions import NotCalibratedError

    for call, args in ((ctx.model.sample, (ctx.source,)),
                       (ctx.model.aperture_photometry, (ctx.source, _aperture()))):
        _check(call, args, {"progress": False}, NotCalibratedError, "calibrate_uncertainty")


def test_unknown_input_noise_gives_unknown_aperture_errors(ctx, calibrated):
    """A NaN input sigma inside an aperture makes its error NaN, never a number (#19)."""
    from photutils.aperture import CircularAperture

    apertures = CircularAperture([(5.0, 4.0), (14.0, 14.0)], r=2.0)
    table = calibrated.aperture_photometry(_nan_sigma_at(ctx, 4, 5), apertures,
                                           progress=False)
    for band in BANDS:
        assert np.isnan(table[f"flux_err_{band}"][0])
        assert np.isfinite(table[f"flux_err_{band}"][1])


def _nan_sigma_at(c, y, x):
    sigma = np.full((SIZE, SIZE), 0.05)
    sigma[y, x] = np.nan
    return {b: _ccd(c, b, uncertainty=StdDevUncertainty(sigma.copy())) for b in BANDS}


def test_nan_input_sigma_gives_nan_output_sigma(ctx, calibrated):
    """An unknown (NaN) input sigma is never reported as an output sigma of 0 (#21)."""
    bands = _nan_sigma_at(ctx, 4, 5)

    def check(out):
        sigma = out.uncertainty_array
        assert np.isnan(sigma[:, 4, 5]).all()
        others = np.delete(sigma.reshape(len(BANDS), -1), 4 * SIZE + 5, axis=1)
        assert np.isfinite(others).all() and (others > 0).all()

    _check(calibrated.transform, (bands,), {"uncertainty": True, "progress": False}, check,
           None)


def test_all_zero_input(ctx):
    """All-zero input: the output's total flux is 0 (flux-conserving), its pixels are not."""
    zero = {b: _ccd(ctx, b, data=np.zeros((SIZE, SIZE))) for b in BANDS}
    out = ctx.model.transform(zero, progress=False)
    totals = out.data.reshape(len(BANDS), -1).sum(axis=1)
    scatter = float(np.abs(out.data).max())
    reference = float(np.abs(ctx.model.transform(ctx.source, progress=False).data).max())
    assert np.all(np.abs(totals) <= 1e-6 * reference * SIZE * SIZE)
    assert scatter < 0.5 * reference  # a pattern, small next to a galaxy's peak


# --- evaluate and the command line ---------------------------------------------------------

def test_evaluate_reports_files_missing_from_some_sets(ctx, tmp_path):
    """Files missing from some sets are named in a warning, not silently dropped (#21)."""
    import shutil

    from survey2survey.cli._evaluate import load_sets

    folder = shutil.copytree(ctx.pairs_dir, tmp_path / "data")
    victim = sorted((folder / "target").glob("*.fits"))[0]
    victim.unlink()
    before = _fingerprint(folder)
    with pytest.warns(AstropyUserWarning, match=f"set 'target' lacks 1 \\({victim.stem}\\)"):
        names, _, _ = load_sets(folder, ["source", "target"])
    assert victim.stem not in names and len(names) == 2
    assert _fingerprint(folder) == before


def test_cli_reads_upper_case_suffixes(ctx, tmp_path, capsys):
    """``X.FITS`` files in a folder are translated, not skipped with exit 0 (#21)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "C0.FITS").write_bytes((ctx.inputs / "c0.fits").read_bytes())
    (folder / "c1.Fits.GZ").write_bytes(gzip.compress((ctx.inputs / "c1.fits").read_bytes()))
    before = _fingerprint(folder)
    status = main(["transform", str(ctx.model_file), str(folder), "-o", str(tmp_path / "o")])
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["C0.fits", "c1.fits"]
    assert _fingerprint(folder) == before


# --- messages that name the real problem ---------------------------------------------------

def _cube_with_bands_card(c, value):
    data = np.stack([c.source["g"].data, c.source["r"].data, c.source["g"].data])
    header = c.source["g"].wcs.to_header()
    header["BANDS"] = value
    return fits.HDUList([fits.PrimaryHDU(data, header)])


def _with_peak(c, value):
    data = c.source.data.copy()
    data[:, 3, 3] = value
    return c.source.with_data(data)


def _tnx_header(c):
    header = c.source["g"].wcs.to_header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TNX", "DEC--TNX"
    header["WAT1_001"] = "wtype=tnx axtype=ra lngcor = \"3. 2. 2. 2. 0. 1. 0. 1. 0. 0.\""
    return (c.source["g"].data.copy(), header)


MESSAGES = [
    pytest.param(lambda c: (read_cutout, (_cube_with_bands_card(c, "g,g,i"),), {}),
                 BandMismatchError, "BANDS card is unusable: BANDS names band\\(s\\) \\['g'\\] "
                 "more than once", id="21-bands-card-repeats-a-band"),
    pytest.param(lambda c: (read_cutout, (_cube_with_bands_card(c, "g,r"),), {}),
                 BandMismatchError, "BANDS card 'g,r' names 2 band\\(s\\) for its 3 planes",
                 id="21-bands-card-too-short"),
    pytest.param(lambda c: (c.model.transform, (_with_peak(c, 3e38),), {"progress": False}),
                 InvalidDataError, "values up to 3e\\+38 .* overflow the network's float32",
                 id="21-values-3e38"),
    pytest.param(lambda c: (_fitter(tile_size=10), (c.pairs[:2],), _QUIET), InvalidOptionError,
                 "tile_size=10 is too small for this translator", id="21-tile-size-10"),
    pytest.param(lambda c: (_fitter(blend=10**6), (c.pairs[:2],), _QUIET), InvalidOptionError,
                 "blend=1000000 is too wide for tile_size=", id="21-blend-1e6"),
    pytest.param(lambda c: (_fitter(seed=2**70), (c.pairs[:2],), _QUIET), InvalidOptionError,
                 "seed must be an integer in \\[0, 9223372036854775807\\]; "
                 "got 1180591620717411303424",
                 id="21-seed-2-to-the-70"),
    pytest.param(lambda c: (Translator.create, ("aecnn",), {"seed": 2**70}), InvalidOptionError,
                 "seed must be an integer in", id="21-translator-seed-2-to-the-70"),
    pytest.param(lambda c: (read_cutout, (c.source.data.tolist(),), {"bands": "gr"}),
                 InputError, "is a nested list of numbers \\(pixel values without a WCS\\)",
                 id="21-nested-list-read-cutout"),
    pytest.param(lambda c: (c.model.transform, (c.source.data.tolist(),), {"progress": False}),
                 InputError, "input\\[0\\] is a nested list of numbers",
                 id="21-nested-list-transform"),
    pytest.param(lambda c: (read_cutout, (_tnx_header(c),), {"bands": "g"}), InvalidWCSError,
                 "has an IRAF TNX WCS .*convert it to TPV or SIP", id="21-tnx-wcs"),
]


@pytest.mark.parametrize(("build", "expected", "phrase"), MESSAGES)
@pytest.mark.filterwarnings("ignore:.*outside the range of the training data")
def test_messages_name_the_problem(ctx, build, expected, phrase):
    """The message says what is wrong, not a consequence of it (#21)."""
    call, args, kwargs = build(ctx)
    _check(call, args, kwargs, expected, phrase)
