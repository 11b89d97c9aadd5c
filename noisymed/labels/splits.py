"""Seeded patient-grouped splits (hold-out and k-fold): no patient has images on both sides."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["grouped_kfold_split", "grouped_split"]


def _groups(datalist: Sequence[dict], group_key: str) -> tuple[list[str], dict[str, int]]:
    """The sorted group names and their item counts; checks every item has the key and there are two groups."""
    missing = [i for i, item in enumerate(datalist) if group_key not in item]
    if missing:
        raise ValueError(f"items {missing[:5]} have no {group_key!r} to group by.")
    sizes: dict[str, int] = {}
    for item in datalist:
        sizes[str(item[group_key])] = sizes.get(str(item[group_key]), 0) + 1
    groups = sorted(sizes)
    if len(groups) < 2:
        raise ValueError(f"need at least two {group_key} groups to split, got {len(groups)}.")
    return groups, sizes


def _take(datalist: Sequence[dict], val_groups: set[str], group_key: str) -> dict[str, list[dict]]:
    return {
        "train": [item for item in datalist if str(item[group_key]) not in val_groups],
        "val": [item for item in datalist if str(item[group_key]) in val_groups],
    }


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
    groups, sizes = _groups(datalist, group_key)
    order = np.random.default_rng(seed).permutation(len(groups))
    target = max(1, round(val_fraction * len(datalist)))
    val_groups: set[str] = set()
    count = 0
    for i in order[:-1]:  # the last group always stays in train
        if count >= target:
            break
        val_groups.add(groups[i])
        count += sizes[groups[i]]
    return _take(datalist, val_groups, group_key)


def grouped_kfold_split(
    datalist: Sequence[dict], num_folds: int = 5, fold: int = 0, seed: int = 0, group_key: str = "patient_id"
) -> dict[str, list[dict]]:
    """Fold ``fold`` of a seeded patient-grouped k-fold partition as validation, the other folds as train.

    The groups are shuffled with ``numpy.random.default_rng(seed)``, stably sorted by size (largest
    first, so a large patient cannot unbalance the last fold) and each is dealt to the fold with the
    fewest items so far (the lowest fold index on ties). Every item is in the validation side of exactly
    one fold, so the ``num_folds`` validation sides together score every image once (cross-validation).
    Item order is kept within each side.

    Args:
        datalist: items with a ``group_key`` entry.
        num_folds: number of folds, at least 2 and at most the number of groups.
        fold: the validation fold, in ``[0, num_folds)``.
        seed: the shuffle's seed; the same seed gives the same partition for every ``fold``.
        group_key: the grouping key (the patient).

    Returns:
        ``{"train": [...], "val": [...]}``.

    Raises:
        ValueError: for ``num_folds`` < 2 or above the number of groups, ``fold`` outside ``[0, num_folds)``,
            an item without ``group_key``, or fewer than two groups.
    """
    if isinstance(num_folds, bool) or not isinstance(num_folds, int) or num_folds < 2:
        raise ValueError(f"num_folds must be an int >= 2, got {num_folds!r}.")
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < num_folds:
        raise ValueError(f"fold must be an int in [0, {num_folds}), got {fold!r}.")
    groups, sizes = _groups(datalist, group_key)
    if num_folds > len(groups):
        raise ValueError(f"num_folds={num_folds} is more than the {len(groups)} {group_key} groups.")
    shuffled = [groups[i] for i in np.random.default_rng(seed).permutation(len(groups))]
    load = [0] * num_folds
    val_groups: set[str] = set()
    for g in sorted(shuffled, key=lambda name: -sizes[name]):  # stable: ties keep the shuffled order
        k = min(range(num_folds), key=lambda f: (load[f], f))
        load[k] += sizes[g]
        if k == fold:
            val_groups.add(g)
    return _take(datalist, val_groups, group_key)
