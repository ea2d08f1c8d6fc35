# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The estimator's parameters: checked (once, for fit and load), turned into
translators, and written as JSON for the saved file.
"""

from ..exceptions import InvalidOptionError
from ..surveys import get_survey
from ..utils._validation import check_bool, check_choice, check_int, check_number, parse_bands
from ._codec import codec_from_dict, make_codec
from ._uncertainty import uncertainty_model_from_dict

__all__ = ["PRECISIONS", "MODES", "OUTPUT_GRIDS", "FLUX_RECIPE", "PAPER_RECIPE",
           "WARM_START_PARAMS", "with_training_params", "check_params",
           "translator_params_for", "new_translators", "jsonable_params", "fitted_state"]

MODES = ("flux", "paper")
OUTPUT_GRIDS = ("source", "target")
_ALIGN_METHODS = ("adaptive", "exact", "interp")
#: the network precisions an estimator (or one transform call) may ask for
PRECISIONS = ("fp32", "auto", "bf16", "fp16")


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
    checked = dict(
        source=source, target=target, bands=bands, mode=mode, output_grid=output_grid,
        n_ensemble=n_ensemble,
        seed=check_int(params["seed"], "seed", minimum=0, maximum=2**63 - 1),
        align_method=check_choice(params["align_method"], _ALIGN_METHODS, "align_method"),
        min_coverage=check_number(params["min_coverage"], "min_coverage", minimum=0, maximum=1),
        max_masked_fraction=check_number(params["max_masked_fraction"], "max_masked_fraction",
                                         minimum=0, maximum=1),
        seeing_input=check_bool(params["seeing_input"], "seeing_input"),
        paper_stretch=check_number(params["paper_stretch"], "paper_stretch", minimum=0,
                                   exclusive_minimum=True),
        paper_q=check_number(params["paper_q"], "paper_q", minimum=0, exclusive_minimum=True),
        precision=check_choice(params["precision"], PRECISIONS, "precision"),
        warm_start=check_bool(params["warm_start"], "warm_start"))
    if checked["seeing_input"] and mode == "paper":
        msg = "seeing_input=True adds a channel to calibrated-flux inputs; mode='paper' has none"
        raise InvalidOptionError(msg)
    make_codec(mode, source=source, target=target, bands=bands, seeing=checked["seeing_input"],
               paper_stretch=checked["paper_stretch"], paper_q=checked["paper_q"])
    return checked


#: training options of the calibrated-flux recipe, for every translator unless set otherwise:
#: random 64x64 crops with flips and transposes, an exponential moving average of the weights
#: and gradient-norm clipping (measured on held-out simulated pairs: see the fidelity page)
FLUX_RECIPE = {"crop_size": 64, "augment": True, "ema_decay": 0.998, "clip_grad_norm": 1.0}
#: the paper's optimiser for its AECNN (Sec. 3.1), used in mode='paper' unless set otherwise
PAPER_RECIPE = {"aecnn": {"optimizer": "adadelta", "learning_rate": 1.0, "schedule": "none"}}


#: translator parameters a warm start may change: how to train, not what the network is
WARM_START_PARAMS = frozenset({
    "epochs", "batch_size", "seed", "patience", "restore_best", "crop_size", "augment",
    "ema_decay", "clip_grad_norm", "checkpoint_every", "num_workers", "compile", "amp",
    "channels_last", "inference_batch_size", "learning_rate", "optimizer", "schedule",
    "decay_start", "lambda_cycle", "lambda_identity", "lambda_supervised", "pool_size",
    "gan_loss", "loss"})


def with_training_params(translator, translator_params):
    """
    ``translator`` with the training parameters of ``translator_params`` (a warm start).

    The values are checked by the translator's own constructor; a parameter that
    defines the network (its width, resampling, dropout...) cannot change and is
    refused with `~survey2survey.exceptions.InvalidOptionError`.
    """
    current = translator.params
    changes = {k: v for k, v in translator_params.items()
               if k != "device" and (k not in current or current[k] != v)}
    fixed = sorted(set(changes) - WARM_START_PARAMS)
    if fixed:
        msg = (f"warm_start continues the fitted network, so {', '.join(fixed)} cannot change "
               f"(fitted: {', '.join(f'{k}={current.get(k)!r}' for k in fixed)}); fit "
               "without warm_start to train a new network")
        raise InvalidOptionError(msg)
    if not changes:
        return translator
    checked = type(translator)(**{**current, **changes}, device=translator.device)
    for key in changes:
        setattr(translator, key, getattr(checked, key))
    translator._params = {**current, **changes}
    return translator


def translator_params_for(translator, translator_params, checked, codec, k=0, *, device=None):
    """
    The constructor parameters of ensemble member ``k``: the user's, then the recipe's.

    Channel counts and the output layer follow the codec (``in_channels``,
    ``out_channels``, ``linear_output``); member ``k`` is seeded ``seed + k``.
    """
    params = dict(translator_params)
    recipe = (FLUX_RECIPE if checked["mode"] == "flux"
              else PAPER_RECIPE.get(str(translator).strip().lower(), {}))
    for key, value in recipe.items():
        params.setdefault(key, value)
    params.setdefault("in_channels", codec.input_channels)
    params.setdefault("out_channels", codec.output_channels)
    params.setdefault("target_channels", codec.target_channels)
    params.setdefault("linear_output", codec.linear_output)
    params["seed"] = int(params.get("seed", checked["seed"])) + k
    if device is not None:
        params["device"] = device
    return params


def new_translators(translator, translator_params, checked, codec, *, device=None):
    """
    The translator(s) to fit: the instance given, or ``n_ensemble`` new ones by name.

    Their channels and output layer fit the codec; they get its head once it is fitted.

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If the translator rejects a parameter, or an instance does not fit the codec.
    """
    from ..translators import Translator

    if isinstance(translator, Translator):
        wanted = (codec.input_channels, codec.output_channels, codec.target_channels,
                  codec.linear_output)
        found = (translator.in_channels, translator.out_channels, translator.target_channels,
                 translator.linear_output)
        if found != wanted:
            msg = (f"a {translator.name} translator given as an instance must have "
                   "(in_channels, out_channels, target_channels, linear_output) = "
                   f"{wanted} for mode={checked['mode']!r}; it has {found}")
            raise InvalidOptionError(msg)
        return [translator]
    translators = []
    for k in range(checked["n_ensemble"]):
        params = translator_params_for(translator, translator_params, checked, codec, k,
                                       device=device)
        try:
            created = Translator.create(translator, **params)
        except TypeError as exc:
            msg = f"the {translator!r} translator does not accept these parameters: {exc}"
            raise InvalidOptionError(msg) from None
        translators.append(created)
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
        ``codec``, ``training_shape``, ``n_rejected`` and ``uncertainty_model``.

    Raises
    ------
    ValueError, KeyError, TypeError
        If the state contradicts the parameters or holds invalid values (the
        caller names the file).
    """
    contradictions = [
        f"{key} {found!r} in its fitted state but {expected!r} in its parameters"
        for key, found, expected in (
            ("source", state["source"], checked["source"].name),
            ("target", state["target"], checked["target"].name),
            ("bands", list(state["bands"]), list(checked["bands"])),
            ("n_ensemble (members)", len(translators), checked["n_ensemble"]))
        if found != expected]
    if contradictions:
        msg = f"its fitted state contradicts its parameters: {'; '.join(contradictions)}"
        raise ValueError(msg)
    codec = codec_from_dict(state["codec"], source=checked["source"], target=checked["target"],
                            bands=checked["bands"], what=f"the flux encoding in {what}")
    if codec.mode != checked["mode"]:
        msg = f"its codec is for mode {codec.mode!r}, not {checked['mode']!r}"
        raise ValueError(msg)
    for translator in translators:
        if (translator.in_channels != codec.input_channels
                or translator.out_channels != codec.output_channels):
            msg = (f"a translator has {translator.in_channels} input and "
                   f"{translator.out_channels} output channels where the flux encoding has "
                   f"{codec.input_channels} and {codec.output_channels}")
            raise ValueError(msg)
        translator.set_head(codec.head())
    shape = state["training_shape"]
    if not isinstance(shape, list) or len(shape) != 2:
        msg = f"training_shape must be two sizes, got {shape!r}"
        raise ValueError(msg)
    uncertainty = state.get("uncertainty")  # absent from archives before 0.2
    return {"codec": codec,
            "training_shape": tuple(check_int(v, "training_shape", minimum=1) for v in shape),
            "n_rejected": check_int(state["n_rejected"], "n_rejected", minimum=0),
            "uncertainty_model": uncertainty_model_from_dict(uncertainty, len(checked["bands"]))}
