"""What is done to labels: single-positive simulation and patient-grouped splits."""

from __future__ import annotations

from .single_positive import (
    NO_FINDING_CLASS,
    NO_POSITIVE_RULES,
    apply_single_positive,
    load_or_simulate_single_positive,
    simulate_single_positive,
)
from .splits import grouped_split

__all__ = [
    "NO_FINDING_CLASS",
    "NO_POSITIVE_RULES",
    "simulate_single_positive",
    "apply_single_positive",
    "load_or_simulate_single_positive",
    "grouped_split",
]
