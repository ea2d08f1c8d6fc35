# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
WCS-aware alignment: resample cutouts onto another pixel grid with ``reproject``,
conserving flux, propagating masks and uncertainties, and rejecting pairs that
do not overlap enough.
"""

from .align import *
from .register import *
