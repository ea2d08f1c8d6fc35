# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The embedded simulated SDSS/DES dataset: the same galaxies seen by two surveys.

`make_survey_pairs` renders random galaxy scenes with GalSim (an optional
dependency: ``pip install "survey2survey[sim]"``) as each survey sees them;
`save_pairs` and `load_pairs` store pairs in a plain FITS layout that real
survey cutouts can fill too.
"""

from .fetch import *
from .pairs import *
from .render import *
from .samples import *
from .scenes import *
from .storage import *
