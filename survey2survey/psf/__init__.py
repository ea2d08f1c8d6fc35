# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Point-spread functions as data: a `PSF` per band (a FWHM and a profile), read
from header cards, given by the user or estimated from the stars in the image;
their optical transfer functions; and classical PSF matching (a
noise-regularised Wiener filter from one PSF to another) in numpy and torch.
"""

from .estimate import *
from .matching import *
from .model import *
