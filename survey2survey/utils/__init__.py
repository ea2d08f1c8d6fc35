# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Private helpers shared by several subpackages: WCS cards, atomic file writes,
progress bars, option validation and the one band parser.

Nothing here is public API. This is the one package whose underscore modules
other subpackages may import (``from ..utils._wcs import celestial_wcs``); a
subpackage never imports another subpackage's private modules.
"""

__all__ = []
