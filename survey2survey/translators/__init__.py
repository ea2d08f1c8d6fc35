# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Image-to-image translators: the `Translator` plug-in API, its registry, the
training context and history of the shared training loop, and the built-in
AECNN and CycleGAN models, the classical ``deconvolve`` translator and the
PSF-aware ``psfnet``.

The third built-in, ``unet``, lives in ``survey2survey.translators.unet`` and is
registered only through the ``survey2survey.translators`` entry point, exactly
as a third-party plug-in would be.
"""

from .aecnn import *
from .base import *
from .context import *
from .cyclegan import *
from .deconvolve import *
from .heads import *
from .history import *
from .psfnet import *
from .registry import *
