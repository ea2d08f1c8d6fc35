# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The `Translator` base class every image-to-image model implements.

A translator maps a batch of normalised multi-band images ``(N, C_in, H, W)``
(float32, values about [0, 1]) of the source survey to ``(N, C_out, H, W)`` in
the look of the target survey. It holds one or more `torch.nn.Module`
networks, knows how to fit them with the shared training loop
(``survey2survey.translators.training``) and how to save itself to one
safetensors file.

Writing a translator (built-in or plug-in) takes three methods:

- ``build_modules()`` returns a dict of the networks, one of them under the
  name given by the class attribute ``inference_module`` (``"network"``);
- ``configure_optimizers()`` returns a dict of optimizers (the default is Adam
  on the inference network);
- ``training_step(source, target, context)`` runs one batch, calls
  ``context.optimize(loss, name)`` and returns a dict of losses including
  ``"loss"`` (the default is a supervised step with `Translator.loss`).
"""

import functools
import inspect
import os
import threading
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import (
    BandMismatchError,
    ImageTooSmallError,
    InvalidDataError,
    TranslatorError,
    WeightsFileError,
)
from ..utils._validation import check_bool, check_choice, check_int, check_number
from ._device import select_device
from ._padding import crop_padding, pad_to_multiple
from ._persistence import (
    FORMAT,
    FORMAT_VERSION,
    read_weights_bytes,
    read_weights_file,
    weights_sha256,
    write_weights_file,
)
from ._training import run_training
from .registry import get_translator

__all__ = ["Translator"]

_PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@contextmanager
def _fp32_layers(modules, device_type):
    """Within the context, ``modules`` compute in fp32 even under autocast."""
    patched = []
    try:
        for module in modules:
            def forward(x, *args, _original=module.forward, **kwargs):
                # one image at a time: fp32 kernels may round differently for another batch
                # size, and the bf16 layers after would amplify that into outputs that
                # depend on the batch; this way they do not
                with torch.autocast(device_type, enabled=False):
                    x = x.float()
                    return torch.cat([_original(x[k:k + 1], *args, **kwargs)
                                      for k in range(len(x))])
            module.forward = forward
            patched.append(module)
        yield
    finally:
        for module in patched:
            del module.forward


@functools.cache
def _cpu_has_fast_bf16():
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), so autocast pays off."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:  # not Linux: stay with fp32
        return False
    return torch.backends.mkldnn.is_available() and (
        "avx512_bf16" in flags or "amx_bf16" in flags)


def _cuda_devices():
    """CUDA devices whose RNG states `torch.manual_seed` changes (all of them), to restore."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


class Translator:
    """
    Base class of the survey-to-survey image translators.

    Create one by name with `Translator.create`, load a saved one with
    `Translator.load`, or instantiate a subclass directly. Subclasses set their
    own attributes, then call ``super().__init__(...)``, which builds the
    networks (``build_modules``) with the translator's seed and moves them to
    its device.

    Parameters
    ----------
    in_channels : int, optional
        Number of input bands.
    out_channels : int or None, optional
        Number of output channels of the network; defaults to ``in_channels``.
    target_channels : int or None, optional
        Channels of the translated images (the targets of ``fit``, the output of
        ``predict``): ``out_channels`` (default) unless an output head maps the
        network's output to fewer, as the flux-conserving head does (two
        transport fields per band). Networks that take translated images as
        input (CycleGAN's backward generator, discriminators) use it.
    linear_output : bool, optional
        End the inference network in a linear layer whose weights start at
        zero (no sigmoid or tanh), as an output head such as
        `~survey2survey.translators.FluxTransportHead` needs: the translator
        then starts as the head's "do nothing". Every translator accepts it
        (a plug-in that cannot build such a network raises
        `~survey2survey.exceptions.TranslatorError`).
    epochs : int, optional
        Epochs trained by `fit` unless it is given ``epochs``.
    batch_size : int, optional
        Training batch size.
    seed : int or None, optional
        Seeds weight initialisation, the validation split, shuffling, dropout
        and every other random choice of training; runs on the CPU with the
        same seed are reproducible. None draws a fresh seed.
    patience : int or None, optional
        Early stopping: stop when the monitored loss (``val_loss`` with a
        validation set, else ``loss``) has not improved for this many epochs.
        None trains all ``epochs``.
    restore_best : bool, optional
        After training, keep the weights of the epoch with the lowest
        monitored loss (default, as Keras' and Lightning's early stopping) rather
        than those of the last epoch.
    crop_size : int or None, optional
        Train on random ``crop_size`` square crops of the training images (the
        same crop of a source and its target), one per image and epoch; fully
        convolutional networks learn as well from crops as from whole cutouts,
        much faster. None trains on whole images.
    augment : bool, optional
        Flip training crops at random along both axes and transpose square ones.
    ema_decay : float or None, optional
        Keep an exponential moving average of the inference network's weights
        (decay per step, e.g. 0.998); validation, model selection and the final
        weights use the average.
    clip_grad_norm : float or None, optional
        Clip the norm of the gradients of each optimizer step to this.
    checkpoint_every : int, optional
        With ``fit(checkpoint_dir=...)``, write a checkpoint every this many
        epochs (and at the end).
    num_workers : int or None, optional
        DataLoader worker processes; None means 0 (batches are slices of
        in-memory tensors, cheaper to take in the main process).
    compile : bool, optional
        Run the networks through `torch.compile`.
    amp : bool, optional
        Train with mixed precision (bf16, or fp16 with gradient scaling) on a GPU.
    channels_last : bool, optional
        Train with channels-last (NHWC) memory, which CPU and GPU convolution
        kernels run faster (about 1.4x for the AECNN on a CPU). Prediction in
        fp32 keeps the default layout, so a translated image is the same bits
        whichever batch it was in.
    inference_batch_size : int, optional
        Batch size used internally by `predict`.
    device : str, `torch.device` or None, optional
        Where the networks live; None uses ``survey2survey.conf.default_device``
        (``'auto'``: cuda, then mps, then cpu). Not part of `params`.

    Attributes
    ----------
    name : str
        The registry name.
    params : dict
        The constructor parameters (without ``device``); ``Translator.create(name,
        **params)`` rebuilds the same (unfitted) translator.
    metadata : dict
        JSON-able metadata stored by `save` and restored by `load`.
    history : `~survey2survey.translators.TrainingHistory` or None
        The history of the last `fit`.
    paired : bool
        Whether `fit` needs paired source/target images (False: unequal
        numbers of unpaired images are accepted, as by CycleGAN).
    min_size : int
        The smallest image side accepted.
    size_multiple : int
        Images are padded internally to a multiple of this.
    receptive_field : int or None
        Width in pixels of the input region one output pixel depends on (None:
        not declared). Tiled inference keeps tile seams at least half of it
        away from every tile border.
    """

    #: registry name, set when the class is registered
    name = None
    #: whether fit needs paired images of equal number
    paired = True
    #: images are padded to a multiple of this before the networks see them
    size_multiple = 1
    #: smallest accepted image side
    min_size = 4
    #: pixels of input one output pixel sees (None: not declared); used to tile large fields
    receptive_field = None
    #: key of the network used at inference in ``build_modules()``'s dict
    inference_module = "network"
    #: whether ``predict(precision='auto')`` may use bf16/fp16 autocast (set False for
    #: networks whose outputs drift more than about 1e-2 in reduced precision)
    inference_autocast = True

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        # record the constructor parameters so that save/load can rebuild the translator
        params = dict(kwargs)
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
            bound.apply_defaults()
            params = {}
            for key, value in list(bound.arguments.items())[1:]:
                kind = inspect.signature(cls.__init__).parameters[key].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    params.update(value)
                elif kind is not inspect.Parameter.VAR_POSITIONAL:
                    params[key] = value
        except TypeError:
            pass  # __init__ raises the informative error
        params.pop("device", None)
        self._params = params
        return self

    def __init__(self, *, in_channels=3, out_channels=None, target_channels=None,
                 linear_output=False, epochs=10,
                 batch_size=16, seed=0, patience=None, restore_best=True, crop_size=None,
                 augment=False, ema_decay=None, clip_grad_norm=None, checkpoint_every=1,
                 num_workers=None, compile=False, amp=True, channels_last=True,
                 inference_batch_size=16, device=None):
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(self.in_channels if out_channels is None else out_channels,
                                      "out_channels", minimum=1)
        self.target_channels = check_int(
            self.out_channels if target_channels is None else target_channels,
            "target_channels", minimum=1)
        self.linear_output = check_bool(linear_output, "linear_output")
        self.crop_size = check_int(crop_size, "crop_size", minimum=max(1, self.min_size),
                                   allow_none=True)
        self.augment = check_bool(augment, "augment")
        self.ema_decay = check_number(ema_decay, "ema_decay", minimum=0, maximum=1,
                                      exclusive_maximum=True, allow_none=True) or None
        self.clip_grad_norm = check_number(clip_grad_norm, "clip_grad_norm", minimum=0,
                                           exclusive_minimum=True, allow_none=True)
        self.head = None
        self.steps_per_epoch = None
        self.epochs = check_int(epochs, "epochs", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.inference_batch_size = check_int(inference_batch_size, "inference_batch_size",
                                              minimum=1)
        if seed is None:  # fresh entropy, leaving the user's global torch RNG untouched
            seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
        self.seed = check_int(seed, "seed", minimum=0, maximum=2**63 - 1)
        self.patience = check_int(patience, "patience", minimum=1, allow_none=True)
        self.restore_best = check_bool(restore_best, "restore_best")
        self.checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        self.num_workers = check_int(num_workers, "num_workers", minimum=0, allow_none=True)
        self.compile = check_bool(compile, "compile")
        self.amp = check_bool(amp, "amp")
        self.channels_last = check_bool(channels_last, "channels_last")
        self.device = select_device(device)
        self.metadata = {}
        self.history = None
        self.is_fitted = False
        self._compiled = {}
        with self.seeded():
            modules = self.build_modules()
        if not isinstance(modules, dict) or self.inference_module not in modules:
            msg = (f"{type(self).__qualname__}.build_modules() must return a dict of modules "
                   f"with the key {self.inference_module!r}, got {modules!r}")
            raise TranslatorError(msg)
        if getattr(_PROBE, "active", False):  # a shape probe on the meta device: keep it there
            self._networks = modules
        else:
            self._networks = {key: module.to(self.device) for key, module in modules.items()}
        for module in self._networks.values():
            for layer in module.modules():
                if isinstance(layer, _SAMPLED_DROPOUT):
                    layer.register_forward_hook(_sampled_dropout)

    # --- construction, registry and persistence ---------------------------------------------

    @classmethod
    def create(cls, name, **params):
        """
        Create the translator registered under ``name``.

        Parameters
        ----------
        name : str
            A name from `~survey2survey.translators.available_translators`
            (``"aecnn"``, ``"cyclegan"``, ``"unet"`` and installed plug-ins).
        **params
            Keyword arguments of that translator's constructor.

        Returns
        -------
        `Translator`

        Raises
        ------
        UnknownTranslatorError
            If no translator of that name is registered; the message lists the
            available ones.

        Examples
        --------
        >>> from survey2survey import Translator
        >>> model = Translator.create("aecnn", in_channels=3)
        >>> model.name, sum(p.numel() for p in model.parameters())
        ('aecnn', 200899)
        """
        translator = get_translator(name)(**params)
        translator.name = name.strip().lower()
        return translator

    def save(self, path, *, metadata=None, overwrite=False):
        """
        Save the translator to ONE safetensors file (weights + JSON configuration).

        Parameters
        ----------
        path : str or path-like
            Output file, written atomically.
        metadata : dict, optional
            JSON-able data stored with the model (normalisation, bands, survey
            names...) and restored as ``.metadata`` by `load`.
        overwrite : bool, optional
            Replace an existing file.

        Returns
        -------
        `pathlib.Path`

        Raises
        ------
        TranslatorError
            If ``metadata`` is not JSON-serialisable.
        survey2survey.exceptions.OutputExistsError
            If ``path`` exists and ``overwrite`` is False (a `FileExistsError`).

        Examples
        --------
        >>> import tempfile, os, torch
        >>> from survey2survey import Translator
        >>> model = Translator.create("aecnn", in_channels=1)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
        >>> _ = model.save(path, metadata={"source": "sdss"})
        >>> again = Translator.load(path)
        >>> again.metadata
        {'source': 'sdss'}
        >>> x = torch.rand(1, 1, 16, 16)
        >>> torch.equal(model.predict(x), again.predict(x))
        True
        """
        from .. import __version__

        overwrite = check_bool(overwrite, "overwrite")
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "params": self.params,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "library_version": __version__,
            "torch_version": torch.__version__,
            "fitted": self.is_fitted,
            "metadata": dict(metadata) if metadata is not None else {},
        }
        return write_weights_file(path, self.state_tensors(), config, overwrite=overwrite)

    @classmethod
    def load(cls, source, *, device=None):
        """
        Load a translator written by `save`; never unpickles.

        Parameters
        ----------
        source : str, path-like or bytes
            The safetensors file, or its content.
        device : str, `torch.device` or None, optional
            Where to put the networks; see the class parameters.

        Returns
        -------
        `Translator`
            The translator, with ``.metadata`` restored.

        Raises
        ------
        WeightsFileError
            If the file is missing, not a safetensors file (a pickle, say), not
            written by survey2survey, tampered with (SHA-256 mismatch), its
            parameters are invalid for the translator, or its tensors do not fit
            the network.
        UnknownTranslatorError
            If the file names a translator that is not installed.
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            what = "the translator data"
            config, tensors = read_weights_bytes(bytes(source), what=what)
        else:
            what = repr(os.fspath(source))
            config, tensors = read_weights_file(source)
        subclass = get_translator(config.get("name"))
        params = config.get("params", {})
        if not isinstance(params, dict):
            msg = f"{what} holds translator parameters that are not a mapping: {params!r}"
            raise WeightsFileError(msg)
        _check_stored_shapes(subclass, params, tensors, what)
        try:
            translator = subclass(**params, device=device)
        except (TypeError, ValueError) as exc:
            msg = f"the parameters stored in {what} do not fit {subclass.__qualname__}: {exc}"
            raise WeightsFileError(msg) from None
        translator.name = config["name"]
        translator.load_state_tensors(tensors, what=what)
        translator.metadata = dict(config.get("metadata", {}))
        translator.is_fitted = bool(config.get("fitted", True))
        if not isinstance(translator, cls):
            msg = f"{what} holds a {type(translator).__qualname__}, not a {cls.__qualname__}"
            raise WeightsFileError(msg)
        return translator

    @property
    def params(self):
        """The constructor parameters (a copy), without ``device``."""
        return dict(self._params)

    # --- networks --------------------------------------------------------------------------

    def build_modules(self):
        """
        Build the networks; subclasses must implement this.

        Returns
        -------
        dict of str to `torch.nn.Module`
            Must hold the inference network under ``self.inference_module``.
        """
        msg = f"{type(self).__qualname__} does not implement build_modules()"
        raise NotImplementedError(msg)

    @property
    def networks(self):
        """The translator's networks by name (a new dict of the live modules)."""
        return dict(self._networks)

    @property
    def network(self):
        """The network used at inference."""
        return self._networks[self.inference_module]

    def parameters(self):
        """Iterate over the weights of the inference network (what `predict` uses)."""
        return self.network.parameters()

    def to(self, device):
        """Move every network to ``device`` (see the class parameters); returns self."""
        self.device = select_device(device)
        for module in self._networks.values():
            module.to(self.device)
        if self.head is not None:
            self.head = self.head.to(self.device)
        self._compiled = {}
        return self

    @contextmanager
    def seeded(self, seed=None):
        """Context in which torch's global RNGs are seeded, then restored on exit."""
        with torch.random.fork_rng(devices=_cuda_devices()):
            torch.manual_seed(self.seed if seed is None else seed)
            yield

    def _runnable(self, module):
        if not self.compile:
            return module
        key = id(module)
        if key not in self._compiled:
            self._compiled[key] = torch.compile(module)
        return self._compiled[key]

    def apply_padded(self, module, batch):
        """
        Run ``module`` on ``batch`` padded to `size_multiple`, cropped back to its size.

        Parameters
        ----------
        module : `torch.nn.Module`
            A network of this translator.
        batch : `torch.Tensor`
            ``(N, C, H, W)`` on the translator's device.
        """
        padded, pads = pad_to_multiple(batch, self.size_multiple)
        return crop_padding(self._runnable(module)(padded), pads)

    def forward(self, batch):
        """
        The inference network applied to a ``(N, C, H, W)`` tensor (with gradients).

        With an output head (`set_head`), the head's output for the network's.
        """
        raw = self.apply_padded(self.network, batch)
        return raw if self.head is None else self.head(raw.contiguous(), batch)

    @property
    def output_channels(self):
        """Channels of `forward`'s output: ``target_channels``."""
        return self.target_channels

    def set_head(self, head):
        """
        Put a fixed output head (or None) between the inference network and the output.

        A head is a `torch.nn.Module` called as ``head(network_output, network_input)``
        with ``in_channels`` (the network's ``out_channels``) and ``out_channels``
        attributes and no trainable parameters, e.g.
        `~survey2survey.translators.FluxTransportHead`. The estimator rebuilds it
        from its saved encoding; it is not part of the translator's file.

        Raises
        ------
        TranslatorError
            If the head does not map ``out_channels`` to ``target_channels``.
        """
        if head is not None:
            channels = (getattr(head, "in_channels", None), getattr(head, "out_channels", None))
            if channels != (self.out_channels, self.target_channels):
                msg = (f"the output head maps {channels[0]} to {channels[1]} channels but the "
                       f"{self.name} network gives {self.out_channels} and its translations "
                       f"have {self.target_channels}")
                raise TranslatorError(msg)
            head = head.to(self.device)
        self.head = head
        return self

    # --- training ------------------------------------------------------------------------------

    def loss(self, prediction, target, weight=None):
        """
        The supervised loss of the default training step: the (weighted) mean squared error.

        ``weight`` (the target's shape) weighs each pixel's squared error, e.g.
        inverse variances, which makes the loss a chi-squared.
        """
        if weight is None:
            return F.mse_loss(prediction, target)
        return (weight * (prediction - target) ** 2).mean()

    def configure_optimizers(self):
        """The optimizers by name; the default is Adam (lr 1e-3) on the inference network."""
        return {"network": torch.optim.Adam(self.network.parameters(), lr=1e-3)}

    def configure_schedulers(self, optimizers, epochs):
        """Learning-rate schedulers by name, stepped once per epoch; none by default."""
        return {}

    def training_step(self, source, target, context):
        """
        Train on one batch and return its losses.

        Parameters
        ----------
        source, target : `torch.Tensor`
            ``(n, C, H, W)`` batches on the device.
        context : `~survey2survey.translators.TrainingContext`
            Gives ``context.autocast()`` and ``context.optimize(loss, name)``.

        Returns
        -------
        dict of str to float or `torch.Tensor`
            The losses, including ``"loss"``.
        """
        with context.autocast():
            prediction = self.forward(source).float()
        loss = self._weighted_loss(prediction, target, context.weight)
        context.optimize(loss, "network")
        return {"loss": loss.detach()}

    def _weighted_loss(self, prediction, target, weight):
        # plug-ins may override loss(prediction, target) without the weight argument
        if weight is None:
            return self.loss(prediction, target)
        return self.loss(prediction, target, weight)

    def validation_step(self, source, target, weight=None):
        """The losses of a validation batch (called without gradients, in eval mode)."""
        return {"loss": self._weighted_loss(self.forward(source).float(), target, weight)}

    def check_training_data(self, source, target):
        """Hook for translator-specific checks of the (validated) training tensors."""

    def extra_state(self):
        """Translator-specific training state (tensors, numbers) saved in checkpoints."""
        return {}

    def load_extra_state(self, state):
        """Restore what `extra_state` returned."""

    def fit(self, source, target=None, *, weight=None, validation=0.1, epochs=None,
            resume=False, checkpoint_dir=None, callbacks=(), progress=None, distributed=False):
        """
        Train the translator with the shared training loop.

        Parameters
        ----------
        source, target : array-like or `torch.Tensor`
            ``(N, C, H, W)`` float images normalised to about [0, 1]; for a
            paired translator ``target[i]`` is the target-survey image of
            ``source[i]``. Unpaired translators (``paired = False``) accept
            different numbers of source and target images. Not modified. With an
            output head, targets have the head's channels.
        weight : array-like or `torch.Tensor`, optional
            Non-negative per-pixel loss weights, the target's shape (e.g.
            inverse variances); the training step finds each batch's in
            ``context.weight``.
        validation : float, int or tuple, optional
            Fraction (``0 <= f < 1``) or number of the images held out for
            validation, or an explicit ``(source_val, target_val)`` pair (or
            ``(source_val, target_val, weight_val)``); 0 disables validation.
        epochs : int, optional
            Epochs to train (in total, when resuming); defaults to ``self.epochs``.
        resume : bool, optional
            Continue from the checkpoint in ``checkpoint_dir`` if there is one
            (a fresh run otherwise), reaching the same weights on the CPU as an
            uninterrupted run.
        checkpoint_dir : str or path-like, optional
            Where ``checkpoint.safetensors`` is written every
            ``checkpoint_every`` epochs (weights, optimizer, scheduler, RNG and
            history; no pickle).
        callbacks : sequence of callable, optional
            Each is called as ``callback(translator, epoch, logs)`` after every
            epoch (``logs``: the epoch's losses); returning True stops training.
        progress : bool, optional
            Show a tqdm bar (one step per batch); defaults to
            ``survey2survey.conf.show_progress``.
        distributed : bool, optional
            Train across the processes of a ``torch.distributed`` job (started
            by ``torchrun``, or with an initialised process group): each global
            batch of ``batch_size`` is split between the processes and their
            gradients are averaged, as by
            ``torch.nn.parallel.DistributedDataParallel`` (NCCL on GPUs, each
            process on its own ``cuda:LOCAL_RANK``; gloo on CPUs). Every process
            passes the same data; only rank 0 writes checkpoints.

        Returns
        -------
        `~survey2survey.translators.TrainingHistory`

        Raises
        ------
        TrainingDataError
            If the data are empty, non-finite, not 4-D, or (paired) of unequal
            numbers; or no target is given.
        BandMismatchError
            If the channel counts differ from the translator's.
        ShapeMismatchError
            If source and target images differ in size.
        ImageTooSmallError
            If the images are smaller than `min_size`.

        Examples
        --------
        >>> import torch
        >>> from survey2survey import Translator
        >>> x = torch.rand(8, 1, 16, 16)
        >>> model = Translator.create("aecnn", in_channels=1, epochs=2, batch_size=4)
        >>> history = model.fit(x, 0.5 * x, validation=0.25, progress=False)
        >>> sorted(history)
        ['loss', 'val_loss']
        >>> len(history["loss"])
        2
        """
        return run_training(self, source, target, weight=weight, validation=validation,
                            epochs=epochs, resume=resume, checkpoint_dir=checkpoint_dir,
                            callbacks=callbacks, progress=progress, distributed=distributed)

    # --- inference -----------------------------------------------------------------------------

    def check_batch(self, batch, *, what="batch", channels=None, error=InvalidDataError):
        """
        Validate a ``(N, C, H, W)`` batch and return it as a float32 CPU tensor (no copy if
        possible; never modified).

        Raises
        ------
        InvalidDataError (or ``error``)
            If the batch is not 4-D, empty or not finite.
        BandMismatchError
            If it has not ``channels`` (default ``in_channels``) channels.
        ImageTooSmallError
            If a side is smaller than `min_size`.
        """
        channels = self.in_channels if channels is None else channels
        if isinstance(batch, torch.Tensor):
            tensor = batch.detach()
        else:
            try:
                tensor = torch.as_tensor(np.asarray(batch))
            except (TypeError, ValueError, RuntimeError) as exc:
                msg = f"{what} cannot be converted to a tensor ({exc})"
                raise error(msg) from None
        if tensor.ndim != 4:
            msg = f"{what} must be a 4-D (N, C, H, W) array, got shape {tuple(tensor.shape)}"
            raise error(msg)
        if tensor.numel() == 0:
            msg = f"{what} is empty (shape {tuple(tensor.shape)})"
            raise error(msg)
        if tensor.shape[1] != channels:
            msg = (f"{what} has {tensor.shape[1]} channels (bands) but the {self.name} "
                   f"translator expects {channels}")
            raise BandMismatchError(msg)
        if min(tensor.shape[-2:]) < self.min_size:
            msg = (f"{what} images are {tensor.shape[-2]}x{tensor.shape[-1]} pixels, smaller "
                   f"than the {self.min_size} pixels the {self.name} translator needs")
            raise ImageTooSmallError(msg)
        if tensor.is_complex():
            msg = f"{what} must be real-valued, got dtype {tensor.dtype}"
            raise error(msg)
        tensor = tensor.to(device="cpu", dtype=torch.float32)
        if not torch.isfinite(tensor).all():
            msg = f"{what} contains NaN or infinite values; fill or mask them first"
            raise error(msg)
        return tensor

    def _autocast_dtype(self, precision):
        check_choice(precision, _PRECISIONS, "precision")
        if precision == "fp32":
            return None
        if precision == "bf16":
            return torch.bfloat16
        if precision == "fp16":
            return torch.float16
        if not self.inference_autocast:
            return None
        if self.device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if self.device.type == "cpu" and _cpu_has_fast_bf16():
            return torch.bfloat16
        return None

    def _input_layers(self):
        """
        The convolutions kept in fp32 under bf16/fp16 autocast: the first of the network.

        The network's input (fluxes in units of the noise, up to thousands for a
        bright galaxy) carries 8 significant bits in bf16: rounding it moved 1"
        aperture fluxes by 1.1e-3 (aecnn), over the 1e-3 budget; computing only
        the first convolution in fp32 brought that to 2.5e-4 at a small cost
        (see :ref:`performance`). Every later layer sees features, not raw
        fluxes, and runs in bf16.
        """
        for module in self.network.modules():
            if isinstance(module, nn.Conv2d):
                return [module]
        return []

    def _run_inference(self, batch, *, precision, batch_size, sampling=False):
        dtype = self._autocast_dtype(precision)
        with _fp32_layers(self._input_layers() if dtype is not None else (),
                          self.device.type):
            return self._run_inference_in(batch, dtype=dtype, precision=precision,
                                          batch_size=batch_size, sampling=sampling)

    def _run_inference_in(self, batch, *, dtype, precision, batch_size, sampling):
        # fp32 keeps contiguous memory: its results do not depend on the batch composition
        channels_last = precision != "fp32"
        network = self.network
        for module in self._networks.values():
            module.eval()
        if sampling:  # dropout layers without a per-call generator: torch's global RNG
            for module in network.modules():
                if (isinstance(module, nn.modules.dropout._DropoutNd)
                        and not isinstance(module, _SAMPLED_DROPOUT)):
                    module.train()
        network.to(memory_format=torch.channels_last if channels_last
                   else torch.contiguous_format)
        batch_size = self.inference_batch_size if batch_size is None else batch_size
        outputs = []
        with torch.inference_mode():
            for start in range(0, batch.shape[0], batch_size):
                chunk = batch[start:start + batch_size].to(self.device)
                if channels_last:
                    chunk = chunk.contiguous(memory_format=torch.channels_last)
                with torch.autocast(self.device.type, dtype=dtype or torch.bfloat16,
                                    enabled=dtype is not None):
                    result = self.forward(chunk)
                outputs.append(result.to(device="cpu", dtype=torch.float32).contiguous())
        network.eval()
        return torch.cat(outputs)

    def predict(self, batch, *, precision="auto", batch_size=None):
        """
        Translate a batch of images (no gradients, eval mode).

        Parameters
        ----------
        batch : array-like or `torch.Tensor`
            ``(N, in_channels, H, W)`` images normalised to about [0, 1], any
            H, W >= `min_size`. Not modified.
        precision : {'auto', 'fp32', 'bf16', 'fp16'}, optional
            'auto' uses the fast path: channels-last memory and bf16 autocast
            on GPUs and on CPUs with native bf16 (AVX512-BF16/AMX), fp16 on
            GPUs without bf16. The first convolution (raw inputs) stays in fp32
            under every precision; outputs then agree with fp32 to about 1e-2
            (relative, per pixel of a normalised image).
            Translators whose class sets ``inference_autocast = False``
            (CycleGAN) stay in fp32 with 'auto'.
            'fp32' computes in plain fp32, NCHW.
        batch_size : int, optional
            Internal batch size; defaults to ``inference_batch_size``.

        Returns
        -------
        `torch.Tensor`
            ``(N, out_channels, H, W)`` float32, on the CPU.

        Raises
        ------
        InvalidDataError
            If the batch is not 4-D, empty or not finite.
        BandMismatchError
            If the channel count is not ``in_channels``.
        ImageTooSmallError
            If a side is smaller than `min_size`.

        Examples
        --------
        >>> import torch
        >>> from survey2survey import Translator
        >>> model = Translator.create("aecnn", in_channels=3)
        >>> model.predict(torch.rand(2, 3, 33, 37)).shape
        torch.Size([2, 3, 33, 37])
        """
        tensor = self.check_batch(batch)
        return self._run_inference(tensor, precision=precision, batch_size=batch_size)

    def predict_samples(self, batch, n_samples, *, precision="fp32", batch_size=None,
                        seed=None):
        """
        Monte-Carlo dropout samples of the translation of ``batch``.

        Dropout stays active (everything else in eval mode), so each sample is
        a draw from the model's approximate predictive distribution; their
        spread estimates the model uncertainty.

        Parameters
        ----------
        batch : array-like or `torch.Tensor`
            As for `predict`.
        n_samples : int
            Number of samples.
        precision : {'fp32', 'auto', 'bf16', 'fp16'}, optional
            As for `predict`.
        batch_size : int, optional
            Internal batch size.
        seed : int, optional
            Seed of this call's own `torch.Generator`, which draws the dropout
            masks (so concurrent calls in other threads do not change them);
            None draws the seed from torch's global RNG.

        Returns
        -------
        `torch.Tensor`
            ``(n_samples, N, out_channels, H, W)`` float32, on the CPU.

        Raises
        ------
        TranslatorError
            If the inference network has no dropout (for AECNN pass ``dropout>0``).

        Examples
        --------
        >>> import torch
        >>> from survey2survey import Translator
        >>> model = Translator.create("aecnn", in_channels=1, dropout=0.2)
        >>> model.predict_samples(torch.rand(2, 1, 16, 16), 4, seed=1).shape
        torch.Size([4, 2, 1, 16, 16])
        """
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        has_dropout = any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0
                          for m in self.network.modules())
        if not has_dropout:
            msg = (f"the {self.name} translator's network has no dropout, so it cannot draw "
                   "Monte-Carlo samples; create it with a dropout rate > 0")
            raise TranslatorError(msg)
        tensor = self.check_batch(batch)
        # the dropout masks come from a generator of this call (thread-local), so seeded
        # samples are the same whatever other threads do meanwhile
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)))
        seed = check_int(seed, "seed", minimum=0, maximum=2**64 - 1)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        previous = getattr(_SAMPLING, "generator", None)
        _SAMPLING.generator = generator
        try:
            with torch.random.fork_rng(devices=_cuda_devices()):
                torch.manual_seed(seed)  # layers without a hook (alpha dropout) use it
                samples = [self._run_inference(tensor, precision=precision,
                                               batch_size=batch_size, sampling=True)
                           for _ in range(n_samples)]
        finally:
            _SAMPLING.generator = previous
        return torch.stack(samples)

    # --- state -----------------------------------------------------------------------------------

    def state_tensors(self):
        """All networks' weights and buffers as one flat dict ``'<module>.<name>' -> tensor``."""
        return {f"{key}.{name}": value for key, module in self._networks.items()
                for name, value in module.state_dict().items()}

    def weights_sha256(self):
        """
        The SHA-256 (hex) of all networks' weights, as `save` records it.

        Examples
        --------
        >>> from survey2survey import Translator
        >>> a = Translator.create("aecnn", in_channels=1, seed=3)
        >>> a.weights_sha256() == Translator.create("aecnn", in_channels=1, seed=3).weights_sha256()
        True
        """
        return weights_sha256(self.state_tensors())

    def load_state_tensors(self, tensors, *, what="state"):
        """
        Load weights written by `state_tensors`.

        Raises
        ------
        WeightsFileError
            If tensors are missing, unexpected or of the wrong shape.
        """
        per_module = {key: {} for key in self._networks}
        unexpected = []
        for name, value in tensors.items():
            key, _, rest = name.partition(".")
            if key in per_module and rest:
                per_module[key][rest] = value
            else:
                unexpected.append(name)
        if unexpected:
            msg = (f"{what} holds tensors this {self.name} translator does not have: "
                   f"{unexpected[:5]}")
            raise WeightsFileError(msg)
        for key, module in self._networks.items():
            try:
                module.load_state_dict(per_module[key], strict=True)
            except RuntimeError as exc:
                msg = f"{what} does not fit the {self.name} translator's {key!r} network: {exc}"
                raise WeightsFileError(msg) from None
        self._compiled = {}

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"<{type(self).__qualname__} {self.name!r}({params}) on {self.device}>"


# --- checks of stored files before a network is built ------------------------------------

_PROBE = threading.local()

# --- Monte-Carlo dropout with a per-call generator ---------------------------------------

#: the dropout layers whose sampling masks come from the calling thread's generator
_SAMPLED_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_SAMPLING = threading.local()


def _sampled_dropout(module, inputs, output):
    """
    Forward hook of dropout layers: in eval mode, while `Translator.predict_samples` runs in
    this thread, drop with a mask drawn from that call's own `torch.Generator`.

    Threads sampling one network at once thus never share a random stream (nor flip the
    layers' training flag under each other), and a seeded call is reproducible.
    """
    generator = getattr(_SAMPLING, "generator", None)
    if generator is None or module.training or module.p <= 0:
        return None
    x = inputs[0]
    keep = 1.0 - module.p
    if keep <= 0:
        return torch.zeros_like(x)
    if isinstance(module, nn.Dropout):
        shape = x.shape
    else:  # channel-wise (Dropout1d/2d/3d): one draw per sample and channel
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
    mask = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(keep,
                                                                          generator=generator)
    return x * mask / keep


def _check_stored_shapes(subclass, params, tensors, what):
    """
    Refuse stored parameters whose network would not have the stored tensors' shapes.

    The network is first built on PyTorch's ``meta`` device (shapes only, no
    memory), so a forged parameter (``in_channels=4e6``) is refused before a
    real network of that size is allocated; non-finite weights are refused too.
    """
    for name, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            msg = (f"{what} holds {bad} non-finite (NaN or infinite) value(s) in tensor "
                   f"{name!r}: the model would output NaN; refit it or use another file")
            raise WeightsFileError(msg)
    _PROBE.active = True
    try:
        with torch.device("meta"):
            probe = subclass(**params, device="cpu")
    except (TypeError, ValueError) as exc:
        msg = f"the parameters stored in {what} do not fit {subclass.__qualname__}: {exc}"
        raise WeightsFileError(msg) from None
    except Exception:  # noqa: BLE001 - a network that cannot be probed is checked after building
        return
    finally:
        _PROBE.active = False
    expected = {f"{key}.{name}": tuple(value.shape)
                for key, module in probe._networks.items()
                for name, value in module.state_dict().items()}
    stored = {name: tuple(value.shape) for name, value in tensors.items()}
    wrong = sorted(name for name in expected.keys() & stored.keys()
                   if expected[name] != stored[name])
    if wrong:
        name = wrong[0]
        msg = (f"{what} does not fit the network its stored parameters describe: tensor "
               f"{name!r} would have shape {list(expected[name])}, the file holds "
               f"{list(stored[name])} ({len(wrong)} such tensor(s)); the file was edited or "
               "is corrupt, and no network was built")
        raise WeightsFileError(msg)

