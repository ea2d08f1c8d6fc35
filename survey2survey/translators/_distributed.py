# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Data-parallel training across processes with ``torch.distributed``.

``Translator.fit(..., distributed=True)`` (and ``survey2survey fit`` under
``torchrun``) trains one copy of the translator per process, as
`torch.nn.parallel.DistributedDataParallel` does: the copies start from rank
0's weights, each global batch is split into equal shares (padded by
wrapping when it does not divide, as `torch.utils.data.DistributedSampler`
pads the dataset), and after every backward pass the gradients are averaged
across processes (one flattened ``all_reduce`` per optimizer step, over NCCL
on GPUs and gloo on CPUs) before the optimizers step. The averaging is done
in the training context rather than by the ``DistributedDataParallel``
wrapper because translators drive their own networks (a CycleGAN step runs
two generators and two discriminators, some forward passes more than once per
backward), which the wrapper does not allow; the arithmetic is the same.

Every process keeps the whole (in-memory) training set and draws the same
shuffled order, so only the split of each batch differs between ranks. Epoch
losses are summed over all processes, so every rank records the same history;
validation runs in full on every rank (identical weights give identical
numbers). Only rank 0 shows progress and writes checkpoints.
"""

import os

import torch

from ..exceptions import InvalidOptionError
from ..utils._validation import check_bool

__all__ = ["DistributedSession", "start_session"]

_LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class DistributedSession:
    """This process's place in the initialised default process group."""

    def __init__(self, device):
        import torch.distributed as dist

        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.device = device

    @property
    def is_main(self):
        """Whether this process writes checkpoints and shows progress (rank 0)."""
        return self.rank == 0

    def shard(self, index):
        """
        This rank's share of the sample indices of one global batch.

        The batch is padded by repeating its first samples up to a multiple of the
        world size, so that every rank gets the same number of samples.

        Examples
        --------
        >>> import torch
        >>> from survey2survey.translators._distributed import DistributedSession
        >>> session = DistributedSession.__new__(DistributedSession)
        >>> session.rank, session.world_size = 1, 2
        >>> session.shard(torch.arange(5)).tolist()
        [3, 4, 0]
        """
        size = len(index)
        padded = -(-size // self.world_size) * self.world_size
        if padded != size:
            index = index[torch.arange(padded) % size]
        share = padded // self.world_size
        return index[self.rank * share:(self.rank + 1) * share]

    def broadcast(self, modules):
        """Give every rank the parameters and buffers of rank 0."""
        with torch.no_grad():
            for module in modules:
                for tensor in [*module.parameters(), *module.buffers()]:
                    self._dist.broadcast(tensor.data, src=0)

    def average_gradients(self, optimizers):
        """Replace the gradients of the optimizers' parameters by their mean over the ranks."""
        grads = [p.grad for optimizer in optimizers for group in optimizer.param_groups
                 for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        self._dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def reduce_logs(self, sums, counts):
        """Epoch sums and counts of the losses, added over every rank."""
        keys = sorted(sums)
        values = torch.stack([torch.as_tensor(sums[key], dtype=torch.float64,
                                              device=self.device).reshape(())
                              for key in keys]
                             + [torch.tensor(float(counts[key]), dtype=torch.float64,
                                             device=self.device) for key in keys])
        self._dist.all_reduce(values)
        values = values.cpu().tolist()
        return (dict(zip(keys, values[:len(keys)], strict=True)),
                dict(zip(keys, values[len(keys):], strict=True)))

    def barrier(self):
        """Wait for every rank (e.g. until rank 0 has written the last checkpoint)."""
        self._dist.barrier()

    def any(self, flag):
        """Whether ``flag`` is true on any rank (e.g. a callback asked to stop)."""
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        self._dist.all_reduce(value, op=self._dist.ReduceOp.MAX)
        return bool(value.item())


def _local_rank():
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def start_session(distributed, device):
    """
    ``(session, device)``: the distributed session (None when not ``distributed``) and the
    device this rank trains on (its own GPU, ``cuda:LOCAL_RANK``, on a GPU machine).

    The default process group is used if initialised; otherwise it is created from the
    variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``),
    with NCCL on GPUs and gloo on CPUs, and left for later fits of the same process.

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If ``distributed`` is not a bool, or is True without a process group or torchrun.
    """
    if not check_bool(distributed, "distributed"):
        return None, device
    import torch.distributed as dist

    if not dist.is_available():
        msg = "distributed=True needs a torch build with torch.distributed"
        raise InvalidOptionError(msg)
    if device.type == "cuda":
        device = torch.device("cuda", _local_rank() % torch.cuda.device_count())
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        missing = [name for name in _LAUNCH_VARIABLES if name not in os.environ]
        if missing:
            msg = ("distributed=True trains across the processes started by torchrun (e.g. "
                   "'torchrun --nproc-per-node 2 -m survey2survey fit ...'), or of an "
                   "initialised torch.distributed process group; this process has neither "
                   f"(no {', '.join(missing)} in the environment)")
            raise InvalidOptionError(msg)
        backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
        dist.init_process_group(backend=backend)
    return DistributedSession(device), device
