# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Saving and loading translators and training checkpoints without pickle.

A saved translator is ONE `safetensors <https://huggingface.co/docs/safetensors>`_
file: the tensors are the state dicts of the translator's modules, and the
file's header metadata holds, under the key ``"survey2survey"``, a JSON
configuration with the registry name, the constructor parameters, the channel
counts, the library and torch versions, a SHA-256 of the weights, the
caller's own JSON-able metadata and a SHA-256 of this whole configuration.
`read_weights_file` refuses (`~survey2survey.exceptions.WeightsFileError`) any
file that is not such a file, or whose weights or configuration do not hash
to the recorded values;
``Translator.load`` then re-creates the translator by name from the registry.

Checkpoints use the same container: module weights, optimizer state tensors
and RNG states as tensors; the epoch, history, scheduler and the non-tensor
optimizer state as JSON. Nothing is ever unpickled.
"""

import hashlib
import json
import os
import struct
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors_from_bytes
from safetensors.torch import save_file

from ..exceptions import TranslatorError, WeightsFileError
from ..utils._files import atomic_write

__all__ = ["FORMAT", "FORMAT_VERSION", "CHECKPOINT_NAME", "json_dumps", "weights_sha256",
           "config_sha256", "write_weights_file", "read_weights_file", "read_weights_bytes",
           "save_checkpoint", "load_checkpoint"]

#: file name of the checkpoint inside a ``checkpoint_dir``
CHECKPOINT_NAME = "checkpoint.safetensors"
#: largest safetensors header accepted (the JSON metadata and tensor index)
_MAX_HEADER_BYTES = 64 * 2**20

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
    >>> from survey2survey.translators._persistence import weights_sha256
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


def json_dumps(obj, what):
    try:
        return json.dumps(obj, sort_keys=True)
    except (TypeError, ValueError) as exc:
        msg = f"{what} must be JSON-serialisable ({exc})"
        raise TranslatorError(msg) from None


def config_sha256(config):
    """
    The SHA-256 (hex) of a JSON configuration without its ``config_sha256`` entry.

    The configuration is serialised canonically (sorted keys, no spaces), so the
    hash does not depend on how the JSON was laid out in the file.
    """
    body = {key: value for key, value in config.items() if key != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_weights_file(path, tensors, config, *, overwrite=False):
    """
    Write ``tensors`` and the JSON ``config`` as one safetensors file, with two SHA-256s.

    ``sha256`` is the hash of the tensors; ``config_sha256`` the hash of the
    whole configuration (parameters, metadata and ``sha256`` itself), so that
    neither the weights nor any stored value can be edited unnoticed.

    Returns
    -------
    `pathlib.Path`
    """
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    what = "the translator configuration and metadata"
    config = json.loads(json_dumps(dict(config, sha256=weights_sha256(tensors)), what))
    config["config_sha256"] = config_sha256(config)
    header = {METADATA_KEY: json_dumps(config, what)}
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
        survey2survey configuration, declares another format, or its tensors or
        its configuration do not hash to the recorded SHA-256s (the file was
        altered). Files of earlier development versions, without
        ``config_sha256``, have their tensors checked only.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        msg = f"weights file {path!r} does not exist"
        raise WeightsFileError(msg)
    with open(path, "rb") as handle:
        blob = handle.read()
    return read_weights_bytes(blob, what=repr(path), expected_format=expected_format)


def _metadata(blob, what):
    """The ``__metadata__`` dict of a safetensors byte string (read from its JSON header)."""
    if len(blob) < 8:
        msg = (f"{what} is not a safetensors file (only {len(blob)} bytes); "
               "survey2survey never unpickles files")
        raise WeightsFileError(msg)
    (length,) = struct.unpack("<Q", blob[:8])
    if length > min(_MAX_HEADER_BYTES, len(blob) - 8):
        msg = (f"{what} is not a readable safetensors file (header of {length} bytes); "
               "survey2survey never unpickles files")
        raise WeightsFileError(msg)
    try:
        header = json.loads(blob[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        msg = (f"{what} is not a readable safetensors file (its header is not JSON); "
               "survey2survey never unpickles files")
        raise WeightsFileError(msg) from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def read_weights_bytes(blob, *, what="weights", expected_format=FORMAT):
    """
    Read and verify a survey2survey safetensors file held in memory; see `read_weights_file`.

    Parameters
    ----------
    blob : bytes
        The file's content.
    what : str, optional
        How to name it in error messages.
    expected_format : str, optional
        The ``format`` the configuration must declare.
    """
    header = _metadata(blob, what)
    if METADATA_KEY not in header:
        msg = (f"{what} is a safetensors file without survey2survey metadata; "
               "it was not written by Translator.save")
        raise WeightsFileError(msg)
    try:
        config = json.loads(header[METADATA_KEY])
    except (ValueError, TypeError, RecursionError) as exc:
        msg = f"the survey2survey metadata of {what} is not valid JSON ({exc})"
        raise WeightsFileError(msg) from None
    if not isinstance(config, dict) or config.get("format") != expected_format:
        found = config.get("format") if isinstance(config, dict) else config
        msg = f"{what} holds format {found!r}, expected {expected_format!r}"
        raise WeightsFileError(msg)
    version = config.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        msg = (f"{what} was written with format version {version!r}, newer than this "
               f"library reads ({FORMAT_VERSION}); upgrade survey2survey")
        raise WeightsFileError(msg)
    try:
        tensors = load_tensors_from_bytes(bytes(blob))
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types
        msg = (f"{what} is not a readable safetensors file ({type(exc).__name__}: {exc}); "
               "survey2survey never unpickles files")
        raise WeightsFileError(msg) from None
    recorded = config.get("sha256")
    if recorded != weights_sha256(tensors):
        msg = (f"the weights in {what} do not match their recorded SHA-256 "
               f"({recorded!r}): the file was altered or is corrupt")
        raise WeightsFileError(msg)
    # files of earlier development versions hashed their tensors only (and are still
    # read: the estimator archive around them hashes its configuration); every file
    # written now also hashes its whole configuration
    if "config_sha256" in config and config["config_sha256"] != config_sha256(config):
        msg = (f"the configuration of {what} (parameters, metadata) does not match its "
               "recorded SHA-256: the file was edited or is corrupt")
        raise WeightsFileError(msg)
    return config, tensors


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
    return write_weights_file(path, tensors, config, overwrite=True)


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
    params = json.loads(json_dumps(translator.params, "the translator parameters"))
    if config.get("name") != translator.name or config.get("params") != params:
        msg = (f"checkpoint {os.fspath(path)!r} was written by translator "
               f"{config.get('name')!r} with params {config.get('params')}, not by "
               f"{translator.name!r} with params {translator.params}")
        raise WeightsFileError(msg)
    weights = {k[len("weights/"):]: v for k, v in tensors.items() if k.startswith("weights/")}
    translator.load_state_tensors(weights, what=os.fspath(path))
    return _decode(config["state"], tensors)
