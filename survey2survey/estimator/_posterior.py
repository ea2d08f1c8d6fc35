# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Posterior draws of a translation, target-survey noise, and their pixel and aperture variances.

A translation ``M`` (the mean image, in target units) differs from the
noise-free sky at the target PSF by an error field, modelled per band ``b`` as
the sum of two Gaussian fields::

    e_b = s_b * g_b * (sigma_b n_b)  +  f_b * (1 - G_L) * (M+_b (K_l * n))
          +  t_b * M+_b (K_l * n')

- the **input-noise part**: the input's own noise (its 1-sigma map ``sigma_b``
  in target units, white ``n_b``) passed through the *translator's measured
  noise transfer* ``g_b(k)``: the radial power spectrum of the change of the
  output for a small added input noise, over that noise's. Networks denoise
  and deconvolve, so this is measured, never assumed (the Wiener filter alone
  would amplify the noise 5-10x where a trained network suppresses it).
- the **model part**: a fractional error ``f_b`` of the positive, lightly
  smoothed mean image ``M+``, modulated by one unit-variance Gaussian random
  field of correlation length ``l`` shared by all bands (a network's errors
  in a galaxy's shape are the same in every band: their correlation is
  0.85-0.94 between bands within 2"), high-passed by ``1 - G_L`` (a
  Gaussian of ``L`` pixels; ``L = 0``: none): a flux-conserving translator
  moves flux by about ``L`` but does not create it, so its fractional
  errors shrink from 6% at 1" to 1.5% at 8". A second, independent field
  ``n'`` with fraction ``t_b`` carries the errors of the flux itself (what
  leaves a large aperture into the wings or beyond the border).

A sample of the target survey adds the target's noise,
``sqrt(v_b + max(S_b, 0) / gain_b) * (k_b * n'_b)``: sky variance, Poisson
noise on the sources, and the target's pixel-to-pixel noise correlation
``k_b`` (coadds resample their exposures, which correlates neighbouring
pixels), all measured on the calibration targets.

All parameters are fitted on held-out pairs by `PosteriorModel.fit`: the
noise transfer from a second translation with added noise, ``(s, f, l)`` by
a Gaussian likelihood of aperture-flux residuals against the targets (whose
own aperture noise is part of the variance), then per aperture radius factors
``kappa(R)`` and per pixel-class factors (sky, source) that make 68.27% of
the residuals fall within their sigma.
"""

import math
from types import SimpleNamespace

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import gaussian_filter
from scipy.optimize import minimize

from ..exceptions import InvalidDataError

__all__ = ["PosteriorModel", "APERTURE_RADII", "GAUSSIAN_COVERAGE"]

#: aperture radii (arcsec) at which the aperture factors are calibrated
APERTURE_RADII = (1.0, 2.0, 4.0, 8.0)
#: the fraction of a Gaussian within one sigma
GAUSSIAN_COVERAGE = 0.6827
#: radial frequencies (cycles per pixel) of the stored noise transfer
FREQUENCIES = np.linspace(0.0, 0.75, 31)
#: correlation lengths (pixels) tried for the model part
CORRELATION_LENGTHS = (0.5, 1.0, 2.0, 4.0)
#: redistribution lengths (pixels) tried: the model part moves flux within about this
#: distance and conserves it beyond (0: it does not conserve flux)
REDISTRIBUTION_LENGTHS = (0.0, 1.0, 2.0, 4.0, 8.0)
#: apertures fall in classes by their signal-to-noise (mean image over the target's sky
#: noise) at these edges: blank sky, faint, bright and very bright sources, each with
#: its own calibration factors (errors grow faster than the noise on bright sources)
APERTURE_SNR_EDGES = (5.0, 50.0, 500.0)
#: half-size of the target-noise correlation table (lags -3..3 pixels)
LAGS = 3
#: smaller measured correlations are taken for none: sources too faint to mask on
#: blank sky correlate it by about 0.016 at every lag, which summed over the 48 lags
#: of the table would wrongly add ~70% to the noise of large apertures, while the
#: resampling of a coadd correlates neighbours by 0.1-0.3
MIN_CORRELATION = 0.05
#: the mean image is smoothed by this (pixels) before it scales the model part
SMOOTHING = 1.0
#: a pixel or aperture counts as a source above this signal-to-noise (target sky noise)
SOURCE_SNR = 3.0
#: random apertures per calibration image and radius (beside those on sources)
RANDOM_APERTURES = 8
#: apertures on the brightest sources besides the central one, per calibration image
SOURCE_APERTURES = 4
#: how much added input noise measures the noise transfer (a fraction of the input's)
PROBE_AMPLITUDE = 0.5


def _fast(n):
    return sfft.next_fast_len(int(n), real=True)


class _Grid:
    """FFT geometry of one image shape: zero padding by ``pad`` and radial frequencies."""

    def __init__(self, shape, pad):
        self.shape = tuple(int(v) for v in shape)
        self.pad = int(pad)
        self.padded = (_fast(self.shape[0] + 2 * self.pad), _fast(self.shape[1] + 2 * self.pad))
        fy = np.fft.fftfreq(self.padded[0])[:, None]
        fx = np.fft.rfftfreq(self.padded[1])[None, :]
        self.radius = np.hypot(fy, fx)
        # each rfft2 column stands for itself and its mirror, but the zero and
        # (for even sizes) the Nyquist columns
        self.half_plane = np.full(self.radius.shape, 2.0)
        self.half_plane[:, 0] = 1.0
        if self.padded[1] % 2 == 0:
            self.half_plane[:, -1] = 1.0

    def embed(self, values):
        """``values`` (..., H, W) zero-padded to the FFT grid (origin at the top left)."""
        out = np.zeros(values.shape[:-2] + self.padded)
        out[..., :self.shape[0], :self.shape[1]] = values
        return out

    def convolve(self, values, transfer):
        """Linear (non-circular) filtering of ``values`` by a real, symmetric ``transfer``."""
        pad = self.pad
        # float32 in, float32 FFTs (twice as fast; the draws are noise)
        dtype = np.float32 if values.dtype == np.float32 else np.float64
        big = np.zeros(values.shape[:-2] + self.padded, dtype=dtype)
        big[..., pad:pad + self.shape[0], pad:pad + self.shape[1]] = values
        transfer = np.asarray(transfer, dtype=dtype)
        out = sfft.irfft2(sfft.rfft2(big, workers=-1) * transfer, s=self.padded, workers=-1)
        return out[..., pad:pad + self.shape[0], pad:pad + self.shape[1]]

    def radial(self, table):
        """A radial table on `FREQUENCIES` (..., K) as an rfft2-shaped transfer (..., Y, X)."""
        table = np.asarray(table, dtype=float)
        flat = table.reshape(-1, table.shape[-1])
        out = np.stack([np.interp(self.radius, FREQUENCIES, row) for row in flat])
        return out.reshape(table.shape[:-1] + self.radius.shape)

    def gaussian(self, length):
        """Transfer of the Gaussian that turns white noise into a unit-variance field."""
        transfer = np.exp(-2.0 * (math.pi * length * self.radius) ** 2)
        return transfer / self.field_std(transfer)

    def spectrum_variance(self, spectrum, transfer):
        """``sum_pq a_p a_q C(p - q)`` of a field with ``transfer``, from ``rfft2(a)``."""
        power = np.abs(spectrum) ** 2 * (transfer ** 2 * self.half_plane)
        return power.sum(axis=(-1, -2)) / (self.padded[0] * self.padded[1])

    def field_variance(self, amplitude, transfer):
        """`spectrum_variance` of (..., H, W) amplitudes."""
        return self.spectrum_variance(sfft.rfft2(self.embed(amplitude), workers=-1), transfer)

    def field_std(self, transfer):
        """Pixel standard deviation of white unit noise filtered by ``transfer``."""
        return float(np.sqrt(self.spectrum_variance(1.0, transfer)))

    def kernel_transfer(self, correlation):
        """Amplitude transfer of unit-variance noise with a ``(7, 7)`` correlation table."""
        size = 2 * LAGS + 1
        acf = np.zeros(self.padded)
        for dy in range(size):
            for dx in range(size):
                acf[(dy - LAGS) % self.padded[0], (dx - LAGS) % self.padded[1]] = \
                    correlation[dy, dx]
        power = np.clip(sfft.rfft2(acf).real, 0.0, None)
        transfer = np.sqrt(power)
        return transfer / self.field_std(transfer)




def _pad_for(lengths=()):
    return int(max(16, 3 * max((0.0, *lengths))))


def _positive_mean(mean):
    """``M+``: the mean image smoothed by `SMOOTHING` pixels, negative values set to 0."""
    smooth = gaussian_filter(np.nan_to_num(np.asarray(mean, dtype=float)),
                             sigma=(0,) * (np.ndim(mean) - 2) + (SMOOTHING, SMOOTHING))
    return np.clip(smooth, 0.0, None)


class PosteriorModel:
    """
    The fitted error and target-noise model of a translator (see the module docstring).

    Parameters
    ----------
    noise_transfer : array-like
        ``(C, K)``: the radial noise transfer ``g_b`` on `FREQUENCIES`.
    noise_scale, model_fraction, flux_fraction : array-like
        ``s_b``, ``f_b`` and ``t_b`` per band.
    correlation_length : float
        ``l``, pixels.
    redistribution_length : float
        ``L``, pixels (0: no high-pass).
    radius_factors : array-like
        ``(K, R)``: ``kappa`` at `APERTURE_RADII` (arcsec) for the ``K = 4``
        aperture classes of `APERTURE_SNR_EDGES` (blank sky first).
    pixel_factors : tuple of float
        ``(kappa_sky, kappa_source)`` of the per-pixel uncertainty.
    sky_variance, inverse_gain : array-like
        Target-noise variance on blank sky and per unit of flux, per band.
    correlation : array-like
        ``(C, 7, 7)`` target-noise correlation at lags -3..3 (1 at the centre).
    pixel_scale : float
        Arcsec per pixel of the images the model was fitted on.
    """

    kind = "posterior"

    def __init__(self, noise_transfer, noise_scale, model_fraction, flux_fraction,
                 correlation_length,
                 redistribution_length, radius_factors, pixel_factors, sky_variance,
                 inverse_gain, correlation, pixel_scale):
        self.noise_transfer = np.asarray(noise_transfer, dtype=float)
        self.noise_scale = np.asarray(noise_scale, dtype=float)
        self.model_fraction = np.asarray(model_fraction, dtype=float)
        self.flux_fraction = np.asarray(flux_fraction, dtype=float)
        self.correlation_length = float(correlation_length)
        self.redistribution_length = float(redistribution_length)
        self.radius_factors = np.asarray(radius_factors, dtype=float)
        self.pixel_factors = tuple(float(v) for v in pixel_factors)
        self.sky_variance = np.asarray(sky_variance, dtype=float)
        self.inverse_gain = np.asarray(inverse_gain, dtype=float)
        self.correlation = np.asarray(correlation, dtype=float)
        self.pixel_scale = float(pixel_scale)
        self._transfer_cache = {}
        n = len(self.noise_scale)
        shapes = {"noise_transfer": (self.noise_transfer.shape, (n, len(FREQUENCIES))),
                  "model_fraction": (self.model_fraction.shape, (n,)),
                  "flux_fraction": (self.flux_fraction.shape, (n,)),
                  "radius_factors": (self.radius_factors.shape,
                                     (len(APERTURE_SNR_EDGES) + 1, len(APERTURE_RADII))),
                  "sky_variance": (self.sky_variance.shape, (n,)),
                  "inverse_gain": (self.inverse_gain.shape, (n,)),
                  "correlation": (self.correlation.shape, (n, 2 * LAGS + 1, 2 * LAGS + 1))}
        for name, (got, expected) in shapes.items():
            if got != expected:
                msg = f"{name} has shape {got}, expected {expected}"
                raise ValueError(msg)
        values = np.concatenate([v.ravel() for v in (
            self.noise_transfer, self.noise_scale, self.model_fraction, self.flux_fraction,
            self.radius_factors,
            self.sky_variance, self.inverse_gain)] + [np.array(self.pixel_factors)])
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            msg = "a posterior model needs finite non-negative parameters"
            raise ValueError(msg)

    def __repr__(self):
        return (f"PosteriorModel(noise_scale={self.noise_scale.round(3).tolist()}, "
                f"model_fraction={self.model_fraction.round(4).tolist()}, "
                f"flux_fraction={self.flux_fraction.round(4).tolist()}, "
                f"correlation_length={self.correlation_length}, "
                f"redistribution_length={self.redistribution_length}, "
                f"radius_factors={self.radius_factors.round(3).tolist()}, "
                f"pixel_factors={[round(v, 3) for v in self.pixel_factors]})")

    @property
    def n_bands(self):
        return len(self.noise_scale)

    # --- the pieces of the model -----------------------------------------------------------

    def _transfers(self, shape):
        """
        The grid of an image shape and the model's transfers on it, computed once per shape.

        ``noise`` (scaled input-noise transfer per band), ``field`` (unit-variance
        model field), ``high_pass`` (``1 - G_L``, 1 without redistribution) and
        ``kernels`` (target-noise amplitude per band).
        """
        shape = tuple(int(v) for v in shape)
        if shape not in self._transfer_cache:
            grid = _Grid(shape, _pad_for((self.correlation_length, self.redistribution_length,
                                          8.0)))
            self._transfer_cache[shape] = SimpleNamespace(
                grid=grid,
                noise=grid.radial(self.noise_transfer) * self.noise_scale[:, None, None],
                field=grid.gaussian(self.correlation_length),
                high_pass=_high_pass(grid, self.redistribution_length),
                kernels=np.stack([grid.kernel_transfer(c) for c in self.correlation]))
        return self._transfer_cache[shape]

    def target_sigma(self, image):
        """``(C, H, W)`` target-survey noise of a noise-free ``image`` (sky + Poisson)."""
        image = np.clip(np.nan_to_num(np.asarray(image, dtype=float)), 0.0, None)
        return np.sqrt(self.sky_variance[:, None, None]
                       + self.inverse_gain[:, None, None] * image)

    def draw(self, mean, input_sigma, n_samples, rng, *, noise=True):
        """
        ``(n, C, H, W)`` posterior draws of the noise-free image (plus target noise).

        Parameters
        ----------
        mean : `~numpy.ndarray`
            ``(C, H, W)`` mean translation.
        input_sigma : `~numpy.ndarray`
            ``(C, H, W)`` input noise in target units (NaN: none).
        n_samples : int
            Draws.
        rng : `numpy.random.Generator`
            The random numbers.
        noise : bool, optional
            Add the target survey's noise.

        Returns
        -------
        draws, sigma
            The draws and, with ``noise``, their target noise ``(n, C, H, W)``
            (else None).
        """
        mean = np.nan_to_num(np.asarray(mean, dtype=float))
        sigma_in = np.nan_to_num(np.asarray(input_sigma, dtype=float))
        transfers = self._transfers(mean.shape[-2:])
        grid = transfers.grid
        shape = (n_samples,) + mean.shape
        single = np.float32
        white = rng.standard_normal(shape, dtype=single) * sigma_in.astype(single)
        errors = grid.convolve(white, transfers.noise)
        # the redistributing and the flux-error fields, independent, one transform
        fields = grid.convolve(rng.standard_normal((n_samples, 2) + mean.shape[-2:],
                                                   dtype=single), transfers.field)
        positive = _positive_mean(mean).astype(single)
        model_part = self.model_fraction[:, None, None].astype(single) * positive * fields[:, :1]
        if self.redistribution_length > 0:
            model_part = grid.convolve(model_part, transfers.high_pass)
        errors += model_part + (self.flux_fraction[:, None, None].astype(single) * positive
                                * fields[:, 1:])
        draws = mean + errors
        if not noise:
            return draws, None
        sigma = self.target_sigma(draws)
        target_noise = grid.convolve(rng.standard_normal(shape, dtype=single),
                                     transfers.kernels)
        return draws + sigma * target_noise, sigma

    def _model_pixel_variance(self, mean, input_sigma):
        """Per-pixel variance of the error model before the pixel factors ``(C, H, W)``."""
        mean = np.nan_to_num(np.asarray(mean, dtype=float))
        sigma_in = np.nan_to_num(np.asarray(input_sigma, dtype=float))
        transfers = self._transfers(mean.shape[-2:])
        grid = transfers.grid
        # the squared real-space kernel of each band, as a transfer
        kernel = sfft.irfft2(transfers.noise, s=grid.padded)
        squared = sfft.rfft2(kernel ** 2)
        noise_var = np.clip(grid.convolve(sigma_in ** 2, squared.real), 0.0, None)
        amplitude2 = (self.model_fraction[:, None, None] * _positive_mean(mean)) ** 2
        if self.redistribution_length > 0:
            # h**2 * a**2 is exact for a white field; the correlated field's share of
            # the high-passed variance corrects it for the correlation
            high = sfft.irfft2(transfers.high_pass, s=grid.padded)
            share = (grid.field_std(transfers.high_pass * transfers.field) ** 2
                     / np.sum(high ** 2))
            amplitude2 = share * np.clip(
                grid.convolve(amplitude2, sfft.rfft2(high ** 2).real), 0.0, None)
        flux2 = (self.flux_fraction[:, None, None] * _positive_mean(mean)) ** 2
        return noise_var + amplitude2 + flux2

    def pixel_sigma(self, mean, input_sigma):
        """``(C, H, W)`` calibrated 1-sigma uncertainty of the mean image against the sky."""
        variance = self._model_pixel_variance(mean, input_sigma)
        source = np.nan_to_num(np.asarray(mean, dtype=float)) > \
            SOURCE_SNR * np.sqrt(self.sky_variance)[:, None, None]
        factor = np.where(source, self.pixel_factors[1], self.pixel_factors[0])
        # an unknown input noise is never taken for none
        return np.where(np.isnan(input_sigma), np.nan, factor * np.sqrt(variance))

    def radius_factor(self, radius_arcsec, classes):
        """``kappa`` of apertures (radii interpolated in log radius) of given classes."""
        log_radius = np.log(np.clip(radius_arcsec, 1e-3, None))
        table = np.stack([np.interp(log_radius, np.log(APERTURE_RADII), row)
                          for row in self.radius_factors])  # (K, ...)
        return np.take_along_axis(table, np.asarray(classes)[None], axis=0)[0]

    def aperture_class(self, mean, weights):
        """``(A, C)`` class of each aperture and band (`APERTURE_SNR_EDGES`; 0: blank sky)."""
        flux = np.einsum("ahw,chw->ac", weights, _positive_mean(mean))
        noise = np.sqrt(np.einsum("ahw,c->ac", weights ** 2, self.sky_variance))
        return np.searchsorted(APERTURE_SNR_EDGES, flux / np.where(noise > 0, noise, 1.0))

    def aperture_variance(self, mean, input_sigma, weights, band_weights=None, *,
                          calibrated=True):
        """
        Variance of weighted aperture sums of the mean image against the sky.

        Parameters
        ----------
        mean, input_sigma : `~numpy.ndarray`
            ``(C, H, W)``.
        weights : `~numpy.ndarray`
            ``(A, H, W)`` aperture weights (e.g. photutils ``ApertureMask.to_image``).
        band_weights : array-like, optional
            ``(C,)``: the variance of ``sum_b band_weights[b] * flux_b`` (the band
            errors of the model part are fully correlated). None: per band.
        calibrated : bool, optional
            Apply the aperture factors ``kappa(R)``.

        Returns
        -------
        `~numpy.ndarray`
            ``(A, C)`` per band, or ``(A,)`` with ``band_weights``.
        """
        mean = np.nan_to_num(np.asarray(mean, dtype=float))
        weights = np.asarray(weights, dtype=float)
        transfers = self._transfers(mean.shape[-2:])
        grid = transfers.grid
        sigma2 = np.nan_to_num(np.asarray(input_sigma, dtype=float)) ** 2
        variance = self._noise_variance(grid, weights, sigma2, transfers.noise, band_weights)
        positive = _positive_mean(mean)
        spread = _redistributed(grid, weights, self.redistribution_length)
        for fraction, aperture in ((self.model_fraction, spread), (self.flux_fraction, weights)):
            amplitude = fraction[:, None, None] * positive
            if band_weights is None:
                variance = variance + grid.field_variance(aperture[:, None] * amplitude,
                                                          transfers.field)
            else:
                combined = np.tensordot(np.asarray(band_weights, dtype=float), amplitude,
                                        axes=1)
                variance = variance + grid.field_variance(aperture * combined,
                                                          transfers.field)
        if calibrated:
            radius = np.sqrt(weights.sum(axis=(-1, -2)) / math.pi) * self.pixel_scale
            classes = self.aperture_class(mean, weights)
            if variance.ndim == 1:  # a band combination: the class of its brightest band
                classes = classes.max(axis=1)
            else:
                radius = radius[:, None]
            variance = variance * self.radius_factor(radius, classes) ** 2
        return variance

    @staticmethod
    def _noise_variance(grid, weights, sigma2, transfers, band_weights):
        """``sum_p sigma2_b(p) (g_b * W)(p)**2`` for each aperture and band."""
        spread = grid.convolve(weights[:, None], transfers)  # (A, C, H, W)
        per_band = np.einsum("achw,chw->ac", spread ** 2, sigma2)
        if band_weights is None:
            return per_band
        return per_band @ (np.asarray(band_weights, dtype=float) ** 2)

    # --- persistence ------------------------------------------------------------------------

    def to_dict(self):
        return {"kind": self.kind, "noise_transfer": self.noise_transfer.tolist(),
                "noise_scale": self.noise_scale.tolist(),
                "model_fraction": self.model_fraction.tolist(),
                "flux_fraction": self.flux_fraction.tolist(),
                "correlation_length": self.correlation_length,
                "redistribution_length": self.redistribution_length,
                "radius_factors": self.radius_factors.tolist(),
                "pixel_factors": list(self.pixel_factors),
                "sky_variance": self.sky_variance.tolist(),
                "inverse_gain": self.inverse_gain.tolist(),
                "correlation": self.correlation.tolist(), "pixel_scale": self.pixel_scale}

    @classmethod
    def from_dict(cls, state, n_bands):
        state = dict(state)
        state.pop("kind", None)
        model = cls(**state)
        if model.n_bands != n_bands:
            msg = f"the posterior model has {model.n_bands} bands, not {n_bands}"
            raise ValueError(msg)
        return model

    # --- fitting ----------------------------------------------------------------------------

    @classmethod
    def fit(cls, means, responses, input_sigmas, targets, target_sigmas, masks, pixel_scale,
            *, truths=None, seed=0):
        """
        Fit the model on held-out pairs (lists of ``(C, H, W)`` arrays, target units).

        Parameters
        ----------
        means : list
            Mean translations of the held-out sources.
        responses : list
            The change of each translation for added input noise
            ``PROBE_AMPLITUDE * input_sigma * n`` (white ``n``), over
            ``PROBE_AMPLITUDE``.
        input_sigmas : list
            The inputs' noise in target units.
        targets, target_sigmas : list
            The target images and their 1-sigma noise.
        masks : list
            True where a pixel is not used.
        pixel_scale : float
            Arcsec per pixel.
        truths : list, optional
            The noise-free targets (simulated pairs): the error model is then
            fitted to the errors themselves rather than to residuals against
            noisy targets, which cannot tell the shape of the error
            distribution (heavy-tailed errors behind Gaussian target noise
            come out over-covered). The target-noise model still comes from
            the targets.
        seed : int, optional
            Seed of the random aperture positions.
        """
        rng = np.random.default_rng(seed)
        means = [np.nan_to_num(np.asarray(m, dtype=float)) for m in means]
        masks = [np.asarray(m, dtype=bool) | ~np.isfinite(t) | ~np.isfinite(s)
                 for m, t, s in zip(masks, targets, target_sigmas, strict=True)]
        target_sigmas = [np.where(k, 0.0, np.nan_to_num(s))
                         for s, k in zip(target_sigmas, masks, strict=True)]
        references = targets if truths is None else truths
        residuals = [np.where(k, 0.0, m - np.nan_to_num(t))
                     for m, t, k in zip(means, references, masks, strict=True)]
        # against the truth the residual holds no target noise
        residual_sigmas = (target_sigmas if truths is None
                           else [np.zeros_like(s) for s in target_sigmas])
        sigmas = [np.nan_to_num(np.asarray(s, dtype=float)) for s in input_sigmas]
        transfer = _noise_transfer(responses, sigmas, masks)
        sky_variance, inverse_gain = _target_noise_level(means, target_sigmas, masks)
        correlation = _target_correlation(means, targets, target_sigmas, masks, sky_variance)
        base = dict(noise_transfer=transfer,
                    radius_factors=np.ones((len(APERTURE_SNR_EDGES) + 1,
                                            len(APERTURE_RADII))),
                    pixel_factors=(1.0, 1.0), sky_variance=sky_variance,
                    inverse_gain=inverse_gain, correlation=correlation,
                    pixel_scale=pixel_scale)
        apertures = _Apertures(means, pixel_scale, rng, sky_variance)
        if not apertures.radii:
            msg = "the calibration images are too small for a 1\" aperture"
            raise InvalidDataError(msg)
        terms = apertures.terms(means, sigmas, residuals, residual_sigmas, masks, transfer,
                                correlation)
        scale, fraction, flux, (length, redistribution) = _likelihood_fit(terms)
        model = cls(**base, noise_scale=scale, model_fraction=fraction, flux_fraction=flux,
                    correlation_length=length, redistribution_length=redistribution)
        model.radius_factors = apertures.radius_factors(model, means, sigmas, masks, terms)
        model.pixel_factors = _pixel_factors(model, means, sigmas, residuals, residual_sigmas,
                                             masks)
        return model


def _radial_power(images, masks):
    """Mean radial power ``(C, K)`` on `FREQUENCIES` of ``(C, H, W)`` images (masked: 0)."""
    shape = images[0].shape[-2:]
    ny, nx = shape
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.rfftfreq(nx)[None, :]
    radius = np.hypot(fy, fx)
    edges = np.concatenate([FREQUENCIES[:1] - 1e-9,
                            0.5 * (FREQUENCIES[1:] + FREQUENCIES[:-1]), [np.inf]])
    index = np.clip(np.searchsorted(edges, radius, side="right") - 1, 0, len(FREQUENCIES) - 1)
    total = np.zeros((images[0].shape[0], len(FREQUENCIES)))
    counts = np.bincount(index.ravel(), minlength=len(FREQUENCIES)).astype(float)
    for image, mask in zip(images, masks, strict=True):
        power = np.abs(np.fft.rfft2(np.where(mask, 0.0, image))) ** 2
        for band in range(image.shape[0]):
            total[band] += np.bincount(index.ravel(), weights=power[band].ravel(),
                                       minlength=len(FREQUENCIES))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / (counts * len(images))
    # frequencies no image grid samples: those of the nearest sampled frequency
    for band in range(len(mean)):
        good = np.isfinite(mean[band])
        mean[band] = np.interp(FREQUENCIES, FREQUENCIES[good], mean[band][good])
    return mean


def _noise_transfer(responses, sigmas, masks):
    """``g_b(k)``: sqrt of the response's radial power over that of white input noise."""
    responses = [np.nan_to_num(np.asarray(r, dtype=float)) for r in responses]
    response_power = _radial_power(responses, masks)
    ny, nx = responses[0].shape[-2:]
    white_power = np.zeros(len(response_power))
    for sigma, mask in zip(sigmas, masks, strict=True):
        white_power += np.where(mask, 0.0, sigma ** 2).sum(axis=(-1, -2))
    white_power /= len(sigmas)  # flat power of white noise of this sigma: sum of variances
    if np.any(white_power <= 0):
        msg = "the calibration inputs need a positive noise to measure the noise transfer"
        raise InvalidDataError(msg)
    return np.sqrt(response_power / white_power[:, None])


def _target_noise_level(means, target_sigmas, masks):
    """Sky variance (median on blank sky) and Poisson variance per unit flux, per band."""
    n_bands = means[0].shape[0]
    sky, inverse_gain = np.zeros(n_bands), np.zeros(n_bands)
    for band in range(n_bands):
        sigma2 = np.concatenate([(s[band] ** 2)[~k[band]] for s, k in zip(target_sigmas, masks,
                                                                          strict=True)])
        flux = np.concatenate([_positive_mean(m)[band][~k[band]]
                               for m, k in zip(means, masks, strict=True)])
        if sigma2.size < 100:
            msg = "too few unmasked target pixels to measure the target noise"
            raise InvalidDataError(msg)
        sky[band] = float(np.median(sigma2[flux <= np.percentile(flux, 50)]))
        bright = flux > SOURCE_SNR * math.sqrt(sky[band])
        if bright.sum() >= 20:
            excess = sigma2[bright] - sky[band]
            inverse_gain[band] = max(0.0, float(np.sum(excess * flux[bright])
                                                / np.sum(flux[bright] ** 2)))
    return sky, inverse_gain


def _high_pass(grid, length):
    if length <= 0:
        return np.ones(grid.radius.shape)
    return 1.0 - np.exp(-2.0 * (math.pi * length * grid.radius) ** 2)


def _redistributed(grid, weights, length):
    """Aperture weights seen by a field high-passed by ``1 - G_L`` (the weights without)."""
    if length <= 0:
        return weights
    return grid.convolve(weights, _high_pass(grid, length))


class _Apertures:
    """
    The calibration apertures at `APERTURE_RADII`: where photometry puts them.

    Centred on the sources of each mean image (its centre, where a cutout's
    target is, and up to `SOURCE_APERTURES` other peaks above 10 sigma of the
    target's sky noise) and at `RANDOM_APERTURES` random positions, most of
    them on blank sky. Apertures half on a galaxy are not what users measure,
    and their errors are not those of centred ones.
    """

    def __init__(self, means, pixel_scale, rng, sky_variance):
        ny, nx = means[0].shape[-2:]
        self.radii = [r for r in APERTURE_RADII if r / pixel_scale <= min(ny, nx) / 2 - 1]
        yy, xx = np.indices((ny, nx))
        self.disks = {}
        peaks = [_peaks(mean, sky_variance) for mean in means]
        for radius in self.radii:
            pixels = radius / pixel_scale
            positions = []
            for image_peaks in peaks:
                inside = [(y, x) for y, x in image_peaks
                          if pixels <= y <= ny - 1 - pixels and pixels <= x <= nx - 1 - pixels]
                ys = rng.uniform(pixels, ny - 1 - pixels, RANDOM_APERTURES)
                xs = rng.uniform(pixels, nx - 1 - pixels, RANDOM_APERTURES)
                positions.append([((ny - 1) / 2, (nx - 1) / 2), *inside,
                                  *zip(ys, xs, strict=True)])
            self.disks[radius] = [np.stack([(np.hypot(yy - y, xx - x) <= pixels).astype(float)
                                            for y, x in image]) for image in positions]

    def weights(self, radius, k, masks):
        """The aperture weights of image ``k`` at ``radius``, zero on its masked pixels."""
        return self.disks[radius][k] * ~masks[k].any(axis=0)

    def terms(self, means, sigmas, residuals, target_sigmas, masks, transfer, correlation):
        """
        Per radius and image: ``(radius, residual sums, unit input-noise variance, unit
        field variances for every (l, L), target variance, image index)``.
        """
        # every grid and transfer once per image shape (calibration images share one)
        pad = _pad_for((max(CORRELATION_LENGTHS), max(REDISTRIBUTION_LENGTHS), 8.0))
        transfers = {}
        for shape in {m.shape[-2:] for m in means}:
            grid = _Grid(shape, pad)
            transfers[shape] = (grid, grid.radial(transfer),
                                [grid.gaussian(length) for length in CORRELATION_LENGTHS],
                                np.stack([grid.kernel_transfer(c) for c in correlation]))
        rows = []
        for radius in self.radii:
            for k in range(len(means)):
                grid, noise_transfer, gaussians, kernels = transfers[means[k].shape[-2:]]
                weights = self.weights(radius, k, masks)
                sums = np.einsum("ahw,chw->ac", weights, residuals[k])
                noise = PosteriorModel._noise_variance(grid, weights, sigmas[k] ** 2,
                                                       noise_transfer, None)
                amplitude = _positive_mean(means[k])
                fields = []
                for redistribution in REDISTRIBUTION_LENGTHS:
                    spread = _redistributed(grid, weights, redistribution)
                    spectrum = sfft.rfft2(grid.embed(spread[:, None] * amplitude), workers=-1)
                    fields += [grid.spectrum_variance(spectrum, gaussian)
                               for gaussian in gaussians]
                fields = np.stack(fields, axis=-1)
                target = PosteriorModel._noise_variance(grid, weights, target_sigmas[k] ** 2,
                                                        kernels, None)
                rows.append((radius, sums, noise, fields, target, k))
        return rows

    def radius_factors(self, model, means, sigmas, masks, rows):
        """
        ``(K, R)`` factors: 68.27% coverage of the apertures of each class and radius.

        ``rows`` are `terms`' (their residual sums and target variances).
        """
        factors = np.ones((len(APERTURE_SNR_EDGES) + 1, len(APERTURE_RADII)))
        for column, radius in enumerate(APERTURE_RADII):
            if radius not in self.radii:
                factors[:, column] = factors[:, column - 1] if column else 1.0
                continue
            r, v, t, source = [], [], [], []
            for row_radius, sums, _, _, target, k in rows:
                if row_radius != radius:
                    continue
                weights = self.weights(radius, k, masks)
                r.append(sums)
                v.append(model.aperture_variance(means[k], sigmas[k], weights,
                                                 calibrated=False))
                t.append(target)
                source.append(model.aperture_class(means[k], weights))
            r, v, t, source = (np.concatenate(x).ravel() for x in (r, v, t, source))
            pooled = _coverage_factor(r, v, t)
            for row in range(len(factors)):
                chosen = source == row
                factors[row, column] = (_coverage_factor(r[chosen], v[chosen], t[chosen])
                                        if chosen.sum() >= 30 else pooled)
        return factors


def _peaks(mean, sky_variance):
    """Up to `SOURCE_APERTURES` brightest local maxima ``(y, x)`` above 10 sigma, off-centre."""
    from scipy.ndimage import maximum_filter

    signal = (_positive_mean(mean) / np.sqrt(sky_variance)[:, None, None]).sum(axis=0)
    ny, nx = signal.shape
    local = (signal == maximum_filter(signal, size=7)) & (signal > 10.0)
    ys, xs = np.nonzero(local)
    far = np.hypot(ys - (ny - 1) / 2, xs - (nx - 1) / 2) > 3
    ys, xs = ys[far], xs[far]
    order = np.argsort(signal[ys, xs])[::-1][:SOURCE_APERTURES]
    return [(float(ys[k]), float(xs[k])) for k in order]


def _likelihood_fit(rows):
    """``(s, f, t, (l, L))`` maximising the Gaussian likelihood of the aperture residuals."""
    r = np.concatenate([row[1] for row in rows])          # (N, C)
    noise = np.concatenate([row[2] for row in rows])      # (N, C)
    fields = np.concatenate([row[3] for row in rows])     # (N, C, L)
    target = np.concatenate([row[4] for row in rows])     # (N, C)
    n_bands = r.shape[1]
    best = None
    lengths = [(length, redistribution) for redistribution in REDISTRIBUTION_LENGTHS
               for length in CORRELATION_LENGTHS]
    for index, length in enumerate(lengths):
        plain = lengths.index((length[0], 0.0))  # the same field without the high-pass
        scales, fractions, fluxes, total = (np.zeros(n_bands), np.zeros(n_bands),
                                            np.zeros(n_bands), 0.0)
        for band in range(n_bands):
            rr, nn, tt = r[:, band], noise[:, band], target[:, band]
            ff, gg = fields[:, band, index], fields[:, band, plain]
            floor = 1e-12 * max(float(np.mean(rr ** 2)), 1e-300)

            def nll(logs, rr=rr, nn=nn, ff=ff, gg=gg, tt=tt, floor=floor):
                variance = (tt + np.exp(logs[0]) * nn + np.exp(logs[1]) * ff
                            + np.exp(logs[2]) * gg + floor)
                return float(np.mean(np.log(variance) + rr ** 2 / variance))

            start = [0.0, math.log(1e-3), math.log(1e-5)]
            result = minimize(nll, start, method="Nelder-Mead",
                              options={"xatol": 1e-3, "fatol": 1e-7, "maxiter": 900})
            scales[band], fractions[band], fluxes[band] = np.sqrt(np.exp(result.x))
            total += result.fun
        if best is None or total < best[0]:
            best = (total, scales, fractions, fluxes, length)
    return best[1:]


def _coverage_factor(residual, model_variance, target_variance):
    """The factor on the model's sigma that puts 68.27% of ``residual`` within sigma."""
    squared = residual ** 2

    def coverage(factor):
        return float(np.mean(squared <= target_variance + factor ** 2 * model_variance))

    if coverage(0.0) >= GAUSSIAN_COVERAGE:
        return 0.0
    low, high = 0.0, 1.0
    while coverage(high) < GAUSSIAN_COVERAGE and high < 1e6:
        high *= 2.0
    for _ in range(40):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if coverage(middle) < GAUSSIAN_COVERAGE else (low, middle)
    return high


def _pixel_factors(model, means, sigmas, residuals, target_sigmas, masks):
    """``(kappa_sky, kappa_source)``: 68.27% pixel coverage against the targets, per class."""
    r, v, t, source = [], [], [], []
    threshold = SOURCE_SNR * np.sqrt(model.sky_variance)[:, None, None]
    for mean, sigma, residual, target_sigma, mask in zip(means, sigmas, residuals,
                                                         target_sigmas, masks, strict=True):
        keep = ~mask
        r.append(residual[keep])
        v.append(model._model_pixel_variance(mean, sigma)[keep])
        t.append((target_sigma ** 2)[keep])
        source.append((mean > threshold)[keep])
    r, v, t, source = (np.concatenate(x) for x in (r, v, t, source))
    factors = []
    for chosen in (~source, source):
        factors.append(_coverage_factor(r[chosen], v[chosen], t[chosen])
                       if chosen.sum() >= 100 else 1.0)
    return tuple(factors)


def _target_correlation(means, targets, target_sigmas, masks, sky_variance):
    """
    ``(C, 7, 7)`` correlation of the target noise, measured on blank sky.

    Blank sky: pixels at least 3 pixels from any where the mean translation
    exceeds the target's sky noise, where the target is pure noise (and the
    faint sources below that add little). Correlations within the estimate's
    own noise, or below `MIN_CORRELATION`, are taken for none.
    """
    from scipy.ndimage import binary_dilation

    n_bands = len(sky_variance)
    size = 2 * LAGS + 1
    products = np.zeros((n_bands, size, size))
    count = np.zeros((n_bands, size, size))
    threshold = np.sqrt(sky_variance)[:, None, None]
    structure = np.ones((1, 2 * LAGS + 1, 2 * LAGS + 1), dtype=bool)
    for mean, target, sigma, mask in zip(means, targets, target_sigmas, masks, strict=True):
        busy = binary_dilation(_positive_mean(mean) > threshold, structure=structure)
        sky = ~mask & ~busy & (sigma > 0)
        z = np.where(sky, np.nan_to_num(target) / np.where(sigma > 0, sigma, 1.0), 0.0)
        weight = sky.astype(float)
        for dy in range(-LAGS, LAGS + 1):
            for dx in range(-LAGS, LAGS + 1):
                a, b = _shifted(z, dy, dx)
                wa, wb = _shifted(weight, dy, dx)
                products[:, dy + LAGS, dx + LAGS] += (a * b).sum(axis=(-1, -2))
                count[:, dy + LAGS, dx + LAGS] += (wa * wb).sum(axis=(-1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = np.nan_to_num(products / count)
    zero = acf[:, LAGS, LAGS][:, None, None]
    correlation = np.where(zero > 0, acf / np.where(zero > 0, zero, 1.0), 0.0)
    noise_level = np.maximum(3.0 / np.sqrt(np.maximum(count, 1.0)), MIN_CORRELATION)
    correlation = np.where(np.abs(correlation) < noise_level, 0.0, correlation)
    correlation = np.clip(correlation, -1.0, 1.0)
    correlation[:, LAGS, LAGS] = 1.0
    return correlation


def _shifted(values, dy, dx):
    """The overlapping parts of ``values`` and ``values`` shifted by ``(dy, dx)``."""
    ny, nx = values.shape[-2:]
    a = values[..., max(0, dy):ny + min(0, dy), max(0, dx):nx + min(0, dx)]
    b = values[..., max(0, -dy):ny + min(0, -dy), max(0, -dx):nx + min(0, -dx)]
    return a, b
