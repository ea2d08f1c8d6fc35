# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Look up surveys by name, and register new ones."""

from ..exceptions import UnknownSurveyError
from ..utils._validation import check_bool
from .survey import DES, SDSS, Survey

__all__ = ["get_survey", "register_survey", "available_surveys"]

_SURVEYS = {}


def register_survey(survey, *, force=False):
    """
    Make ``survey`` available by (case-insensitive) name.

    Parameters
    ----------
    survey : `~survey2survey.surveys.Survey`
        The survey to register.
    force : bool, optional
        Replace a survey already registered under that name.

    Raises
    ------
    ValueError
        If a different survey already has this name and ``force`` is False.
    """
    if not isinstance(survey, Survey):
        msg = f"register_survey expects a Survey, got {type(survey).__name__}"
        raise TypeError(msg)
    key = survey.name.lower()
    force = check_bool(force, "force")
    if key in _SURVEYS and _SURVEYS[key] is not survey and not force:
        msg = f"a survey named {survey.name!r} is already registered; use force=True to replace it"
        raise ValueError(msg)
    _SURVEYS[key] = survey
    return survey


def available_surveys():
    """Names of the registered surveys, sorted."""
    return sorted(s.name for s in _SURVEYS.values())


def get_survey(name):
    """
    Return the registered `~survey2survey.surveys.Survey` called ``name``.

    Parameters
    ----------
    name : str or `~survey2survey.surveys.Survey`
        Survey name, case-insensitive; a `Survey` is returned unchanged.

    Raises
    ------
    survey2survey.exceptions.UnknownSurveyError
        If no survey of that name is registered; the message lists those that are.

    Examples
    --------
    >>> from survey2survey.surveys import get_survey
    >>> get_survey('des').pixel_scale
    <Quantity 0.263 arcsec / pix>
    """
    if isinstance(name, Survey):
        return name
    if not isinstance(name, str):
        msg = f"survey must be a name or a Survey, got {type(name).__name__}"
        raise TypeError(msg)
    try:
        return _SURVEYS[name.lower()]
    except KeyError:
        msg = f"unknown survey {name!r}; available surveys: {', '.join(available_surveys())}"
        raise UnknownSurveyError(msg) from None


register_survey(SDSS)
register_survey(DES)
