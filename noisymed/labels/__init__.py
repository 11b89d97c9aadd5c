"""What is done to labels: synthetic noise with a reproducible record, single-positive simulation, grouped splits."""

from __future__ import annotations

from .noise import (
    NOISE_MODES,
    NOISE_TYPES,
    apply_label_noise,
    check_transition_matrix,
    inject_noise,
    labels_sha1,
    load_or_make_noisy_labels,
    make_noisy_labels,
    noise_record,
    transition_matrix,
)
from .single_positive import (
    NO_FINDING_CLASS,
    NO_POSITIVE_RULES,
    apply_single_positive,
    load_or_simulate_single_positive,
    simulate_single_positive,
)
from .splits import grouped_kfold_split, grouped_split
from .validation_noise import noisy_validation_labels

__all__ = [
    "NOISE_TYPES",
    "NOISE_MODES",
    "transition_matrix",
    "check_transition_matrix",
    "inject_noise",
    "noise_record",
    "labels_sha1",
    "make_noisy_labels",
    "load_or_make_noisy_labels",
    "apply_label_noise",
    "noisy_validation_labels",
    "NO_FINDING_CLASS",
    "NO_POSITIVE_RULES",
    "simulate_single_positive",
    "apply_single_positive",
    "load_or_simulate_single_positive",
    "grouped_kfold_split",
    "grouped_split",
]
