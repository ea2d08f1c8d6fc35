# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The conversion between calibrated flux and the values a network sees, behind one interface.

Two codecs implement it, picked once from the estimator's ``mode``:

- `FluxCodec` (``mode='flux'``): calibrated fluxes in and out through an
  invertible per-band asinh stretch fitted on the training data;
- `PaperCodec` (``mode='paper'``): the paper's pipeline, 8-bit Lupton RGB
  composites in and 8-bit values out.

A codec encodes source- and target-survey fluxes into network values, decodes
network outputs back into the output band values, says what unit and header
cards an output band carries, reduces images to the paper's one analysis layer
(mean of the bands), and round-trips through a JSON-able dict. Nothing outside
this module branches on the mode.
"""

import numpy as np

from ..exceptions import WeightsFileError
from ..visualization import lupton_rgb
from ._normalization import AsinhNormalizer
from ._paper import average_layer, composite_to_array, to_nanomaggies

__all__ = ["FluxCodec", "PaperCodec", "make_codec", "codec_from_dict"]


class FluxCodec:
    """
    Calibrated flux in and out through a per-band asinh stretch (``mode='flux'``).

    Parameters
    ----------
    source, target : `~survey2survey.surveys.Survey`
        The surveys translated from and to.
    bands : tuple of str
        The bands, in channel order.
    normalizer : dict, optional
        Options of the stretch (``beta_factor``, ``percentiles``, ``margin``).
    """

    mode = "flux"
    #: dynamic range of the analysis layers (SSIM's R_D)
    data_range = 1.0

    def __init__(self, source, target, bands, normalizer=None):
        self.source = source
        self.target = target
        self.bands = tuple(bands)
        self.options = dict(normalizer or {})
        self.source_normalizer = AsinhNormalizer(self.bands, **self.options)
        self.target_normalizer = AsinhNormalizer(self.bands, **self.options)

    @property
    def is_fitted(self):
        """Whether both stretches are fitted."""
        return self.source_normalizer.is_fitted and self.target_normalizer.is_fitted

    def fit(self, source_flux, source_mask, target_flux, target_mask):
        """Fit the source and target stretches on training fluxes ``(N, C, H, W)``."""
        self.source_normalizer.fit(source_flux, mask=source_mask)
        self.target_normalizer.fit(target_flux, mask=target_mask)
        return self

    def encode_source(self, flux):
        """Network input ``(..., C, H, W)`` float32 from source-survey fluxes."""
        return self.source_normalizer.transform(flux).astype(np.float32)

    def encode_target(self, flux):
        """Network target ``(..., C, H, W)`` float32 from target-survey fluxes."""
        return self.target_normalizer.transform(flux).astype(np.float32)

    def decode(self, values):
        """Target-survey fluxes (float64) from network outputs."""
        return self.target_normalizer.inverse(np.asarray(values, dtype=float))

    def out_of_range(self, encoded):
        """Where encoded source values ``(C, H, W)`` lie outside the training range [0, 1]."""
        encoded = np.asarray(encoded)
        return (encoded < 0) | (encoded > 1)

    def output_band(self, band, values):
        """The pixel values, unit and header cards of one translated band."""
        cards = {"MAGZERO": (self.target.zero_point[band],
                             "AB zero point: m = ZP - 2.5 log10(f)")}
        return np.asarray(values, dtype=float), self.target.flux_unit, cards

    def describe_output(self):
        """A HISTORY line saying what the output values are."""
        return (f"survey2survey: input bands {','.join(self.bands)} in "
                f"{self.source.flux_unit}; output in {self.target.name} "
                f"{self.target.flux_unit} (ZP per band in MAGZERO)")

    def analysis_layer(self, data, survey, *, translated=False):
        """
        The paper's single analysis layer of target-unit fluxes: the target stretch, band-averaged.

        ``survey`` and ``translated`` are part of the interface (`PaperCodec`
        needs them); fluxes here are always in the target survey's unit.
        """
        data = np.nan_to_num(np.asarray(data, dtype=float))
        return self.target_normalizer.transform(data).mean(axis=0)

    def to_dict(self):
        """A JSON-able description (`codec_from_dict` rebuilds the codec)."""
        return {"mode": self.mode, "normalizer": self.options,
                "source_normalizer": self.source_normalizer.to_dict(),
                "target_normalizer": self.target_normalizer.to_dict()}

    def _load_dict(self, state):
        self.source_normalizer = AsinhNormalizer.from_dict(state["source_normalizer"])
        self.target_normalizer = AsinhNormalizer.from_dict(state["target_normalizer"])
        for normalizer in (self.source_normalizer, self.target_normalizer):
            if normalizer.bands != self.bands or not normalizer.is_fitted:
                msg = f"normaliser {normalizer!r} does not describe bands {list(self.bands)}"
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

    def __init__(self, source, target, bands, stretch, Q):
        self.source = source
        self.target = target
        self.bands = tuple(bands)
        self.stretch = float(stretch)
        self.Q = float(Q)

    def fit(self, source_flux, source_mask, target_flux, target_mask):
        """Nothing to fit; returns self."""
        return self

    def _composites(self, flux, survey):
        nmgy = to_nanomaggies(flux, survey, self.bands)
        flat = nmgy.reshape((-1,) + nmgy.shape[-3:])
        rgb = np.stack([lupton_rgb(image, stretch=self.stretch, Q=self.Q) for image in flat])
        return rgb.reshape(nmgy.shape[:-3] + rgb.shape[1:])

    def encode_source(self, flux):
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


def make_codec(mode, *, source, target, bands, normalizer=None, paper_stretch, paper_q):
    """The (unfitted) codec of ``mode``; the one place the mode is looked at."""
    if mode == "paper":
        return PaperCodec(source, target, bands, paper_stretch, paper_q)
    return FluxCodec(source, target, bands, normalizer)


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
            codec = FluxCodec(source, target, bands, state.get("normalizer"))
        else:
            raise ValueError(f"unknown mode {mode!r}")
        codec._load_dict(state)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{what} is not a valid flux encoding: {exc}"
        raise WeightsFileError(msg) from None
    return codec
