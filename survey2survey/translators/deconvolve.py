# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The classical translator: PSF matching by a noise-regularised Wiener filter, no network.

Registered as ``"deconvolve"``. It is the baseline every learned translator
must beat: it knows each input band's PSF (its header cards, else the source
survey's median) and the target PSF asked for, and brings the one to the other
with `~survey2survey.psf.match_psf`'s filter inside the PSF-aware output head
(`~survey2survey.translators.PSFMatchingHead`). Fitting it trains nothing: the
estimator measures the noise scales and picks each band's regularisation on
the training pairs in seconds.
"""

import torch
from torch import nn

from .base import Translator
from .history import TrainingHistory
from .registry import register_translator

__all__ = ["DeconvolveTranslator"]


class _NoTransport(nn.Module):
    """A 'network' that moves no flux: zeros of the head's input channels."""

    def __init__(self, out_channels):
        super().__init__()
        self.out_channels = int(out_channels)

    def forward(self, batch):
        shape = (batch.shape[0], self.out_channels) + tuple(batch.shape[-2:])
        return torch.zeros(shape, dtype=torch.float32, device=batch.device)


@register_translator("deconvolve")
class DeconvolveTranslator(Translator):
    """
    Classical PSF-matching translator (Wiener filter), registered as ``"deconvolve"``.

    Use it through `~survey2survey.estimator.Survey2Survey` (``translator='deconvolve'``),
    which gives it the PSF-aware encoding: ``fit`` on pairs takes seconds (noise
    scales and one regularisation per band), ``transform`` runs one FFT per band
    and image. Flux is conserved except what the filter moves beyond the image
    border.

    Parameters
    ----------
    **kwargs
        Options of `~survey2survey.translators.Translator` (channels, ``device``...);
        the training options are accepted and unused.

    Examples
    --------
    >>> from survey2survey import Survey2Survey
    >>> from survey2survey.datasets import make_survey_pairs
    >>> pairs = make_survey_pairs(8, bands='gri', seed=3, target_grid='source',
    ...                           source_size=48)
    >>> model = Survey2Survey(translator='deconvolve').fit(pairs, validation=0)
    >>> out = model.transform(pairs.sources[0], target_psf=1.0)
    >>> out['r'].meta['PSFFWHM']
    1.0
    """

    #: the estimator gives this translator the PSF-aware encoding and head
    psf_aware = True
    #: the FFT filter runs in float32 whatever the precision
    inference_autocast = False
    receptive_field = None
    min_size = 1

    def build_modules(self):
        """``{'network': a module that returns zero transport}``."""
        return {"network": _NoTransport(self.out_channels)}

    def forward(self, batch):
        """The head's Wiener-filtered output (the network moves no flux)."""
        if self.head is None:
            return self.network(batch)
        return self.head(None, batch)

    def configure_optimizers(self):
        """None: nothing is trained."""
        return {}

    def fit(self, source, target=None, *, weight=None, validation=0.1, epochs=None,
            resume=False, checkpoint_dir=None, callbacks=(), progress=None,
            distributed=False):
        """Nothing to train (the estimator tunes the filter); returns an empty history."""
        self.is_fitted = True
        self.history = TrainingHistory()
        return self.history
