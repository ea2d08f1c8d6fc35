# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``python -m survey2survey``: the ``survey2survey`` command line."""

import sys

from .cli import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
