# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The `Survey2Survey` estimator users call: fit a translator on survey pairs, then
translate FITS / NDData cutouts with their WCS, masks and calibrated flux intact.

Also the pieces it is built from: the invertible asinh normalisation, seamless
tiling of large fields, the paper's 8-bit Lupton pipeline, provenance cards,
and batch translation of many files.
"""

from .batch import *
from .estimator import *
from .normalization import *
from .paper import *
from .provenance import *
from .tiling import *
