"""Seeded patient-grouped splits: no patient has images on both sides."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["grouped_split"]


def grouped_split(
    datalist: Sequence[dict], val_fraction: float = 0.2, seed: int = 0, group_key: str = "patient_id"
) -> dict[str, list[dict]]:
    """Split a datalist into train and validation by groups (patients), seeded.

    The groups are shuffled with ``numpy.random.default_rng(seed)`` and moved to validation one by one
    until it holds at least ``round(val_fraction * len(datalist))`` items; item order is kept within
    each side.

    Args:
        datalist: items with a ``group_key`` entry.
        val_fraction: wanted share of items in validation, in (0, 1).
        seed: the shuffle's seed.
        group_key: the grouping key (the patient).

    Returns:
        ``{"train": [...], "val": [...]}``.

    Raises:
        ValueError: for a fraction outside (0, 1), an item without ``group_key``, or fewer than two groups.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
    missing = [i for i, item in enumerate(datalist) if group_key not in item]
    if missing:
        raise ValueError(f"items {missing[:5]} have no {group_key!r} to group by.")
    groups = sorted({str(item[group_key]) for item in datalist})
    if len(groups) < 2:
        raise ValueError(f"need at least two {group_key} groups to split, got {len(groups)}.")
    order = np.random.default_rng(seed).permutation(len(groups))
    sizes: dict[str, int] = {}
    for item in datalist:
        sizes[str(item[group_key])] = sizes.get(str(item[group_key]), 0) + 1
    target = max(1, round(val_fraction * len(datalist)))
    val_groups: set[str] = set()
    count = 0
    for i in order[:-1]:  # the last group always stays in train
        if count >= target:
            break
        val_groups.add(groups[i])
        count += sizes[groups[i]]
    return {
        "train": [item for item in datalist if str(item[group_key]) not in val_groups],
        "val": [item for item in datalist if str(item[group_key]) in val_groups],
    }
