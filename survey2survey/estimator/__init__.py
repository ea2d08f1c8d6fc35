# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The `Survey2Survey` estimator users call: fit a translator on survey pairs, then
translate FITS / NDData cutouts with their WCS, masks and calibrated flux intact;
and `transform_many` to translate many files at batch scale.
"""

from .batch import *
from .estimator import *
from .pretrained import *
