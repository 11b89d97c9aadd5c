"""The semi-supervised partition of a training list: labeled head, unlabeled rest, validation held out.

Every segmentation data source (LA, BraTS, Pancreas-CT) splits its training list the way the literature does: the
first ``num_labeled`` cases are labeled, the others unlabeled, and the validation cases are either the last
``num_val`` cases of the list or a separate list that must not overlap it. This module holds that rule once; each
source turns the resulting case IDs (or items) into its own MONAI datalist items.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from numbers import Integral
from typing import Any, TypeVar

__all__ = ["partition_cases"]

T = TypeVar("T")


def partition_cases(
    cases: Sequence[T],
    num_labeled: int,
    num_val: int = 0,
    val_cases: Sequence[T] | None = None,
    max_unlabeled: int | None = None,
    error: type[Exception] = ValueError,
    where: str = "",
    key: Callable[[T], Hashable] | None = None,
) -> tuple[list[T], list[T], list[T]]:
    """Split ``cases`` (in list order) into labeled, unlabeled and validation cases.

    Args:
        cases: the training list, in order (case IDs or datalist items).
        num_labeled: how many of the first training cases are labeled (>= 0; an ``int`` or a numpy integer).
        num_val: take the last ``num_val`` cases of ``cases`` for validation; when it is not 0, ``val_cases`` is
            not used.
        val_cases: the validation cases (a separate list), or None for none; none of them may be in ``cases``.
        max_unlabeled: keep at most this many unlabeled cases, the first ones (None: all).
        error: the exception type to raise (a data source's own ``ValueError`` subclass).
        where: what the cases came from (a folder or list file), to start the error messages with.
        key: how to compare a validation case with a training case (default: the case itself).

    Returns:
        ``(labeled, unlabeled, validation)``, each in list order.

    Raises:
        error: for a negative count, a ``num_val`` that leaves no training case, validation cases that are also
            training cases, or fewer training cases than ``num_labeled``.
    """
    prefix = f"{where}: " if where else ""
    for name, value in (("num_labeled", num_labeled), ("num_val", num_val), ("max_unlabeled", max_unlabeled)):
        if value is None and name == "max_unlabeled":
            continue
        # any integer type (int, numpy integers), never a bool, a float or a string: the option parsers
        # (noisymed.utils.as_int) turn command-line text into numbers before it gets here
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise error(f"{name} must be a whole number >= 0, got {value!r}.")
    num_labeled, num_val = int(num_labeled), int(num_val)
    max_unlabeled = None if max_unlabeled is None else int(max_unlabeled)
    identity: Callable[[Any], Hashable] = key if key is not None else (lambda case: case)
    train = list(cases)
    if num_val:
        if num_val >= len(train):
            raise error(f"{prefix}num_val={num_val} leaves no training case of the {len(train)} listed.")
        train, val = train[:-num_val], train[-num_val:]
    elif val_cases is not None:
        val = list(val_cases)
        training = {identity(case) for case in train}
        overlap = sorted({identity(case) for case in val} & training, key=str)
        if overlap:
            raise error(f"{prefix}validation cases also in the training list: {overlap}.")
    else:
        val = []
    if len(train) < num_labeled:
        raise error(
            f"{prefix}{len(train)} training cases (after holding out {len(val)} for validation) is fewer than "
            f"num_labeled={num_labeled}."
        )
    labeled, unlabeled = train[:num_labeled], train[num_labeled:]
    if max_unlabeled is not None:
        unlabeled = unlabeled[:max_unlabeled]
    return labeled, unlabeled, val
