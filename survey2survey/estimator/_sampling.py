# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
What a calibrated error model gives users: samples of the target survey and aperture fluxes.

`posterior_samples` turns mean translations into ``K`` posterior draws each
(plus the target survey's noise), `aperture_table` measures photutils
apertures on a mean translation with calibrated 1-sigma errors, and
`noise_probes` / `calibration_target_psfs` prepare the calibration of
`~survey2survey.estimator._posterior.PosteriorModel`.
"""

import numpy as np
from astropy import units as u
from astropy.table import QTable

from ..exceptions import InvalidOptionError, NotCalibratedError
from ..psf import psf_from_header
from ._posterior import PROBE_AMPLITUDE, PosteriorModel
from ._uncertainty import input_noise

__all__ = ["posterior_samples", "aperture_table", "noise_probes", "calibration_target_psfs",
           "require_posterior", "SAMPLE_CHUNK"]

#: draws generated at once (bounds the memory of samples of large fields)
SAMPLE_CHUNK = 4


def require_posterior(estimator, what):
    """The estimator's `PosteriorModel`, or a `NotCalibratedError` saying what to do."""
    model = estimator.uncertainty_model_
    if not isinstance(model, PosteriorModel):
        state = ("has no calibrated error model" if model is None
                 else "was calibrated with survey2survey < 0.3 (per-pixel uncertainty only)")
        msg = (f"{what} needs a calibrated error model, and this model {state}: call "
               f"calibrate_uncertainty(held_out_sources, held_out_targets) first")
        raise NotCalibratedError(msg)
    return model


def noise_probes(sources, seed):
    """The source cutouts with ``PROBE_AMPLITUDE`` times their own noise added (new objects)."""
    rng = np.random.default_rng([int(seed), 7411])
    probes = []
    for cutout in sources:
        sigma = np.nan_to_num(input_noise(cutout))
        data = np.asarray(cutout.data, dtype=float)
        probes.append(cutout.with_data(
            data + PROBE_AMPLITUDE * sigma * rng.standard_normal(data.shape)))
    return probes


def calibration_target_psfs(targets, codec):
    """The targets themselves as ``target_psf`` where every band states its PSF, else None."""
    if not codec.psf:
        return None
    for target in targets:
        for band in target.bands:
            if psf_from_header(target[band].meta) is None:
                return None
    return list(targets)


def posterior_samples(model, mean, input_sigma, n_samples, rng, *, noise=True):
    """
    ``n_samples`` new cutouts from the mean translation ``mean`` (a `Cutout`).

    Each holds a posterior draw of the noise-free image (plus, with ``noise``,
    the target survey's noise, whose 1-sigma map becomes its uncertainty), NaN
    where ``mean`` is masked, in ``mean``'s dtype, with ``S2SSAMP`` (draw
    index), ``S2SNSAMP`` and ``S2SNOISE`` cards in each band.
    """
    data = np.asarray(mean.data)
    masked = np.asarray(mean.mask, dtype=bool)
    dtype = data.dtype if data.dtype.kind == "f" else np.float64
    samples = []
    for start in range(0, n_samples, SAMPLE_CHUNK):
        count = min(SAMPLE_CHUNK, n_samples - start)
        draws, sigma = model.draw(data, input_sigma, count, rng, noise=noise)
        for k in range(count):
            values = np.where(masked, np.nan, draws[k]).astype(dtype)
            sample = mean.with_data(values, uncertainty=None if sigma is None
                                    else np.where(masked, np.nan, sigma[k]).astype(dtype))
            for band in sample.bands:
                meta = sample[band].meta
                meta["S2SSAMP"] = (start + k, "posterior draw index (0-based)")
                meta["S2SNSAMP"] = (n_samples, "posterior draws made of this input")
                meta["S2SNOISE"] = (bool(noise), "target-survey noise added")
                meta.add_history("survey2survey: a posterior draw of the translation"
                                 + (" plus target-survey noise" if noise else ""))
            samples.append(sample)
    return samples


def _pixel_apertures(apertures, wcs):
    from photutils.aperture import Aperture, SkyAperture

    if not isinstance(apertures, Aperture):
        msg = (f"apertures must be a photutils aperture (e.g. CircularAperture or "
               f"SkyCircularAperture), got {type(apertures).__name__}")
        raise InvalidOptionError(msg)
    if isinstance(apertures, SkyAperture):
        return apertures.to_pixel(wcs)
    return apertures


def aperture_table(model, mean, input_sigma, apertures, pixel_scale):
    """
    A `~astropy.table.QTable` of aperture fluxes of ``mean`` with calibrated errors.

    One row per aperture position: ``id``, ``xcenter``, ``ycenter``,
    ``sky_center``, ``radius`` (effective, arcsec), ``masked_pixels``, and
    ``flux_<band>``, ``flux_err_<band>`` per band in the output unit. Masked
    pixels count as zero (their number is in ``masked_pixels``); an aperture
    over pixels whose input noise is unknown (NaN) has a NaN error.
    """
    reference = mean[mean.bands[0]]
    wcs = reference.wcs.celestial
    pixel = _pixel_apertures(apertures, wcs)
    shape = mean.shape
    masks = pixel.to_mask(method="exact")
    masks = [masks] if not isinstance(masks, list) else masks
    weights = np.stack([np.zeros(shape) if (image := m.to_image(shape)) is None else image
                        for m in masks])
    masked = np.asarray(mean.mask, dtype=bool).any(axis=0)
    data = np.where(np.asarray(mean.mask, dtype=bool), 0.0,
                    np.nan_to_num(np.asarray(mean.data, dtype=float)))
    fluxes = np.einsum("ahw,chw->ac", weights, data)
    errors = np.sqrt(model.aperture_variance(data, input_sigma, weights))
    # apertures over pixels of unknown input noise have an unknown error
    unknown = np.einsum("ahw,chw->ac", (weights > 0).astype(float),
                        np.isnan(input_sigma).astype(float)) > 0
    errors = np.where(unknown, np.nan, errors)
    positions = np.atleast_2d(pixel.positions)
    table = QTable()
    table["id"] = np.arange(1, len(weights) + 1)
    table["xcenter"] = positions[:, 0] * u.pix
    table["ycenter"] = positions[:, 1] * u.pix
    table["sky_center"] = wcs.pixel_to_world(positions[:, 0], positions[:, 1])
    table["radius"] = np.sqrt(weights.sum(axis=(1, 2)) / np.pi) * pixel_scale * u.arcsec
    table["masked_pixels"] = np.array([int(((w > 0) & masked).sum()) for w in weights])
    for k, band in enumerate(mean.bands):
        unit = mean[band].unit
        table[f"flux_{band}"] = fluxes[:, k] * unit
        table[f"flux_err_{band}"] = errors[:, k] * unit
    table.meta["comments"] = [
        "survey2survey: aperture fluxes of the mean translation; flux_err_* are calibrated "
        "1-sigma errors against the noise-free sky at the output PSF"]
    return table

