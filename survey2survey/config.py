# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Package-wide settings, set with ``survey2survey.conf`` or in the astropy config file."""

from astropy import config as _config

__all__ = ["Conf", "conf"]


class Conf(_config.ConfigNamespace):
    """Configuration parameters for survey2survey."""

    default_device = _config.ConfigItem(
        "auto",
        "Torch device used by translators: 'auto' picks cuda, then mps, then cpu.",
    )
    show_progress = _config.ConfigItem(
        True, "Whether long operations show a tqdm progress bar by default."
    )
    cache_dir = _config.ConfigItem(
        "", "Directory for cached simulated data; empty means the astropy cache directory."
    )


conf = Conf()
