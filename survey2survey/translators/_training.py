# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one training loop shared by every translator.

`run_training` (called by ``Translator.fit``) owns everything that is not
model-specific: input checks, device choice (cuda > mps > cpu), mixed precision
on GPUs, the DataLoader, per-pixel loss weights, random crops with flips and
transposes, an exponential moving average of the weights, gradient clipping,
per-step or per-epoch schedulers, seeding, the validation split, per-epoch
history, early stopping, the tqdm bar, callbacks, checkpoints and resuming. A
translator contributes only its networks, optimizers, schedulers and
``training_step`` / ``validation_step``, which receive a `TrainingContext`.
"""

import hashlib
import math
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
from astropy.utils.exceptions import AstropyUserWarning
from torch.utils.data import DataLoader, Dataset

from ..exceptions import ShapeMismatchError, TrainingDataError, TranslatorError
from ..utils._progress import progress_bar
from ..utils._validation import check_bool, check_int
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


def _check_data(translator, source, target, weight=None):
    """Checked tensors; the weights, if any, ride along as extra target channels."""
    if target is None:
        msg = f"the {translator.name} translator needs target images to fit (target=None)"
        raise TrainingDataError(msg)
    if translator.head is None and translator.target_channels != translator.out_channels:
        msg = (f"the {translator.name} translator's network gives {translator.out_channels} "
               f"channels for {translator.target_channels}-channel targets: it needs an "
               "output head (set_head) to be fitted")
        raise TranslatorError(msg)
    source = translator.check_batch(source, what="source", error=TrainingDataError)
    target = translator.check_batch(target, what="target", channels=translator.output_channels,
                                    error=TrainingDataError)
    if source.shape[-2:] != target.shape[-2:]:
        msg = (f"source images are {tuple(source.shape[-2:])} and target images "
               f"{tuple(target.shape[-2:])}; align them onto one grid first")
        raise ShapeMismatchError(msg)
    if translator.paired and len(source) != len(target):
        msg = (f"the {translator.name} translator trains on pairs, but got {len(source)} "
               f"source and {len(target)} target images")
        raise TrainingDataError(msg)
    if weight is not None:
        weight = translator.check_batch(weight, what="weight",
                                        channels=translator.output_channels,
                                        error=TrainingDataError)
        if weight.shape != target.shape or bool((weight < 0).any()):
            msg = (f"weight must be a non-negative array of the target's shape "
                   f"{tuple(target.shape)}, got shape {tuple(weight.shape)}")
            raise TrainingDataError(msg)
        target = torch.cat([target, weight], dim=1)
    return source, target


def _unpack(target, channels):
    """The target and its weights (None) from the tensor `_check_data` made."""
    if target.shape[1] == channels:
        return target, None
    return target[:, :channels], target[:, channels:]


def _crop_and_flip(source, target, size, augment, generator):
    """Random ``size`` crops (the same for a pair), flipped and transposed with ``augment``."""
    n, _, height, width = source.shape
    if size is not None and (size < height or size < width):
        size_y, size_x = min(size, height), min(size, width)
        ys = torch.randint(0, height - size_y + 1, (n,), generator=generator).tolist()
        xs = torch.randint(0, width - size_x + 1, (n,), generator=generator).tolist()
        source = torch.stack([source[k, :, y:y + size_y, x:x + size_x]
                              for k, (y, x) in enumerate(zip(ys, xs, strict=True))])
        target = torch.stack([target[k, :, y:y + size_y, x:x + size_x]
                              for k, (y, x) in enumerate(zip(ys, xs, strict=True))])
    if augment:
        flips = torch.randint(0, 2, (n, 3), generator=generator).tolist()
        square = source.shape[-1] == source.shape[-2]
        sources, targets = [], []
        for k, (flip_y, flip_x, transpose) in enumerate(flips):
            dims = [d for d, flip in ((-2, flip_y), (-1, flip_x)) if flip]
            a, b = source[k], target[k]
            if dims:
                a, b = a.flip(dims), b.flip(dims)
            if transpose and square:
                a, b = a.transpose(-1, -2), b.transpose(-1, -2)
            sources.append(a)
            targets.append(b)
        source, target = torch.stack(sources), torch.stack(targets)
    return source.contiguous(), target.contiguous()


class _WeightAverage:
    """
    An exponential moving average of a network's floating-point state.

    The decay is ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the
    average follows the first steps closely before settling.
    """

    def __init__(self, module, decay):
        self.decay = float(decay)
        self.count = 0
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()
                       if v.is_floating_point()}

    @torch.no_grad()
    def update(self, module):
        d = min(self.decay, (1 + self.count) / (10 + self.count))
        for key, value in module.state_dict().items():
            if key in self.shadow:
                self.shadow[key].mul_(d).add_(value.detach(), alpha=1 - d)
        self.count += 1

    @contextmanager
    def swapped_in(self, module):
        """Context in which ``module`` holds the averaged state (restored on exit)."""
        live = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict({**live, **self.shadow})
        try:
            yield
        finally:
            module.load_state_dict(live)

    def state(self):
        return {"count": self.count, "shadow": self.shadow}

    def load(self, state):
        self.count = int(state["count"])
        for key, value in state["shadow"].items():
            self.shadow[key] = value.to(self.shadow[key])


def _schedulers(configured):
    """``({name: scheduler}, {name: 'step' or 'epoch'})`` from ``configure_schedulers``."""
    schedulers, intervals = {}, {}
    for key, value in configured.items():
        if isinstance(value, dict):
            interval = value.get("interval", "epoch")
            if interval not in ("step", "epoch"):
                msg = f"scheduler {key!r}: interval must be 'step' or 'epoch', got {interval!r}"
                raise TranslatorError(msg)
            schedulers[key], intervals[key] = value["scheduler"], interval
        else:
            schedulers[key], intervals[key] = value, "epoch"
    return schedulers, intervals


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
        if len(validation) not in (2, 3):
            msg = ("validation must be a (source, target) pair or a (source, target, weight) "
                   f"triple, got {len(validation)} items")
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
            target, weight = _unpack(target.to(device), translator.output_channels)
            kwargs = {} if weight is None else {"weight": weight}
            logs = translator.validation_step(source.to(device), target, **kwargs)
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


#: an epoch's training loss this many times the first batch's means the training diverged
DIVERGENCE_FACTOR = 1e4


def _divergence(logs, reference):
    """What says an epoch's losses diverged (non-finite, or exploded), or None."""
    bad = {k: v for k, v in logs.items() if not math.isfinite(v)}
    if bad:
        return f"non-finite loss(es) {bad}"
    loss = logs["loss"]
    if reference is not None and reference > 0 and abs(loss) > DIVERGENCE_FACTOR * reference:
        return (f"the training loss exploded to {loss:.4g}, {abs(loss) / reference:.3g} times "
                f"the first batch's {reference:.4g} (more than {DIVERGENCE_FACTOR:g}x)")
    return None


def _diverged(translator, optimizers, epoch, problem, best_weights, history):
    """Restore the best weights seen (if any), then raise a `TranslatorError` naming the rate."""
    rates = sorted({float(group["lr"]) for optimizer in optimizers.values()
                    for group in optimizer.param_groups})
    given = translator.params.get("learning_rate")
    rate = (f"learning_rate={given!r}" if given is not None
            else f"learning rate(s) {', '.join(f'{r:g}' for r in rates)}")
    if best_weights:
        translator.load_state_tensors(best_weights, what="the best epoch's weights")
        history.restored_epoch = history.best_epoch
        kept = (f"the translator keeps the weights of its best epoch ({history.best_epoch}, "
                f"{history.monitor} {history.best_value:.4g})")
    else:
        kept = "no epoch finished before it diverged, so there are no weights worth keeping"
    translator.history = history
    msg = (f"training diverged at epoch {epoch} with {rate}: {problem}; lower the learning "
           f"rate (by 10x, say) or the batch size and fit again; {kept}")
    raise TranslatorError(msg)


def _clone_weights(translator):
    return {key: value.detach().clone() for key, value in translator.state_tensors().items()}


def run_training(translator, source, target=None, *, weight=None, validation=0.1, epochs=None,
                 resume=False, checkpoint_dir=None, callbacks=(), progress=None,
                 distributed=False):
    """
    Train ``translator``; the implementation of ``Translator.fit`` (see there).

    Returns
    -------
    `~survey2survey.translators.TrainingHistory`
    """
    source, target = _check_data(translator, source, target, weight)
    translator.check_training_data(source, _unpack(target, translator.output_channels)[0])
    epochs = translator.epochs if epochs is None else check_int(epochs, "epochs", minimum=1)
    resume = check_bool(resume, "resume")
    progress = check_bool(progress, "progress", allow_none=True)
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
    memory = torch.channels_last if translator.channels_last else torch.contiguous_format
    for module in translator.networks.values():
        module.to(device=device, memory_format=memory)
    if translator.head is not None:
        translator.head = translator.head.to(device)
    # the optimizer steps of one epoch, for per-step schedules (before configure_schedulers)
    translator.steps_per_epoch = math.ceil(len(source) / translator.batch_size)
    optimizers = translator.configure_optimizers()
    schedulers, intervals = _schedulers(translator.configure_schedulers(optimizers, epochs))
    context = TrainingContext(device=device, optimizers=optimizers, amp_dtype=amp_dtype,
                              clip_grad_norm=translator.clip_grad_norm)
    average = (_WeightAverage(translator.network, translator.ema_decay)
               if translator.ema_decay else None)
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
            if average is not None and state.get("average"):
                average.load(state["average"])

        # one step per batch (rate and time left from the start); no device sync per step
        n_batches = len(dataset)
        bar = progress_bar(total=epochs * n_batches, initial=start * n_batches,
                           progress=progress if main else False, desc=f"fit {translator.name}",
                           unit="batch")
        reference = None
        for epoch in range(start, epochs):
            context.epoch = epoch
            for module in translator.networks.values():
                module.train()
            dataset.source_index, dataset.target_index = _epoch_indices(
                len(source), len(target), generator)
            sums, counts = {}, {}
            for batch_source, batch_target in loader:
                batch_source, batch_target = _crop_and_flip(
                    batch_source, batch_target, translator.crop_size, translator.augment,
                    generator)
                batch_source = batch_source.to(device, non_blocking=True).contiguous(
                    memory_format=memory)
                batch_target, context.weight = _unpack(
                    batch_target.to(device, non_blocking=True), translator.output_channels)
                logs = translator.training_step(batch_source, batch_target, context)
                if "loss" not in logs:
                    msg = f"{type(translator).__qualname__}.training_step must return a 'loss'"
                    raise TranslatorError(msg)
                if reference is None:  # the first batch's loss: divergence is measured from it
                    first = float(logs["loss"])
                    reference = abs(first) if math.isfinite(first) else None
                if average is not None:
                    average.update(translator.network)
                for key, scheduler in schedulers.items():
                    if intervals[key] == "step":
                        scheduler.step()
                _accumulate(sums, counts, logs, len(batch_source))
                bar.update()
            context.weight = None
            if session is not None:
                sums, counts = session.reduce_logs(sums, counts)
            logs = _mean_logs(sums, counts)
            for key, scheduler in schedulers.items():
                if intervals[key] == "epoch":
                    scheduler.step()
            stop = False
            # validation, model selection and callbacks see the averaged weights
            with (average.swapped_in(translator.network) if average is not None
                  else nullcontext()):
                if val_source is not None:
                    logs.update(_validate(translator, val_source, val_target, device))
                history.append(epoch, logs)
                bar.set_postfix({"epoch": f"{epoch + 1}/{epochs}",
                                 **{k: f"{v:.4g}" for k, v in logs.items()
                                    if k.endswith("loss")}})
                problem = _divergence(logs, reference)
                if problem is not None:
                    bar.close()
                    _diverged(translator, optimizers, epoch, problem, best_weights, history)
                monitored = logs[history.monitor]
                if monitored < best:
                    best, waited = monitored, 0
                    # kept also without restore_best: a later divergence falls back on them
                    best_weights = _clone_weights(translator)
                else:
                    waited += 1
                    stop = translator.patience is not None and waited >= translator.patience
                for callback in callbacks:
                    if callback(translator, epoch, dict(logs)) is True:
                        stop = True
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
                    "average": average.state() if average is not None else {},
                }
                save_checkpoint(checkpoint, translator, state)
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
    elif average is not None:  # the averaged weights are the result
        state = translator.network.state_dict()
        translator.network.load_state_dict({**state, **average.shadow})
    for module in translator.networks.values():
        module.eval()
    translator.history = history
    translator.is_fitted = True
    return history
