# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
survey2survey: translate galaxy images from one sky survey into the look of
another with deep generative models, keeping FITS, WCS and calibrated flux
intact.
"""

try:
    from .version import version as __version__
except ImportError:  # pragma: no cover - only without an installed build
    __version__ = "0.0.0"

from astropy import config as _config

from .exceptions import Survey2SurveyError

__all__ = ["Survey2SurveyError", "Translator", "Survey2Survey", "transform_many",
           "pretrained_models", "Conf", "conf", "__version__"]


class Conf(_config.ConfigNamespace):
    """
    Settings of survey2survey, changed with ``survey2survey.conf`` or the astropy config file.

    The file is ``survey2survey.cfg`` in the astropy configuration directory
    (`astropy.config.get_config_dir`, e.g. ``~/.astropy/config/``), with
    top-level keys::

        default_device = cuda
        show_progress = False

    Examples
    --------
    >>> from survey2survey import conf
    >>> with conf.set_temp("show_progress", False):
    ...     conf.show_progress
    False
    """

    default_device = _config.ConfigItem(
        "auto",
        "Torch device used by translators: 'auto' picks cuda, then mps, then cpu.",
    )
    show_progress = _config.ConfigItem(
        True, "Whether long operations show a tqdm progress bar by default."
    )


conf = Conf()

# The torch-backed entry points are imported lazily so that ``import survey2survey`` (and
# the I/O, survey and alignment tools) stay fast and usable without touching torch.
_LAZY = {
    "Translator": ("survey2survey.translators", "Translator"),
    "Survey2Survey": ("survey2survey.estimator", "Survey2Survey"),
    "transform_many": ("survey2survey.estimator", "transform_many"),
    "pretrained_models": ("survey2survey.estimator.pretrained", "pretrained_models"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        return getattr(importlib.import_module(module_name), attribute)
    raise AttributeError(f"module 'survey2survey' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
