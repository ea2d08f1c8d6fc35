# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Figures of the paper with matplotlib: metric KDEs (Figs 5-11), radial profiles
(Fig 7), the image comparison grid (Figs 3-4) and Lupton RGB composites.
"""

from .grids import *
from .kde import *
from .profiles import *
from .rgb import *
