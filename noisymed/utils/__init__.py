"""Small helpers used by every layer."""

from __future__ import annotations

from .atomic_write import write_text_atomic
from .flags import as_bool
from .ramps import ConsistencyWeight, sigmoid_rampup

__all__ = ["sigmoid_rampup", "ConsistencyWeight", "write_text_atomic", "as_bool"]
