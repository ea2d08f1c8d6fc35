# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Image-quality metrics of the paper (Sec. 4) and an evaluation report.

Every metric accepts one image ``(ny, nx)`` or a batch ``(N, ny, nx)`` as a
numpy array, Quantity, `~astropy.nddata.NDData`/`~astropy.nddata.CCDData`, a
`~survey2survey.io.Cutout` (bands averaged into one layer, as the paper does),
or a list of them, and returns a float for one image or an ``(N,)`` array for a
batch. Inputs are never modified.
"""

from .evaluation import *
from .fidelity import *
from .noise import *
from .photometry import *
from .ssim import *
from .truth import *
