"""Small helpers used by every layer."""

from __future__ import annotations

from .ramps import ConsistencyWeight, sigmoid_rampup

__all__ = ["sigmoid_rampup", "ConsistencyWeight"]
