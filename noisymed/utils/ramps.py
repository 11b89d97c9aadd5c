"""Ramp-up schedules for unsupervised loss weights."""

from __future__ import annotations

import math

__all__ = ["sigmoid_rampup", "ConsistencyWeight"]


def sigmoid_rampup(current: float, rampup_length: float) -> float:
    """``exp(-5 (1 - min(current, L) / L)^2)``, the ramp of Laine & Aila (ICLR 2017); 1 when ``L == 0``.

    Args:
        current: position on the ramp (same unit as ``rampup_length``), clipped to ``[0, rampup_length]``.
        rampup_length: length ``L`` of the ramp.

    Returns:
        The multiplier in (0, 1].

    Raises:
        ValueError: for a negative ``rampup_length``.
    """
    if rampup_length < 0:
        raise ValueError(f"rampup_length must be >= 0, got {rampup_length}.")
    if rampup_length == 0:
        return 1.0
    phase = 1.0 - min(max(current, 0.0), rampup_length) / rampup_length
    return float(math.exp(-5.0 * phase * phase))


class ConsistencyWeight:
    """``weight * sigmoid_rampup(iteration // interval, length)``, the mutual-learning paper's λ(t).

    With the paper's constants (``weight=1``, ``interval=150``, ``length=40``) the weight reaches 1 after
    6000 iterations. The integer division follows the official code.

    Args:
        weight: the final weight.
        length: ramp length in units of ``interval`` iterations.
        interval: iterations per ramp unit.

    Raises:
        ValueError: for a non-positive ``interval`` or a negative ``length`` or ``weight``.
    """

    def __init__(self, weight: float = 1.0, length: float = 40.0, interval: int = 150):
        if interval < 1:
            raise ValueError(f"interval must be a positive integer, got {interval}.")
        if length < 0 or weight < 0:
            raise ValueError(f"weight and length must be >= 0, got weight={weight}, length={length}.")
        self.weight = weight
        self.length = length
        self.interval = interval

    def __call__(self, iteration: int) -> float:
        return self.weight * sigmoid_rampup(iteration // self.interval, self.length)
