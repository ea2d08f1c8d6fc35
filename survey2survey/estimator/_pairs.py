# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Training and scoring pairs: read, converted to the surveys' units, aligned, screened, stacked.

`prepare_pairs` is used by ``Survey2Survey.fit`` and ``Survey2Survey.score``:
each target is aligned onto its source's pixel grid (flux-conserving), pairs
that do not overlap enough or are too masked are rejected with a reason, and
the kept fluxes are stacked on one common (centre-cropped) shape with masked
pixels in-painted. Unpaired sets (CycleGAN) are brought to the source pixel
scale instead of being aligned pair by pair.
"""

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import (
    AlignmentError,
    InvalidDataError,
    ShapeMismatchError,
    TrainingDataError,
)
from ..utils._wcs import same_wcs
from . import _inputs
from ._psfs import band_psf_array

__all__ = ["PreparedPairs", "pair_lists", "prepare_pairs", "align_to_sources", "warn_rejections"]


@dataclass
class PreparedPairs:
    """
    Stacked training (or scoring) data, in the source and target flux units.

    Attributes
    ----------
    sources, targets : list of `~survey2survey.io.Cutout`
        The kept cutouts; each target on its source's grid when paired.
    source_flux, source_mask, target_flux, target_mask : `~numpy.ndarray`
        ``(N, C, H, W)`` stacks (in-painted fluxes, boolean masks) on ``shape``.
    target_sigma : `~numpy.ndarray` or None
        ``(N, C, H, W)`` 1-sigma uncertainties of the targets, when every target has one.
    source_psf, target_psf : `~numpy.ndarray`
        ``(N, C, 3)`` PSF arrays of the sources and targets from their header
        cards (`~survey2survey.psf.psf_from_header`), NaN where unknown.
    shape : tuple of int
        The common ``(H, W)``: the smallest side of the kept cutouts.
    rejected : list of (int or str, str)
        Which pairs (or unpaired images) were rejected, and why.
    total : int
        How many were given.
    """

    sources: list
    targets: list
    source_flux: np.ndarray = None
    source_mask: np.ndarray = None
    target_flux: np.ndarray = None
    target_mask: np.ndarray = None
    target_sigma: np.ndarray = None
    source_psf: np.ndarray = None
    target_psf: np.ndarray = None
    shape: tuple = None
    rejected: list = field(default_factory=list)
    total: int = 0


def pair_lists(source, target):
    """Source and target input lists from any of the accepted training inputs."""
    if target is None:
        # a folder alone is a pairs directory: load_pairs names what is missing (the folder,
        # or its source/ sub-folder) instead of a misleading "target cutouts are needed"
        if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
            from ..datasets import load_pairs

            source = load_pairs(source)
        if _inputs.is_pairs(source):
            pairs = list(source)
            targets = [p.target for p in pairs]
            if any(t is None for t in targets):
                msg = ("the pairs given have no target cutouts (an 'external' split?); "
                       "fitting needs target-survey images")
                raise TrainingDataError(msg)
            return [p.source for p in pairs], targets
        msg = ("target cutouts are needed: pass target=, a pairs directory "
               "(survey2survey.datasets.save_pairs layout) or a SurveyPairs sequence")
        raise TrainingDataError(msg)
    return _inputs.as_list(source, "source"), _inputs.as_list(target, "target")


def _mask_reason(cutout, role, max_masked_fraction):
    fractions = cutout.mask.reshape(len(cutout), -1).mean(axis=1)
    worst = int(np.argmax(fractions))
    if fractions[worst] > max_masked_fraction:
        return (f"{role} band {cutout.bands[worst]!r} is {100 * fractions[worst]:.0f}% "
                f"masked (max_masked_fraction={max_masked_fraction})")
    return None


def _align_onto(target, source, align_method, min_coverage):
    from ..alignment import align

    if source.shape == target.shape and same_wcs(source.wcs, target.wcs, shape=source.shape,
                                                 tolerance=1e-3):
        return target
    return align(target, source, method=align_method, conserve_flux=True,
                 min_coverage=min_coverage)


def align_to_sources(targets, sources, *, align_method="adaptive", min_coverage=0.0):
    """Each target aligned (flux-conserving) onto its source's grid; errors propagate."""
    return [_align_onto(t, s, align_method, min_coverage)
            for t, s in zip(targets, sources, strict=True)]


def _align_pairs(sources, targets, *, align_method, min_coverage, max_masked_fraction):
    kept_sources, kept_targets, rejected = [], [], []
    for k, (src, tgt) in enumerate(zip(sources, targets, strict=True)):
        reason = None
        try:
            aligned = _align_onto(tgt, src, align_method, min_coverage)
        except (AlignmentError, InvalidDataError, ShapeMismatchError) as exc:
            reason = f"alignment failed: {exc}"
        if reason is None:
            reason = (_mask_reason(src, "source", max_masked_fraction)
                      or _mask_reason(aligned, "target", max_masked_fraction))
        if reason is not None:
            rejected.append((k, reason))
            continue
        kept_sources.append(src)
        kept_targets.append(aligned)
    return kept_sources, kept_targets, rejected


def _unpaired(sources, targets, *, pixel_scale, align_method, max_masked_fraction):
    from ..alignment import regrid

    rejected, kept_sources, kept_targets = [], [], []
    for k, src in enumerate(sources):
        reason = _mask_reason(src, "source", max_masked_fraction)
        if reason:
            rejected.append((f"source {k}", reason))
        else:
            kept_sources.append(src)
    for k, tgt in enumerate(targets):
        try:
            tgt = regrid(tgt, pixel_scale, method=align_method, conserve_flux=True)
        except (AlignmentError, InvalidDataError) as exc:
            rejected.append((f"target {k}", f"could not be regridded: {exc}"))
            continue
        reason = _mask_reason(tgt, "target", max_masked_fraction)
        if reason:
            rejected.append((f"target {k}", reason))
        else:
            kept_targets.append(tgt)
    return kept_sources, kept_targets, rejected


def _stack(cutouts, shape):
    data = np.stack([_inputs.inpaint(_inputs.center_crop(c.data, shape),
                                     _inputs.center_crop(c.mask, shape)) for c in cutouts])
    mask = np.stack([_inputs.center_crop(c.mask, shape) for c in cutouts])
    return data, mask


def prepare_pairs(source, target, *, bands, source_survey, target_survey, paired=True,
                  align_method="adaptive", min_coverage=0.9, max_masked_fraction=0.5,
                  min_size=1, what="training"):
    """
    Read, convert, align, screen and stack source/target pairs.

    Parameters
    ----------
    source, target
        As for ``Survey2Survey.fit`` (``target`` None: ``source`` is a pairs
        directory or a `~survey2survey.datasets.SurveyPairs`).
    bands : tuple of str
        The bands, in channel order.
    source_survey, target_survey : `~survey2survey.surveys.Survey`
        The units the fluxes are converted to.
    paired : bool, optional
        Align each target onto its source (True) or only bring unpaired targets
        to the source pixel scale (False).
    align_method, min_coverage, max_masked_fraction
        See ``Survey2Survey``.
    min_size : int, optional
        The smallest image side the translator accepts.
    what : str, optional
        ``'training'`` or ``'scoring'``, for messages.

    Returns
    -------
    `PreparedPairs`

    Raises
    ------
    survey2survey.exceptions.TrainingDataError
        If paired lists differ in length or no pair is left.
    survey2survey.exceptions.ImageTooSmallError
        If the common shape is smaller than ``min_size``.
    """
    from ..exceptions import ImageTooSmallError

    source_items, target_items = pair_lists(source, target)
    if paired and len(source_items) != len(target_items):
        msg = (f"got {len(source_items)} source and {len(target_items)} target cutouts; "
               f"{what} needs pairs of the same objects, in the same order")
        raise TrainingDataError(msg)
    sources = _inputs.read_in_survey_unit(source_items, bands, source_survey, "source",
                                          pixel_scale=True)
    targets = _inputs.read_in_survey_unit(target_items, bands, target_survey, "target")
    options = dict(align_method=align_method, max_masked_fraction=max_masked_fraction)
    if paired:
        sources, targets, rejected = _align_pairs(sources, targets, min_coverage=min_coverage,
                                                  **options)
        total = len(source_items)
    else:
        sources, targets, rejected = _unpaired(sources, targets,
                                               pixel_scale=source_survey.pixel_scale, **options)
        total = len(source_items) + len(target_items)
    prepared = PreparedPairs(sources=sources, targets=targets, rejected=rejected, total=total)
    if not sources or not targets:
        first = rejected[0][1] if rejected else "none"
        msg = f"no usable {what} pair left ({len(rejected)} rejected); first reason: {first}"
        raise TrainingDataError(msg)
    shapes = [c.shape for c in sources + targets]
    shape = (min(s[0] for s in shapes), min(s[1] for s in shapes))
    if min(shape) < min_size:
        msg = (f"{what} cutouts of {shape[0]}x{shape[1]} pixels are smaller than the "
               f"translator's minimum size {min_size}")
        raise ImageTooSmallError(msg)
    prepared.shape = tuple(int(v) for v in shape)
    prepared.source_flux, prepared.source_mask = _stack(sources, shape)
    prepared.target_flux, prepared.target_mask = _stack(targets, shape)
    sigmas = [t.uncertainty_array for t in targets]
    if all(sigma is not None for sigma in sigmas):
        prepared.target_sigma = np.stack([_inputs.center_crop(s, shape) for s in sigmas])
    prepared.source_psf = np.stack([band_psf_array(c, source_survey, bands) for c in sources])
    prepared.target_psf = np.stack([band_psf_array(c, target_survey, bands) for c in targets])
    return prepared


def warn_rejections(rejected, total, what="training", *, log=None):
    """Log each rejected pair (DEBUG detail) and warn once with the count and first reason."""
    for index, reason in rejected:
        if log is not None:
            log.debug("%s pair %s rejected: %s", what, index, reason)
    if rejected:
        msg = (f"{len(rejected)} of {total} {what} pair(s) rejected (see the estimator's "
               f"rejected_ attribute): {rejected[0][1]}" + (" ..." if len(rejected) > 1 else ""))
        warnings.warn(msg, AstropyUserWarning, stacklevel=3)
