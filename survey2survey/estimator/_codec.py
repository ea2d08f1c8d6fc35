# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The conversion between calibrated flux and the values a network sees, behind one interface.

Two codecs implement it, picked once from the estimator's ``mode``:

- `FluxCodec` (``mode='flux'``): calibrated fluxes in (in units of the source
  noise) and out through a flux-conserving head
  (`~survey2survey.translators.FluxTransportHead`);
- `PaperCodec` (``mode='paper'``): the paper's pipeline, 8-bit Lupton RGB
  composites in and 8-bit values out through a sigmoid.

A codec encodes source- and target-survey fluxes into network values, decodes
network outputs back into the output band values, says what unit and header
cards an output band carries, reduces images to the paper's one analysis layer
(mean of the bands), and round-trips through a JSON-able dict. Nothing outside
this module branches on the mode.
"""

import numpy as np
from astropy.stats import mad_std

from ..exceptions import InvalidDataError, WeightsFileError
from ..visualization import lupton_rgb
from ._paper import average_layer, composite_to_array, to_nanomaggies

__all__ = ["FluxCodec", "PaperCodec", "make_codec", "codec_from_dict", "SEEING_SIGMA",
           "RANGE_FACTOR", "MAX_WEIGHT"]

#: scale of the seeing channel: the lognormal spread of a survey's seeing (about 0.1)
SEEING_SIGMA = 0.1
#: the training range of encoded inputs: this factor times the training extremes
RANGE_FACTOR = 2.0
#: largest per-pixel loss weight (a pixel 30x quieter than the typical target noise)
MAX_WEIGHT = 1.0e3


class FluxCodec:
    """
    Calibrated flux in and out, with a flux-conserving output (``mode='flux'``).

    The network sees each source band in units of its noise, ``e = x / sigma``
    (plus, with ``seeing``, one constant channel ``mean_b ln(FWHM_b / median_b)
    / 0.1`` from the cutout's ``PSFFWHM`` cards), and its output goes through a
    `~survey2survey.translators.FluxTransportHead`: the input converted to the
    target unit plus flux moved between neighbouring pixels, in units of the
    target noise ``tau``. Training on ``y / tau`` with the mean squared error is
    then a chi-squared fit to the target (per-pixel weights ``(tau /
    sigma_pixel)**2`` make it the exact inverse-variance one).

    Parameters
    ----------
    source, target : `~survey2survey.surveys.Survey`
        The surveys translated from and to.
    bands : tuple of str
        The bands, in channel order.
    seeing : bool, optional
        Give the network the source cutout's seeing as an extra input channel.
    """

    mode = "flux"
    #: the network's last layer must be linear (and start at zero): the head adds the input
    linear_output = True

    def __init__(self, source, target, bands, seeing=False):
        self.source = source
        self.target = target
        self.bands = tuple(bands)
        self.seeing = bool(seeing)
        self.factor = np.array([source.flux_conversion(b, target) for b in self.bands])
        self.sigma = self.tau = self.lo = self.hi = self.psf_median = None
        self.data_range = None

    @property
    def input_channels(self):
        """Channels of the encoded input."""
        return len(self.bands) + int(self.seeing)

    @property
    def output_channels(self):
        """Channels of the raw network output the head expects: two transport fields per band."""
        return 2 * len(self.bands)

    @property
    def target_channels(self):
        """Channels of the head's output, the translated image: one per band."""
        return len(self.bands)

    @property
    def is_fitted(self):
        """Whether the noise scales are known."""
        return self.sigma is not None

    def fit(self, source_flux, source_mask, target_flux, target_mask, *, source_psf=None):
        """
        Fit the noise scales (robust per-band noise of the training sources and targets).

        ``source_psf`` ``(N, C)`` holds each source cutout's PSF FWHM (arcsec,
        NaN where unknown), needed with ``seeing``.
        """
        def noise(flux, mask):
            values = np.moveaxis(np.asarray(flux, dtype=float), -3, 0)
            good = ~np.moveaxis(np.asarray(mask, dtype=bool), -3, 0)
            scales = []
            for band, band_values, band_good in zip(self.bands, values, good, strict=True):
                scale = float(mad_std(band_values[band_good])) if band_good.any() else np.nan
                if not np.isfinite(scale) or scale <= 0:
                    msg = f"band {band!r} has no usable training pixel to measure its noise"
                    raise InvalidDataError(msg)
                scales.append(scale)
            return np.array(scales)

        self.sigma = noise(source_flux, source_mask)
        self.tau = noise(target_flux, target_mask)
        encoded = np.moveaxis(np.asarray(source_flux) / self.sigma[:, None, None], -3, 0)
        encoded = encoded.reshape(len(self.bands), -1)
        # a ReLU network on linear inputs extrapolates smoothly a little beyond its data:
        # twice the training extremes (in units of the noise) count as its range
        self.lo = RANGE_FACTOR * np.minimum(encoded.min(axis=1), -1.0)
        self.hi = RANGE_FACTOR * np.maximum(encoded.max(axis=1), 1.0)
        if self.seeing:
            psf = np.asarray(source_psf, dtype=float) if source_psf is not None else None
            if psf is None or not np.isfinite(psf).any():
                msg = ("seeing_input=True needs the PSF width of the training sources "
                       "(a PSFFWHM card in arcsec in each band's header)")
                raise InvalidDataError(msg)
            self.psf_median = np.nanmedian(psf, axis=0)
        layers = self.analysis_layer(target_flux, self.target)
        self.data_range = float(np.max(layers) - np.min(layers)) or 1.0
        return self

    def _seeing_channel(self, psf, n):
        """``(n,)`` values of the seeing channel; 0 (the median) where unknown."""
        if psf is None:
            return np.zeros(n)
        psf = np.asarray(psf, dtype=float).reshape(n, len(self.bands))
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.nanmean(np.log(psf / self.psf_median), axis=1) / SEEING_SIGMA
        return np.where(np.isfinite(value), value, 0.0)

    def encode_source(self, flux, psf=None):
        """
        Network input ``(..., C_in, H, W)`` float32 from source-survey fluxes.

        ``psf``: the PSF FWHM per image and band ``(..., C)`` (with ``seeing``).
        """
        flux = np.asarray(flux, dtype=float)
        encoded = flux / self.sigma[:, None, None]
        if not self.seeing:
            return encoded.astype(np.float32)
        flat = encoded.reshape((-1,) + encoded.shape[-3:])
        channel = self._seeing_channel(psf, len(flat))
        extra = np.broadcast_to(channel[:, None, None, None], (len(flat), 1) + flat.shape[-2:])
        return np.concatenate([flat, extra], axis=1).reshape(
            encoded.shape[:-3] + (self.input_channels,) + encoded.shape[-2:]).astype(np.float32)

    def encode_target(self, flux):
        """Network target ``(..., C, H, W)`` float32: target fluxes in units of ``tau``."""
        return (np.asarray(flux, dtype=float) / self.tau[:, None, None]).astype(np.float32)

    def target_weight(self, sigma, mask=None):
        """
        Per-pixel loss weights ``(tau / sigma)**2`` (0 where masked) from target uncertainties.

        With them the mean squared error on encoded values is the inverse-variance
        chi-squared against the target's own noise.
        """
        sigma = np.asarray(sigma, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = (self.tau[:, None, None] / sigma) ** 2
        weight = np.where(np.isfinite(weight), np.clip(weight, 0.0, MAX_WEIGHT), 0.0)
        if mask is not None:
            weight = np.where(mask, 0.0, weight)
        return weight.astype(np.float32)

    def head(self):
        """The `~survey2survey.translators.FluxTransportHead` of this encoding."""
        from ..translators import FluxTransportHead

        return FluxTransportHead(self.factor, self.sigma, self.tau)

    def decode(self, values):
        """Target-survey fluxes (float64) from head outputs (units of ``tau``)."""
        return np.asarray(values, dtype=float) * self.tau[:, None, None]

    def out_of_range(self, encoded):
        """Where encoded source values ``(C_in, H, W)`` lie outside the training range."""
        values = np.asarray(encoded)[..., :len(self.bands), :, :]
        return (values < self.lo[:, None, None]) | (values > self.hi[:, None, None])

    def output_band(self, band, values):
        """The pixel values, unit and header cards of one translated band."""
        cards = {"MAGZERO": (self.target.zero_point[band],
                             "AB zero point: m = ZP - 2.5 log10(f)")}
        return np.asarray(values, dtype=float), self.target.flux_unit, cards

    def describe_output(self):
        """A HISTORY line saying what the output values are."""
        return (f"survey2survey: input bands {','.join(self.bands)} in "
                f"{self.source.flux_unit}; output in {self.target.name} "
                f"{self.target.flux_unit} (ZP per band in MAGZERO); flux moved between "
                "neighbouring pixels only, the total conserved")

    def analysis_layer(self, data, survey, *, translated=False):
        """
        One analysis layer of target-unit fluxes: ``asinh(f / tau)``, band-averaged.

        Linear in the noise and logarithmic in galaxy cores, like the stretch of
        the paper's composites; ``survey`` and ``translated`` are part of the
        interface (`PaperCodec` needs them).
        """
        data = np.nan_to_num(np.asarray(data, dtype=float))
        return np.arcsinh(data / self.tau[:, None, None]).mean(axis=-3)

    def to_dict(self):
        """A JSON-able description (`codec_from_dict` rebuilds the codec)."""
        def listed(values):
            return None if values is None else [float(v) for v in values]

        return {"mode": self.mode, "seeing": self.seeing, "sigma": listed(self.sigma),
                "tau": listed(self.tau), "lo": listed(self.lo), "hi": listed(self.hi),
                "psf_median": listed(self.psf_median), "data_range": self.data_range}

    def _load_dict(self, state):
        def array(key, required=True):
            values = state.get(key)
            if values is None and not required:
                return None
            values = np.asarray(values, dtype=float)
            if values.shape != (len(self.bands),) or not np.all(np.isfinite(values)):
                msg = f"{key} must hold one finite value per band {list(self.bands)}"
                raise ValueError(msg)
            return values

        self.sigma, self.tau = array("sigma"), array("tau")
        if np.any(self.sigma <= 0) or np.any(self.tau <= 0):
            msg = "the noise scales sigma and tau must be positive"
            raise ValueError(msg)
        self.lo, self.hi = array("lo"), array("hi")
        self.psf_median = array("psf_median", required=self.seeing)
        self.data_range = float(state["data_range"])
        if not np.isfinite(self.data_range) or self.data_range <= 0:
            msg = f"data_range must be positive, got {self.data_range}"
            raise ValueError(msg)


class PaperCodec:
    """
    The paper's 8-bit pipeline (``mode='paper'``): Lupton composites in, 8-bit values out.

    Parameters
    ----------
    source, target : `~survey2survey.surveys.Survey`
        The surveys translated from and to.
    bands : tuple of str
        Three bands, bluest first (they become blue, green, red).
    stretch, Q : float
        Lupton linear stretch (nanomaggies) and asinh softening.
    """

    mode = "paper"
    data_range = 255.0
    is_fitted = True  # nothing to fit: the stretch is fixed in physical units
    #: the paper's networks end in a sigmoid: values in [0, 1] are 8-bit values / 255
    linear_output = False

    def __init__(self, source, target, bands, stretch, Q):
        self.source = source
        self.target = target
        self.bands = tuple(bands)
        self.stretch = float(stretch)
        self.Q = float(Q)

    @property
    def input_channels(self):
        """Channels of the encoded input (one per band)."""
        return len(self.bands)

    output_channels = target_channels = input_channels

    def fit(self, source_flux, source_mask, target_flux, target_mask, *, source_psf=None):
        """Nothing to fit; returns self."""
        return self

    def head(self):
        """None: the network's output is the 8-bit composite itself."""
        return None

    def target_weight(self, sigma, mask=None):
        """None: the paper weights every pixel of its composites alike."""
        return None

    def _composites(self, flux, survey):
        nmgy = to_nanomaggies(flux, survey, self.bands)
        flat = nmgy.reshape((-1,) + nmgy.shape[-3:])
        rgb = np.stack([lupton_rgb(image, stretch=self.stretch, Q=self.Q) for image in flat])
        return rgb.reshape(nmgy.shape[:-3] + rgb.shape[1:])

    def encode_source(self, flux, psf=None):
        """Network input: 8-bit composites of source fluxes as float32 in [0, 1]."""
        return composite_to_array(self._composites(flux, self.source))

    def encode_target(self, flux):
        """Network target: 8-bit composites of target fluxes as float32 in [0, 1]."""
        return composite_to_array(self._composites(flux, self.target))

    def decode(self, values):
        """8-bit values (0-255, float64) from network outputs in [0, 1]."""
        return 255.0 * np.clip(np.asarray(values, dtype=float), 0.0, 1.0)

    def out_of_range(self, encoded):
        """Nothing is: 8-bit composites saturate within [0, 1] by construction."""
        return np.zeros(np.shape(encoded), dtype=bool)

    def output_band(self, band, values):
        """The rounded 8-bit values (uint8) of one band; dimensionless, no zero point."""
        data = np.round(np.clip(values, 0, 255)).astype(np.uint8)
        return data, "adu", {}

    def describe_output(self):
        """A HISTORY line saying what the output values are."""
        return (f"survey2survey: input bands {','.join(self.bands)} in "
                f"{self.source.flux_unit}; output in {self.target.name} "
                "8-bit Lupton composite values (paper mode)")

    def analysis_layer(self, data, survey, *, translated=False):
        """The paper's layer: the mean of R, G and B of the 8-bit composite."""
        data = np.asarray(data, dtype=float)
        if translated:  # already 8-bit values per band
            return data.mean(axis=0)
        return average_layer(self._composites(np.nan_to_num(data), survey))

    def to_dict(self):
        """A JSON-able description (`codec_from_dict` rebuilds the codec)."""
        return {"mode": self.mode, "stretch": self.stretch, "Q": self.Q}

    def _load_dict(self, state):
        pass


def make_codec(mode, *, source, target, bands, seeing=False, paper_stretch, paper_q):
    """The (unfitted) codec of ``mode``; the one place the mode is looked at."""
    if mode == "paper":
        return PaperCodec(source, target, bands, paper_stretch, paper_q)
    return FluxCodec(source, target, bands, seeing=seeing)


def codec_from_dict(state, *, source, target, bands, what="the codec"):
    """
    Rebuild a fitted codec from `FluxCodec.to_dict` / `PaperCodec.to_dict` output.

    Raises
    ------
    survey2survey.exceptions.WeightsFileError
        If ``state`` is not a valid description for these surveys and bands.
    """
    try:
        mode = state["mode"]
        if mode == "paper":
            codec = PaperCodec(source, target, bands, state["stretch"], state["Q"])
        elif mode == "flux":
            codec = FluxCodec(source, target, bands, seeing=bool(state.get("seeing", False)))
        else:
            raise ValueError(f"unknown mode {mode!r}")
        codec._load_dict(state)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{what} is not a valid flux encoding: {exc}"
        raise WeightsFileError(msg) from None
    return codec
