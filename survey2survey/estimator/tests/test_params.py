# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The estimator's parameters: stored by __init__, read by get_params, kept by save/load."""

import inspect

import pytest

from survey2survey import Survey2Survey
from survey2survey.exceptions import InvalidOptionError

#: a value other than the default for every named parameter (flux mode)
NON_DEFAULT = dict(
    translator="unet", source="SDSS", target="DES", bands="g,r", mode="flux",
    output_grid="target", n_ensemble=2, seed=5, tile_size=300, overlap=100, blend=20,
    align_method="interp", min_coverage=0.8, max_masked_fraction=0.4,
    seeing_input=True, paper_stretch=0.6, paper_q=9.0, precision="auto",
    device="cpu", warm_start=True)
TINY_UNET = dict(adversarial=False, base_channels=4, depth=2, epochs=1, batch_size=4)


def test_every_parameter_is_covered():
    """This test names a value for every __init__ parameter (add one for a new parameter)."""
    names = [name for name, p in inspect.signature(Survey2Survey.__init__).parameters.items()
             if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
    assert sorted(names) == sorted(NON_DEFAULT)
    assert Survey2Survey._param_names() == names


def test_init_stores_parameters_only():
    """__init__ stores its arguments untouched; nothing is checked or built before fit."""
    s2s = Survey2Survey(**NON_DEFAULT, **TINY_UNET)
    assert s2s.get_params() == {**NON_DEFAULT, **TINY_UNET}
    assert not s2s.is_fitted and not hasattr(s2s, "translators_")
    odd = Survey2Survey(mode="bogus", seed=-3)  # accepted here, refused by fit
    assert odd.mode == "bogus"


def test_set_params_and_clone():
    """set_params changes named and translator parameters; get_params clones."""
    s2s = Survey2Survey("aecnn", epochs=3)
    assert s2s.set_params(seed=7, epochs=9) is s2s
    assert s2s.seed == 7 and s2s.translator_params == {"epochs": 9}
    clone = Survey2Survey(**s2s.get_params())
    assert clone.get_params() == s2s.get_params() and clone is not s2s


def test_all_parameters_survive_save_and_load(pairs, tmp_path):
    """Every parameter, translator parameters included, comes back from a saved file."""
    s2s = Survey2Survey(**NON_DEFAULT, **TINY_UNET).fit(pairs[:4], validation=0,
                                                        progress=False)
    again = Survey2Survey.load(s2s.save(tmp_path / "model.s2s"))
    assert again.get_params() == s2s.get_params()
    assert again.is_fitted and len(again.translators_) == 2
    paper = Survey2Survey("aecnn", mode="paper", epochs=1).fit(pairs[:2], validation=0,
                                                               progress=False)
    assert Survey2Survey.load(paper.save(tmp_path / "paper.s2s")).get_params()["mode"] == "paper"


@pytest.mark.parametrize(("params", "match"), [
    (dict(mode="bogus"), "mode must be one of"),
    (dict(seed=-3), "seed must be an integer in \\[0, "),
    (dict(n_ensemble=0), "n_ensemble must be an integer >= 1"),
    (dict(min_coverage=1.5), "min_coverage must be a number in"),
    (dict(align_method="nearest"), "align_method must be one of"),
    (dict(precision="fp8"), "precision must be one of"),
    (dict(tile_size=-1), "tile_size must be an integer >= 1"),
    (dict(overlap=0), "fewer than the translator's receptive-field radius"),
    (dict(overlap=-3), "overlap must be an integer >= 0"),
    (dict(tile_size=16), "tile_size=16 is too small for this translator"),
    (dict(tile_size=64, overlap=64), "overlap must be smaller than tile_size=64"),
    (dict(warm_start="yes"), "warm_start must be True or False"),
    (dict(seeing_input="yes"), "seeing_input must be True or False"),
    (dict(seeing_input=True, mode="paper"), "seeing_input=True adds a channel"),
    (dict(nonsense=1), "does not accept"),
])
def test_fit_refuses_invalid_parameters(pairs, params, match):
    """fit checks every parameter with the one validator (InvalidOptionError, a ValueError)
    before any epoch is trained."""
    epochs = []
    with pytest.raises(InvalidOptionError, match=match):
        Survey2Survey(**params).fit(pairs[:2], validation=0, progress=False,
                                    callbacks=[lambda model, epoch, logs: epochs.append(epoch)])
    assert epochs == []
    assert issubclass(InvalidOptionError, ValueError)
