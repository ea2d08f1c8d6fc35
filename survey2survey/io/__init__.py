# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reading, writing and holding multi-band survey cutouts with their WCS, units and masks."""

from .cutout import *
from .describe import *
from .extract import *
from .fits import *
from .groups import *
from .sdss import *
from .zeropoint import *
