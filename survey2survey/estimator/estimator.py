# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`Survey2Survey`: fit a translator on survey pairs, then translate cutouts with WCS and flux intact.

The class holds the public verbs; the work is done by private modules that take
explicit arguments: ``_pairs`` (training pairs), ``_codec`` (flux <-> network
values), ``_inference`` (batching, tiling, ensembles), ``_provenance`` (output
headers) and ``_archive`` (the saved file).
"""

import copy
import inspect
import logging
import warnings
from pathlib import Path

import numpy as np
from astropy.nddata import NDData
from astropy.table import Table
from astropy.utils.exceptions import AstropyDeprecationWarning, AstropyUserWarning

from ..exceptions import (
    ImageTooSmallError,
    InputError,
    InvalidDataError,
    InvalidOptionError,
    NotFittedError,
    TranslatorError,
    WeightsFileError,
)
from ..io import write_cutout
from ..surveys import get_survey
from ..utils._validation import (
    check_bool,
    check_choice,
    check_int,
    check_not_an_input,
    check_path,
    parse_bands,
)
from . import _inputs
from ._archive import read_archive, write_archive
from ._batching import auto_batch_size, auto_tile_size, network_shape
from ._codec import make_codec
from ._inference import tiling_options, translate_arrays
from ._pairs import align_to_sources, prepare_pairs, warn_rejections
from ._paper import PAPER_Q, PAPER_STRETCH
from ._params import (
    PRECISIONS,
    check_params,
    fitted_state,
    jsonable_params,
    new_translators,
    with_training_params,
)
from ._posterior import PROBE_AMPLITUDE, PosteriorModel
from ._provenance import output_cutouts, provenance_header
from ._psfs import (
    OutOfTrainingRangeWarning,
    band_psf_array,
    estimated_psf_array,
    resolve_psf,
    target_psf_cards,
    warn_ignored_bands,
    warn_unknown_psf,
)
from ._sampling import (
    aperture_table,
    calibration_target_psfs,
    noise_probes,
    posterior_samples,
    require_posterior,
)
from ._scoring import score_rows
from ._uncertainty import input_noise

__all__ = ["Survey2Survey", "PAPER_STRETCH", "PAPER_Q"]

log = logging.getLogger(__name__)


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

    It follows scikit-learn's conventions: ``__init__`` only stores its
    parameters (checked, and surveys and translators created, by `fit`);
    fitted attributes end with ``_``; `get_params` / `set_params` read and
    change the parameters; `score` returns one number.

    Parameters
    ----------
    translator : str or `~survey2survey.translators.Translator`, optional
        Registered translator name (``'aecnn'``, ``'cyclegan'``, ``'unet'``...) or
        an instance, fitted in place (then ``translator_params`` must be empty
        and ``n_ensemble`` 1).
    source, target : str or `~survey2survey.surveys.Survey`, optional
        The surveys translated from and to.
    bands : str or sequence of str, optional
        The bands used, in channel order (``'gri'``, ``'g,r,i'`` or a list);
        each must exist in both surveys.
    mode : {'flux', 'paper'}, optional
        ``'flux'`` (default): calibrated float images in and out through the
        asinh normalisation. ``'paper'``: the paper's pipeline, with Lupton RGB
        8-bit composites in and 8-bit composites out (3 bands only; the output
        is dimensionless 0-255).
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
        (default: from the device, the largest tile whose widest activation
        fits 1 GiB on a CPU or 1/16 of a GPU's free memory, and at least the
        largest of 256, the training size and six receptive-field radii).
    overlap, blend : int, optional
        Tile overlap and cross-fade width in pixels; the default overlap (three
        receptive-field radii) leaves the translator's receptive-field radius
        outside the cross-fade, and a smaller explicit one is refused.
    align_method : {'adaptive', 'exact', 'interp'}, optional
        Resampling method of `survey2survey.alignment.align` for training pairs.
    min_coverage : float, optional
        Pairs whose aligned target covers less of the source grid are rejected.
    max_masked_fraction : float, optional
        Pairs with more masked pixels than this (in any band) are rejected.
    seeing_input : bool, optional
        Give the network each source cutout's seeing (the ``PSFFWHM`` cards of its
        bands, arcsec) as an extra input. It halves the scatter of small-aperture
        fluxes where the seeing is known; cutouts without the cards are
        translated as if at the training median seeing.
    paper_stretch, paper_q : float, optional
        Lupton stretch (in nanomaggies) and softening of the paper-mode composites.
    precision : {'auto', 'fp32', 'bf16', 'fp16'}, optional
        Inference precision of the network. ``'auto'`` (default) runs its
        convolutions in bf16 (fp16 on GPUs without bf16) where the hardware does
        that fast — CUDA GPUs and CPUs with AVX-512 BF16/AMX — and in fp32
        elsewhere. In every precision the first convolution (it sees the raw
        fluxes, which bf16 would round to 8 significant bits) and the output
        head compute in fp32: on 16 held-out cutouts 1", 2" and 8" aperture
        fluxes then move by at most 2.5e-4, 7e-5 and 6e-5 (aecnn) and 3e-4,
        1.7e-4 and 4e-5 (psfnet) against fp32, within the 1e-3 budget (aecnn
        in bf16 throughout: 1.1e-3 at 1"); speeds in :ref:`performance`.
        Outputs do not depend on the batch size in bf16; ``'fp32'`` computes
        everything in fp32, for results that do not depend on the hardware's
        bf16 support.
    device : str or None, optional
        Torch device of the translators (None: ``survey2survey.conf.default_device``).
    warm_start : bool, optional
        When True, `fit` on a fitted estimator continues training its
        translators (and keeps its flux encoding) instead of starting afresh:
        fine-tuning. Training parameters set since (``learning_rate``,
        ``epochs``, ``batch_size``, ``schedule``...) apply to the continued
        training; parameters that define the network cannot change.
    **translator_params
        Passed to the translator (e.g. ``epochs=3, batch_size=8``).

    Attributes
    ----------
    source_, target_ : `~survey2survey.surveys.Survey`
        The surveys.
    bands_ : tuple of str
        The bands, in channel order.
    translators_ : list of `~survey2survey.translators.Translator`
        The fitted translator(s).
    codec_ : object
        The fitted flux <-> network-value conversion (its ``to_dict()``
        describes it: the asinh stretch parameters in flux mode).
    training_shape_ : tuple of int
        The image shape trained on.
    n_rejected_ : int
        Number of training pairs rejected by the last `fit`.
    rejected_ : list of (int, str)
        Index and reason of each rejected pair.
    history_ : list of `~survey2survey.translators.TrainingHistory`
        The training history of each translator.

    Examples
    --------
    >>> from survey2survey import Survey2Survey
    >>> s2s = Survey2Survey("aecnn", source="sdss", target="des", bands="gri", epochs=2)
    >>> s2s
    <Survey2Survey aecnn SDSS->DES bands='gri' mode='flux' (not fitted)>
    >>> s2s.get_params()["epochs"]
    2
    """

    def __init__(self, translator="aecnn", *, source="sdss", target="des", bands="gri",
                 mode="flux", output_grid="source", n_ensemble=1, seed=0, tile_size=None,
                 overlap=None, blend=None, align_method="adaptive", min_coverage=0.9,
                 max_masked_fraction=0.5, seeing_input=False, paper_stretch=PAPER_STRETCH,
                 paper_q=PAPER_Q, precision="auto", device=None, warm_start=False,
                 **translator_params):
        self.translator = translator
        self.source = source
        self.target = target
        self.bands = bands
        self.mode = mode
        self.output_grid = output_grid
        self.n_ensemble = n_ensemble
        self.seed = seed
        self.tile_size = tile_size
        self.overlap = overlap
        self.blend = blend
        self.align_method = align_method
        self.min_coverage = min_coverage
        self.max_masked_fraction = max_masked_fraction
        self.seeing_input = seeing_input
        self.paper_stretch = paper_stretch
        self.paper_q = paper_q
        self.precision = precision
        self.device = device
        self.warm_start = warm_start
        self.translator_params = dict(translator_params)

    # --- parameters ----------------------------------------------------------------------

    @classmethod
    def _param_names(cls):
        """The named ``__init__`` parameters, in order (scikit-learn's ``_get_param_names``)."""
        signature = inspect.signature(cls.__init__)
        return [name for name, p in signature.parameters.items()
                if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]

    def get_params(self, deep=False):
        """
        The estimator's parameters: every ``__init__`` argument, translator parameters included.

        ``Survey2Survey(**s2s.get_params())`` builds an unfitted copy.

        Parameters
        ----------
        deep : bool, optional
            Accepted for scikit-learn compatibility; the result is the same.

        Returns
        -------
        params : dict
        """
        params = {name: getattr(self, name) for name in self._param_names()}
        params.update(self.translator_params)
        return params

    def set_params(self, **params):
        """
        Set parameters (named ones, or translator parameters such as ``epochs``); returns self.

        Changes take effect at the next `fit`.
        """
        names = set(self._param_names())
        for key, value in params.items():
            if key in names:
                setattr(self, key, value)
            else:
                self.translator_params[key] = value
        return self

    def _checked(self):
        """The validated parameters (surveys and bands resolved); raises on a bad value."""
        return check_params(self.get_params(), self.translator_params)

    # --- state -----------------------------------------------------------------------------

    def __repr__(self):
        name = getattr(self.translator, "name", self.translator)
        ens = f" x{self.n_ensemble}" if self.n_ensemble != 1 else ""
        names = []
        for survey in (self.source, self.target):
            try:
                names.append(get_survey(survey).name)
            except Exception:  # noqa: BLE001 - a repr never raises
                names.append(str(survey))
        try:
            bands = "".join(parse_bands(self.bands))
        except Exception:  # noqa: BLE001
            bands = str(self.bands)
        state = "fitted" if self.is_fitted else "not fitted"
        return (f"<Survey2Survey {name}{ens} {names[0]}->{names[1]} bands={bands!r} "
                f"mode={self.mode!r} ({state})>")

    @property
    def is_fitted(self):
        """Whether `fit` has run (or a fitted estimator was loaded)."""
        return getattr(self, "translators_", None) is not None

    @property
    def min_size(self):
        """Smallest image side the (fitted) translator accepts, in pixels."""
        self._require_fitted()
        return int(getattr(self.translators_[0], "min_size", 1) or 1)

    def _require_fitted(self):
        if not self.is_fitted:
            name = getattr(self.translator, "name", self.translator)
            msg = (f"this Survey2Survey estimator ({name}) is not fitted yet: call fit() first "
                   "or load a saved one with Survey2Survey.load()")
            raise NotFittedError(msg)

    # --- fit -------------------------------------------------------------------------------

    def fit(self, source, target=None, *, validation=0.1, epochs=None, progress=None,
            callbacks=(), checkpoint_dir=None, resume=False, distributed=False):
        """
        Fit the flux encoding and the translator(s) on source/target pairs.

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
        distributed : bool, optional
            Train across the processes started by ``torchrun`` (or of an
            initialised ``torch.distributed`` process group), each on its share
            of every batch (see ``Translator.fit``); every process calls ``fit``
            with the same data, and only rank 0 writes checkpoints (save the
            model from rank 0 too). ``survey2survey fit`` does this under
            ``torchrun``.

        Returns
        -------
        self : `Survey2Survey`

        Raises
        ------
        survey2survey.exceptions.InvalidOptionError
            If a parameter of the estimator has an invalid value, including a
            ``tile_size``/``overlap``/``blend`` that would leave seams for the
            translator's receptive field (checked before training).
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
        checked = self._checked()
        warm = checked["warm_start"] and self.is_fitted
        if warm and (checked["bands"] != self.bands_ or checked["mode"] != self.codec_.mode):
            msg = ("warm_start continues the fitted translators, so bands and mode must stay "
                   f"{list(self.bands_)} and {self.codec_.mode!r}")
            raise InvalidOptionError(msg)
        if warm:  # copies: a fit that fails leaves the fitted model as it was
            codec = self.codec_
            translators = [with_training_params(copy.deepcopy(t), self.translator_params)
                           for t in self.translators_]
        else:
            codec = make_codec(checked["mode"], source=checked["source"], target=checked["target"],
                               bands=checked["bands"], seeing=checked["seeing_input"],
                               psf=_is_psf_aware(self.translator, checked["mode"]),
                               paper_stretch=checked["paper_stretch"],
                               paper_q=checked["paper_q"])
            translators = new_translators(self.translator, self.translator_params, checked,
                                          codec, device=self.device)
        prepared = prepare_pairs(
            source, target, bands=checked["bands"], source_survey=checked["source"],
            target_survey=checked["target"], paired=bool(getattr(translators[0], "paired", True)),
            align_method=checked["align_method"], min_coverage=checked["min_coverage"],
            max_masked_fraction=checked["max_masked_fraction"],
            min_size=int(getattr(translators[0], "min_size", 1) or 1))
        warn_rejections(prepared.rejected, prepared.total, log=log)
        # the tiling transform will use, checked against the receptive field before training
        # rather than after it
        tiling_options(self.tile_size, self.overlap, self.blend,
                       receptive_field=getattr(translators[0], "receptive_field", None),
                       min_size=int(getattr(translators[0], "min_size", 1) or 1),
                       training_shape=prepared.shape)
        if not warm:
            codec.fit(prepared.source_flux, prepared.source_mask, prepared.target_flux,
                      prepared.target_mask, source_psf=prepared.source_psf,
                      target_psf=prepared.target_psf)
            for translator in translators:
                translator.set_head(codec.head())
        x = codec.encode_source(prepared.source_flux, prepared.source_psf,
                                prepared.target_psf if codec.psf else None)
        y = codec.encode_target(prepared.target_flux)
        weight = (None if prepared.target_sigma is None
                  else codec.target_weight(prepared.target_sigma, prepared.target_mask))
        history = []
        for k, translator in enumerate(translators):
            kwargs = dict(validation=validation, epochs=epochs, progress=progress,
                          callbacks=callbacks, resume=resume, distributed=distributed)
            if checkpoint_dir is not None:
                kwargs["checkpoint_dir"] = (Path(checkpoint_dir) / f"member{k}"
                                            if len(translators) > 1 else Path(checkpoint_dir))
            history.append(translator.fit(x, y, weight=weight, **kwargs))
        # the fitted state changes only once everything succeeded
        self._set_fitted(checked, codec=codec, translators=translators,
                         training_shape=prepared.shape, rejected=prepared.rejected,
                         n_rejected=len(prepared.rejected), history=history)
        return self

    # --- transform ---------------------------------------------------------------------------

    def transform(self, data, *, output=None, overwrite=False, uncertainty=False, n_samples=16,
                  batch_size=None, resample=False, input_psf=None, target_psf=None,
                  precision=None, progress=None):
        """
        Translate source-survey cutouts into the target survey's look.

        Parameters
        ----------
        data : cutout or list of cutouts
            Anything `~survey2survey.io.read_cutout` reads (FITS path, HDU list,
            `~astropy.nddata.CCDData`/`~astropy.nddata.NDData`, ``(array, wcs)``,
            `~survey2survey.io.Cutout`, dict of bands) or a list of those; in
            the source survey's flux unit (compatible units and ``MAGZERO``
            zero points are converted; data without either are assumed to be in
            it, with a warning). Any size of at least the translator's
            ``min_size``: large fields are tiled.
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
            Images (or tiles) per network call. Default: as many as fit the
            device (the network's widest activation in 16 MiB on a CPU, where
            small batches run fastest, or in 1/16 of a GPU's free memory);
            outputs do not depend on it.
        resample : bool, optional
            Inputs must have the source survey's pixel scale (within 2%); with
            ``resample=True`` others are first resampled onto it
            (`survey2survey.alignment.regrid`, flux-conserving), and the output
            is on that resampled grid.
        input_psf : float, Quantity, `~survey2survey.psf.PSF`, dict, list or 'estimate', optional
            PSF-aware translators only: the PSF of the input bands, where their
            headers do not state it (``PSFFWHM``, ``PSF_FWHM`` cards) or state
            it wrongly; the forms of ``target_psf`` (a FWHM takes the source
            survey's profile), or ``'estimate'``: fitted to the point sources of
            each band (`~survey2survey.psf.estimate_psf`; bands without one keep
            their cards). None: the cards, else the source survey's median with
            a warning.
        target_psf : float, Quantity, `~survey2survey.psf.PSF`, dict, cutout or list, optional
            PSF-aware translators only (``'psfnet'``, ``'deconvolve'``): the PSF
            of the output. None (default): the target survey's median PSF of
            each band. A FWHM (arcsec, or an angle) or a `~survey2survey.psf.PSF`
            for every band, a dict band -> FWHM/PSF, or a cutout or FITS file of
            the target-survey data you compare with (its ``PSFFWHM`` cards); or
            a list of those, one per input. Written into each output band's
            ``PSFFWHM``/``PSFMODEL`` cards.
        precision : {'auto', 'fp32', 'bf16', 'fp16'}, optional
            The network's precision for this call (default: the estimator's
            ``precision``).
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
            where the input was (NaN there; float32 for float32 input), with
            provenance cards (``S2S*``, ``HISTORY``). Bands on different pixel
            grids (SDSS frames) are first registered onto the reference band's
            grid (see `~survey2survey.alignment.register_bands`); the output is
            on that grid.

        Raises
        ------
        survey2survey.exceptions.NotFittedError
            If the estimator is not fitted.
        survey2survey.exceptions.ImageTooSmallError
            If an image is smaller than the translator's minimum size.
        survey2survey.exceptions.PixelScaleError
            If an image's pixel scale is not the source survey's (and ``resample``
            is False).
        survey2survey.exceptions.InputError
            Subclasses for unreadable input: no WCS, wrong bands, incompatible
            unit, all-masked or all-NaN data.

        Warns
        -----
        `~astropy.utils.exceptions.AstropyUserWarning`
            Once per call when inputs have pixels outside the range of the
            training data (the model extrapolates there); the fraction of such
            pixels is in each output's ``S2SOOD`` card.
        """
        overwrite = check_bool(overwrite, "overwrite")
        resample = check_bool(resample, "resample")
        uncertainty = check_bool(uncertainty, "uncertainty")
        progress = check_bool(progress, "progress", allow_none=True)
        output = check_path(output, "output", allow_none=True)
        self._require_fitted()
        single = _inputs.is_single(data)
        items = [data] if single else _inputs.as_list(data, "input")
        if output is not None and not single:
            msg = ("output= writes one file; to write many translated cutouts use "
                   "survey2survey.transform_many(estimator, inputs, output_dir=...)")
            raise InputError(msg)
        if output is not None:
            check_not_an_input(output, items)
        cutouts = self._read_inputs(items, resample)
        outputs = self._translate_cutouts(cutouts, "input", uncertainty=uncertainty,
                                          n_samples=n_samples, batch_size=batch_size,
                                          progress=progress, target_psf=target_psf,
                                          input_psf=input_psf, precision=precision,
                                          to_target_grid=self.output_grid == "target")
        if output is not None:
            write_cutout(outputs[0], output, overwrite=overwrite)
        if single:
            return returned_kind(outputs[0], data, self.bands_)
        return [returned_kind(o, item, self.bands_)
                for o, item in zip(outputs, items, strict=True)]

    def _read_inputs(self, items, resample):
        warn_ignored_bands(items, self.bands_, "input")
        return _inputs.read_in_survey_unit(items, self.bands_, self.source_, "input",
                                           pixel_scale=True, resample=resample)

    def sample(self, data, n_samples=16, *, noise=True, seed=None, batch_size=None,
               resample=False, input_psf=None, target_psf=None, precision=None,
               progress=None):
        """
        Plausible target-survey images of each input: posterior draws plus the target's noise.

        Each sample is the mean translation (what `transform` returns) plus a
        draw of its error (the calibrated error model of
        `calibrate_uncertainty`: the input noise as the network passes it on,
        and a fractional model error correlated between bands), plus, with
        ``noise``, the target survey's noise: sky and Poisson variance and the
        pixel-to-pixel correlation measured on the calibration targets. The
        network runs once per input; the draws cost a few FFTs each. The mean
        of many samples converges to the mean translation.

        Parameters
        ----------
        data : cutout or list of cutouts
            As for `transform`.
        n_samples : int, optional
            Samples per input.
        noise : bool, optional
            Add the target survey's noise (False: posterior draws of the
            noise-free image at the target PSF).
        seed : int, optional
            Seed of the draws (default: the estimator's ``seed``); the same
            seed gives the same samples.
        batch_size, resample, input_psf, target_psf, precision, progress
            As for `transform`.

        Returns
        -------
        list
            For one input, ``n_samples`` results of the kind `transform`
            returns (same WCS, units and provenance; ``S2SSAMP``, ``S2SNSAMP``
            and ``S2SNOISE`` cards; with ``noise``, the target noise as
            uncertainty); for a list of inputs, one such list per input.

        Raises
        ------
        survey2survey.exceptions.NotCalibratedError
            If the model's uncertainty is not calibrated (`calibrate_uncertainty`).

        Examples
        --------
        >>> from survey2survey import Survey2Survey
        >>> from survey2survey.datasets import make_survey_pairs
        >>> pairs = make_survey_pairs(12, bands="r", seed=3, source_size=40,
        ...                           target_grid="source", progress=False)
        >>> model = Survey2Survey(bands="r", epochs=1).fit(pairs[:8], progress=False)
        >>> model = model.calibrate_uncertainty(pairs[8:], progress=False)
        >>> samples = model.sample(pairs[8].source, n_samples=4, progress=False)
        >>> len(samples), samples[0].shape
        (4, (40, 40))
        """
        posterior = require_posterior(self, "sample")
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        noise = check_bool(noise, "noise")
        seed = check_int(self.seed if seed is None else seed, "seed", minimum=0)
        single, items, cutouts, means = self._mean_translations(
            data, batch_size=batch_size, resample=resample, input_psf=input_psf,
            target_psf=target_psf, precision=precision, progress=progress)
        rng = np.random.default_rng(seed)
        results = []
        for cutout, mean, item in zip(cutouts, means, items, strict=True):
            samples = posterior_samples(posterior, mean, self._input_sigma(cutout), n_samples,
                                        rng, noise=noise)
            if self.output_grid == "target":
                samples = [self._to_target_grid(s) for s in samples]
            results.append([returned_kind(s, item, self.bands_) for s in samples])
        return results[0] if single else results

    def aperture_photometry(self, data, apertures, *, batch_size=None, resample=False,
                            input_psf=None, target_psf=None, precision=None, progress=None):
        """
        Aperture fluxes of the translation with calibrated 1-sigma errors.

        The fluxes are those of the mean translation (what `transform`
        returns); their errors come from the calibrated error model
        (`calibrate_uncertainty`) summed over each aperture with its pixel
        correlations (exact for the model, no sampling noise), times the
        factor calibrated at that aperture radius: 68% of held-out apertures
        fall within them. They are errors against the noise-free sky at the
        output PSF, to be compared with the truth or with a deep image's flux
        (add that image's own aperture noise).

        Parameters
        ----------
        data : cutout
            One input, as for `transform` (a list gives a list of tables).
        apertures : `photutils.aperture.Aperture`
            Pixel apertures on the output grid (the input's), or sky apertures
            (converted with the output WCS).
        batch_size, resample, input_psf, target_psf, precision, progress
            As for `transform`.

        Returns
        -------
        `~astropy.table.QTable`
            One row per aperture position: ``id``, ``xcenter``, ``ycenter``,
            ``sky_center``, ``radius`` (effective, arcsec), ``masked_pixels``
            and ``flux_<band>``, ``flux_err_<band>`` in the output unit.

        Raises
        ------
        survey2survey.exceptions.NotCalibratedError
            If the model's uncertainty is not calibrated.
        survey2survey.exceptions.InvalidOptionError
            If ``apertures`` is not a photutils aperture, or the model outputs
            on the target grid (``output_grid='target'``).

        Examples
        --------
        >>> from photutils.aperture import CircularAperture
        >>> from survey2survey import Survey2Survey
        >>> from survey2survey.datasets import make_survey_pairs
        >>> pairs = make_survey_pairs(12, bands="r", seed=3, source_size=40,
        ...                           target_grid="source", progress=False)
        >>> model = Survey2Survey(bands="r", epochs=1).fit(pairs[:8], progress=False)
        >>> model = model.calibrate_uncertainty(pairs[8:], progress=False)
        >>> table = model.aperture_photometry(pairs[8].source,
        ...                                   CircularAperture((19.5, 19.5), r=5.0),
        ...                                   progress=False)
        >>> table.colnames[-2:]
        ['flux_r', 'flux_err_r']
        """
        posterior = require_posterior(self, "aperture_photometry")
        if self.output_grid == "target":
            msg = ("aperture_photometry measures on the input's grid; use a model with "
                   "output_grid='source'")
            raise InvalidOptionError(msg)
        single, _, cutouts, means = self._mean_translations(
            data, batch_size=batch_size, resample=resample, input_psf=input_psf,
            target_psf=target_psf, precision=precision, progress=progress)
        scale = float(self.source_.pixel_scale.to_value("arcsec / pix"))
        tables = [aperture_table(posterior, mean, self._input_sigma(cutout), apertures, scale)
                  for cutout, mean in zip(cutouts, means, strict=True)]
        return tables[0] if single else tables

    def _mean_translations(self, data, *, resample, progress, **options):
        """
        ``(single, items, cutouts, means)``: the inputs read and their mean translations,
        on the input grid, for the verbs built on them (`sample`, `aperture_photometry`).
        """
        single = _inputs.is_single(data)
        items = [data] if single else _inputs.as_list(data, "input")
        cutouts = self._read_inputs(items, check_bool(resample, "resample"))
        means = self._translate_cutouts(
            cutouts, "input", uncertainty=False, n_samples=0,
            progress=check_bool(progress, "progress", allow_none=True), to_target_grid=False,
            **options)
        return single, items, cutouts, means

    def _translate_cutouts(self, cutouts, what, **options):
        """Translated cutouts for already-read source cutouts (in the source unit)."""
        network, finish = self._translation_stages(cutouts, what, **options)
        return finish(network())

    def _translation_stages(self, cutouts, what, *, uncertainty, n_samples, batch_size,
                            progress, to_target_grid, warn_out_of_range=True, target_psf=None,
                            input_psf=None, precision=None):
        """
        The translation of already-read source cutouts as two calls: ``network()`` runs the
        translators on the encoded images (torch and numpy only, so ``transform_many`` runs
        it in a background thread while it reads and writes files), ``finish(result)``
        builds the output cutouts. ``transform_many`` gathers the out-of-range warnings of
        all its partitions into one (from the ``S2SOOD`` cards).
        """
        translator = self.translators_[0]
        calibrated = self.uncertainty_model_ if uncertainty else None
        posterior = isinstance(calibrated, PosteriorModel)
        # a legacy calibrated model without dropout or ensemble: the input's noise alone
        sampled = uncertainty and not posterior and (
            len(self.translators_) > 1 or calibrated is None or _has_dropout(translator))
        if sampled and len(self.translators_) == 1:
            check_int(n_samples, "n_samples", minimum=2)
        min_size = self.min_size
        for k, cutout in enumerate(cutouts):
            _check_transformable(cutout, f"{what}[{k}]" if len(cutouts) > 1 else what,
                                 min_size, translator.name)
        batch_size = check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        precision = check_choice(self.precision if precision is None else precision,
                                 PRECISIONS, "precision")
        tiling = tiling_options(self.tile_size, self.overlap, self.blend,
                                receptive_field=getattr(translator, "receptive_field", None),
                                min_size=min_size, training_shape=self.training_shape_)
        if self.tile_size is None and any(max(c.shape) > tiling[0] for c in cutouts):
            # fields: tiles as large as the device holds (the overlap stays the same)
            tiling = (auto_tile_size(translator, precision, floor=tiling[0]),) + tiling[1:]
        codec = self.codec_
        psfs, targets, band_cards = self._psf_inputs(cutouts, what, target_psf,
                                                     warn=warn_out_of_range,
                                                     input_psf=input_psf)
        with np.errstate(over="ignore", invalid="ignore"):  # overflows: check_encoded says
            arrays = [codec.encode_source(_inputs.inpaint(c.data, c.mask), psf, target)
                      for c, psf, target in zip(cutouts, psfs, targets, strict=True)]
        _inputs.check_encoded(arrays, cutouts, what)
        outside = [_out_of_range_fraction(self.codec_, a, c.mask)
                   for a, c in zip(arrays, cutouts, strict=True)]
        if batch_size is None and arrays:  # from the activation size and the device
            batch_size = auto_batch_size(translator, network_shape(arrays, tiling[0]),
                                         precision)
        if warn_out_of_range:
            _warn_out_of_range(outside, what)

        def network():
            return translate_arrays(
                arrays, self.translators_, self.codec_.decode, n_channels=len(self.bands_),
                tiling=tiling, min_size=min_size, batch_size=batch_size,
                uncertainty=sampled, n_samples=n_samples, precision=precision,
                seed=int(self.seed), progress=progress)

        def finish(result):
            values, spreads = result
            if posterior:
                spreads = [calibrated.pixel_sigma(v, self._input_sigma(c))
                           for c, v in zip(cutouts, values, strict=True)]
            elif calibrated is not None:
                spreads = [calibrated.apply(self._input_sigma(c), s)
                           for c, s in zip(cutouts, spreads, strict=True)]
            provenance = provenance_header(
                translator=translator.name, params=self._identity(), source=self.source_.name,
                target=self.target_.name, mode=self.codec_.mode,
                history=[self.codec_.describe_output()])
            outputs = output_cutouts(  # the cards shared by the batch built once
                cutouts, values, spreads, codec=self.codec_, provenance=provenance,
                extra_cards=[{"S2SOOD": (round(f, 6), OOD_COMMENT)} for f in outside],
                band_cards=band_cards)
            if to_target_grid:
                outputs = [self._to_target_grid(out) for out in outputs]
            return outputs

        return network, finish

    def _to_target_grid(self, out):
        """An output cutout resampled onto the target survey's pixel scale."""
        from ..alignment import regrid

        out = regrid(out, self.target_.pixel_scale, conserve_flux=True)
        for band in out.bands:
            if out[band].mask is not None and out[band].data.dtype.kind == "f":
                out[band].data[out[band].mask] = np.nan  # masked: NaN, as above
            out[band].meta.add_history(
                f"survey2survey: resampled onto the {self.target_.name} pixel "
                f"scale {self.target_.pixel_scale:.4g} (flux-conserving)")
        return out

    def _psf_inputs(self, cutouts, what, target_psf, *, warn=True, input_psf=None):
        """
        The PSF arrays of ``cutouts``, the target PSF arrays and the output PSF cards.

        Warns once when inputs state no PSF or lie outside the training PSFs.
        """
        codec = self.codec_
        given = input_psf is not None and not (isinstance(input_psf, str)
                                                and input_psf == "estimate")
        psfs = None if given else [band_psf_array(c, self.source_, self.bands_) for c in cutouts]
        if not codec.psf:
            for name, value in (("target_psf", target_psf), ("input_psf", input_psf)):
                if value is not None:
                    msg = (f"{name} needs a PSF-aware model (translator='psfnet' or "
                           f"'deconvolve'); this {self.translators_[0].name} model always "
                           f"imitates the typical {self.target_.name} PSF")
                    raise InvalidOptionError(msg)
            return psfs, [None] * len(cutouts), [None] * len(cutouts)
        targets = self._per_input_psfs(target_psf, self.target_, len(cutouts), "target_psf")
        if isinstance(input_psf, str) and input_psf == "estimate":
            psfs = [estimated_psf_array(c, self.source_, self.bands_, p)
                    for c, p in zip(cutouts, psfs, strict=True)]
        elif given:  # stated by the caller: the header cards are not read
            psfs = self._per_input_psfs(input_psf, self.source_, len(cutouts), "input_psf")
        if warn:
            warn_unknown_psf(psfs, self.bands_, self.source_, what)
            messages = []
            for k, (psf, target) in enumerate(zip(psfs, targets, strict=True)):
                brightness = codec.brightness_outside_training(cutouts[k].data)
                if brightness is not None:
                    messages.append(f"{what}[{k}]: {brightness}")
                messages += [f"{what}[{k}]: {m}" for m in codec.psf_outside_training(psf, target)]
            if messages:
                more = f" (and {len(messages) - 3} more)" if len(messages) > 3 else ""
                msg = ("the model was not trained on such inputs and extrapolates: "
                       + "; ".join(messages[:3]) + more)
                warnings.warn(msg, OutOfTrainingRangeWarning, stacklevel=4)
        return psfs, targets, [target_psf_cards(t, self.bands_) for t in targets]

    def _per_input_psfs(self, value, survey, n, name):
        """One ``(C, 3)`` PSF array per input from a ``target_psf``/``input_psf`` value."""
        if isinstance(value, list):  # one per input
            if len(value) != n:
                msg = f"{name} as a list gives one PSF per input: {n} expected, got {len(value)}"
                raise InvalidOptionError(msg)
            return [resolve_psf(v, survey, self.bands_, what=name) for v in value]
        return [resolve_psf(value, survey, self.bands_, what=name)] * n

    def _identity(self):
        """What identifies this fitted model (hashed into ``S2SHASH``)."""
        if getattr(self, "_weights_hashes", None) is None:
            self._weights_hashes = [t.weights_sha256() for t in self.translators_]
        return {"translator": self.translators_[0].name,
                "params": self.translators_[0].params, "source": self.source_.name,
                "target": self.target_.name, "bands": list(self.bands_),
                "codec": self.codec_.to_dict(), "weights": self._weights_hashes,
                "uncertainty": (None if self.uncertainty_model_ is None
                                else self.uncertainty_model_.to_dict())}

    def _prepare_heldout(self, source, target, what):
        """Held-out pairs aligned and screened as the fitted model's training pairs were."""
        checked = self._checked_params
        prepared = prepare_pairs(
            source, target, bands=self.bands_, source_survey=self.source_,
            target_survey=self.target_, paired=True, align_method=checked["align_method"],
            min_coverage=checked["min_coverage"],
            max_masked_fraction=checked["max_masked_fraction"], what=what)
        warn_rejections(prepared.rejected, prepared.total, what, log=log)
        return prepared

    # --- uncertainty -----------------------------------------------------------------------------

    def calibrate_uncertainty(self, source, target=None, *, truth=None, progress=None,
                              **kwargs):
        """
        Fit the translation's error model on held-out pairs: uncertainties and samples.

        After calibration, ``transform(..., uncertainty=True)`` attaches a
        per-pixel 1-sigma uncertainty of the output against the noise-free sky,
        `aperture_photometry` gives aperture fluxes with calibrated error bars,
        and `sample` draws plausible target-survey images. The error of a
        translation is modelled per band as (see :ref:`uncertainty`) ::

            e = s * g * (sigma_input n) + f * M+ (K_l * n')

        the input's own noise through the translator's *measured* noise
        transfer ``g(k)`` (from a second translation of the sources with added
        noise), plus a fractional model error ``f`` of the (smoothed, positive)
        mean image, correlated over ``l`` pixels and shared by the bands. ``s``,
        ``f`` and ``l`` maximise the Gaussian likelihood of aperture-flux
        residuals against the targets (centred and random circles of 1"-8", the
        targets' own aperture noise included); then one factor per aperture
        radius and one per pixel class (sky, source) make 68.27% of the
        residuals fall within their sigma. The target survey's noise (sky
        variance, Poisson gain, pixel-to-pixel correlation) is measured on the
        targets, for `sample`. Use pairs the model was not fitted on; the
        calibration is saved with the model.

        Parameters
        ----------
        source, target
            Held-out pairs, as for `fit` (the targets need uncertainties).
            PSF-aware models translate each source to its target's PSF (the
            targets' ``PSFFWHM`` cards, where every target band has one).
        truth : list of cutouts, optional
            The noise-free targets, one per pair (simulated pairs:
            ``pairs.target_truths``). The error model is then fitted to the
            errors themselves: against noisy targets only the variance of the
            errors can be told, not their shape, and heavy-tailed errors come
            out over-covered (75-80% instead of 68% of source pixels in
            :ref:`uncertainty`). The shipped models are calibrated this way.
        progress : bool, optional
            Show a progress bar.

        Returns
        -------
        self : `Survey2Survey`

        Raises
        ------
        survey2survey.exceptions.InvalidOptionError
            In paper mode (8-bit composites have no flux uncertainty).
        survey2survey.exceptions.InvalidDataError
            If the targets carry no uncertainty, the inputs no noise, or too
            few pixels are usable.

        Examples
        --------
        >>> from survey2survey import Survey2Survey
        >>> from survey2survey.datasets import make_survey_pairs
        >>> pairs = make_survey_pairs(12, bands="r", seed=3, source_size=40,
        ...                           target_grid="source", progress=False)
        >>> model = Survey2Survey(bands="r", epochs=1).fit(pairs[:8], progress=False)
        >>> model = model.calibrate_uncertainty(pairs[8:], progress=False)
        >>> out = model.transform(pairs[8].source, uncertainty=True, progress=False)
        >>> out.uncertainty_array.shape
        (1, 40, 40)
        """
        if kwargs.pop("n_samples", None) is not None:
            warnings.warn("calibrate_uncertainty(n_samples=...) is no longer used: the error "
                          "model is measured, not sampled", AstropyDeprecationWarning,
                          stacklevel=2)
        if kwargs:
            msg = f"calibrate_uncertainty() got unexpected keyword argument(s) {sorted(kwargs)}"
            raise TypeError(msg)
        self._require_fitted()
        if self.codec_.mode != "flux":
            msg = "calibrate_uncertainty needs mode='flux' (paper mode outputs 8-bit composites)"
            raise InvalidOptionError(msg)
        prepared = self._prepare_heldout(source, target, "calibration")
        if any(t.uncertainty_array is None for t in prepared.targets):
            msg = "calibrate_uncertainty needs targets with an uncertainty (1-sigma per pixel)"
            raise InvalidDataError(msg)
        options = dict(uncertainty=False, n_samples=0, batch_size=None, progress=progress,
                       to_target_grid=False, warn_out_of_range=False,
                       target_psf=calibration_target_psfs(prepared.targets, self.codec_))
        truths = self._heldout_truths(truth, prepared)
        translated = self._translate_cutouts(prepared.sources, "source", **options)
        sigmas = [self._input_sigma(c) for c in prepared.sources]
        probes = noise_probes(prepared.sources, int(self.seed))
        probed = self._translate_cutouts(probes, "source", **options)
        scale = float(self.source_.pixel_scale.to_value("arcsec / pix"))
        self.uncertainty_model_ = PosteriorModel.fit(
            means=[o.data for o in translated],
            responses=[(p.data - o.data) / PROBE_AMPLITUDE
                       for p, o in zip(probed, translated, strict=True)],
            input_sigmas=sigmas, targets=[t.data for t in prepared.targets],
            target_sigmas=[t.uncertainty_array for t in prepared.targets],
            masks=[s.mask | t.mask for s, t in zip(prepared.sources, prepared.targets,
                                                   strict=True)],
            pixel_scale=scale, truths=None if truths is None else [t.data for t in truths],
            seed=int(self.seed))
        log.info("uncertainty calibrated on %d pair(s): %r", len(translated),
                 self.uncertainty_model_)
        return self

    def _heldout_truths(self, truth, prepared):
        """The truth cutouts of the kept held-out pairs, on their sources' grids (or None)."""
        if truth is None:
            return None
        kept = [k for k in range(prepared.total)
                if k not in {index for index, _ in prepared.rejected}]
        truth_items = _inputs.as_list(truth, "truth")
        if len(truth_items) != prepared.total:
            msg = f"got {len(truth_items)} truth cutouts for {prepared.total} pairs"
            raise InputError(msg)
        truths = _inputs.read_in_survey_unit([truth_items[k] for k in kept], self.bands_,
                                             self.target_, "truth")
        return align_to_sources(truths, prepared.sources,
                                align_method=self._checked_params["align_method"])

    def _input_sigma(self, cutout):
        """``(C, H, W)`` noise of a source-unit input cutout, in the target unit."""
        return self.codec_.factor[:, None, None] * input_noise(cutout)

    # --- score -----------------------------------------------------------------------------------

    def score(self, source, target=None, *, progress=None):
        """
        The mean MSSIM of the translations against the targets (higher is better).

        Each target is aligned onto its source's grid; translation and target
        are reduced to the paper's one analysis layer (the target stretch,
        band-averaged, in flux mode; the mean of R, G, B in paper mode) and
        compared with `~survey2survey.metrics.mssim`. `score_table` gives
        per-pair numbers, the untranslated source beside them and aperture
        photometry.

        Parameters
        ----------
        source, target : list of cutouts (or a pairs directory / SurveyPairs as ``source``)
            Held-out pairs, as for `fit`.
        progress : bool, optional
            Show a progress bar.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_table(source, target, progress=progress)["mssim"]))

    def score_table(self, source, target=None, *, truth=None, r_max=None, progress=None):
        """
        Per-pair scores of the translations and of the untranslated source, in a table.

        For each pair: MSSIM and MSE of the analysis layers (see `score`) of
        the translation (``mssim``, ``mse``) and of the source converted to the
        target's unit (the "do nothing" baseline: ``mssim_baseline``,
        ``mse_baseline``) against the target, and — in flux mode — the
        relative aperture-flux errors (band sum, radius ``r_max``) of both
        against the target (``flux_error``, ``flux_error_baseline``) and, when
        ``truth`` is given, against the noise-free truth
        (``flux_error_truth``, ``flux_error_truth_baseline``).

        Parameters
        ----------
        source, target
            Held-out pairs, as for `fit`.
        truth : list of cutouts, optional
            Noise-free target-survey images of the same pairs (any grid: aligned
            like the targets).
        r_max : float, optional
            Aperture radius in pixels (default: 0.4 of the smaller image side).
        progress : bool, optional
            Show a progress bar.

        Returns
        -------
        table : `~astropy.table.Table`
            One row per kept pair (``index`` is its position in the input).
        """
        self._require_fitted()
        prepared = self._prepare_heldout(source, target, "scoring")
        kept = [k for k in range(prepared.total)
                if k not in {index for index, _ in prepared.rejected}]
        truths = self._heldout_truths(truth, prepared)
        translated = self._translate_cutouts(prepared.sources, "source", uncertainty=False,
                                             n_samples=0, batch_size=None, progress=progress,
                                             to_target_grid=False)
        rows = score_rows(prepared.sources, prepared.targets, translated, codec=self.codec_,
                          indices=kept, truths=truths, r_max=r_max)
        table = Table(rows=rows)
        table.meta["comments"] = [f"{self!r} scored on {len(rows)} pair(s)"]
        return table

    # --- persistence -----------------------------------------------------------------------------

    def save(self, path, *, overwrite=False):
        """
        Write the fitted estimator to ONE file (a zip of safetensors weights and JSON; no pickle).

        The file holds the estimator's parameters (all of `get_params`), its
        fitted state and one safetensors file per ensemble member; a SHA-256
        of the configuration and of every member's weights lets `load` refuse
        an altered file. It is written atomically.

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
        survey2survey.exceptions.OutputExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        path = check_path(path, "path")
        overwrite = check_bool(overwrite, "overwrite")
        self._require_fitted()
        state = {"source": self.source_.name, "target": self.target_.name,
                 "bands": list(self.bands_), "codec": self.codec_.to_dict(),
                 "training_shape": list(self.training_shape_),
                 "n_rejected": int(self.n_rejected_),
                 "uncertainty": (None if self.uncertainty_model_ is None
                                 else self.uncertainty_model_.to_dict())}
        return write_archive(path, params=jsonable_params(self.get_params(),
                                                          self.translator_params),
                             state=state,
                             translators=self.translators_, overwrite=overwrite)

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

        Returns
        -------
        `Survey2Survey`
            A fitted estimator.

        Raises
        ------
        survey2survey.exceptions.WeightsFileError
            If the file is not a survey2survey estimator, is corrupt, was
            edited, or holds values the estimator's checks reject.
        """
        config, translators = read_archive(path, device=device)
        params, state = dict(config["params"]), config["state"]
        what = repr(str(path))
        try:
            translator_params = params.pop("translator_params")
            if device is not None:
                params["device"] = device
            estimator = cls(**params, **translator_params)
            named = params.get("translator")
            if isinstance(named, str) and {t.name for t in translators} != {named.lower()}:
                msg = (f"its parameters name the translator {named!r} but its members hold "
                       f"{sorted({t.name for t in translators})} translators")
                raise ValueError(msg)
            checked = estimator._checked()
            fitted = fitted_state(checked, state, translators, what=what)
            tiling_options(estimator.tile_size, estimator.overlap, estimator.blend,
                           receptive_field=getattr(translators[0], "receptive_field", None),
                           min_size=int(getattr(translators[0], "min_size", 1) or 1),
                           training_shape=fitted["training_shape"])
        except (KeyError, TypeError, ValueError, TranslatorError) as exc:
            if isinstance(exc, WeightsFileError):
                raise
            msg = f"{what} holds an invalid estimator configuration: {exc}"
            raise WeightsFileError(msg) from None
        estimator._set_fitted(checked, translators=translators, history=[], rejected=[],
                              **fitted)
        return estimator

    @classmethod
    def from_pretrained(cls, name, *, device=None):
        """
        A pretrained model shipped with survey2survey, by name.

        The models and how they were trained and measured are listed by
        `~survey2survey.pretrained_models` and on the "Pretrained models"
        documentation page. The result is a fitted estimator with
        ``warm_start=True``: translate with `transform`, or fine-tune on your
        own pairs with `fit`, which continues from the pretrained weights (set
        ``warm_start=False`` to train afresh; the shipped file is never modified).

        Parameters
        ----------
        name : str
            e.g. ``'sdss-des-aecnn'``.
        device : str, optional
            Torch device for the translator(s).

        Returns
        -------
        `Survey2Survey`

        Raises
        ------
        survey2survey.exceptions.UnknownModelError
            If no model of that name is installed.

        Examples
        --------
        >>> from survey2survey import Survey2Survey
        >>> from survey2survey.datasets import sample_sdss_frames
        >>> from survey2survey.io import read_cutout
        >>> model = Survey2Survey.from_pretrained("sdss-des-aecnn")
        >>> des_like = model.transform(read_cutout(sample_sdss_frames()), progress=False)
        >>> des_like.unit, des_like.shape
        (Unit("ct"), (200, 200))
        """
        from .pretrained import pretrained_path

        model = cls.load(pretrained_path(name), device=device)
        return model.set_params(warm_start=True)

    def _set_fitted(self, checked, *, codec, translators, training_shape, rejected, n_rejected,
                    history, uncertainty_model=None):
        """Set every fitted attribute at once (after fit or load)."""
        self.source_, self.target_ = checked["source"], checked["target"]
        self.bands_ = checked["bands"]
        self.codec_ = codec
        self.translators_ = translators
        self.training_shape_ = tuple(training_shape)
        self.rejected_ = list(rejected)
        self.n_rejected_ = int(n_rejected)
        self.history_ = history
        self.uncertainty_model_ = uncertainty_model
        self._checked_params = checked
        self._weights_hashes = None


def _has_dropout(translator):
    return float(translator.params.get("dropout", 0) or 0) > 0


def returned_kind(output, item, bands):
    """``output`` as the kind of object ``transform`` returns for input ``item``."""
    if isinstance(item, NDData) and len(bands) == 1:
        return output[bands[0]]
    return output


OOD_COMMENT = "fraction of pixels beyond the training range"


def _out_of_range_fraction(codec, encoded, mask):
    """The fraction of unmasked input pixels whose values the training data never reached."""
    good = ~mask
    return float((codec.out_of_range(encoded) & good).sum() / max(good.sum(), 1))


def _warn_out_of_range(fractions, what):
    """One warning for a whole call, with counts, when inputs leave the training range."""
    affected = [f for f in fractions if f > 0]
    if affected:
        msg = (f"{len(affected)} of {len(fractions)} {what} cutout(s) have pixels outside the "
               f"range of the training data (up to {100 * max(affected):.2g}% of one's "
               f"pixels): the model extrapolates there; see each output's S2SOOD card")
        warnings.warn(msg, AstropyUserWarning, stacklevel=4)


def _check_transformable(cutout, what, min_size, translator_name):
    ny, nx = cutout.shape
    if min(ny, nx) < min_size:
        msg = (f"{what} is {ny}x{nx} pixels, smaller than the {translator_name} "
               f"translator's receptive field / minimum size ({min_size} pixels per side)")
        raise ImageTooSmallError(msg)
    mask = cutout.mask
    for k, band in enumerate(cutout.bands):
        if mask[k].all():
            msg = f"{what} band {band!r} has every pixel masked: nothing to translate"
            raise InvalidDataError(msg)



def _is_psf_aware(translator, mode):
    """Whether ``translator`` (a name or an instance) takes both PSFs (``mode='flux'`` only)."""
    from ..translators import Translator
    from ..translators.registry import get_translator

    cls = type(translator) if isinstance(translator, Translator) else get_translator(translator)
    aware = bool(getattr(cls, "psf_aware", False))
    if aware and mode != "flux":
        msg = (f"the {cls.name or cls.__name__} translator takes both PSFs and works on "
               f"calibrated flux: use mode='flux', not {mode!r}")
        raise InvalidOptionError(msg)
    return aware
