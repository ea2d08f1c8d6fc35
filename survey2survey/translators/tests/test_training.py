# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Tests of the shared training loop: checks, splits, history, stopping, resuming."""

import numpy as np
import pytest
import torch
from astropy.utils.exceptions import AstropyUserWarning

from survey2survey import Translator, conf
from survey2survey.exceptions import (
    BandMismatchError,
    ImageTooSmallError,
    ShapeMismatchError,
    TrainingDataError,
    TranslatorError,
)
from survey2survey.translators import TrainingHistory
from survey2survey.translators._device import select_device
from survey2survey.translators._persistence import CHECKPOINT_NAME

from .conftest import TINY, toy_pairs


class Interrupt(Exception):
    """Stands in for a killed process."""


def _kill_after(epoch):
    def callback(translator, current, logs):
        if current == epoch:
            raise Interrupt
    return callback


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_tensors().values(),
                                                  b.state_tensors().values(), strict=True))


@pytest.mark.parametrize(("name", "params"), [("aecnn", {"dropout": 0.2}),
                                              ("cyclegan", TINY["cyclegan"])])
def test_resume_equals_uninterrupted(tmp_path, name, params):
    """A run killed after epoch 1 and resumed reaches the uninterrupted run's weights."""
    source, target = toy_pairs(n=8)
    settings = dict(epochs=4, batch_size=4, **params)
    whole = Translator.create(name, **settings)
    whole.fit(source, target, validation=0.25, progress=False)
    killed = Translator.create(name, **settings)
    with pytest.raises(Interrupt):
        killed.fit(source, target, validation=0.25, progress=False, checkpoint_dir=tmp_path,
                   callbacks=[_kill_after(1)])
    assert (tmp_path / CHECKPOINT_NAME).is_file()
    resumed = Translator.create(name, **settings)
    history = resumed.fit(source, target, validation=0.25, progress=False, resume=True,
                          checkpoint_dir=tmp_path)
    assert history.epochs == [0, 1, 2, 3]
    assert history["loss"] == whole.history["loss"]
    assert _same_weights(whole, resumed)


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    """resume=True with an empty directory warns and trains from scratch; no directory fails."""
    source, target = toy_pairs(n=6)
    model = Translator.create("aecnn", epochs=1)
    with pytest.warns(AstropyUserWarning, match="found no checkpoint"):
        history = model.fit(source, target, progress=False, resume=True,
                            checkpoint_dir=tmp_path)
    assert history.epochs == [0]
    with pytest.raises(TranslatorError, match="needs the checkpoint_dir"):
        model.fit(source, target, progress=False, resume=True)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(TranslatorError, match="is not a directory"):
        model.fit(source, target, progress=False, checkpoint_dir=not_a_folder)


def test_resume_on_other_data_is_refused(tmp_path):
    """A checkpoint records a fingerprint of its training data; other data cannot resume it."""
    source, target = toy_pairs(n=6)
    Translator.create("aecnn", epochs=1).fit(source, target, progress=False,
                                             checkpoint_dir=tmp_path)
    with pytest.raises(TranslatorError, match="other data"):
        Translator.create("aecnn", epochs=1).fit(source + 1, target, progress=False, epochs=2,
                                                 checkpoint_dir=tmp_path, resume=True)


def test_best_weights_are_restored():
    """After training, the translator holds the weights of its best epoch, not the last."""
    source, target = toy_pairs(n=8)

    def spoil_last_epoch(translator, epoch, logs):
        if epoch == 2:  # after the epoch was scored: the spoiled weights are never the best
            for tensor in translator.network.parameters():
                tensor.data.zero_()

    model = Translator.create("aecnn", epochs=3, learning_rate=0.0, seed=1)
    initial = {k: v.clone() for k, v in model.state_tensors().items()}
    history = model.fit(source, target, progress=False, callbacks=[spoil_last_epoch])
    assert history.best_epoch == 0 and history.restored_epoch == 0
    assert all(torch.equal(v, initial[k]) for k, v in model.state_tensors().items())
    kept = Translator.create("aecnn", epochs=3, learning_rate=0.0, seed=1, restore_best=False)
    assert kept.fit(source, target, progress=False,
                    callbacks=[spoil_last_epoch]).restored_epoch is None
    assert all(not p.detach().any() for p in kept.network.parameters())


def test_checkpoint_of_other_params_is_refused(tmp_path):
    """A checkpoint written with other parameters cannot be resumed."""
    from survey2survey.exceptions import WeightsFileError

    source, target = toy_pairs(n=6)
    Translator.create("aecnn", epochs=1).fit(source, target, progress=False,
                                             checkpoint_dir=tmp_path)
    with pytest.raises(WeightsFileError, match="was written by translator"):
        Translator.create("aecnn", epochs=2, dropout=0.1).fit(
            source, target, progress=False, resume=True, checkpoint_dir=tmp_path)


def test_same_seed_same_weights():
    """Two CPU runs with the same seed give identical weights and leave torch's RNG alone."""
    source, target = toy_pairs(n=6)
    state = torch.get_rng_state()
    runs = [Translator.create("aecnn", epochs=2, batch_size=2, seed=7) for _ in range(2)]
    for run in runs:
        run.fit(source, target, progress=False)
    assert _same_weights(*runs)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(("source", "target", "error", "match"), [
    (torch.rand(0, 3, 16, 16), torch.rand(0, 3, 16, 16), TrainingDataError, "empty"),
    (torch.full((2, 3, 16, 16), float("nan")), torch.rand(2, 3, 16, 16), TrainingDataError,
     "NaN"),
    (torch.rand(2, 3, 16, 16), torch.rand(2, 1, 16, 16), BandMismatchError, "1 channels"),
    (torch.rand(2, 3, 16, 16), torch.rand(3, 3, 16, 16), TrainingDataError, "trains on pairs"),
    (torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 24), ShapeMismatchError, "align them"),
    (torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4), ImageTooSmallError, "smaller than"),
    (torch.rand(2, 3, 16), torch.rand(2, 3, 16), TrainingDataError, "4-D"),
    (torch.rand(2, 3, 16, 16), None, TrainingDataError, "needs target images"),
])
def test_bad_training_data(source, target, error, match):
    """Empty, NaN, mis-banded, unpaired, misaligned or tiny data raise specific errors."""
    with pytest.raises(error, match=match):
        Translator.create("aecnn", epochs=1).fit(source, target, progress=False)


@pytest.mark.parametrize(("validation", "match"), [(1.0, r"in \[0, 1\)"), (6, "leaves no"),
                                                   ("half", "a fraction, a count"),
                                                   ((1, 2, 3, 4), "pair")])
def test_bad_validation(validation, match):
    """Impossible validation splits are refused."""
    source, target = toy_pairs(n=6)
    with pytest.raises(TrainingDataError, match=match):
        Translator.create("aecnn", epochs=1).fit(source, target, validation=validation,
                                                 progress=False)


def test_explicit_validation_and_no_validation():
    """An explicit validation pair is used; validation=0 monitors the training loss."""
    source, target = toy_pairs(n=6)
    model = Translator.create("aecnn", epochs=1)
    assert "val_loss" in model.fit(source, target, validation=(source[:2], target[:2]),
                                   progress=False)
    history = model.fit(source, target, validation=0, progress=False)
    assert "val_loss" not in history and history.monitor == "loss"


def test_inputs_not_mutated():
    """fit leaves the caller's arrays untouched."""
    source, target = (t.numpy() for t in toy_pairs(n=6))
    copies = source.copy(), target.copy()
    Translator.create("aecnn", epochs=1).fit(source, target, progress=False)
    np.testing.assert_array_equal(source, copies[0])
    np.testing.assert_array_equal(target, copies[1])


def test_early_stopping_and_callbacks():
    """patience stops a run that does not improve; a callback returning True stops too."""
    source, target = toy_pairs(n=6)
    model = Translator.create("aecnn", epochs=20, patience=1, learning_rate=0.0)
    history = model.fit(source, target, progress=False)
    assert history.stopped_early and len(history.epochs) == 2
    seen = []

    def stop_at_two(translator, epoch, logs):
        seen.append((epoch, sorted(logs)))
        return epoch == 1

    history = Translator.create("aecnn", epochs=5).fit(source, target, progress=False,
                                                       callbacks=[stop_at_two])
    assert history.epochs == [0, 1] and seen[0] == (0, ["loss", "val_loss"])
    with pytest.raises(TranslatorError, match="callbacks must be callables"):
        model.fit(source, target, progress=False, callbacks=[3])


def test_progress_bar_runs(capsys, monkeypatch):
    """The tqdm bar can be shown (conf.show_progress, on a terminal) and disabled."""
    from survey2survey.utils import _progress

    monkeypatch.setattr(_progress, "_on_a_terminal", lambda stream: True)
    source, target = toy_pairs(n=4)
    with conf.set_temp("show_progress", True):
        Translator.create("aecnn", epochs=1).fit(source, target, validation=0)
    assert "fit aecnn" in capsys.readouterr().err


def test_history_round_trip():
    """The history serialises to a dict and an astropy Table."""
    history = TrainingHistory(monitor="loss")
    history.append(0, {"loss": 2.0})
    history.append(1, {"loss": 1.0, "extra": 3.0})
    again = TrainingHistory.from_dict(history.to_dict())
    assert again["loss"] == [2.0, 1.0] and np.isnan(again["extra"][0])
    assert again.best_epoch == 1 and len(again.to_table()) == 2


def test_device_selection():
    """'auto' picks an available device; explicit devices are honoured."""
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in {"cuda", "mps", "cpu"}
    with conf.set_temp("default_device", "cpu"):
        assert Translator.create("aecnn").device.type == "cpu"
