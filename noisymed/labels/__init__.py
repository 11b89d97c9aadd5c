"""Label tools for training on imperfect labels: synthetic noise with a reproducible record."""

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
]
