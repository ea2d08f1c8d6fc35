# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Descriptions of imaging surveys: pixel scale, bands, zero points, PSF and depth."""

from .registry import *
from .survey import *
