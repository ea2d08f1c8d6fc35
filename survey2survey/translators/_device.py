# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Choosing the torch device the translators run on: cuda, then mps, then cpu."""

import torch

from .. import conf
from ..exceptions import TranslatorError

__all__ = ["available_devices", "select_device"]


def available_devices():
    """
    The torch devices usable in this process, fastest kind first.

    Examples
    --------
    >>> from survey2survey.translators._device import available_devices
    >>> available_devices()[-1]
    'cpu'
    """
    devices = []
    if torch.cuda.is_available():
        devices += [f"cuda:{k}" for k in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    devices.append("cpu")
    return devices


def select_device(device=None):
    """
    The `torch.device` to use.

    Parameters
    ----------
    device : str, `torch.device` or None
        None uses ``survey2survey.conf.default_device``; ``'auto'`` picks cuda
        if available, then mps, then cpu.

    Raises
    ------
    TranslatorError
        If ``device`` is not a torch device, or names one this machine or torch
        build does not have (the message lists those it has).

    Examples
    --------
    >>> from survey2survey.translators._device import select_device
    >>> select_device("cpu")
    device(type='cpu')
    """
    if device is None:
        device = conf.default_device
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device(available_devices()[0].split(":")[0])
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        msg = f"device must be 'auto' or a torch device, got {device!r} ({exc})"
        raise TranslatorError(msg) from None
    available = available_devices()
    if device.type == "cuda":
        usable = torch.cuda.is_available() and (device.index is None
                                                or device.index < torch.cuda.device_count())
    elif device.type == "mps":
        usable = "mps" in available
    else:
        usable = device.type == "cpu"
    if not usable:
        msg = (f"device {str(device)!r} is not available on this machine or torch build; "
               f"available: {', '.join(available)}")
        raise TranslatorError(msg)
    return device
