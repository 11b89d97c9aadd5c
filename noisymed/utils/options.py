"""Numeric options that may arrive as text or with the wrong shape from MONAI's bundle command line.

``python -m monai.bundle run ... --num_labeled 2.5`` or ``--pixdim abc`` passes the value through unchecked; the
run then fails deep inside a transform or silently truncates. These helpers refuse such a value with the option
named, before anything is built from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["as_int", "as_spacing", "as_size"]


def as_int(value: Any, name: str, minimum: int | None = None) -> int:
    """An integer option (``8``, ``np.int64(8)``, ``"8"``); ``2.5``, ``"two"``, ``True`` are refused.

    Args:
        value: the option's value.
        name: the option's name, for the error message.
        minimum: the smallest value allowed (None: no bound).

    Returns:
        The integer.

    Raises:
        ValueError: for a value that is not a whole number, or one below ``minimum``.
    """
    number: int | None = None
    if isinstance(value, (bool, np.bool_)):
        number = None
    elif isinstance(value, Integral):
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value.strip())
    if number is None:
        raise ValueError(f"--{name} must be a whole number, got {value!r}.")
    if minimum is not None and number < minimum:
        raise ValueError(f"--{name} must be >= {minimum}, got {number}.")
    return number


def _as_sequence(value: Any, name: str, length: int, what: str) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(
            f"--{name} must be a list of {length} {what}, e.g. [{', '.join(['1'] * length)}]; got {value!r}."
        )
    items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(items) != length:
        raise ValueError(f"--{name} must have {length} values (one per spatial axis), got {len(items)}: {value!r}.")
    return items


def as_spacing(value: Any, name: str = "pixdim", length: int = 3) -> list[float]:
    """A voxel size in mm: ``length`` finite positive numbers.

    Args:
        value: the option's value (a list or tuple).
        name: the option's name, for the error message.
        length: number of spatial axes.

    Returns:
        The values as floats.

    Raises:
        ValueError: for text, a wrong number of values, or a value that is not a finite positive number.
    """
    items = _as_sequence(value, name, length, "positive numbers in mm")
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real) or not math.isfinite(float(v)) or float(v) <= 0:
            raise ValueError(f"--{name} must be {length} finite positive numbers in mm, got {value!r} ({v!r} is not).")
        out.append(float(v))
    return out


def as_size(value: Any, name: str = "patch_size", length: int = 3, minimum: int = 1) -> list[int]:
    """A size in voxels: ``length`` whole numbers of at least ``minimum``.

    Args:
        value: the option's value (a list or tuple).
        name: the option's name, for the error message.
        length: number of spatial axes.
        minimum: the smallest size allowed per axis.

    Returns:
        The values as ints.

    Raises:
        ValueError: for text, a wrong number of values, or a value that is not a whole number >= ``minimum``.
    """
    items = _as_sequence(value, name, length, f"whole numbers >= {minimum}")
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral) or int(v) < minimum:
            raise ValueError(f"--{name} must be {length} whole numbers >= {minimum}, got {value!r} ({v!r} is not).")
        out.append(int(v))
    return out
