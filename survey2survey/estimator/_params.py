# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The estimator's parameters: checked (once, for fit and load), turned into
translators, and written as JSON for the saved file.
"""

from ..exceptions import InvalidOptionError
from ..surveys import get_survey
from ..utils._validation import check_bool, check_choice, check_int, check_number, parse_bands
from ._codec import codec_from_dict, make_codec

__all__ = ["MODES", "OUTPUT_GRIDS", "check_params", "new_translators", "jsonable_params",
           "fitted_state"]

MODES = ("flux", "paper")
OUTPUT_GRIDS = ("source", "target")
_ALIGN_METHODS = ("adaptive", "exact", "interp")
_PRECISIONS = ("fp32", "auto", "bf16", "fp16")


def _check_translator(translator, translator_params, n_ensemble):
    from ..translators import Translator, get_translator

    if isinstance(translator, Translator):
        if translator_params or n_ensemble != 1:
            msg = ("pass translator parameters and n_ensemble only with a translator name, "
                   "not with a Translator instance")
            raise InvalidOptionError(msg)
    elif isinstance(translator, str):
        get_translator(translator)
    else:
        msg = f"translator must be a name or a Translator, got {translator!r}"
        raise InvalidOptionError(msg)


def check_params(params, translator_params):
    """
    Check the estimator's parameters; return them resolved (surveys, bands) in a dict.

    Parameters
    ----------
    params : dict
        ``Survey2Survey.get_params()``.
    translator_params : dict
        The parameters passed through to the translator.

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        Naming the first invalid parameter.
    survey2survey.exceptions.UnknownSurveyError, survey2survey.exceptions.BandMismatchError
        For an unknown survey or a band a survey lacks.
    """
    source, target = get_survey(params["source"]), get_survey(params["target"])
    bands = target.check_bands(source.check_bands(parse_bands(params["bands"])))
    mode = check_choice(params["mode"], MODES, "mode")
    if mode == "paper" and len(bands) != 3:
        msg = f"mode='paper' makes RGB composites and needs 3 bands, got {list(bands)}"
        raise InvalidOptionError(msg)
    output_grid = check_choice(params["output_grid"], OUTPUT_GRIDS, "output_grid")
    if mode == "paper" and output_grid == "target":
        msg = ("mode='paper' produces 8-bit composites, which cannot be resampled "
               "flux-conservingly: use output_grid='source'")
        raise InvalidOptionError(msg)
    n_ensemble = check_int(params["n_ensemble"], "n_ensemble", minimum=1)
    _check_translator(params["translator"], translator_params, n_ensemble)
    for name in ("tile_size", "overlap", "blend"):
        check_int(params[name], name, minimum=0 if name != "tile_size" else 1, allow_none=True)
    normalizer = params["normalizer"] or {}
    if not isinstance(normalizer, dict):
        msg = f"normalizer must be a dict of stretch options, got {normalizer!r}"
        raise InvalidOptionError(msg)
    checked = dict(
        source=source, target=target, bands=bands, mode=mode, output_grid=output_grid,
        n_ensemble=n_ensemble, seed=check_int(params["seed"], "seed", minimum=0),
        align_method=check_choice(params["align_method"], _ALIGN_METHODS, "align_method"),
        min_coverage=check_number(params["min_coverage"], "min_coverage", minimum=0, maximum=1),
        max_masked_fraction=check_number(params["max_masked_fraction"], "max_masked_fraction",
                                         minimum=0, maximum=1),
        normalizer=dict(normalizer),
        paper_stretch=check_number(params["paper_stretch"], "paper_stretch", minimum=0,
                                   exclusive_minimum=True),
        paper_q=check_number(params["paper_q"], "paper_q", minimum=0, exclusive_minimum=True),
        precision=check_choice(params["precision"], _PRECISIONS, "precision"),
        warm_start=check_bool(params["warm_start"], "warm_start"))
    make_codec(mode, source=source, target=target, bands=bands, normalizer=normalizer,
               paper_stretch=checked["paper_stretch"], paper_q=checked["paper_q"])
    return checked


def new_translators(translator, translator_params, checked, *, device=None):
    """
    The translator(s) to fit: the instance given, or ``n_ensemble`` new ones by name.

    Member ``k`` is seeded with ``seed + k``; channel counts follow the bands.

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If the translator rejects a parameter.
    """
    from ..translators import Translator

    if isinstance(translator, Translator):
        return [translator]
    translators = []
    for k in range(checked["n_ensemble"]):
        params = dict(translator_params)
        params.setdefault("in_channels", len(checked["bands"]))
        params.setdefault("out_channels", len(checked["bands"]))
        params["seed"] = int(params.get("seed", checked["seed"])) + k
        if device is not None:
            params["device"] = device
        try:
            translators.append(Translator.create(translator, **params))
        except TypeError as exc:
            msg = f"the {translator!r} translator does not accept these parameters: {exc}"
            raise InvalidOptionError(msg) from None
    return translators


def jsonable_params(params, translator_params):
    """
    The parameters as saved: JSON values, translator parameters apart, as given otherwise.

    A Translator instance is saved by name and parameters, a Survey object by name.
    """
    from ..translators import Translator

    params = {key: value for key, value in params.items() if key not in translator_params}
    if isinstance(params["translator"], Translator):
        translator = params["translator"]
        params["translator"] = translator.name
        params["translator_params"] = dict(translator.params)
    else:
        params["translator_params"] = {k: v for k, v in translator_params.items()
                                       if k != "device"}
    for key in ("source", "target"):
        if not isinstance(params[key], str):  # a Survey object: saved by its name
            params[key] = get_survey(params[key]).name
    if not isinstance(params["bands"], str):
        params["bands"] = list(params["bands"])
    params["device"] = None if params["device"] is None else str(params["device"])
    return params


def fitted_state(checked, state, translators, *, what):
    """
    The fitted attributes of a saved estimator, checked against its parameters.

    Returns
    -------
    dict
        ``codec``, ``training_shape`` and ``n_rejected``.

    Raises
    ------
    ValueError, KeyError, TypeError
        If the state contradicts the parameters or holds invalid values (the
        caller names the file).
    """
    if (state["source"] != checked["source"].name or state["target"] != checked["target"].name
            or tuple(state["bands"]) != checked["bands"]
            or len(translators) != checked["n_ensemble"]):
        msg = "its fitted state contradicts its parameters"
        raise ValueError(msg)
    codec = codec_from_dict(state["codec"], source=checked["source"], target=checked["target"],
                            bands=checked["bands"], what=f"the flux encoding in {what}")
    if codec.mode != checked["mode"]:
        msg = f"its codec is for mode {codec.mode!r}, not {checked['mode']!r}"
        raise ValueError(msg)
    for translator in translators:
        if translator.in_channels != len(checked["bands"]):
            msg = (f"a translator has {translator.in_channels} input channels for "
                   f"{len(checked['bands'])} bands")
            raise ValueError(msg)
    shape = state["training_shape"]
    if not isinstance(shape, list) or len(shape) != 2:
        msg = f"training_shape must be two sizes, got {shape!r}"
        raise ValueError(msg)
    return {"codec": codec,
            "training_shape": tuple(check_int(v, "training_shape", minimum=1) for v in shape),
            "n_rejected": check_int(state["n_rejected"], "n_rejected", minimum=0)}
