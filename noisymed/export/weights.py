"""Half-precision storage of a model's weights, checked against the full-precision outputs."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

__all__ = ["half_precision_state", "half_precision_error"]


def half_precision_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict with its float32/float64 tensors stored as float16 (integer buffers kept as they are).

    ``load_state_dict`` copies a float16 tensor into the network's float32 parameter, so the stored file loads
    into the usual network unchanged; only the weights' precision is reduced (to about 3 significant digits).

    Args:
        state: a plain state dict.

    Returns:
        A new state dict.

    Raises:
        TypeError: for a value that is not a tensor (the key named).
    """
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"state[{key!r}] is a {type(value).__name__}, not a tensor: not a plain state dict.")
        out[key] = value.to(torch.float16) if value.dtype in (torch.float32, torch.float64) else value.clone()
    return out


@torch.no_grad()
def half_precision_error(
    network: nn.Module, state: Mapping[str, torch.Tensor], inputs: torch.Tensor
) -> dict[str, float]:
    """How far the outputs of ``network`` move when its weights are stored in float16 instead of float32.

    Both runs compute in float32 (the float16 weights are cast back on loading), in eval mode, on ``inputs``.

    Args:
        network: the network the state dict belongs to (its weights are overwritten).
        state: the full-precision state dict.
        inputs: a batch the network takes.

    Returns:
        ``max_abs``: the largest absolute output difference; ``max_rel``: that divided by the largest absolute
        full-precision output; ``argmax_agreement``: the fraction of positions whose channel argmax is unchanged
        (1.0 for a single channel).
    """
    network.eval()
    network.load_state_dict(state)
    full = network(inputs)
    network.load_state_dict(half_precision_state(state))
    half = network(inputs)
    network.load_state_dict(state)
    full, half = _first(full).float(), _first(half).float()
    max_abs = float((full - half).abs().max())
    scale = float(full.abs().max())
    agree = float((full.argmax(1) == half.argmax(1)).float().mean()) if full.ndim > 1 and full.shape[1] > 1 else 1.0
    return {"max_abs": max_abs, "max_rel": max_abs / scale if scale > 0 else max_abs, "argmax_agreement": agree}


def _first(output: object) -> torch.Tensor:
    """The first tensor of a network output (a tensor, a tuple/list, or a dict)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (list, tuple)) and output:
        return _first(output[0])
    if isinstance(output, Mapping) and output:
        return _first(next(iter(output.values())))
    raise TypeError(f"cannot compare a network output of type {type(output).__name__}.")
