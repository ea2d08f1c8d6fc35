# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The estimator file: one zip of JSON and safetensors, never a pickle.

Layout of a ``.s2s`` file (stored, not compressed):

- ``estimator.json``: the format, the estimator's parameters (its
  ``get_params()``, so the option list is written once, in ``__init__``), its
  fitted state (bands, surveys, the codec, training shape...), the SHA-256 of
  each translator's weights and a SHA-256 of this whole configuration;
- ``translator_<k>.safetensors``: ensemble member ``k``, written by
  ``Translator.save`` with a copy of the configuration in its metadata.

Loading refuses (`~survey2survey.exceptions.WeightsFileError`) anything else:
an edited configuration (its hash, and the copy in every translator, must
match), tampered weights, oversized or over-compressed members (zip bombs), or
values the estimator's own checks reject.
"""

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

from ..exceptions import Survey2SurveyError, WeightsFileError
from ..utils._files import atomic_write
from ..utils._validation import check_bool, check_path, check_regular_file

__all__ = ["FILE_FORMAT", "FILE_FORMAT_VERSION", "write_archive", "read_archive"]

FILE_FORMAT = "survey2survey-estimator"
FILE_FORMAT_VERSION = 2
_CONFIG_MEMBER = "estimator.json"
_METADATA_KEY = "survey2survey_estimator"
#: largest configuration member accepted
_MAX_CONFIG_BYTES = 10 * 2**20
#: largest translator member accepted (a CycleGAN of 64 base channels is ~60 MB)
_MAX_MEMBER_BYTES = 2**30
#: largest ratio of a member's size to its compressed size (weights barely compress)
_MAX_COMPRESSION_RATIO = 20
_MAX_MEMBERS = 64


def _canonical(config):
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def config_sha256(config):
    """SHA-256 of a configuration dict without its own ``sha256`` entry."""
    body = {key: value for key, value in config.items() if key != "sha256"}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def write_archive(path, *, params, state, translators, overwrite=False):
    """
    Write an estimator file atomically.

    Parameters
    ----------
    path : str or path
        Destination (``.s2s`` by convention).
    params : dict
        The JSON-able estimator parameters.
    state : dict
        The JSON-able fitted state.
    translators : list of `~survey2survey.translators.Translator`
        The fitted translator(s).
    overwrite : bool, optional
        Replace an existing file.
    """
    path = check_path(path, "path")
    overwrite = check_bool(overwrite, "overwrite")
    config = {"format": FILE_FORMAT, "format_version": FILE_FORMAT_VERSION,
              "params": params, "state": state,
              "members": [{"name": f"translator_{k}.safetensors",
                           "weights_sha256": t.weights_sha256()}
                          for k, t in enumerate(translators)]}
    config["sha256"] = config_sha256(config)
    with tempfile.TemporaryDirectory() as tmp:
        members = []
        for entry, translator in zip(config["members"], translators, strict=True):
            member = Path(tmp) / entry["name"]
            translator.save(member, metadata={_METADATA_KEY: config})
            members.append(member)

        def write(target_path):
            with zipfile.ZipFile(target_path, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr(_CONFIG_MEMBER, json.dumps(config, indent=1, sort_keys=True))
                for member in members:
                    archive.write(member, arcname=member.name)

        atomic_write(path, write, overwrite=overwrite)
    return Path(path)


def _read_member(archive, name, limit, what):
    """A member's bytes, refusing declared or actual sizes above ``limit``."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        msg = f"{what} has no member {name!r}"
        raise WeightsFileError(msg) from None
    if info.flag_bits & 0x1:
        msg = f"{what}: member {name!r} is encrypted; survey2survey files never are"
        raise WeightsFileError(msg)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        msg = (f"{what}: member {name!r} uses zip compression method {info.compress_type}; "
               "survey2survey files are stored or deflated only")
        raise WeightsFileError(msg)
    if info.file_size > limit:
        msg = f"{what}: member {name!r} declares {info.file_size} bytes, over the {limit} allowed"
        raise WeightsFileError(msg)
    if info.compress_size and info.file_size > _MAX_COMPRESSION_RATIO * info.compress_size:
        msg = (f"{what}: member {name!r} expands {info.file_size / info.compress_size:.0f}-fold "
               "when decompressed; refused (a zip bomb?)")
        raise WeightsFileError(msg)
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        msg = f"{what}: member {name!r} holds more than the {limit} bytes allowed"
        raise WeightsFileError(msg)
    return data


def read_archive(path, *, device=None):
    """
    Read and verify an estimator file.

    Returns
    -------
    config : dict
        With ``params`` and ``state``.
    translators : list of `~survey2survey.translators.Translator`

    Raises
    ------
    survey2survey.exceptions.WeightsFileError
        If the file is missing, not an estimator file, altered or unsafe.
    """
    from ..translators import Translator
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        msg = (f"an estimator file must be named by a str or os.PathLike path; got "
               f"{path!r} ({type(path).__name__})")
        raise WeightsFileError(msg)
    path = Path(path)
    what = repr(str(path))
    if not os.path.lexists(path):
        msg = f"no such estimator file: {what}"
        raise WeightsFileError(msg)
    check_regular_file(path, "estimator file", error=WeightsFileError)
    if not zipfile.is_zipfile(path):
        msg = f"{what} is not a survey2survey estimator file (not a zip archive)"
        raise WeightsFileError(msg)
    try:
        with zipfile.ZipFile(path) as archive:
            if len(archive.infolist()) > _MAX_MEMBERS:
                msg = f"{what} holds {len(archive.infolist())} members, too many for an estimator"
                raise WeightsFileError(msg)
            text = _read_member(archive, _CONFIG_MEMBER, _MAX_CONFIG_BYTES, what)
            _check_json_depth(text, f"{what}[{_CONFIG_MEMBER}]")
            config = json.loads(text)
            _check_config(config, what)
            blobs = [_read_member(archive, entry["name"], _MAX_MEMBER_BYTES, what)
                     for entry in config["members"]]
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError, RuntimeError,
            NotImplementedError, RecursionError, EOFError) as exc:
        if isinstance(exc, Survey2SurveyError):
            raise
        msg = (f"{what} is not a valid survey2survey estimator file: "
               f"{type(exc).__name__}: {exc}")
        raise WeightsFileError(msg) from None
    translators = []
    for entry, blob in zip(config["members"], blobs, strict=True):
        member = f"{what}[{entry['name']}]"
        translator = Translator.load(blob, device=device)
        if translator.metadata.get(_METADATA_KEY) != config:
            msg = (f"{member} was saved with another estimator configuration: the file was "
                   "edited or assembled from parts")
            raise WeightsFileError(msg)
        if translator.weights_sha256() != entry["weights_sha256"]:
            msg = f"the weights of {member} do not match the estimator configuration"
            raise WeightsFileError(msg)
        translators.append(translator)
    return config, translators


#: the deepest nesting of JSON arrays and objects a model's configuration may have
MAX_JSON_DEPTH = 64


def _check_json_depth(text, what):
    """Refuse JSON nested deeper than `MAX_JSON_DEPTH` before parsing it (no RecursionError)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    msg = (f"{what} nests JSON more than {MAX_JSON_DEPTH} levels deep; "
                           "refused (no survey2survey configuration does)")
                    raise WeightsFileError(msg)
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _check_config(config, what):
    if not isinstance(config, dict) or config.get("format") != FILE_FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        msg = f"{what} holds format {found!r}, not {FILE_FORMAT!r}"
        raise WeightsFileError(msg)
    version = config.get("format_version")
    if not isinstance(version, int) or version > FILE_FORMAT_VERSION:
        msg = (f"{what} has format version {version!r}; this library reads up to "
               f"{FILE_FORMAT_VERSION}: upgrade survey2survey")
        raise WeightsFileError(msg)
    if version < FILE_FORMAT_VERSION:
        msg = (f"{what} has format version {version}, written by an older survey2survey "
               "whose files this version no longer reads: refit and save it again")
        raise WeightsFileError(msg)
    if config.get("sha256") != config_sha256(config):
        msg = f"{what}: its configuration does not match its recorded SHA-256 (it was edited)"
        raise WeightsFileError(msg)
    members = config.get("members")
    if (not isinstance(members, list) or not members
            or not all(isinstance(m, dict) and isinstance(m.get("name"), str)
                       and m["name"].endswith(".safetensors") and "/" not in m["name"]
                       for m in members)):
        msg = f"{what} lists no valid translator member"
        raise WeightsFileError(msg)
    for key in ("params", "state"):
        if not isinstance(config.get(key), dict):
            msg = f"{what} has no {key!r} section"
            raise WeightsFileError(msg)
