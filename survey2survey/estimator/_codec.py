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

__all__ = ["FluxCodec", "PSFFluxCodec", "PaperCodec", "make_codec", "codec_from_dict",
           "SEEING_SIGMA", "RANGE_FACTOR", "MAX_WEIGHT", "REGULARIZATION_GRID"]

#: scale of the seeing channel: the lognormal spread of a survey's seeing (about 0.1)
SEEING_SIGMA = 0.1
#: the training range of encoded inputs: this factor times the training extremes
RANGE_FACTOR = 2.0
#: largest per-pixel loss weight (a pixel 30x quieter than the typical target noise)
MAX_WEIGHT = 1.0e3
#: the Wiener regularisations tried when a PSF-aware codec is fitted (log-spaced)
REGULARIZATION_GRID = tuple(10.0 ** np.arange(-4.0, 0.75, 0.25))
#: at most this many training pairs (central crops of at most 96 px) tune the regularisation
_TUNING_PAIRS, _TUNING_SIZE = 64, 96


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
    #: whether the encoding carries both PSFs (`PSFFluxCodec`)
    psf = False

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

    def fit(self, source_flux, source_mask, target_flux, target_mask, *, source_psf=None,
            target_psf=None):
        """
        Fit the noise scales (robust per-band noise of the training sources and targets).

        ``source_psf`` ``(N, C, 4)`` holds each source cutout's PSF array (FWHM
        in arcsec first, NaN where unknown), needed with ``seeing``;
        ``target_psf`` is unused here.
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
            psf = (np.asarray(source_psf, dtype=float)[..., 0] if source_psf is not None
                   else None)
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
        psf = np.asarray(psf, dtype=float).reshape(n, len(self.bands), -1)[..., 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.nanmean(np.log(psf / self.psf_median), axis=1) / SEEING_SIGMA
        return np.where(np.isfinite(value), value, 0.0)

    def encode_source(self, flux, psf=None, target_psf=None):
        """
        Network input ``(..., C_in, H, W)`` float32 from source-survey fluxes.

        ``psf``: the PSF array per image ``(..., C, 4)`` (with ``seeing``);
        ``target_psf`` is unused here.
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


class PSFFluxCodec(FluxCodec):
    """
    The calibrated-flux encoding with both PSFs as data (PSF-aware translators).

    As `FluxCodec`, plus seven constant channels per band after the image
    bands: each band's input PSF (FWHM in source pixels, Moffat index, profile)
    and target PSF, and whether the input PSF was known (from header cards) or
    the source survey's median stood in for it (`~survey2survey.psf.psf_parameters`).
    Its head, `~survey2survey.translators.PSFMatchingHead`, first applies the
    Wiener filter from the input to the target PSF, with one regularisation
    per band chosen on the training pairs, so a network that outputs zeros is
    the classical translator.

    PSFs are passed as ``(..., C, 4)`` arrays of (FWHM in arcsec, Moffat index,
    profile code, exactly known), NaN where unknown (from header cards,
    `~survey2survey.psf.psf_from_header`).
    """

    psf = True

    def __init__(self, source, target, bands):
        super().__init__(source, target, bands, seeing=False)
        self.regularization = None
        self.psf_range = None
        self.central_range = None

    @property
    def input_channels(self):
        """Channels of the encoded input: the bands and seven PSF parameters per band."""
        from ..psf import N_PSF_PARAMETERS

        return len(self.bands) * (1 + N_PSF_PARAMETERS)

    def default_psfs(self, survey):
        """The median PSF of each band of ``survey`` (its FWHM, profile and Moffat index)."""
        from ..psf import PSF

        return [PSF(survey.psf_fwhm[b], survey.psf_model, survey.psf_beta) for b in self.bands]

    def parameters(self, source_psf, target_psf, n):
        """
        ``(n, C, 7)`` PSF parameters (source pixels) from ``(.., C, 4)`` PSF arrays.

        Unknown source PSFs (NaN FWHM) take the source survey's median and are
        flagged 0 (approximately known ones 1, exactly known ones 2); unknown
        target PSFs take the target survey's median.
        """
        scale = float(self.source.pixel_scale.to_value("arcsec / pix"))
        out = np.empty((n, len(self.bands), 7), dtype=np.float32)
        for k, (role, psf, survey) in enumerate((("source", source_psf, self.source),
                                                 ("target", target_psf, self.target))):
            defaults = np.array([[p.fwhm.value, p.beta, p.code, 0.0]
                                 for p in self.default_psfs(survey)])
            values = (np.broadcast_to(defaults, (n,) + defaults.shape) if psf is None
                      else np.broadcast_to(np.asarray(psf, dtype=float).reshape(
                          -1, len(self.bands), 4), (n, len(self.bands), 4)))
            known = np.isfinite(values[..., 0])
            values = np.where(known[..., None], values, defaults[None])
            values = np.where(np.isfinite(values), values, defaults[None])
            out[..., 3 * k] = values[..., 0] / scale
            out[..., 3 * k + 1] = values[..., 1]
            out[..., 3 * k + 2] = values[..., 2]
            if role == "source":
                out[..., 6] = known * (1.0 + (values[..., 3] > 0))
        return out

    def fit(self, source_flux, source_mask, target_flux, target_mask, *, source_psf=None,
            target_psf=None):
        """
        Fit the noise scales, record the PSF ranges and tune the Wiener regularisation.

        The regularisation of each band is the value of `REGULARIZATION_GRID`
        whose filtered sources come closest (mean squared error in target-noise
        units) to the targets, on up to 64 training pairs.
        """
        FluxCodec.fit(self, source_flux, source_mask, target_flux, target_mask)
        n = len(source_flux)
        params = self.parameters(source_psf, target_psf, n)
        scale = float(self.source.pixel_scale.to_value("arcsec / pix"))
        self.psf_range = {
            "source": (params[..., 0].min(axis=0) * scale, params[..., 0].max(axis=0) * scale),
            "target": (params[..., 3].min(axis=0) * scale, params[..., 3].max(axis=0) * scale)}
        self.regularization = self._tune(source_flux, source_mask, target_flux, target_mask,
                                         params)
        central = self.central_flux(source_flux)
        self.central_range = (float(np.percentile(central, 1)), float(np.percentile(central, 99)),
                              int(max(np.shape(source_flux)[-2:])))
        return self

    def central_flux(self, flux):
        """Band-sum source flux within 2" of the centre of each image ``(..., C, H, W)``."""
        flux = np.asarray(flux, dtype=float)
        ny, nx = flux.shape[-2:]
        yy, xx = np.indices((ny, nx))
        radius = 2.0 / float(self.source.pixel_scale.to_value("arcsec / pix"))
        disk = np.hypot(yy - (ny - 1) / 2, xx - (nx - 1) / 2) <= radius
        return (flux * disk).sum(axis=(-1, -2, -3))

    def brightness_outside_training(self, flux):
        """
        A message when a cutout's central 2" flux is outside the training range, else None.

        Only for cutouts (at most twice the training size): the centre of a large
        field says nothing. The range is the 1st-99th percentile of the training
        sources, widened by a factor 2 each way.
        """
        if getattr(self, "central_range", None) is None:
            return None
        lo, hi, size = self.central_range
        if max(np.shape(flux)[-2:]) > 2 * size:
            return None
        value = float(self.central_flux(flux))
        if value < 0.5 * lo:
            return (f"its central 2\" flux ({value:.3g} {self.source.flux_unit}) is fainter "
                    f"than the training galaxies' ({lo:.3g}-{hi:.3g})")
        if value > 2.0 * hi:
            return (f"its central 2\" flux ({value:.3g} {self.source.flux_unit}) is brighter "
                    f"than the training galaxies' ({lo:.3g}-{hi:.3g})")
        return None

    def _tune(self, source_flux, source_mask, target_flux, target_mask, params):
        import torch

        from ..psf import psf_match_batch
        from ._inputs import center_crop

        n = min(len(source_flux), _TUNING_PAIRS)
        size = (min(_TUNING_SIZE, np.shape(source_flux)[-2]),
                min(_TUNING_SIZE, np.shape(source_flux)[-1]))
        src = center_crop(np.asarray(source_flux[:n], dtype=float), size)
        tgt = center_crop(np.asarray(target_flux[:n], dtype=float), size)
        good = center_crop(~(np.asarray(source_mask[:n], bool)
                             | np.asarray(target_mask[:n], bool)), size)
        encoded = torch.as_tensor(src / self.sigma[:, None, None], dtype=torch.float32)
        target = torch.as_tensor(tgt / self.tau[:, None, None], dtype=torch.float32)
        good = torch.as_tensor(good)
        factor = torch.as_tensor(self.factor * self.sigma / self.tau,
                                 dtype=torch.float32).view(1, -1, 1, 1)
        params = torch.as_tensor(params[:n])
        errors = []
        for lam in REGULARIZATION_GRID:
            restored = psf_match_batch(encoded, params, lam) * factor
            squared = torch.where(good, (restored - target) ** 2, 0.0)
            errors.append(squared.sum(dim=(0, 2, 3)).numpy())
        return np.array(REGULARIZATION_GRID)[np.argmin(np.stack(errors), axis=0)]

    def encode_source(self, flux, psf=None, target_psf=None):
        """
        Network input ``(..., C * 8, H, W)`` float32: noise-unit fluxes and PSF parameters.

        ``psf`` and ``target_psf`` are ``(..., C, 4)`` PSF arrays (None or NaN:
        the survey median).
        """
        flux = np.asarray(flux, dtype=float)
        encoded = flux / self.sigma[:, None, None]
        flat = encoded.reshape((-1,) + encoded.shape[-3:])
        params = self.parameters(psf, target_psf, len(flat)).reshape(len(flat), -1)
        extra = np.broadcast_to(params[:, :, None, None], params.shape + flat.shape[-2:])
        return np.concatenate([flat, extra], axis=1).reshape(
            encoded.shape[:-3] + (self.input_channels,) + encoded.shape[-2:]).astype(np.float32)

    def head(self):
        """The `~survey2survey.translators.PSFMatchingHead` of this encoding."""
        from ..translators import PSFMatchingHead

        return PSFMatchingHead(self.factor, self.sigma, self.tau, self.regularization)

    def psf_outside_training(self, psf, target_psf):
        """
        Messages for PSFs outside the FWHM range of the training pairs (10% margin).

        ``psf``, ``target_psf``: ``(C, 4)`` PSF arrays of one input (NaN unknown).
        """
        messages = []
        if self.psf_range is None:
            return messages
        for role, values in (("input", psf), ("target", target_psf)):
            lo, hi = self.psf_range["source" if role == "input" else "target"]
            if values is None:
                continue
            fwhm = np.asarray(values, dtype=float).reshape(len(self.bands), -1)[:, 0]
            for band, f, a, b in zip(self.bands, fwhm, lo, hi, strict=True):
                if np.isfinite(f) and not (0.9 * a <= f <= 1.1 * b):
                    messages.append(f"{role} PSF FWHM {f:.3g}\" in band {band} is outside the "
                                    f"training range {a:.3g}\"-{b:.3g}\"")
        return messages

    def describe_output(self):
        """A HISTORY line saying what the output values are."""
        return (f"survey2survey: input bands {','.join(self.bands)} in "
                f"{self.source.flux_unit}; output in {self.target.name} "
                f"{self.target.flux_unit} (ZP per band in MAGZERO) at the target PSF in "
                "PSFFWHM: Wiener PSF matching plus flux moved between neighbouring pixels")

    def to_dict(self):
        """A JSON-able description (`codec_from_dict` rebuilds the codec)."""
        state = super().to_dict()
        state["psf"] = True
        state["regularization"] = [float(v) for v in self.regularization]
        state["psf_range"] = {role: [[float(v) for v in lo], [float(v) for v in hi]]
                              for role, (lo, hi) in self.psf_range.items()}
        if self.central_range is not None:
            state["central_range"] = list(self.central_range)
        return state

    def _load_dict(self, state):
        super()._load_dict(state)
        lam = np.asarray(state["regularization"], dtype=float)
        if lam.shape != (len(self.bands),) or not np.all(lam > 0):
            msg = f"regularization must hold one positive value per band {list(self.bands)}"
            raise ValueError(msg)
        self.regularization = lam
        ranges = state["psf_range"]
        self.psf_range = {role: (np.asarray(ranges[role][0], dtype=float),
                                 np.asarray(ranges[role][1], dtype=float))
                          for role in ("source", "target")}
        central = state.get("central_range")  # absent from models saved before it
        self.central_range = None if central is None else (float(central[0]),
                                                           float(central[1]), int(central[2]))


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
    psf = False
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

    def fit(self, source_flux, source_mask, target_flux, target_mask, *, source_psf=None,
            target_psf=None):
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

    def encode_source(self, flux, psf=None, target_psf=None):
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


def make_codec(mode, *, source, target, bands, seeing=False, psf=False, paper_stretch,
               paper_q):
    """
    The (unfitted) codec of ``mode``; the one place the mode is looked at.

    ``psf``: the translator is PSF-aware (`PSFFluxCodec`; ``mode='flux'`` only).
    """
    if mode == "paper":
        return PaperCodec(source, target, bands, paper_stretch, paper_q)
    if psf:
        return PSFFluxCodec(source, target, bands)
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
        elif mode == "flux" and state.get("psf", False):
            codec = PSFFluxCodec(source, target, bands)
        elif mode == "flux":
            codec = FluxCodec(source, target, bands, seeing=bool(state.get("seeing", False)))
        else:
            raise ValueError(f"unknown mode {mode!r}")
        codec._load_dict(state)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{what} is not a valid flux encoding: {exc}"
        raise WeightsFileError(msg) from None
    return codec
