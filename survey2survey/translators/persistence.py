# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Saving and loading translators and training checkpoints without pickle.

A saved translator is ONE `safetensors <https://huggingface.co/docs/safetensors>`_
file: the tensors are the state dicts of the translator's modules, and the
file's header metadata holds, under the key ``"survey2survey"``, a JSON
configuration with the registry name, the constructor parameters, the channel
counts, the library and torch versions, a SHA-256 of the weights and the
caller's own JSON-able metadata. Loading re-creates the translator by name from
the registry and refuses (`~survey2survey.exceptions.WeightsFileError`) any file
that is not such a file, whose weights do not hash to the recorded value, or
whose tensors do not fit the network.

Checkpoints use the same container: module weights, optimizer state tensors
and RNG states as tensors; the epoch, history, scheduler and the non-tensor
optimizer state as JSON. Nothing is ever unpickled.
"""

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..exceptions import TranslatorError, WeightsFileError
from ..io import atomic_write

__all__ = ["save_translator", "load_translator", "read_weights_file", "weights_sha256"]

METADATA_KEY = "survey2survey"
FORMAT = "survey2survey-translator"
CHECKPOINT_FORMAT = "survey2survey-checkpoint"
FORMAT_VERSION = 1


def weights_sha256(tensors):
    """
    The SHA-256 (hex) of a mapping of name to tensor: names, dtypes, shapes and bytes.

    Examples
    --------
    >>> import torch
    >>> from survey2survey.translators import weights_sha256
    >>> len(weights_sha256({"w": torch.zeros(3)}))
    64
    """
    digest = hashlib.sha256()
    for key in sorted(tensors):
        tensor = tensors[key].detach().to("cpu").contiguous()
        digest.update(key.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _json_dumps(obj, what):
    try:
        return json.dumps(obj, sort_keys=True)
    except (TypeError, ValueError) as exc:
        msg = f"{what} must be JSON-serialisable ({exc})"
        raise TranslatorError(msg) from None


def _write(path, tensors, config, *, overwrite):
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    config = dict(config, sha256=weights_sha256(tensors))
    header = {METADATA_KEY: _json_dumps(config, "the translator configuration and metadata")}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header),
                 overwrite=overwrite)
    return Path(path)


def read_weights_file(path, *, expected_format=FORMAT):
    """
    Read and verify a survey2survey safetensors file.

    Parameters
    ----------
    path : str or path-like
        The file.
    expected_format : str, optional
        The ``format`` the configuration must declare.

    Returns
    -------
    config : dict
        The JSON configuration from the file's metadata.
    tensors : dict of str to `torch.Tensor`
        The tensors, on the CPU.

    Raises
    ------
    WeightsFileError
        If the file is missing, not a safetensors file (a pickle, say), has no
        survey2survey configuration, declares another format, or its tensors do
        not hash to the recorded SHA-256 (the file was altered).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        msg = f"weights file {path!r} does not exist"
        raise WeightsFileError(msg)
    try:
        with safe_open(path, framework="pt", device="cpu") as handle:
            header = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types
        msg = (f"{path!r} is not a readable safetensors file "
               f"({type(exc).__name__}: {exc}); survey2survey never unpickles files")
        raise WeightsFileError(msg) from None
    if METADATA_KEY not in header:
        msg = (f"{path!r} is a safetensors file without survey2survey metadata; "
               "it was not written by Translator.save")
        raise WeightsFileError(msg)
    try:
        config = json.loads(header[METADATA_KEY])
    except ValueError as exc:
        msg = f"the survey2survey metadata of {path!r} is not valid JSON ({exc})"
        raise WeightsFileError(msg) from None
    if not isinstance(config, dict) or config.get("format") != expected_format:
        found = config.get("format") if isinstance(config, dict) else config
        msg = f"{path!r} holds format {found!r}, expected {expected_format!r}"
        raise WeightsFileError(msg)
    if config.get("format_version", 0) > FORMAT_VERSION:
        msg = (f"{path!r} was written with format version {config.get('format_version')}, "
               f"newer than this library reads ({FORMAT_VERSION}); upgrade survey2survey")
        raise WeightsFileError(msg)
    recorded = config.get("sha256")
    if recorded != weights_sha256(tensors):
        msg = (f"the weights in {path!r} do not match their recorded SHA-256 "
               f"({recorded!r}): the file was altered or is corrupt")
        raise WeightsFileError(msg)
    return config, tensors


def save_translator(translator, path, *, metadata=None, overwrite=False):
    """
    Write ``translator`` to ONE safetensors file; see `Translator.save`.

    Returns
    -------
    `pathlib.Path`
        The path written.
    """
    from .. import __version__

    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": translator.name,
        "class": f"{type(translator).__module__}:{type(translator).__qualname__}",
        "params": translator.params,
        "in_channels": translator.in_channels,
        "out_channels": translator.out_channels,
        "library_version": __version__,
        "torch_version": torch.__version__,
        "fitted": translator.is_fitted,
        "metadata": dict(metadata) if metadata is not None else {},
    }
    return _write(path, translator.state_tensors(), config, overwrite=overwrite)


def load_translator(path, *, device=None, registry=None):
    """
    Re-create a translator saved with `save_translator`; see `Translator.load`.

    Raises
    ------
    WeightsFileError
        If the file is not a valid, untampered survey2survey translator file,
        or its tensors do not fit the network its configuration describes.
    UnknownTranslatorError
        If the translator named in the file is not registered (a plug-in that
        is not installed).
    """
    from .registry import get_translator

    config, tensors = read_weights_file(path)
    cls = get_translator(config.get("name"), registry=registry)
    try:
        translator = cls(**config.get("params", {}), device=device)
    except TypeError as exc:
        msg = f"the parameters stored in {os.fspath(path)!r} do not fit {cls.__qualname__}: {exc}"
        raise WeightsFileError(msg) from None
    translator.name = config["name"]
    translator.load_state_tensors(tensors, what=os.fspath(path))
    translator.metadata = dict(config.get("metadata", {}))
    translator.is_fitted = bool(config.get("fitted", True))
    return translator


# --- checkpoints -------------------------------------------------------------------------

def _encode(obj, tensors, prefix):
    """A JSON-able copy of a nested state, tensors moved into ``tensors``."""
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}"
        tensors[key] = obj
        return {"__tensor__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _encode(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_encode(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]
    return obj


def _decode(obj, tensors):
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: _decode(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj


def save_checkpoint(path, translator, state):
    """
    Write a training checkpoint: the translator's weights plus ``state``.

    ``state`` is a nested structure of dicts, lists, numbers, strings and
    tensors (optimizer and scheduler state dicts, RNG states, epoch, history);
    its tensors are stored as tensors and the rest as JSON.
    """
    from .. import __version__

    tensors = {f"weights/{k}": v for k, v in translator.state_tensors().items()}
    state_tensors = {}
    encoded = _encode(state, state_tensors, "state")
    tensors.update(state_tensors)
    config = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": translator.name,
        "params": translator.params,
        "library_version": __version__,
        "state": encoded,
    }
    return _write(path, tensors, config, overwrite=True)


def load_checkpoint(path, translator):
    """
    Restore the weights of ``translator`` from a checkpoint and return its ``state``.

    Raises
    ------
    WeightsFileError
        If the checkpoint is invalid or was written by a translator of another
        name or other parameters.
    """
    config, tensors = read_weights_file(path, expected_format=CHECKPOINT_FORMAT)
    params = json.loads(_json_dumps(translator.params, "the translator parameters"))
    if config.get("name") != translator.name or config.get("params") != params:
        msg = (f"checkpoint {os.fspath(path)!r} was written by translator "
               f"{config.get('name')!r} with params {config.get('params')}, not by "
               f"{translator.name!r} with params {translator.params}")
        raise WeightsFileError(msg)
    weights = {k[len("weights/"):]: v for k, v in tensors.items() if k.startswith("weights/")}
    translator.load_state_tensors(weights, what=os.fspath(path))
    return _decode(config["state"], tensors)
