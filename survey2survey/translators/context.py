# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""What the shared training loop hands to a translator's ``training_step``."""

from contextlib import nullcontext

import torch

__all__ = ["TrainingContext"]


class TrainingContext:
    """
    What the training loop hands to ``Translator.training_step``.

    Attributes
    ----------
    device : `torch.device`
        Where the batches are.
    optimizers : dict of str to `torch.optim.Optimizer`
        From ``configure_optimizers``.
    epoch : int
        The current (0-based) epoch.
    amp_dtype : `torch.dtype` or None
        The autocast dtype on GPUs, None when training in fp32.
    gradient_hook : callable or None
        Called with the list of optimizers between the backward pass and their
        step (distributed training averages the gradients across processes there).
    weight : `torch.Tensor` or None
        The per-pixel loss weights of the current batch (the target's shape), or
        None when ``fit`` was given none; pass them to `Translator.loss`.
    clip_grad_norm : float or None
        ``optimize`` clips the gradient norm of the stepped parameters to this.
    """

    def __init__(self, *, device, optimizers, amp_dtype=None, clip_grad_norm=None):
        self.device = device
        self.optimizers = optimizers
        self.amp_dtype = amp_dtype
        self.epoch = 0
        self.gradient_hook = None
        self.weight = None
        self.clip_grad_norm = clip_grad_norm
        use_scaler = amp_dtype == torch.float16 and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None

    def autocast(self):
        """Context of mixed-precision autocast (a no-op when training in fp32)."""
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def optimize(self, loss, *names):
        """
        Zero the gradients of the named optimizers, back-propagate ``loss`` and step them.

        Parameters
        ----------
        loss : `torch.Tensor`
            A scalar loss.
        *names : str
            Keys of ``optimizers``; all of them if none is given.
        """
        names = names or tuple(self.optimizers)
        optimizers = [self.optimizers[name] for name in names]
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            if self.gradient_hook is not None:
                self.gradient_hook(optimizers)
            self._clip(optimizers)
            for optimizer in optimizers:
                optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            if self.gradient_hook is not None:
                self.gradient_hook(optimizers)
            if self.clip_grad_norm:
                for optimizer in optimizers:
                    self.scaler.unscale_(optimizer)
            self._clip(optimizers)
            for optimizer in optimizers:
                self.scaler.step(optimizer)
            self.scaler.update()

    def _clip(self, optimizers):
        if self.clip_grad_norm:
            parameters = [p for optimizer in optimizers for group in optimizer.param_groups
                          for p in group["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(parameters, self.clip_grad_norm)
