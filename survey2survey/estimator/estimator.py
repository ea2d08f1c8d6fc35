# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`Survey2Survey`: fit a translator on survey pairs, then translate cutouts with WCS and flux intact.
"""

import inspect
import json
import logging
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.nddata import CCDData, NDData, StdDevUncertainty
from astropy.utils.exceptions import AstropyUserWarning

from .._progress import progress_bar
from ..exceptions import (
    AlignmentError,
    ImageTooSmallError,
    InputError,
    InvalidDataError,
    NotFittedError,
    ShapeMismatchError,
    TrainingDataError,
    WeightsFileError,
)
from ..io import Cutout, atomic_write, read_cutout, write_cutout
from ..io._wcs import same_wcs
from ..surveys import get_survey
from . import _inputs
from .normalization import AsinhNormalizer
from .paper import (
    PAPER_Q,
    PAPER_STRETCH,
    average_layer,
    composite_to_array,
    lupton_composite,
    to_nanomaggies,
)
from .provenance import provenance_header
from .tiling import tile_apply

__all__ = ["Survey2Survey"]

log = logging.getLogger(__name__)

FILE_FORMAT = "survey2survey-estimator"
FILE_FORMAT_VERSION = 1
_CONFIG_MEMBER = "estimator.json"
_MAX_CONFIG_BYTES = 10_000_000

# Header cards describing the *input* survey's calibration, dropped from translated output.
_SURVEY_KEYS = ("SURVEY", "MAGZERO", "MAGZP", "ZEROPT", "PHOTZP", "FLUXMAG0", "BUNIT", "PSF",
                "PSFMODEL", "PSFFWHM", "PSFBETA", "FWHM", "SEEING", "SKYLEVEL", "SKY", "SKYSIG",
                "SKYNOISE", "NOISE", "NOISESIG", "GAIN", "PIXSCALE", "TRUTH", "NOISELESS")
_MODES = ("flux", "paper")
_GRIDS = ("source", "target")


class Survey2Survey:
    """
    Translate calibrated cutouts of one survey into the look of another.

    The estimator wraps a `~survey2survey.translators.Translator` with
    everything between FITS files and the network: alignment of the training
    pairs (the target onto the source grid), units (source survey flux in,
    target survey flux and zero point out), an invertible per-band asinh
    normalisation fitted on the training data, in-painting of masked pixels,
    tiling of large fields, the input WCS kept exactly, optional model
    uncertainty and provenance header cards.

    Parameters
    ----------
    translator : str or `~survey2survey.translators.Translator`, optional
        Registered translator name (``'aecnn'``, ``'cyclegan'``, ``'unet'``...) or
        an instance (then ``translator_params`` must be empty and ``n_ensemble`` 1).
    source, target : str or `~survey2survey.surveys.Survey`, optional
        The surveys translated from and to.
    bands : str or sequence of str, optional
        The bands used, in channel order; each must exist in both surveys.
    mode : {'flux', 'paper'}, optional
        ``'flux'`` (default): calibrated float images in and out through the
        asinh normalisation. ``'paper'``: the paper's pipeline, with Lupton RGB
        8-bit composites in and 8-bit composites out (3 bands only; the output
        is dimensionless 0-255, see `survey2survey.estimator.average_layer`).
    output_grid : {'source', 'target'}, optional
        ``'source'`` keeps the input's pixel grid and WCS exactly; ``'target'``
        resamples the output onto the target survey's pixel scale
        (`survey2survey.alignment.regrid`, flux-conserving).
    n_ensemble : int, optional
        Number of translators fitted with different seeds; their spread gives
        the uncertainty of ``transform(..., uncertainty=True)`` and their mean
        the output. With 1, the uncertainty comes from MC dropout.
    seed : int, optional
        Seed of the (first) translator; member ``k`` uses ``seed + k``.
    tile_size : int, optional
        Largest image side translated in one piece; larger fields are tiled
        (default: ``max(256, training size)``).
    overlap, blend : int, optional
        Tile overlap and cross-fade width in pixels (defaults ``tile_size // 4``
        and ``overlap // 2``), see `survey2survey.estimator.tile_apply`.
    align_method : str, optional
        Resampling method of `survey2survey.alignment.align` for training pairs.
    min_coverage : float, optional
        Pairs whose aligned target covers less of the source grid are rejected.
    max_masked_fraction : float, optional
        Pairs with more masked pixels than this (in any band) are rejected.
    normalizer : dict, optional
        Keyword arguments of `~survey2survey.estimator.AsinhNormalizer`
        (``beta_factor``, ``percentiles``, ``margin``).
    paper_stretch, paper_q : float, optional
        Lupton stretch (in nanomaggies) and softening of the paper-mode composites.
    precision : {'fp32', 'auto', 'bf16', 'fp16'}, optional
        Inference precision passed to the translator's ``predict``. ``'fp32'``
        (default) keeps calibrated fluxes exact to float32; ``'auto'`` is faster
        on GPUs but rounds the network output to about 3 significant digits.
    **translator_params
        Passed to the translator (e.g. ``epochs=3, batch_size=8``).

    Attributes
    ----------
    translators_ : list of `~survey2survey.translators.Translator`
        The fitted translator(s).
    source_normalizer_, target_normalizer_ : `~survey2survey.estimator.AsinhNormalizer`
        The fitted stretches (flux mode).
    n_rejected_ : int
        Number of training pairs rejected by the last `fit`.
    rejected_ : list of (int, str)
        Index and reason of each rejected pair.
    history_ : list
        The training history of each translator.

    Examples
    --------
    >>> from survey2survey import Survey2Survey
    >>> s2s = Survey2Survey("aecnn", source="sdss", target="des", bands="gri", epochs=2)
    >>> s2s
    <Survey2Survey aecnn SDSS->DES bands='gri' mode='flux' (not fitted)>
    """

    def __init__(self, translator="aecnn", *, source="sdss", target="des", bands="gri",
                 mode="flux", output_grid="source", n_ensemble=1, seed=0, tile_size=None,
                 overlap=None, blend=None, align_method="adaptive", min_coverage=0.9,
                 max_masked_fraction=0.5, normalizer=None, paper_stretch=PAPER_STRETCH,
                 paper_q=PAPER_Q, precision="fp32", **translator_params):
        self.source = get_survey(source)
        self.target = get_survey(target)
        bands = tuple(bands) if not isinstance(bands, str) else tuple(
            bands if "," not in bands else [b.strip() for b in bands.split(",")])
        self.bands = self.target.check_bands(self.source.check_bands(bands))
        if mode not in _MODES:
            msg = f"mode must be one of {_MODES}, got {mode!r}"
            raise ValueError(msg)
        if mode == "paper" and len(self.bands) != 3:
            msg = f"mode='paper' makes RGB composites and needs 3 bands, got {list(self.bands)}"
            raise ValueError(msg)
        if output_grid not in _GRIDS:
            msg = f"output_grid must be one of {_GRIDS}, got {output_grid!r}"
            raise ValueError(msg)
        if mode == "paper" and output_grid == "target":
            msg = ("mode='paper' produces 8-bit composites, which cannot be resampled "
                   "flux-conservingly: use output_grid='source'")
            raise ValueError(msg)
        n_ensemble = int(n_ensemble)
        if n_ensemble < 1:
            msg = f"n_ensemble must be at least 1, got {n_ensemble}"
            raise ValueError(msg)
        self.mode = mode
        self.output_grid = output_grid
        self.n_ensemble = n_ensemble
        self.seed = int(seed)
        self.tile_size = None if tile_size is None else int(tile_size)
        self.overlap = None if overlap is None else int(overlap)
        self.blend = None if blend is None else int(blend)
        self.align_method = align_method
        self.min_coverage = float(min_coverage)
        self.max_masked_fraction = float(max_masked_fraction)
        self.normalizer = dict(normalizer or {})
        AsinhNormalizer(self.bands, **self.normalizer)  # validate early
        self.paper_stretch = float(paper_stretch)
        self.paper_q = float(paper_q)
        self.precision = str(precision)

        from ..translators import Translator

        if isinstance(translator, Translator):
            if translator_params or n_ensemble != 1:
                msg = ("pass translator parameters and n_ensemble only with a translator name, "
                       "not with a Translator instance")
                raise ValueError(msg)
            self.translator_name = translator.name
            self.translator_params = dict(translator.params)
            self.translators_ = [translator]
        else:
            self.translator_name = str(translator)
            self.translator_params = dict(translator_params)
            self.translators_ = [self._create_translator(k) for k in range(n_ensemble)]
        self.source_normalizer_ = None
        self.target_normalizer_ = None
        self.training_shape_ = None
        self.n_rejected_ = 0
        self.rejected_ = []
        self.history_ = []
        self._fitted = False

    # ------------------------------------------------------------------------------
    def _create_translator(self, k):
        from ..translators import Translator

        params = dict(self.translator_params)
        accepted, open_kwargs = _accepted_params(self.translator_name)
        n_channels = len(self.bands)
        if "bands" in accepted:
            params.setdefault("bands", n_channels)
        elif "in_channels" in accepted or open_kwargs:
            params.setdefault("in_channels", n_channels)
        if "seed" in accepted or open_kwargs:
            params["seed"] = int(params.get("seed", self.seed)) + k
        return Translator.create(self.translator_name, **params)

    def __repr__(self):
        state = "fitted" if self._fitted else "not fitted"
        ens = f" x{self.n_ensemble}" if self.n_ensemble > 1 else ""
        return (f"<Survey2Survey {self.translator_name}{ens} {self.source.name}->"
                f"{self.target.name} bands={''.join(self.bands)!r} mode={self.mode!r} ({state})>")

    @property
    def translator(self):
        """The (first) translator."""
        return self.translators_[0]

    @property
    def fitted(self):
        """Whether `fit` has run (or a fitted estimator was loaded)."""
        return self._fitted

    @property
    def min_size(self):
        """Smallest image side the translator accepts, in pixels."""
        return int(getattr(self.translator, "min_size", 1) or 1)

    def _require_fitted(self):
        if not self._fitted:
            msg = (f"this Survey2Survey estimator ({self.translator_name}) is not fitted yet: "
                   f"call fit() first or load a saved one with Survey2Survey.load()")
            raise NotFittedError(msg)

    # ------------------------------------------------------------------------------
    # Input handling
    def _read(self, items, survey, what):
        cutouts = []
        for k, item in enumerate(items):
            name = f"{what}[{k}]" if len(items) > 1 else what
            if isinstance(item, (str, os.PathLike)):
                name = f"{what} {os.fspath(item)!r}"
            cutouts.append(read_cutout(item, self.bands, what=name))
        return _inputs.to_survey_unit(cutouts, survey, what)

    def _pair_lists(self, source, target):
        """Source and target input lists from any of the accepted training inputs."""
        if target is None:
            if _inputs.is_pairs_directory(source):
                from ..datasets import load_pairs

                source = load_pairs(source)
            if _inputs.is_pairs(source):
                pairs = list(source)
                target = [p.target for p in pairs]
                source = [p.source for p in pairs]
                if any(t is None for t in target):
                    msg = ("the pairs given have no target cutouts (an 'external' split?); "
                           "fit needs target-survey images")
                    raise TrainingDataError(msg)
                return source, target
            msg = ("fit needs target cutouts: pass target=, a pairs directory "
                   "(survey2survey.datasets.save_pairs layout) or a SurveyPairs sequence")
            raise TrainingDataError(msg)
        return _inputs.as_list(source, "source"), _inputs.as_list(target, "target")

    def _align_pairs(self, sources, targets):
        """Aligned (source, target) flux stacks; rejected pairs are logged and counted."""
        from ..alignment import align

        rejected = []
        kept = []
        for k, (src, tgt) in enumerate(zip(sources, targets, strict=True)):
            reason = None
            try:
                if src.shape == tgt.shape and same_wcs(src.wcs, tgt.wcs, shape=src.shape,
                                                       tolerance=1e-3):
                    aligned = tgt
                else:
                    aligned = align(tgt, src, method=self.align_method, conserve_flux=True,
                                    min_coverage=self.min_coverage)
            except (AlignmentError, InvalidDataError, ShapeMismatchError) as exc:
                reason = f"alignment failed: {exc}"
            if reason is None:
                reason = self._mask_reason(src, "source") or self._mask_reason(aligned, "target")
            if reason is not None:
                rejected.append((k, reason))
                continue
            kept.append((src, aligned))
        return kept, rejected

    def _mask_reason(self, cutout, role):
        fractions = cutout.mask.reshape(len(cutout), -1).mean(axis=1)
        worst = int(np.argmax(fractions))
        if fractions[worst] > self.max_masked_fraction:
            return (f"{role} band {cutout.bands[worst]!r} is {100 * fractions[worst]:.0f}% "
                    f"masked (max_masked_fraction={self.max_masked_fraction})")
        return None

    def _stack(self, cutouts, shape):
        data = np.stack([_inputs.inpaint(_inputs.center_crop(c.data, shape),
                                         _inputs.center_crop(c.mask, shape)) for c in cutouts])
        mask = np.stack([_inputs.center_crop(c.mask, shape) for c in cutouts])
        return data, mask

    def _report_rejections(self, rejected, total):
        self.rejected_ = list(rejected)
        self.n_rejected_ = len(rejected)
        for index, reason in rejected:
            log.warning("training pair %d rejected: %s", index, reason)
        if rejected:
            msg = (f"{len(rejected)} of {total} training pair(s) rejected (see the "
                   f"estimator's rejected_ attribute): {rejected[0][1]}"
                   + (" ..." if len(rejected) > 1 else ""))
            warnings.warn(msg, AstropyUserWarning, stacklevel=3)

    def _network_input(self, flux, survey, role):
        """Network input ``(..., C, H, W)`` float32 from ``role`` ('source'/'target') fluxes."""
        if self.mode == "paper":
            nmgy = to_nanomaggies(flux, survey, self.bands)
            flat = nmgy.reshape((-1,) + nmgy.shape[-3:])
            rgb = np.stack([lupton_composite(img, stretch=self.paper_stretch, Q=self.paper_q)
                            for img in flat])
            return composite_to_array(rgb).reshape(flux.shape)
        # chosen by role, not by survey: source and target may be the same Survey object
        normalizer = self.source_normalizer_ if role == "source" else self.target_normalizer_
        return normalizer.transform(flux).astype(np.float32)

    # ------------------------------------------------------------------------------
    def fit(self, source, target=None, *, validation=0.1, epochs=None, progress=None,
            callbacks=(), checkpoint_dir=None, resume=False):
        """
        Fit the normalisation and the translator(s) on source/target pairs.

        Parameters
        ----------
        source : list, directory, `~survey2survey.datasets.SurveyPairs` or cutout
            Source-survey cutouts: a list of anything
            `~survey2survey.io.read_cutout` reads (FITS paths, `~astropy.nddata.CCDData`
            for single-band models, `~survey2survey.io.Cutout`, HDU lists...), a
            directory of FITS files, or — with ``target`` omitted — a pairs
            directory in the `~survey2survey.datasets.save_pairs` layout or a
            `~survey2survey.datasets.SurveyPairs` sequence.
        target : list or directory, optional
            Target-survey cutouts of the same objects, in the same order (any
            grid: each is aligned onto its source's grid). For unpaired
            translators (CycleGAN) the lists may differ in length and are not aligned.
        validation : float, optional
            Fraction of pairs held out for the validation loss.
        epochs : int, optional
            Override the translator's number of epochs.
        progress : bool, optional
            Show progress bars (default ``survey2survey.conf.show_progress``).
        callbacks : sequence, optional
            Passed to the translator's ``fit``.
        checkpoint_dir : str or path, optional
            Where the translator writes checkpoints (one sub-directory per ensemble member).
        resume : bool, optional
            Continue from the last checkpoint in ``checkpoint_dir``.

        Returns
        -------
        self : `Survey2Survey`

        Raises
        ------
        survey2survey.exceptions.TrainingDataError
            If no target is given or every pair is rejected.
        survey2survey.exceptions.InputError
            If an input cannot be read (no WCS, wrong bands, incompatible unit...).

        Warns
        -----
        `~astropy.utils.exceptions.AstropyUserWarning`
            When pairs are rejected (each reason is logged; the count is in
            ``n_rejected_``) or inputs carry no unit.
        """
        source_items, target_items = self._pair_lists(source, target)
        paired = bool(getattr(self.translator, "paired", True))
        if paired and len(source_items) != len(target_items):
            msg = (f"got {len(source_items)} source and {len(target_items)} target cutouts; "
                   f"the {self.translator_name} translator trains on pairs of the same objects")
            raise TrainingDataError(msg)
        sources = self._read(source_items, self.source, "source")
        targets = self._read(target_items, self.target, "target")

        if paired:
            kept, rejected = self._align_pairs(sources, targets)
            self._report_rejections(rejected, len(sources))
            sources = [s for s, _ in kept]
            targets = [t for _, t in kept]
        else:
            sources, targets = self._unpaired(sources, targets)
        if not sources or not targets:
            msg = (f"no usable training pair left ({self.n_rejected_} rejected); first reason: "
                   f"{self.rejected_[0][1] if self.rejected_ else 'none'}")
            raise TrainingDataError(msg)

        shapes = [c.shape for c in sources + targets]
        shape = (min(s[0] for s in shapes), min(s[1] for s in shapes))
        if min(shape) < self.min_size:
            msg = (f"training cutouts of {shape[0]}x{shape[1]} pixels are smaller than the "
                   f"{self.translator_name} translator's minimum size {self.min_size}")
            raise ImageTooSmallError(msg)
        x_flux, x_mask = self._stack(sources, shape)
        y_flux, y_mask = self._stack(targets, shape)
        # a fit that fails part-way must not leave new normalisers beside old weights
        self._fitted = False
        if self.mode == "flux":
            self.source_normalizer_ = AsinhNormalizer(self.bands, **self.normalizer).fit(
                x_flux, mask=x_mask)
            self.target_normalizer_ = AsinhNormalizer(self.bands, **self.normalizer).fit(
                y_flux, mask=y_mask)
        x = self._network_input(x_flux, self.source, "source")
        y = self._network_input(y_flux, self.target, "target")

        self.history_ = []
        for k, translator in enumerate(self.translators_):
            kwargs = dict(validation=validation, epochs=epochs, progress=progress,
                          callbacks=callbacks, resume=resume)
            if checkpoint_dir is not None:
                kwargs["checkpoint_dir"] = (Path(checkpoint_dir) / f"member{k}"
                                            if self.n_ensemble > 1 else Path(checkpoint_dir))
            self.history_.append(translator.fit(x, y, **kwargs))
        self.training_shape_ = tuple(int(v) for v in shape)
        self._hashes = None
        self._fitted = True
        return self

    def _unpaired(self, sources, targets):
        """Unpaired training sets: targets put on the source pixel scale, bad ones dropped."""
        from ..alignment import regrid

        rejected = []
        good_sources = []
        for k, src in enumerate(sources):
            reason = self._mask_reason(src, "source")
            if reason:
                rejected.append((f"source {k}", reason))
            else:
                good_sources.append(src)
        good_targets = []
        for k, tgt in enumerate(targets):
            try:
                tgt = regrid(tgt, self.source.pixel_scale, method=self.align_method,
                             conserve_flux=True)
            except (AlignmentError, InvalidDataError) as exc:
                rejected.append((f"target {k}", f"could not be regridded: {exc}"))
                continue
            reason = self._mask_reason(tgt, "target")
            if reason:
                rejected.append((f"target {k}", reason))
            else:
                good_targets.append(tgt)
        self._report_rejections(rejected, len(sources) + len(targets))
        return good_sources, good_targets

    # ------------------------------------------------------------------------------
    def _predict_function(self, uncertainty, n_samples):
        """A function from network-input tiles to output-space tiles (and spread channels)."""
        import torch

        n_channels = len(self.bands)

        def to_output(values):
            values = np.asarray(values, dtype=float)
            if self.mode == "paper":
                return 255.0 * np.clip(values, 0.0, 1.0)
            return self.target_normalizer_.inverse(values)

        def function(batch):
            tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
            if self.n_ensemble > 1:
                members = np.stack([to_output(t.predict(tensor, precision=self.precision).numpy())
                                    for t in self.translators_])
                mean = members.mean(axis=0)
                if not uncertainty:
                    return mean
                return np.concatenate([mean, members.std(axis=0)], axis=1)
            mean = to_output(self.translator.predict(tensor, precision=self.precision).numpy())
            if not uncertainty:
                return mean
            samples = self.translator.predict_samples(tensor, n_samples,
                                                      precision=self.precision, seed=self.seed)
            samples = to_output(np.asarray(samples.numpy() if hasattr(samples, "numpy")
                                           else samples))
            return np.concatenate([mean, samples.std(axis=0)], axis=1)

        return function, n_channels

    def _translate_arrays(self, arrays, *, uncertainty, n_samples, batch_size, progress):
        """Output-space arrays for a list of network inputs ``(C, H, W)``."""
        function, n_channels = self._predict_function(uncertainty, n_samples)
        tile = self.tile_size or max(256, *(self.training_shape_ or (0,)))
        batch_size = int(batch_size or getattr(self.translator, "batch_size", 16) or 16)
        results = [None] * len(arrays)
        small = {}
        for k, array in enumerate(arrays):
            if max(array.shape[-2:]) <= tile:
                small.setdefault(array.shape, []).append(k)
        bar = progress_bar(total=len(arrays), progress=progress, desc="translating",
                           unit="cutout", hide_single=True)
        for indices in small.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                out = function(np.stack([arrays[i] for i in chunk]))
                for i, res in zip(chunk, out, strict=False):
                    results[i] = res
                bar.update(len(chunk))
        for k, array in enumerate(arrays):
            if results[k] is None:
                results[k] = tile_apply(function, array, tile_size=tile, overlap=self.overlap,
                                        blend=self.blend, min_size=self.min_size,
                                        batch_size=batch_size)
                bar.update(1)
        bar.close()
        outputs = [res[:n_channels] for res in results]
        spreads = [res[n_channels:] if uncertainty else None for res in results]
        return outputs, spreads

    def _check_transformable(self, cutout, what):
        ny, nx = cutout.shape
        if min(ny, nx) < self.min_size:
            msg = (f"{what} is {ny}x{nx} pixels, smaller than the {self.translator_name} "
                   f"translator's receptive field / minimum size ({self.min_size} pixels per side)")
            raise ImageTooSmallError(msg)
        mask = cutout.mask
        for k, band in enumerate(cutout.bands):
            if mask[k].all():
                msg = f"{what} band {band!r} has every pixel masked: nothing to translate"
                raise InvalidDataError(msg)

    def _output_cutout(self, cutout, values, spread, *, to_target_grid):
        """The translated cutout on the input's grid, with units, mask and provenance."""
        mask = cutout.mask
        prov = provenance_header(
            translator=self.translator_name, params=self._identity(),
            source=self.source.name, target=self.target.name, mode=self.mode,
            history=[f"survey2survey: input bands {','.join(self.bands)} in "
                     f"{self.source.flux_unit}; output in {self.target.name} "
                     + ("8-bit Lupton composite values (paper mode)" if self.mode == "paper"
                        else f"{self.target.flux_unit} (ZP per band in MAGZERO)")])
        bands = {}
        for k, band in enumerate(self.bands):
            image = cutout[band]
            meta = fits.Header(image.meta) if image.meta is not None else fits.Header()
            for key in _SURVEY_KEYS:
                meta.remove(key, ignore_missing=True, remove_all=True)
            meta["SURVEY"] = (self.target.name, "survey whose look this image imitates")
            meta["FILTER"] = band
            if self.mode == "flux":
                unit = self.target.flux_unit
                meta["MAGZERO"] = (self.target.zero_point[band],
                                   "AB zero point: m = ZP - 2.5 log10(f)")
                data = values[k].astype(float)
            else:
                unit = "adu"
                data = np.round(np.clip(values[k], 0, 255)).astype(np.uint8)
            meta.extend(prov, update=True)
            bands[band] = CCDData(
                data, unit=unit, wcs=image.wcs.deepcopy(),
                mask=mask[k].copy() if mask[k].any() else None,
                uncertainty=None if spread is None else StdDevUncertainty(spread[k].copy()),
                meta=meta)
        meta = cutout.meta.copy()
        for key in _SURVEY_KEYS:
            meta.remove(key, ignore_missing=True, remove_all=True)
        meta["SURVEY"] = (self.target.name, "survey whose look this image imitates")
        meta.extend(prov, update=True)
        out = Cutout(bands, meta=meta)
        if to_target_grid:
            from ..alignment import regrid

            out = regrid(out, self.target.pixel_scale, conserve_flux=True)
            for band in out.bands:
                out[band].meta.add_history(
                    f"survey2survey: resampled onto the {self.target.name} pixel scale "
                    f"{self.target.pixel_scale:.4g} (flux-conserving)")
        return out

    def _weights_hashes(self):
        if getattr(self, "_hashes", None) is None:
            self._hashes = [_weights_hash(t) for t in self.translators_]
        return self._hashes

    def _identity(self):
        """What identifies this fitted model (hashed into ``S2SHASH``)."""
        identity = {"translator": self.translator_name, "params": self.translator_params,
                    "source": self.source.name, "target": self.target.name,
                    "bands": list(self.bands), "mode": self.mode,
                    "weights": self._weights_hashes()}
        if self.source_normalizer_ is not None:
            identity["source_normalizer"] = self.source_normalizer_.to_dict()
            identity["target_normalizer"] = self.target_normalizer_.to_dict()
        return identity

    def transform(self, data, *, output=None, overwrite=False, uncertainty=False, n_samples=16,
                  batch_size=None, progress=None):
        """
        Translate source-survey cutouts into the target survey's look.

        Parameters
        ----------
        data : cutout or list of cutouts
            Anything `~survey2survey.io.read_cutout` reads (FITS path, HDU list,
            `~astropy.nddata.CCDData`/`~astropy.nddata.NDData`, ``(array, wcs)``,
            `~survey2survey.io.Cutout`, dict of bands) or a list of those; in
            the source survey's flux unit (compatible units are converted; data
            without unit are assumed to be in it, with a warning). Any size of at
            least the translator's ``min_size``: large fields are tiled.
        output : str or path, optional
            Also write the result (one input only) to this FITS file, atomically.
        overwrite : bool, optional
            Replace ``output`` if it exists.
        uncertainty : bool, optional
            Attach a `~astropy.nddata.StdDevUncertainty`: the spread of the
            ensemble members (``n_ensemble > 1``) or of ``n_samples`` MC-dropout
            predictions, in output flux units. It is the *model's* spread, not
            photon noise.
        n_samples : int, optional
            MC-dropout samples when ``uncertainty=True`` and ``n_ensemble == 1``.
        batch_size : int, optional
            Images (or tiles) per network call.
        progress : bool, optional
            Show a progress bar.

        Returns
        -------
        result
            The same kind of object as ``data``: a `~astropy.nddata.CCDData` for
            a CCDData/NDData input, a list for a list, otherwise a
            `~survey2survey.io.Cutout`. Each band is in the target survey's flux
            unit (``MAGZERO`` in its header) on the input's pixel grid and WCS
            (or the target pixel scale with ``output_grid='target'``), masked
            where the input was, with provenance cards (``S2S*``, ``HISTORY``).

        Raises
        ------
        survey2survey.exceptions.NotFittedError
            If the estimator is not fitted.
        survey2survey.exceptions.ImageTooSmallError
            If an image is smaller than the translator's minimum size.
        survey2survey.exceptions.InputError
            Subclasses for unreadable input: no WCS, wrong bands, incompatible
            unit, all-masked or all-NaN data.
        """
        self._require_fitted()
        single = _inputs.is_single(data)
        items = [data] if single else _inputs.as_list(data, "input")
        if output is not None and not single:
            msg = ("output= writes one file; to write many translated cutouts use "
                   "survey2survey.transform_many(estimator, inputs, output_dir=...)")
            raise InputError(msg)
        if uncertainty and self.n_ensemble == 1 and int(n_samples) < 2:
            msg = f"n_samples must be at least 2 to estimate a spread, got {n_samples}"
            raise ValueError(msg)
        what = "input"
        cutouts = self._read(items, self.source, what)
        outputs = self._translate_cutouts(cutouts, what, uncertainty=uncertainty,
                                          n_samples=int(n_samples), batch_size=batch_size,
                                          progress=progress,
                                          to_target_grid=self.output_grid == "target")
        if output is not None:
            write_cutout(outputs[0], output, overwrite=overwrite)
        if single and isinstance(data, NDData):
            return outputs[0][self.bands[0]]
        return outputs[0] if single else [
            o[self.bands[0]] if isinstance(item, NDData) and len(self.bands) == 1 else o
            for o, item in zip(outputs, items, strict=False)]

    def _translate_cutouts(self, cutouts, what, *, uncertainty, n_samples, batch_size,
                           progress, to_target_grid):
        """Translated cutouts for already-read source cutouts (in the source unit)."""
        for k, cutout in enumerate(cutouts):
            self._check_transformable(cutout, f"{what}[{k}]" if len(cutouts) > 1 else what)
        arrays = [self._network_input(_inputs.inpaint(c.data, c.mask), self.source, "source")
                  for c in cutouts]
        values, spreads = self._translate_arrays(arrays, uncertainty=uncertainty,
                                                 n_samples=n_samples,
                                                 batch_size=batch_size, progress=progress)
        return [self._output_cutout(c, v, s, to_target_grid=to_target_grid)
                for c, v, s in zip(cutouts, values, spreads, strict=True)]

    # ------------------------------------------------------------------------------
    def score(self, source, target=None, *, progress=None):
        """
        How well the estimator reproduces ``target`` from ``source``, vs the untranslated source.

        Each target is aligned onto its source's grid; the translated source,
        the target and the source itself (converted to the target's flux unit,
        the "resampled source" baseline) are put through the target stretch
        (flux mode) or made into 8-bit composites (paper mode), reduced to one
        layer by averaging the bands as in the paper, and compared.

        Parameters
        ----------
        source, target : list of cutouts (or a pairs directory / SurveyPairs as ``source``)
            Held-out pairs, as for `fit`.
        progress : bool, optional
            Show a progress bar.

        Returns
        -------
        scores : dict
            ``mssim`` and ``mse`` of the translation vs the target, the same for
            the source (``mssim_baseline``, ``mse_baseline``), and ``n_pairs``.
        """
        self._require_fitted()
        source_items, target_items = self._pair_lists(source, target)
        if len(source_items) != len(target_items):
            msg = (f"score needs pairs: got {len(source_items)} source and "
                   f"{len(target_items)} target cutouts")
            raise TrainingDataError(msg)
        sources = self._read(source_items, self.source, "source")
        targets = self._read(target_items, self.target, "target")
        kept, rejected = self._align_pairs(sources, targets)
        if rejected:
            msg = f"{len(rejected)} of {len(sources)} scoring pair(s) rejected: {rejected[0][1]}"
            warnings.warn(msg, AstropyUserWarning, stacklevel=2)
        if not kept:
            msg = "no usable pair to score"
            raise TrainingDataError(msg)
        # compared on the source grid, where the targets were aligned, whatever output_grid is
        translated = self._translate_cutouts([s for s, _ in kept], "source", uncertainty=False,
                                             n_samples=0, batch_size=None, progress=progress,
                                             to_target_grid=False)
        rows = {"mssim": [], "mse": [], "mssim_baseline": [], "mse_baseline": []}
        for (src, tgt), out in zip(kept, translated, strict=False):
            layers = [self._analysis_layer(out.data, self.target, translated=True),
                      self._analysis_layer(tgt.data, self.target),
                      self._analysis_layer(_source_in_target_units(src, self), self.target)]
            data_range = 255.0 if self.mode == "paper" else 1.0
            rows["mssim"].append(_mssim(layers[0], layers[1], data_range))
            rows["mssim_baseline"].append(_mssim(layers[2], layers[1], data_range))
            rows["mse"].append(float(np.mean((layers[0] - layers[1]) ** 2)))
            rows["mse_baseline"].append(float(np.mean((layers[2] - layers[1]) ** 2)))
        scores = {key: float(np.mean(values)) for key, values in rows.items()}
        scores["n_pairs"] = len(kept)
        return scores

    def _analysis_layer(self, data, survey, *, translated=False):
        data = np.asarray(data, dtype=float)
        if self.mode == "paper":
            if translated:  # already 8-bit values per band (g, r, i -> B, G, R)
                return data.mean(axis=0)
            nmgy = to_nanomaggies(np.nan_to_num(data), survey, self.bands)
            rgb = lupton_composite(nmgy, stretch=self.paper_stretch, Q=self.paper_q)
            return average_layer(rgb)
        return self.target_normalizer_.transform(np.nan_to_num(data)).mean(axis=0)

    # ------------------------------------------------------------------------------
    def _config(self):
        return {
            "format": FILE_FORMAT, "format_version": FILE_FORMAT_VERSION,
            "translator": self.translator_name, "translator_params": self.translator_params,
            "source": self.source.name, "target": self.target.name, "bands": list(self.bands),
            "mode": self.mode, "output_grid": self.output_grid, "n_ensemble": self.n_ensemble,
            "seed": self.seed, "tile_size": self.tile_size, "overlap": self.overlap,
            "blend": self.blend, "align_method": self.align_method,
            "min_coverage": self.min_coverage, "max_masked_fraction": self.max_masked_fraction,
            "normalizer": self.normalizer, "paper_stretch": self.paper_stretch,
            "paper_q": self.paper_q, "precision": self.precision,
            "source_normalizer": (None if self.source_normalizer_ is None
                                  else self.source_normalizer_.to_dict()),
            "target_normalizer": (None if self.target_normalizer_ is None
                                  else self.target_normalizer_.to_dict()),
            "training_shape": self.training_shape_, "n_rejected": self.n_rejected_,
        }

    def save(self, path, *, overwrite=False):
        """
        Write the fitted estimator to ONE file (a zip of safetensors weights and JSON; no pickle).

        The archive holds ``estimator.json`` (surveys, bands, mode, normalisation
        parameters, options) and one ``translator_<k>.safetensors`` per
        ensemble member, each written by the translator's own ``save`` with the
        estimator configuration in its metadata. The file is written atomically.

        Parameters
        ----------
        path : str or path
            Destination, e.g. ``'sdss2des.s2s'``.
        overwrite : bool, optional
            Replace an existing file.

        Returns
        -------
        path : `pathlib.Path`

        Raises
        ------
        survey2survey.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        self._require_fitted()
        config = self._config()
        with tempfile.TemporaryDirectory() as tmp:
            members = []
            for k, translator in enumerate(self.translators_):
                member = Path(tmp) / f"translator_{k}.safetensors"
                translator.save(member, metadata={"survey2survey_estimator": config})
                members.append(member)

            def write(target_path):
                with zipfile.ZipFile(target_path, "w", compression=zipfile.ZIP_STORED) as zf:
                    zf.writestr(_CONFIG_MEMBER, json.dumps(config, indent=1, sort_keys=True))
                    for member in members:
                        zf.write(member, arcname=member.name)

            atomic_write(path, write, overwrite=overwrite)
        return Path(path)

    @classmethod
    def load(cls, path, *, device=None):
        """
        Read an estimator written by `save`.

        Parameters
        ----------
        path : str or path
            The file.
        device : str, optional
            Torch device for the translator(s).

        Raises
        ------
        survey2survey.exceptions.WeightsFileError
            If the file is not a survey2survey estimator, is corrupt or was tampered with.
        """
        from ..translators import Translator

        path = Path(path)
        if not path.is_file():
            msg = f"no such estimator file: {str(path)!r}"
            raise WeightsFileError(msg)
        if not zipfile.is_zipfile(path):
            msg = f"{str(path)!r} is not a survey2survey estimator file (not a zip archive)"
            raise WeightsFileError(msg)
        try:
            with zipfile.ZipFile(path) as zf:
                info = zf.getinfo(_CONFIG_MEMBER)
                if info.file_size > _MAX_CONFIG_BYTES:
                    raise ValueError("configuration member too large")
                config = json.loads(zf.read(info).decode("utf-8"))
                if config.get("format") != FILE_FORMAT:
                    raise ValueError(f"format {config.get('format')!r} is not {FILE_FORMAT!r}")
                if int(config.get("format_version", 0)) > FILE_FORMAT_VERSION:
                    raise ValueError(f"format version {config['format_version']} is newer than "
                                     f"this library reads ({FILE_FORMAT_VERSION})")
                n_members = int(config["n_ensemble"])
                blobs = [zf.read(f"translator_{k}.safetensors") for k in range(n_members)]
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            msg = f"{str(path)!r} is not a valid survey2survey estimator file: {exc}"
            raise WeightsFileError(msg) from None
        translators = []
        with tempfile.TemporaryDirectory() as tmp:
            for k, blob in enumerate(blobs):
                member = Path(tmp) / f"translator_{k}.safetensors"
                member.write_bytes(blob)
                kwargs = {} if device is None else {"device": device}
                translators.append(Translator.load(member, **kwargs))
        try:
            estimator = cls.__new__(cls)
            estimator._restore(config, translators)
        except (KeyError, TypeError, ValueError, InputError) as exc:
            msg = f"{str(path)!r} holds an invalid estimator configuration: {exc}"
            raise WeightsFileError(msg) from None
        return estimator

    def _restore(self, config, translators):
        self.source = get_survey(config["source"])
        self.target = get_survey(config["target"])
        self.bands = tuple(config["bands"])
        for key in ("mode", "output_grid", "n_ensemble", "seed", "tile_size", "overlap", "blend",
                    "align_method", "min_coverage", "max_masked_fraction", "normalizer",
                    "paper_stretch", "paper_q"):
            setattr(self, key, config[key])
        self.precision = config.get("precision", "fp32")
        self.translator_name = config["translator"]
        self.translator_params = dict(config["translator_params"])
        self.translators_ = translators
        self.source_normalizer_ = (None if config["source_normalizer"] is None
                                   else AsinhNormalizer.from_dict(config["source_normalizer"]))
        self.target_normalizer_ = (None if config["target_normalizer"] is None
                                   else AsinhNormalizer.from_dict(config["target_normalizer"]))
        shape = config.get("training_shape")
        self.training_shape_ = None if shape is None else tuple(shape)
        self.n_rejected_ = int(config.get("n_rejected", 0))
        self.rejected_ = []
        self.history_ = []
        self._hashes = None
        self._fitted = True


def _accepted_params(name):
    """Constructor parameter names of translator ``name``, and whether it takes ``**kwargs``."""
    from ..translators import get_translator

    cls = get_translator(name)
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return set(), True
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return set(parameters), open_kwargs


def _weights_hash(translator):
    """SHA-256 of a translator's weights (as recorded in its saved file)."""
    from ..translators.persistence import weights_sha256

    return weights_sha256(translator.state_tensors())


def _source_in_target_units(cutout, estimator):
    """The source fluxes converted to the target survey's unit (the no-model baseline)."""
    factors = np.array([estimator.source.flux_conversion(b, estimator.target)
                        for b in estimator.bands])
    return cutout.data * factors[:, None, None]


def _mssim(a, b, data_range):
    try:
        from ..metrics import mssim
    except ImportError:  # pragma: no cover - the metrics subpackage is optional here
        mssim = None
    if mssim is not None:
        return float(mssim(a, b, data_range=data_range))
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, data_range=data_range, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))


