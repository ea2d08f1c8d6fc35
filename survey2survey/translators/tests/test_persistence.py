# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of saving and loading translators: safetensors + JSON, never pickle."""

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from survey2survey import Translator
from survey2survey.exceptions import TranslatorError, UnknownTranslatorError, WeightsFileError
from survey2survey.translators._persistence import read_weights_file

from .conftest import TINY, toy_pairs


@pytest.mark.parametrize("name", ["aecnn", "cyclegan", "unet"])
def test_save_load_gives_identical_outputs(tmp_path, name):
    """A fitted translator reloads with the same params, metadata and outputs."""
    source, target = toy_pairs(n=4)
    model = Translator.create(name, epochs=1, batch_size=2, **TINY[name])
    model.fit(source, target, validation=0, progress=False)
    path = model.save(tmp_path / "model.safetensors", metadata={"bands": "gri", "scale": [1, 2]})
    again = Translator.load(path)
    assert type(again) is type(model) and again.params == model.params
    assert again.metadata == {"bands": "gri", "scale": [1, 2]} and again.is_fitted
    batch = torch.rand(2, 3, 17, 21)
    assert torch.equal(again.predict(batch), model.predict(batch))
    assert torch.equal(again.predict(batch, precision="fp32"), model.predict(batch,
                                                                             precision="fp32"))


def test_file_holds_config(tmp_path):
    """The safetensors metadata holds name, params, channels, versions and a SHA-256."""
    path = Translator.create("aecnn", in_channels=1).save(tmp_path / "m.safetensors")
    config, tensors = read_weights_file(path)
    assert config["name"] == "aecnn" and config["in_channels"] == 1
    assert {"library_version", "torch_version", "sha256", "config_sha256",
            "params"} <= set(config)
    assert "network.down1.0.weight" in tensors


def test_save_refuses_overwrite_and_bad_metadata(tmp_path):
    """Existing files need overwrite=True; metadata must be JSON-able."""
    model = Translator.create("aecnn", in_channels=1)
    path = model.save(tmp_path / "m.safetensors")
    with pytest.raises(FileExistsError):
        model.save(path)
    model.save(path, overwrite=True)
    with pytest.raises(TranslatorError, match="JSON-serialisable"):
        model.save(tmp_path / "n.safetensors", metadata={"x": object()})
    assert not (tmp_path / "n.safetensors").exists()


def test_tampered_weights_are_refused(tmp_path):
    """Flipping bytes in the tensor data breaks the SHA-256 check."""
    path = Translator.create("aecnn", in_channels=1).save(tmp_path / "m.safetensors")
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(WeightsFileError, match="do not match their recorded SHA-256"):
        Translator.load(path)


def _edit_config(path, edit):
    """Rewrite a translator file with its JSON configuration edited, tensors untouched."""
    from safetensors.torch import load_file

    from survey2survey.translators._persistence import METADATA_KEY

    config, _ = read_weights_file(path)
    edit(config)
    save_file(load_file(path), path, metadata={METADATA_KEY: json.dumps(config)})


def test_edited_configuration_is_refused(tmp_path):
    """The parameters and metadata are hashed too: resampling none->pool is refused."""
    model = Translator.create("aecnn", in_channels=1)
    path = model.save(tmp_path / "m.safetensors", metadata={"hi": [136.7]})
    config, _ = read_weights_file(path)
    assert len(config["config_sha256"]) == 64 and config["params"]["resampling"] == "none"
    _edit_config(path, lambda c: c["params"].update(resampling="pool"))
    with pytest.raises(WeightsFileError, match=r"configuration of .* \(parameters, metadata\) "
                                                "does not match its recorded SHA-256"):
        Translator.load(path)
    model.save(path, metadata={"hi": [136.7]}, overwrite=True)
    _edit_config(path, lambda c: c["metadata"].update(hi=[273.4]))
    with pytest.raises(WeightsFileError, match="was edited"):
        Translator.load(path)
    model.save(path, overwrite=True)  # files of earlier versions had no config_sha256: read
    _edit_config(path, lambda c: c.pop("config_sha256"))
    assert Translator.load(path).params == model.params


def test_corrupt_header_is_refused(tmp_path):
    """Bytes flipped in the header make the file unreadable as safetensors."""
    path = Translator.create("aecnn", in_channels=1).save(tmp_path / "m.safetensors")
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(WeightsFileError, match="not a readable safetensors file|"
                                                "not valid JSON|without survey2survey"):
        Translator.load(path)


def test_foreign_files_are_refused(tmp_path):
    """A plain safetensors file, a pickle and a missing file raise WeightsFileError."""
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.rand(3)}, foreign)
    with pytest.raises(WeightsFileError, match="without survey2survey metadata"):
        Translator.load(foreign)
    pickled = tmp_path / "model.pt"
    pickled.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(WeightsFileError, match="never unpickles"):
        Translator.load(pickled)
    with pytest.raises(WeightsFileError, match="does not exist"):
        Translator.load(tmp_path / "missing.safetensors")


def test_wrong_tensors_and_unknown_translator(tmp_path):
    """Files with a valid hash but unfitting tensors, or an unknown name, are refused."""
    from survey2survey.translators._persistence import METADATA_KEY, weights_sha256

    def write(name, tensors, params):
        config = {"format": "survey2survey-translator", "format_version": 1, "name": name,
                  "params": params, "sha256": weights_sha256(tensors)}
        path = tmp_path / f"{name}.safetensors"
        save_file(tensors, path, metadata={METADATA_KEY: json.dumps(config)})
        return path

    with pytest.raises(WeightsFileError, match="does not fit"):
        Translator.load(write("aecnn", {"network.down1.0.weight": torch.rand(2)}, {}))
    with pytest.raises(WeightsFileError, match="do not fit AECNNTranslator"):
        Translator.load(write("aecnn", {}, {"wings": 2}))
    with pytest.raises(UnknownTranslatorError, match="'ghost'"):
        Translator.load(write("ghost", {}, {}))
