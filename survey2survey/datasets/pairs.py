# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Simulated pairs of cutouts of the same sky seen by two surveys (SDSS -> DES by default).

`make_survey_pairs` draws one random `~survey2survey.datasets.Scene` per pair and renders
it with each survey's pixel grid, PSF, noise and flux unit; `SurveyPairs` holds the
result.
"""

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty
from astropy.wcs import WCS

from ..exceptions import InputError
from ..io import Cutout
from ..surveys import get_survey
from ..utils._progress import progress_bar
from ..utils._validation import check_choice, check_int, check_number, parse_bands
from ..utils._wcs import wcs_to_header
from .render import make_wcs, render_scene
from .scenes import SEEING_SIGMA, SPLITS, draw_scene, draw_seeing

__all__ = ["SurveyPair", "SurveyPairs", "make_survey_pairs", "TARGET_GRIDS"]

TARGET_GRIDS = ("native", "source")
"""Where the target survey is rendered: its own native grid, or the source cutout's grid."""

_ORIENTATIONS = ("north", "random")


@dataclass(frozen=True, eq=False)
class SurveyPair:
    """
    One simulated (or loaded) pair: the same sky seen by a source and a target survey.

    Attributes
    ----------
    name : str
        File stem used by `~survey2survey.datasets.save_pairs`.
    source : `~survey2survey.io.Cutout`
        The source-survey cutout (noisy).
    target : `~survey2survey.io.Cutout` or None
        The target-survey cutout (noisy); `None` for the external split.
    source_truth, target_truth : `~survey2survey.io.Cutout` or None
        Noise-free versions on the same grids (`None` when unknown, e.g. real data).
    catalog : `~astropy.table.Table` or None
        The objects rendered (see `~survey2survey.datasets.Scene.to_table`).
    """

    name: str
    source: Cutout
    target: Cutout = None
    source_truth: Cutout = None
    target_truth: Cutout = None
    catalog: object = None

    def __repr__(self):
        target = "no target" if self.target is None else repr(self.target)
        return f"<SurveyPair {self.name}: {self.source!r} -> {target}>"


class SurveyPairs(Sequence):
    """
    An ordered, immutable collection of `SurveyPair` objects.

    Supports ``len``, indexing (an integer gives a `SurveyPair`, a slice a new
    `SurveyPairs`) and iteration.

    Parameters
    ----------
    pairs : iterable of `SurveyPair`
        The pairs.
    meta : dict, optional
        How the collection was made (surveys, bands, seed, split, target grid).
    """

    def __init__(self, pairs, *, meta=None):
        self._pairs = tuple(pairs)
        for pair in self._pairs:
            if not isinstance(pair, SurveyPair):
                msg = f"SurveyPairs holds SurveyPair objects, got {type(pair).__name__}"
                raise InputError(msg)
        self.meta = dict(meta or {})

    def __len__(self):
        return len(self._pairs)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return SurveyPairs(self._pairs[index], meta=self.meta)
        return self._pairs[index]

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in self.meta.items())
        return f"<SurveyPairs: {len(self)} pair(s){'; ' + items if items else ''}>"

    @property
    def names(self):
        """The pairs' names."""
        return [p.name for p in self._pairs]

    @property
    def sources(self):
        """The source cutouts, a list."""
        return [p.source for p in self._pairs]

    @property
    def targets(self):
        """The target cutouts, a list (`None` entries for pairs without a target)."""
        return [p.target for p in self._pairs]

    @property
    def source_truths(self):
        """The noise-free source cutouts, a list (`None` where unknown)."""
        return [p.source_truth for p in self._pairs]

    @property
    def target_truths(self):
        """The noise-free target cutouts, a list (`None` where unknown)."""
        return [p.target_truth for p in self._pairs]

    @property
    def catalogs(self):
        """The truth catalogues, a list (`None` where unknown)."""
        return [p.catalog for p in self._pairs]


def _cutout(rendered, wcs, meta, *, truth):
    """A Cutout from render_scene's output (truth: the noise-free images, no uncertainty)."""
    bands = {}
    for band, result in rendered.items():
        bands[band] = CCDData(
            result.truth if truth else result.image,
            unit=meta["_unit"], wcs=wcs.deepcopy(),
            uncertainty=None if truth or result.sigma is None else StdDevUncertainty(result.sigma),
            meta=result.header.copy() if not truth else _truth_header(result.header),
        )
    header = fits.Header()
    for key, value in meta.items():
        if not key.startswith("_"):
            header[key] = value
    header["TRUTH"] = (bool(truth), "noise-free image")
    return Cutout(bands, meta=header)


def _truth_header(header):
    header = header.copy()
    header["SKYSIG"] = 0.0
    header["SEED"] = -1
    return header


def _split_code(split):
    return SPLITS.index(split)


def _render_pair(task):
    """
    Render pair ``index`` of a set (runs in a worker process).

    Returns plain, cheaply pickled parts (arrays, headers, the WCS as a header
    string); `_assemble` turns them into a `SurveyPair` in the calling process.
    """
    (index, seed, split, source, target, bands, source_size, target_size, target_grid,
     orientation, psf_mode, seeing_spread, central_mag) = task
    ss = np.random.SeedSequence(seed, spawn_key=(_split_code(split), index))
    rng = np.random.default_rng(ss)
    field = source_size * source.pixel_scale.value
    scene = draw_scene(rng, bands, split=split, field=field, central_mag=central_mag)
    seeing = (draw_seeing(rng, split=split, sigma=seeing_spread),
              draw_seeing(rng, split=split, sigma=seeing_spread))
    angles = rng.uniform(0.0, 360.0, size=2)
    if orientation == "north":
        angles[:] = 0.0
    noise_seeds = rng.integers(1, 2**31 - 1, size=(2, len(bands)))
    # drawn after everything else, so nominal sets stay what they were
    realism = draw_psf_realism(rng, source, len(bands)) if psf_mode == "realistic" else None
    name = f"s{seed}_{split}_{index:06d}"
    common = dict(SEED=(seed, "master seed of the simulated set"),
                  PAIRIDX=(index, "index of the pair in the set"),
                  SPLIT=(split, "train or external"), OBJECT=name,
                  SIMULATD=(True, "simulated with survey2survey.datasets"))
    shape = (source_size, source_size)
    wcs = make_wcs(scene.ra, scene.dec, source.pixel_scale, shape, rotation=angles[0])
    rendered = render_scene(scene, source, wcs, shape, bands=bands, seeing=seeing[0],
                            seeds=noise_seeds[0],
                            psf_beta=None if realism is None else realism["beta"],
                            psf_shear=None if realism is None else realism["shear"])
    if realism is not None:
        _blur_psf_knowledge(rendered, realism)
    elif psf_mode == "exact":
        for band in rendered.values():
            band.header["PSFEXACT"] = (True, "PSF profile known exactly (simulation)")
    meta = dict(SURVEY=source.name, GRID="native", _unit=source.flux_unit, **common)
    parts = {"source": (wcs_to_header(wcs).tostring(), rendered, meta)}
    if split == "train":
        if target_grid == "source":
            tgt_shape, tgt_wcs = shape, wcs
        else:
            tgt_shape = (target_size, target_size)
            tgt_wcs = make_wcs(scene.ra, scene.dec, target.pixel_scale, tgt_shape,
                               rotation=angles[1])
        rendered = render_scene(scene, target, tgt_wcs, tgt_shape, bands=bands,
                                seeing=seeing[1], seeds=noise_seeds[1])
        meta = dict(SURVEY=target.name, GRID=target_grid, _unit=target.flux_unit, **common)
        parts["target"] = (wcs_to_header(tgt_wcs).tostring(), rendered, meta)
    return name, scene.to_table(), parts


def draw_psf_realism(rng, survey, n_bands):
    """Per-cutout PSF shape and knowledge errors of ``psf='realistic'`` (`make_survey_pairs`)."""
    beta = float(rng.uniform(*_REALISTIC_BETA)) if survey.psf_model == "moffat" else None
    return {"beta": beta,
            "shear": tuple(float(v) for v in rng.normal(0.0, _REALISTIC_SHEAR, size=2)),
            "fwhm_error": rng.normal(0.0, _REALISTIC_FWHM_ERROR, size=n_bands),
            "missing": bool(rng.uniform() < _REALISTIC_MISSING)}


def _blur_psf_knowledge(rendered, realism):
    """Write what a user would know of each source band's PSF into its header."""
    for k, band in enumerate(rendered.values()):
        header = band.header
        header["PSFFWHMT"] = (header["PSFFWHM"], "[arcsec] true PSF FWHM (simulation)")
        if "PSFBETA" in header:
            header["PSFBETAT"] = (header["PSFBETA"], "true Moffat beta (simulation)")
        if realism["missing"]:
            for key in ("PSFFWHM", "PSFBETA", "PSFMODEL"):
                header.remove(key, ignore_missing=True)
            continue
        header["PSFFWHM"] = round(header["PSFFWHM"] * (1.0 + realism["fwhm_error"][k]), 5)
        if "PSFBETA" in header:
            header["PSFBETA"] = _NOMINAL_BETA


def _assemble(name, catalog, parts):
    """Build the `SurveyPair` from `_render_pair`'s output."""
    cutouts = {}
    for role, (wcs_string, rendered, meta) in parts.items():
        wcs = WCS(fits.Header.fromstring(wcs_string))
        shape = next(iter(rendered.values())).image.shape
        wcs.pixel_shape = shape[::-1]
        cutouts[role] = _cutout(rendered, wcs, meta, truth=False)
        cutouts[f"{role}_truth"] = _cutout(rendered, wcs, meta, truth=True)
    return SurveyPair(name=name, catalog=catalog, **cutouts)


def _simulate_pair(task):
    """Render and assemble one pair in this process."""
    return _assemble(*_render_pair(task))


#: ``psf='realistic'``: Moffat index range, shear spread, FWHM-card error, fraction without cards
_REALISTIC_BETA, _REALISTIC_SHEAR, _REALISTIC_FWHM_ERROR, _REALISTIC_MISSING = (
    (2.5, 5.0), 0.03, 0.05, 0.10)
_NOMINAL_BETA = 3.0
PSF_MODES = ("nominal", "realistic", "exact")


def _check_size(value, name):
    return check_int(value, name, minimum=8)


def make_survey_pairs(n, source="sdss", target="des", bands="gri", seed=0, *, split="train",
                      target_grid="native", source_size=None, target_size=None,
                      orientation="north", psf="nominal", seeing_spread=None,
                      central_mag=None, processes=None, progress=None):
    """
    Simulate ``n`` pairs of cutouts of the same galaxies seen by two surveys.

    Each pair renders one random scene (`~survey2survey.datasets.draw_scene`: a
    bulge + disk central galaxy with star-forming knots, ~2 neighbours, ~1
    star) with GalSim, once per survey: each survey's pixel scale, cutout size,
    PSF (model and per-band FWHM times one lognormal seeing factor per cutout),
    sky and source Poisson noise, and calibrated flux unit (SDSS nanomaggies,
    DES counts at zero point 30), on a TAN WCS centred on a random sky position.

    Parameters
    ----------
    n : int
        Number of pairs.
    source, target : str or `~survey2survey.surveys.Survey`, optional
        The two surveys (names are looked up with `~survey2survey.surveys.get_survey`).
    bands : str or sequence of str, optional
        Bands, which both surveys must have.
    seed : int, optional
        Master seed. Pair ``k`` depends only on ``(seed, split, k)``: the same
        seed gives identical pairs whatever ``processes`` is, and the first
        ``m`` pairs of a set of ``n`` are the set of ``m``.
    split : {'train', 'external'}, optional
        ``'external'``: fainter central galaxies (r 16.5-19.5) under 25% worse
        seeing, with no target (``pair.target is None``), like the paper's
        galaxies outside the survey overlap.
    target_grid : {'native', 'source'}, optional
        Render the target on its own native grid and size (to be aligned with
        `survey2survey.alignment.align`), or directly on the source cutout's
        grid (target PSF, noise and flux unit; no resampling).
    source_size, target_size : int, optional
        Cutout sides in pixels. Default: the surveys' ``cutout_size`` (150 and
        228 for SDSS and DES); if only ``source_size`` is given, the target
        covers the same sky area.
    orientation : {'north', 'random'}, optional
        North up / East left, or a random rotation for each cutout.
    psf : {'nominal', 'exact', 'realistic'}, optional
        ``'nominal'``: every PSF has its survey's profile (SDSS Moffat beta 3,
        DES Kolmogorov) and the headers state it exactly; ``'exact'``: the same
        with ``PSFEXACT = T`` in the source headers, which tells PSF-aware
        translators to trust them. ``'realistic'``, as
        PSF knowledge is in real data: each source cutout's PSF has its own
        Moffat index (uniform 2.5-5) and a small ellipticity (each shear
        component N(0, 0.03)); its ``PSFFWHM`` card is off by a factor 1 + 0.05
        N(0, 1), ``PSFBETA`` states the survey's 3.0, and 10% of source
        cutouts carry no PSF card at all. The true values are in the
        ``PSFFWHMT``/``PSFBETAT`` cards. Targets keep exact cards.
    seeing_spread : float, optional
        Lognormal spread of the seeing factor of each cutout (default 0.10);
        PSF-aware translators are trained with a wide one (0.2).
    central_mag : tuple of float, optional
        The r-magnitude range of the central galaxies instead of the split's
        (15-18.5 for training pairs), e.g. ``(19.5, 22.5)`` to test faint ones.
    processes : int, optional
        Worker processes (default: ``os.cpu_count()``; 1 renders in this process).
    progress : bool, optional
        Show a tqdm progress bar (default: ``survey2survey.conf.show_progress``).

    Returns
    -------
    pairs : `~survey2survey.datasets.SurveyPairs`

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If ``n``, ``seed``, a size, ``split``, ``target_grid``, ``orientation`` or
        ``processes`` is invalid.
    survey2survey.exceptions.UnknownSurveyError
        If a survey name is unknown.
    survey2survey.exceptions.BandMismatchError
        If a band is missing from either survey.
    survey2survey.exceptions.MissingDependencyError
        If GalSim is not installed (``pip install "survey2survey[sim]"``).

    Examples
    --------
    >>> from survey2survey.datasets import make_survey_pairs
    >>> pairs = make_survey_pairs(2, bands='r', source_size=32, processes=1, progress=False)
    >>> pair = pairs[0]
    >>> pair.source.shape, pair.target.shape, pair.source.unit, pair.target.unit
    ((32, 32), (48, 48), Unit("nmgy"), Unit("ct"))
    >>> pair.source['r'].meta['PSFMODEL'], pair.target['r'].meta['PSFMODEL']
    ('moffat', 'kolmogorov')
    """
    from .render import import_galsim

    import_galsim()
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    check_choice(split, SPLITS, "split")
    check_choice(target_grid, TARGET_GRIDS, "target_grid")
    check_choice(orientation, _ORIENTATIONS, "orientation")
    source, target = get_survey(source), get_survey(target)
    bands = target.check_bands(source.check_bands(parse_bands(bands)))
    ratio = source.pixel_scale.value / target.pixel_scale.value
    if source_size is None and target_size is None:
        source_size, target_size = source.cutout_size, target.cutout_size
    elif target_size is None:
        target_size = max(int(round(_check_size(source_size, "source_size") * ratio)), 8)
    elif source_size is None:
        source_size = max(int(round(_check_size(target_size, "target_size") / ratio)), 8)
    source_size = _check_size(source_size, "source_size")
    target_size = _check_size(target_size, "target_size")
    if processes is None:
        processes = os.cpu_count() or 1
    processes = check_int(processes, "processes", minimum=1)
    processes = min(int(processes), n)
    check_choice(psf, PSF_MODES, "psf")
    seeing_spread = check_number(SEEING_SIGMA if seeing_spread is None else seeing_spread,
                                 "seeing_spread", minimum=0, maximum=1)
    if central_mag is not None:
        central_mag = tuple(check_number(m, "central_mag", minimum=5, maximum=30)
                            for m in central_mag)
        if len(central_mag) != 2:
            msg = f"central_mag must be (faintest, brightest) r magnitudes, got {central_mag}"
            raise InputError(msg)
    tasks = [(k, int(seed), split, source, target, bands, source_size, target_size,
              target_grid, orientation, psf, seeing_spread, central_mag) for k in range(n)]
    bar = progress_bar(total=n, progress=progress, unit="pair",
                       desc=f"simulating {source.name}->{target.name} pairs")
    results = []
    try:
        if processes == 1:
            for task in tasks:
                results.append(_simulate_pair(task))
                bar.update()
        else:
            chunksize = max(1, min(16, n // (4 * processes)))
            with ProcessPoolExecutor(max_workers=processes) as pool:
                for parts in pool.map(_render_pair, tasks, chunksize=chunksize):
                    results.append(_assemble(*parts))
                    bar.update()
    finally:
        bar.close()
    meta = dict(source=source.name, target=target.name, bands="".join(bands), seed=int(seed),
                split=split, target_grid=target_grid)
    return SurveyPairs(results, meta=meta)
