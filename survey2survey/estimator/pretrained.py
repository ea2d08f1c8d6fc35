# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The pretrained models shipped with survey2survey, loadable by name.

Each is a `Survey2Survey` archive in the package (safetensors weights and JSON,
verified by its SHA-256 on loading); `Survey2Survey.from_pretrained` loads one,
ready to `~Survey2Survey.transform` or to fine-tune with ``warm_start=True``.
How each was trained and how well it keeps flux is on the "Pretrained models"
page of the documentation.
"""

from pathlib import Path

from ..exceptions import UnknownModelError

__all__ = ["pretrained_models", "pretrained_path"]

_DATA = Path(__file__).parent / "data"

#: name -> (archive file in the package, one-line description)
_MODELS = {
    "sdss-des-aecnn": (
        "sdss-des-aecnn.s2s",
        "AECNN, SDSS g,r,i (nanomaggies) -> DES g,r,i (counts, ZP 30) on the SDSS grid, "
        "flux mode; trained on 1,200 simulated pairs; held-out flux bias 1\" -0.011 mag "
        "(input +0.222), 8\" +0.001, NMAD 1\" 0.064 (input 0.089)",
    ),
}


def pretrained_models():
    """
    The shipped pretrained models.

    Returns
    -------
    models : dict
        Name -> one-line description (translator, surveys, bands, training data,
        held-out flux bias and scatter), for the models whose file is installed.

    Examples
    --------
    >>> from survey2survey import pretrained_models
    >>> "sdss-des-aecnn" in pretrained_models()
    True
    """
    return {name: description for name, (file, description) in _MODELS.items()
            if (_DATA / file).is_file()}


def pretrained_path(name):
    """
    The installed archive of a pretrained model.

    Parameters
    ----------
    name : str
        A name from `pretrained_models` (case-insensitive).

    Returns
    -------
    path : `pathlib.Path`

    Raises
    ------
    survey2survey.exceptions.UnknownModelError
        If no model of that name is installed.
    """
    key = str(name).strip().lower()
    available = pretrained_models()
    if key not in available:
        msg = (f"no pretrained model named {name!r}; available: "
               f"{', '.join(sorted(available)) or 'none'} (or give a model file to "
               "Survey2Survey.load)")
        raise UnknownModelError(msg)
    return _DATA / _MODELS[key][0]
