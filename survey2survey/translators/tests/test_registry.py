# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the translator registry and of plug-in discovery."""

from importlib.metadata import EntryPoint

import pytest
import torch
from astropy.utils.exceptions import AstropyUserWarning
from torch import nn

from survey2survey import Translator
from survey2survey.exceptions import TranslatorError, UnknownTranslatorError
from survey2survey.translators import (
    TranslatorRegistry,
    available_translators,
    get_translator,
    register_translator,
    registry,
    unregister_translator,
)

from .conftest import toy_pairs


class ScaleTranslator(Translator):
    """A third-party translator: one learnable 1x1 convolution."""

    def __init__(self, *, channels=3, **kwargs):
        super().__init__(in_channels=channels, **kwargs)

    def build_modules(self):
        return {"network": nn.Conv2d(self.in_channels, self.out_channels, 1)}

    def configure_optimizers(self):
        return {"network": torch.optim.SGD(self.network.parameters(), lr=0.5)}


def test_unknown_name_lists_available():
    """An unknown name raises UnknownTranslatorError naming the available translators."""
    with pytest.raises(UnknownTranslatorError, match="'nope'.*aecnn, cyclegan"):
        Translator.create("nope")


def test_builtins_and_entry_point_plugin_are_available():
    """aecnn and cyclegan register themselves; unet comes from its entry point."""
    assert {"aecnn", "cyclegan", "unet"} <= set(available_translators())
    unet = Translator.create("unet", in_channels=1, **{"base_channels": 4, "depth": 2})
    assert type(unet).__module__ == "survey2survey.translators.unet"
    assert unet.name == "unet"


def test_third_party_translator_by_name():
    """A translator registered from a test module is usable by name, then unregistered."""
    register_translator("scale-test")(ScaleTranslator)
    try:
        model = Translator.create("Scale-Test", channels=2, epochs=3, batch_size=4)
        assert model.name == "scale-test" and model.params == {"channels": 2, "epochs": 3,
                                                               "batch_size": 4}
        source, target = toy_pairs(n=8, channels=2)
        history = model.fit(source, target, validation=0, progress=False)
        assert history["loss"][-1] < history["loss"][0]
        assert model.predict(source).shape == source.shape
    finally:
        unregister_translator("scale-test")
    assert "scale-test" not in available_translators()


def test_duplicate_name_needs_force():
    """Registering a taken name with another class fails unless force=True."""
    own = TranslatorRegistry(group=None)
    own.register("x", ScaleTranslator)
    with pytest.raises(TranslatorError, match="already registered"):
        own.register("x", type("Other", (ScaleTranslator,), {}))
    own.register("x", type("Other", (ScaleTranslator,), {}), force=True)
    assert own.get("x").__name__ == "Other"


def test_bad_registrations():
    """Non-translators and empty names are refused; unknown names cannot be unregistered."""
    own = TranslatorRegistry(group=None)
    with pytest.raises(TranslatorError, match="not a subclass of Translator"):
        own.register("x", nn.Conv2d)
    with pytest.raises(TranslatorError, match="non-empty string"):
        own.register("  ", ScaleTranslator)
    with pytest.raises(UnknownTranslatorError, match="cannot unregister 'x'"):
        own.unregister("x")
    with pytest.raises(UnknownTranslatorError, match="available translators: none"):
        get_translator("x", registry=own)


def test_broken_plugin_becomes_a_warning(monkeypatch):
    """A plug-in that fails to import is skipped with an AstropyUserWarning."""
    broken = EntryPoint("broken", "survey2survey_missing_module:Thing", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken])
    own = TranslatorRegistry()
    with pytest.warns(AstropyUserWarning, match="could not load translator plug-in 'broken'"):
        assert own.names() == []
    assert own.names() == []  # discovery happens once
