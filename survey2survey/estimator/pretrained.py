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

__all__ = ["pretrained_models", "pretrained_path", "ALIASES"]

_DATA = Path(__file__).parent / "data"

#: name -> (archive file in the package, one-line description)
_MODELS = {
    "sdss-des-psfnet": (
        "sdss-des-psfnet.s2s",
        "psfnet (PSF-aware: FiLM-conditioned on both PSFs, on top of a Wiener filter), SDSS "
        "g,r,i -> DES g,r,i (counts, ZP 30) on the SDSS grid; trained on 2,400 simulated "
        "pairs with seeing x0.7-1.5 and realistic PSF knowledge, fine-tuned with 30% "
        "exactly known PSFs; held-out 1\" bias/NMAD at each pair's DES PSF: realistic "
        "knowledge -0.010/0.047 mag (classical deconvolve -0.041/0.050, input "
        "+0.195/0.159), exact +0.005/0.007 (deconvolve +0.009/0.011)",
    ),
    "sdss-des-deconvolve": (
        "sdss-des-deconvolve.s2s",
        "deconvolve (classical Wiener PSF matching, no network), SDSS g,r,i -> DES g,r,i; "
        "regularisation tuned on 2,400 simulated pairs; exact PSF knowledge 1\" "
        "+0.009/0.011 mag, realistic -0.041/0.050",
    ),
    "sdss-des-aecnn": (
        "sdss-des-aecnn.s2s",
        "AECNN, SDSS g,r,i (nanomaggies) -> DES g,r,i (counts, ZP 30) on the SDSS grid, "
        "flux mode; trained on 1,200 simulated pairs; held-out flux bias 1\" -0.011 mag "
        "(input +0.222), 8\" +0.001, NMAD 1\" 0.064 (input 0.089)",
    ),
}


#: names that resolve to the current best model of a survey pair (earlier models keep
#: their explicit names)
ALIASES = {"sdss-des": "sdss-des-psfnet"}


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
        A name from `pretrained_models` (case-insensitive), or ``'sdss-des'``:
        the best SDSS -> DES model (now ``'sdss-des-psfnet'``).

    Returns
    -------
    path : `pathlib.Path`

    Raises
    ------
    survey2survey.exceptions.UnknownModelError
        If no model of that name is installed.
    """
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    available = pretrained_models()
    if key not in available:
        msg = (f"no pretrained model named {name!r}; available: "
               f"{', '.join(sorted(available)) or 'none'} (or give a model file to "
               "Survey2Survey.load)")
        raise UnknownModelError(msg)
    return _DATA / _MODELS[key][0]
