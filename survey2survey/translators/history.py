# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The per-epoch record of a training run returned by ``Translator.fit``."""

from collections.abc import Mapping

__all__ = ["TrainingHistory"]


class TrainingHistory(Mapping):
    """
    Per-epoch losses of a training run, as a mapping of name to list of floats.

    Training losses are keyed by their name (``"loss"`` is the one every
    translator reports; GANs add components such as ``"loss_cycle"``), the
    validation losses by the same name prefixed with ``"val_"``. Every list has
    one value per epoch in ``epochs``.

    Attributes
    ----------
    epochs : list of int
        The (0-based) epochs trained, resumed ones included.
    stopped_early : bool
        Whether early stopping or a callback ended the run before ``epochs``.
    best_epoch : int or None
        The epoch with the lowest monitored loss.
    restored_epoch : int or None
        The epoch whose weights the translator holds after ``fit`` when that is
        not the last one (``restore_best=True`` restores the best epoch's weights,
        as Keras' and Lightning's early stopping do); None when the last epoch's
        weights are kept.
    monitor : str
        The name of the monitored loss (``"val_loss"`` with a validation set).

    Examples
    --------
    >>> from survey2survey.translators import TrainingHistory
    >>> history = TrainingHistory()
    >>> history.append(0, {"loss": 0.5, "val_loss": 0.6})
    >>> history.append(1, {"loss": 0.25, "val_loss": 0.4})
    >>> history["loss"]
    [0.5, 0.25]
    >>> history.best_epoch
    1
    >>> print(history.to_table())
    epoch loss val_loss
    ----- ---- --------
        0  0.5      0.6
        1 0.25      0.4
    """

    def __init__(self, *, monitor="val_loss"):
        self.epochs = []
        self._values = {}
        self.stopped_early = False
        self.monitor = monitor
        self.best_epoch = None
        self.best_value = None
        self.restored_epoch = None

    def append(self, epoch, logs):
        """Record the losses ``logs`` (a mapping of name to float) of ``epoch``."""
        n_before = len(self.epochs)
        self.epochs.append(int(epoch))
        for key, value in logs.items():
            column = self._values.setdefault(key, [float("nan")] * n_before)
            column.append(float(value))
        for column in self._values.values():
            if len(column) < len(self.epochs):
                column.append(float("nan"))
        value = logs.get(self.monitor, logs.get("loss"))
        if value is not None and (self.best_value is None or value < self.best_value):
            self.best_value = float(value)
            self.best_epoch = int(epoch)

    def __getitem__(self, key):
        return list(self._values[key])

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def to_table(self):
        """The history as an `~astropy.table.Table`, one row per epoch."""
        from astropy.table import Table

        table = Table()
        table["epoch"] = list(self.epochs)
        for key, values in self._values.items():
            table[key] = values
        return table

    def to_dict(self):
        """A JSON-able dict from which `from_dict` rebuilds the history."""
        return {"epochs": list(self.epochs),
                "values": {k: list(v) for k, v in self._values.items()},
                "stopped_early": self.stopped_early, "monitor": self.monitor,
                "best_epoch": self.best_epoch, "best_value": self.best_value,
                "restored_epoch": self.restored_epoch}

    @classmethod
    def from_dict(cls, state):
        """Rebuild a history written by `to_dict`."""
        history = cls(monitor=state.get("monitor", "val_loss"))
        history.epochs = [int(e) for e in state.get("epochs", [])]
        history._values = {k: [float(x) for x in v] for k, v in state.get("values", {}).items()}
        history.stopped_early = bool(state.get("stopped_early", False))
        history.best_epoch = state.get("best_epoch")
        history.best_value = state.get("best_value")
        history.restored_epoch = state.get("restored_epoch")
        return history

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self._values.items() if v}
        return f"<TrainingHistory: {len(self.epochs)} epochs, last {last}>"
