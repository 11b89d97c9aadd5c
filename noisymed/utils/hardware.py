"""What a GPU offers beyond float32 in contiguous memory: channels-last memory format and float32 islands in
mixed precision.

* :func:`to_channels_last` puts a network's weights, or a batch, in channels-last memory format
  (``torch.channels_last`` for 4D tensors, ``torch.channels_last_3d`` for 5D ones; other tensors are left as they
  are). cuDNN's convolutions are fastest in that format with mixed precision; the values do not change.
* :func:`autocast_off` switches ``torch.autocast`` off inside a block and :func:`at_least_float32` casts float16
  and bfloat16 tensors to float32, so that a loss computes its softmax, logarithms, cosines and sums in float32
  while the network ran in float16 or bfloat16. Outside ``torch.autocast``, on float32 tensors, both change
  nothing (the same tensor object comes back, the results are bit-identical).
"""

from __future__ import annotations

from typing import Any, TypeVar

import torch
from torch import nn

from .flags import as_bool

__all__ = ["to_channels_last", "channels_last_format", "autocast_off", "at_least_float32"]

T = TypeVar("T", nn.Module, torch.Tensor)


def channels_last_format(ndim: int) -> torch.memory_format | None:
    """``torch.channels_last`` for a 4D tensor, ``torch.channels_last_3d`` for a 5D one, None for any other rank."""
    return {4: torch.channels_last, 5: torch.channels_last_3d}.get(int(ndim))


def _convert(tensor: torch.Tensor) -> torch.Tensor:
    memory_format = channels_last_format(tensor.ndim)
    return tensor if memory_format is None else tensor.contiguous(memory_format=memory_format)


def to_channels_last(obj: T, enabled: bool | str = True) -> T:
    """``obj`` in channels-last memory format; ``obj`` itself, untouched, when ``enabled`` is false.

    A module is converted in place (its 4D and 5D parameters and buffers; the parameter objects stay the same, so
    an optimizer made before keeps working) and returned; convert a network before wrapping it in
    ``DistributedDataParallel``. A tensor is returned converted (4D: ``channels_last``, 5D:
    ``channels_last_3d``, other ranks unchanged). The values are not changed, only their order in memory.

    Args:
        obj: a network or a batch.
        enabled: convert (True, or ``"true"`` from the command line) or leave as is.

    Returns:
        The module (converted in place) or the converted tensor.

    Raises:
        TypeError: for an ``obj`` that is neither a module nor a tensor, or an ``enabled`` that is not a bool.

    Example::

        net = to_channels_last(TwoDecoderVNet(), enabled=True)
        logits = net(to_channels_last(image))
    """
    if not as_bool(enabled, "channels_last"):
        return obj
    if isinstance(obj, torch.Tensor):
        return _convert(obj)
    if isinstance(obj, nn.Module):
        return obj._apply(_convert)  # what Module.to(memory_format=...) does, with the format chosen per rank
    raise TypeError(f"to_channels_last takes a torch module or tensor, got {type(obj).__name__}.")


def autocast_off(like: torch.Tensor | torch.device | str) -> Any:
    """A context in which ``torch.autocast`` is off for the device of ``like`` (a tensor, a device or its type).

    Inside it, operations run in the dtype of their inputs: cast them to float32 first (``x.float()``) to compute
    in float32. Outside ``torch.autocast`` the context changes nothing.

    Example::

        with autocast_off(logits):
            prob = torch.softmax(logits.float(), 1)  # float32 even when logits came out of bfloat16 autocast
    """
    if isinstance(like, torch.Tensor):
        device_type = like.device.type
    else:
        device_type = torch.device(like).type
    return torch.autocast(device_type=device_type, enabled=False)


def at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in float32 when it is float16 or bfloat16; any other tensor (float32, float64, integers) as is."""
    if tensor.is_floating_point() and torch.finfo(tensor.dtype).bits < 32:
        return tensor.float()
    return tensor
