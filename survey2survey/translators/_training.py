# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one training loop shared by every translator.

`run_training` (called by ``Translator.fit``) owns everything that is not
model-specific: input checks, device choice (cuda > mps > cpu), mixed precision
on GPUs, the DataLoader, seeding, the validation split, per-epoch history,
early stopping, the tqdm bar, callbacks, checkpoints and resuming. A
translator contributes only its networks, optimizers, schedulers and
``training_step`` / ``validation_step``, which receive a `TrainingContext`.
"""

import hashlib
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from astropy.utils.exceptions import AstropyUserWarning
from torch.utils.data import DataLoader, Dataset

from ..exceptions import ShapeMismatchError, TrainingDataError, TranslatorError
from ..utils._progress import progress_bar
from ..utils._validation import check_int
from ._distributed import start_session
from ._persistence import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .context import TrainingContext
from .history import TrainingHistory

__all__ = ["run_training"]


class _Batches(Dataset):
    """Whole batches of (source, target) drawn by index arrays set for each epoch."""

    def __init__(self, source, target, batch_size):
        self.source = source
        self.target = target
        self.batch_size = batch_size
        self.source_index = self.target_index = torch.arange(len(source))
        self.shard = None  # distributed training: this process's share of a batch's indices

    def __len__(self):
        return math.ceil(len(self.source_index) / self.batch_size)

    def __getitem__(self, item):
        part = slice(item * self.batch_size, (item + 1) * self.batch_size)
        source_index, target_index = self.source_index[part], self.target_index[part]
        if self.shard is not None:
            source_index, target_index = self.shard(source_index), self.shard(target_index)
        return self.source[source_index], self.target[target_index]


def _check_data(translator, source, target):
    if target is None:
        msg = f"the {translator.name} translator needs target images to fit (target=None)"
        raise TrainingDataError(msg)
    source = translator.check_batch(source, what="source", error=TrainingDataError)
    target = translator.check_batch(target, what="target", channels=translator.out_channels,
                                    error=TrainingDataError)
    if source.shape[-2:] != target.shape[-2:]:
        msg = (f"source images are {tuple(source.shape[-2:])} and target images "
               f"{tuple(target.shape[-2:])}; align them onto one grid first")
        raise ShapeMismatchError(msg)
    if translator.paired and len(source) != len(target):
        msg = (f"the {translator.name} translator trains on pairs, but got {len(source)} "
               f"source and {len(target)} target images")
        raise TrainingDataError(msg)
    return source, target


def _n_validation(validation, n):
    if isinstance(validation, bool) or not isinstance(validation, (int, float, np.number)):
        msg = ("validation must be a fraction, a count or a (source, target) pair, "
               f"got {validation!r}")
        raise TrainingDataError(msg)
    if isinstance(validation, (float, np.floating)):
        if not 0 <= validation < 1:
            msg = f"validation fraction must be in [0, 1), got {validation!r}"
            raise TrainingDataError(msg)
        count = int(round(validation * n))
        if validation > 0:
            count = max(count, 1)
    else:
        count = int(validation)
    if count < 0 or count >= n:
        msg = f"validation={validation!r} leaves no training images out of {n}"
        raise TrainingDataError(msg)
    return count


def _split(translator, source, target, validation, generator):
    if isinstance(validation, (tuple, list)):
        if len(validation) != 2:
            msg = f"validation must be a (source, target) pair, got {len(validation)} items"
            raise TrainingDataError(msg)
        val_source, val_target = _check_data(translator, *validation)
        return source, target, val_source, val_target
    aligned = len(source) == len(target)
    count_source = _n_validation(validation, len(source))
    order_source = torch.randperm(len(source), generator=generator)
    if aligned:
        count_target, order_target = count_source, order_source
    else:
        count_target = _n_validation(validation, len(target))
        order_target = torch.randperm(len(target), generator=generator)
    if count_source == 0:
        return source, target, None, None
    if count_target == 0:
        msg = f"validation={validation!r} selects no target images out of {len(target)}"
        raise TrainingDataError(msg)
    return (source[order_source[count_source:]], target[order_target[count_target:]],
            source[order_source[:count_source]], target[order_target[:count_target]])


def _epoch_indices(n_source, n_target, generator):
    """Shuffled index arrays; pairs stay together when the numbers agree."""
    if n_source == n_target:
        order = torch.randperm(n_source, generator=generator)
        return order, order
    length = max(n_source, n_target)

    def tiled(n):
        reps = math.ceil(length / n)
        return torch.cat([torch.randperm(n, generator=generator) for _ in range(reps)])[:length]

    return tiled(n_source), tiled(n_target)


def _mean_logs(sums, counts):
    # the one host synchronisation of the epoch's logs
    return {key: float(sums[key]) / counts[key] for key in sums}


def _accumulate(sums, counts, logs, n):
    # tensors stay on their device: float() here would stall a GPU on every batch
    for key, value in logs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().float().mean() * n
        else:
            value = float(value) * n
        sums[key] = sums.get(key, 0.0) + value
        counts[key] = counts.get(key, 0) + n


def _validate(translator, val_source, val_target, device):
    for module in translator.networks.values():
        module.eval()
    sums, counts = {}, {}
    size = translator.batch_size
    with torch.no_grad():
        if len(val_source) == len(val_target):
            chunks = [(val_source[i:i + size], val_target[i:i + size])
                      for i in range(0, len(val_source), size)]
        else:
            n = max(len(val_source), len(val_target))
            chunks = [(val_source[torch.arange(i, min(i + size, n)) % len(val_source)],
                       val_target[torch.arange(i, min(i + size, n)) % len(val_target)])
                      for i in range(0, n, size)]
        for source, target in chunks:
            logs = translator.validation_step(source.to(device), target.to(device))
            _accumulate(sums, counts, logs, len(source))
    return {f"val_{key}": value for key, value in _mean_logs(sums, counts).items()}


def _rng_state(generator, device):
    state = {"torch": torch.get_rng_state(), "data": generator.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state, generator, device):
    torch.set_rng_state(state["torch"])
    generator.set_state(state["data"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _data_fingerprint(*tensors):
    """SHA-256 of the training tensors, so that a resumed run refuses other data."""
    digest = hashlib.sha256()
    for tensor in tensors:
        if tensor is None:
            continue
        tensor = tensor.detach().to("cpu", torch.float32).contiguous()
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _checkpoint_path(checkpoint_dir, resume):
    if checkpoint_dir is None:
        if resume:
            msg = "fit(resume=True) needs the checkpoint_dir of the run to resume"
            raise TranslatorError(msg)
        return None
    directory = Path(checkpoint_dir)
    if directory.exists() and not directory.is_dir():
        msg = f"checkpoint_dir {str(directory)!r} exists and is not a directory"
        raise TranslatorError(msg)
    checkpoint = directory / CHECKPOINT_NAME
    if resume and not checkpoint.is_file():
        msg = (f"fit(resume=True) found no checkpoint in {str(directory)!r}; "
               "training starts from scratch")
        warnings.warn(msg, AstropyUserWarning, stacklevel=4)
    return checkpoint


def _clone_weights(translator):
    return {key: value.detach().clone() for key, value in translator.state_tensors().items()}


def run_training(translator, source, target=None, *, validation=0.1, epochs=None, resume=False,
                 checkpoint_dir=None, callbacks=(), progress=None, distributed=False):
    """
    Train ``translator``; the implementation of ``Translator.fit`` (see there).

    Returns
    -------
    `~survey2survey.translators.TrainingHistory`
    """
    source, target = _check_data(translator, source, target)
    translator.check_training_data(source, target)
    epochs = translator.epochs if epochs is None else check_int(epochs, "epochs", minimum=1)
    callbacks = list(callbacks or ())
    for callback in callbacks:
        if not callable(callback):
            msg = f"callbacks must be callables (translator, epoch, logs), got {callback!r}"
            raise TranslatorError(msg)
    checkpoint = _checkpoint_path(checkpoint_dir, resume)

    # distributed: each process trains on its share of every batch (translators._distributed)
    session, translator.device = start_session(distributed, translator.device)
    main = session is None or session.is_main
    device = translator.device
    generator = torch.Generator().manual_seed(translator.seed)
    fingerprint = _data_fingerprint(source, target) if checkpoint is not None else None
    source, target, val_source, val_target = _split(translator, source, target, validation,
                                                    generator)
    amp_dtype = None
    if device.type == "cuda" and translator.amp:
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    for module in translator.networks.values():
        module.to(device=device, memory_format=torch.contiguous_format)
    optimizers = translator.configure_optimizers()
    schedulers = translator.configure_schedulers(optimizers, epochs)
    context = TrainingContext(device=device, optimizers=optimizers, amp_dtype=amp_dtype)
    if session is not None:
        session.broadcast(translator.networks.values())
        context.gradient_hook = session.average_gradients
    history = TrainingHistory(monitor="val_loss" if val_source is not None else "loss")
    start, best, waited, best_weights = 0, math.inf, 0, None

    dataset = _Batches(source, target, translator.batch_size)
    # batches are slices of in-memory tensors: worker processes (re-spawned every epoch,
    # since each epoch reshuffles the dataset's indices) cost more than they save
    workers = 0 if translator.num_workers is None else translator.num_workers
    loader = DataLoader(dataset, batch_size=None, shuffle=False, num_workers=workers,
                        pin_memory=device.type == "cuda")
    if session is not None:
        dataset.shard = session.shard

    cuda_ids = []
    if device.type == "cuda":
        cuda_ids = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda_ids):
        torch.manual_seed(translator.seed)
        if resume and checkpoint.is_file():
            state = load_checkpoint(checkpoint, translator)
            if state.get("data") not in (None, fingerprint):
                msg = (f"the checkpoint in {str(checkpoint.parent)!r} was written while "
                       "training on other data; resume only with the same training set "
                       "(or start a new run in another checkpoint_dir)")
                raise TranslatorError(msg)
            for key, optimizer in optimizers.items():
                optimizer.load_state_dict(state["optimizers"][key])
            for key, scheduler in schedulers.items():
                scheduler.load_state_dict(state["schedulers"][key])
            if context.scaler is not None and state.get("scaler"):
                context.scaler.load_state_dict(state["scaler"])
            history = TrainingHistory.from_dict(state["history"])
            translator.load_extra_state(state.get("extra", {}))
            _set_rng_state(state["rng"], generator, device)
            start, best, waited = state["epoch"] + 1, state["best"], state["waited"]
            best_weights = state.get("best_weights") or None

        # one step per batch (rate and time left from the start); no device sync per step
        n_batches = len(dataset)
        bar = progress_bar(total=epochs * n_batches, initial=start * n_batches,
                           progress=progress if main else False, desc=f"fit {translator.name}",
                           unit="batch")
        for epoch in range(start, epochs):
            context.epoch = epoch
            for module in translator.networks.values():
                module.train()
            dataset.source_index, dataset.target_index = _epoch_indices(
                len(source), len(target), generator)
            sums, counts = {}, {}
            for batch_source, batch_target in loader:
                batch_source = batch_source.to(device, non_blocking=True)
                batch_target = batch_target.to(device, non_blocking=True)
                logs = translator.training_step(batch_source, batch_target, context)
                if "loss" not in logs:
                    msg = f"{type(translator).__qualname__}.training_step must return a 'loss'"
                    raise TranslatorError(msg)
                _accumulate(sums, counts, logs, len(batch_source))
                bar.update()
            if session is not None:
                sums, counts = session.reduce_logs(sums, counts)
            logs = _mean_logs(sums, counts)
            if val_source is not None:
                logs.update(_validate(translator, val_source, val_target, device))
            for scheduler in schedulers.values():
                scheduler.step()
            history.append(epoch, logs)
            bar.set_postfix({"epoch": f"{epoch + 1}/{epochs}",
                             **{k: f"{v:.4g}" for k, v in logs.items() if k.endswith("loss")}})
            if not all(math.isfinite(v) for v in logs.values()):
                msg = f"training diverged at epoch {epoch}: losses {logs}"
                raise TranslatorError(msg)

            monitored = logs[history.monitor]
            stop = False
            if monitored < best:
                best, waited = monitored, 0
                if translator.restore_best:
                    best_weights = _clone_weights(translator)
            else:
                waited += 1
                stop = translator.patience is not None and waited >= translator.patience
            last = stop or epoch + 1 == epochs
            if main and checkpoint is not None and (
                    (epoch + 1) % translator.checkpoint_every == 0 or last):
                state = {
                    "epoch": epoch, "best": best, "waited": waited, "data": fingerprint,
                    "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "schedulers": {k: s.state_dict() for k, s in schedulers.items()},
                    "scaler": context.scaler.state_dict() if context.scaler is not None else {},
                    "history": history.to_dict(), "rng": _rng_state(generator, device),
                    "extra": translator.extra_state(),
                    "best_weights": best_weights or {},
                }
                save_checkpoint(checkpoint, translator, state)
            for callback in callbacks:
                if callback(translator, epoch, dict(logs)) is True:
                    stop = True
            if session is not None:
                stop = session.any(stop)
            if stop:
                history.stopped_early = epoch + 1 < epochs
                break
        bar.close()
    if session is not None:
        session.barrier()  # the last checkpoint is written before any rank moves on

    if translator.restore_best and best_weights and history.best_epoch != history.epochs[-1]:
        translator.load_state_tensors(best_weights, what="the best epoch's weights")
        history.restored_epoch = history.best_epoch
    for module in translator.networks.values():
        module.eval()
    translator.history = history
    translator.is_fitted = True
    return history
