"""Synthetic class-label noise with a recorded, reproducible outcome.

Convention: a noise transition matrix ``T`` is row-stochastic, ``T[i, j] = P(noisy = j | true = i)``, so every
row sums to 1 and ``p_i = 1 - T[i, i]`` is the flip rate of class ``i``. Some papers write the transpose
(``T[j, i]``, columns summing to 1); such a matrix is accepted only through an explicit
``column_convention=True`` and is transposed on input. Every matrix this module returns or records is in the
row convention.

Noise types (:func:`transition_matrix`):

* ``"symmetric"``: ``T[i, i] = 1 - rate``, ``T[i, j] = rate / (K - 1)``: a flip goes uniformly to one of the
  *other* classes, so the realised flip rate equals ``rate``;
* ``"pairflip"``: class ``i`` flips to ``(i + 1) mod K`` with probability ``rate``;
* ``"grouped"``: class ``i`` flips uniformly to the other classes of its group (e.g. look-alike findings);
  classes in no group, or alone in their group, never flip;
* ``"matrix"``: a user-given matrix (checked: square ``K x K``, finite, non-negative, rows summing to 1).

Injection modes (:func:`inject_noise`):

* ``"exact"``: class ``i`` with ``n_i`` samples gets exactly ``round(p_i * n_i)`` flips (Python's round, half to
  even, after rounding away float noise at 1e-9), apportioned over the destinations ``j != i`` by the largest
  remainder of ``n_flip_i * T[i, j] / sum_{j != i} T[i, j]`` (``= n_flip_i * T[i, j] / p_i``; equal remainders go to
  the lower class index); which samples flip and to which destination is drawn by a seeded permutation. The
  counts depend only on the labels and ``T``, the seed only picks the samples;
* ``"random"``: every sample independently draws its noisy label from row ``T[y]``.

:func:`make_noisy_labels` returns the noisy labels together with a record of what was asked and what was
realised (overall and per-class flip rates, confusion matrix, a SHA-1 of the clean labels);
:func:`load_or_make_noisy_labels` stores that record as JSON once and reuses it, so every method in a
comparison trains on the same noisy labels; :func:`apply_label_noise` does the same for a MONAI datalist.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from noisymed.utils import write_text_atomic

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

NOISE_TYPES = ("symmetric", "pairflip", "grouped", "matrix")
NOISE_MODES = ("exact", "random")

_ROW_SUM_TOL = 1e-6
_ROUND_DECIMALS = 9  # float noise (e.g. 1 - (1 - 0.3)) is cleaned at this precision before rounding counts

# Fields of a stored record that must equal the request for it to be reused.
_COMPARED_FIELDS = ("noise_type", "rate", "num_classes", "seed", "mode", "groups", "num_samples", "clean_labels_sha1")


def _check_rate(rate: float) -> float:
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}.") from None
    if not 0.0 <= value < 1.0:  # also refuses NaN
        raise ValueError(f"rate must be in [0, 1), got {rate!r}.")
    return value


def _check_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    return int(num_classes)


def check_transition_matrix(
    matrix: ArrayLike, num_classes: int | None = None, column_convention: bool = False
) -> np.ndarray:
    """Validate a transition matrix and return it as a float64 array in the row convention.

    Args:
        matrix: ``K x K`` matrix, ``T[i, j] = P(noisy = j | true = i)`` (or ``T[j, i]`` with ``column_convention``).
        num_classes: the expected ``K`` (None: any).
        column_convention: the matrix is given as ``T[j, i]`` (columns sum to 1); it is transposed.

    Returns:
        The row-stochastic matrix, shape ``(K, K)``, float64.

    Raises:
        ValueError: not a square numeric 2D matrix, wrong size, a non-finite or negative entry, or a row
            (column, in the column convention) whose sum differs from 1 by more than 1e-6.
    """
    try:
        t = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"matrix must be a numeric K x K array ({e}).") from None
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"matrix must be a square K x K array, got shape {t.shape}.")
    if num_classes is not None and t.shape[0] != num_classes:
        raise ValueError(f"matrix is {t.shape[0]} x {t.shape[1]} but num_classes is {num_classes}.")
    if t.shape[0] < 2:
        raise ValueError(f"matrix must cover at least 2 classes, got shape {t.shape}.")
    if not np.isfinite(t).all():
        i, j = np.argwhere(~np.isfinite(t))[0]
        raise ValueError(f"matrix has a non-finite entry {t[i, j]} at [{i}, {j}].")
    if (t < 0).any():
        i, j = np.argwhere(t < 0)[0]
        raise ValueError(f"matrix has a negative entry {t[i, j]} at [{i}, {j}].")
    if column_convention:
        t = np.ascontiguousarray(t.T)
    sums = t.sum(1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _ROW_SUM_TOL)
    if bad.size:
        what = "column" if column_convention else "row"
        rule = "columns (column_convention=True)" if column_convention else "rows (T[i, j] = P(noisy=j | true=i))"
        raise ValueError(f"matrix {what} {bad[0]} sums to {sums[bad[0]]:.8g}, not 1: the {rule} must sum to 1.")
    return t


def _check_groups(groups: Sequence[Sequence[int]], num_classes: int) -> list[list[int]]:
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
        raise ValueError(f"groups must be a list of lists of class indices, got {groups!r}.")
    out: list[list[int]] = []
    seen: dict[int, int] = {}
    for g, group in enumerate(groups):
        if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or len(group) == 0:
            raise ValueError(f"groups[{g}] must be a non-empty list of class indices, got {group!r}.")
        members = []
        for c in group:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < num_classes:
                raise ValueError(f"groups[{g}] holds {c!r}, not a class index in 0..{num_classes - 1}.")
            if int(c) in seen:
                raise ValueError(f"class {c} is in groups[{seen[int(c)]}] and groups[{g}]: groups must be disjoint.")
            seen[int(c)] = g
            members.append(int(c))
        out.append(members)
    return out


def _warn_if_unidentifiable(t: np.ndarray) -> None:
    off = t.copy()
    np.fill_diagonal(off, -np.inf)
    bad = np.flatnonzero(off.max(1) >= np.diag(t) - 1e-12)  # ties count (symmetric rate == (K - 1) / K)
    if bad.size:
        i = int(bad[0])
        j = int(np.argmax(off[i]))
        warnings.warn(
            f"class {i} keeps its label with probability {t[i, i]:.4g} but flips to class {j} with probability "
            f"{t[i, j]:.4g}: the true class is not the most likely noisy label for classes {bad.tolist()}, so the "
            "clean labels are not identifiable from the noisy ones.",
            UserWarning,
            stacklevel=3,
        )


def transition_matrix(
    noise_type: str,
    rate: float,
    num_classes: int,
    groups: Sequence[Sequence[int]] | None = None,
    matrix: ArrayLike | None = None,
    column_convention: bool = False,
) -> np.ndarray:
    """The row-stochastic noise transition matrix ``T[i, j] = P(noisy = j | true = i)``.

    Warns (``UserWarning``) when some class flips to another class at least as often as it keeps its label
    (e.g. symmetric ``rate >= (K - 1) / K``, pair-flip ``rate >= 0.5``): the problem is then not identifiable.

    Args:
        noise_type: one of :data:`NOISE_TYPES` (see the module docstring).
        rate: flip probability in [0, 1); not used by ``"matrix"`` (but still checked).
        num_classes: ``K >= 2``.
        groups: for ``"grouped"`` only: disjoint lists of class indices that flip among themselves.
        matrix: for ``"matrix"`` only: the ``K x K`` transition matrix.
        column_convention: for ``"matrix"`` only: ``matrix`` is given as ``T[j, i]`` and is transposed.

    Returns:
        ``(K, K)`` float64 matrix whose rows sum to 1.

    Raises:
        ValueError: unknown ``noise_type``, ``rate`` outside [0, 1), ``num_classes < 2``, ``"grouped"`` without
            (or with bad) ``groups``, ``"matrix"`` without (or with a bad) ``matrix``, or ``groups``/``matrix``/
            ``column_convention`` given for a type that does not use them.
    """
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {noise_type!r}.")
    rate = _check_rate(rate)
    k = _check_num_classes(num_classes)
    if groups is not None and noise_type != "grouped":
        raise ValueError(f"groups is only used by noise_type='grouped', got noise_type={noise_type!r}.")
    if noise_type != "matrix":
        if matrix is not None:
            raise ValueError(f"matrix is only used by noise_type='matrix', got noise_type={noise_type!r}.")
        if column_convention:
            raise ValueError(
                "column_convention only applies to a user-given matrix (noise_type='matrix'), "
                f"got noise_type={noise_type!r}."
            )

    if noise_type == "symmetric":
        t = np.full((k, k), rate / (k - 1))
        np.fill_diagonal(t, 1.0 - rate)
    elif noise_type == "pairflip":
        t = np.eye(k) * (1.0 - rate)
        t[np.arange(k), (np.arange(k) + 1) % k] += rate
    elif noise_type == "grouped":
        if groups is None:
            raise ValueError("noise_type='grouped' needs groups, e.g. groups=[[0, 1], [2, 3, 4]].")
        t = np.eye(k)
        for group in _check_groups(groups, k):
            if len(group) < 2:
                continue
            idx = np.array(group)
            t[np.ix_(idx, idx)] = rate / (len(group) - 1)
            t[idx, idx] = 1.0 - rate
    else:
        if matrix is None:
            raise ValueError("noise_type='matrix' needs matrix, a K x K array with T[i, j] = P(noisy=j | true=i).")
        t = check_transition_matrix(matrix, k, column_convention)
    _warn_if_unidentifiable(t)
    return t


def _as_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """1D int64 copy of integer labels (a trailing singleton axis, as MedMNIST's ``(N, 1)``, is dropped)."""
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1D sequence of class indices (or (N, 1)), got shape {arr.shape}.")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            raise ValueError(f"{name} must be integers, got {arr[bad[0]].item()!r} at index {bad[0]}.")
        return arr.astype(np.int64)
    if arr.size == 0:
        return np.zeros(0, np.int64)
    raise ValueError(f"{name} must be integers, got dtype {arr.dtype} (first value {arr.flat[0].item()!r}).")


def _check_range(labels: np.ndarray, num_classes: int, name: str = "labels") -> None:
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise ValueError(
            f"{name} must be class indices in 0..{num_classes - 1}, got {labels[bad[0]]} at index {bad[0]}."
        )


def _round_half_even(x: float) -> int:
    return int(round(round(x, _ROUND_DECIMALS)))


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights`` (ties go to the lower index)."""
    quota = np.round(total * weights / weights.sum(), _ROUND_DECIMALS)
    counts = np.floor(quota).astype(np.int64)
    left = total - int(counts.sum())
    if left > 0:
        order = np.argsort(-(quota - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def inject_noise(labels: ArrayLike, matrix: np.ndarray, mode: str = "exact", seed: int = 0) -> np.ndarray:
    """Noisy labels drawn from clean ones through a transition matrix (see the module docstring for the modes).

    Args:
        labels: clean class indices, shape ``(N,)`` or ``(N, 1)``.
        matrix: ``K x K`` row-stochastic matrix ``T[i, j] = P(noisy = j | true = i)``.
        mode: ``"exact"`` (exactly ``round(p_i * n_i)`` flips per class, exact destination counts) or
            ``"random"`` (independent draws from ``T[y]``).
        seed: seed of the ``numpy.random.Generator``; the result is a function of (labels, matrix, mode, seed).

    Returns:
        int64 noisy labels of the same shape as ``labels``.

    Raises:
        ValueError: unknown ``mode``, a bad matrix, or labels that are not integers in ``0..K-1``.
    """
    if mode not in NOISE_MODES:
        raise ValueError(f"mode must be one of {NOISE_MODES}, got {mode!r}.")
    t = check_transition_matrix(matrix)
    k = t.shape[0]
    shape = np.shape(labels)
    clean = _as_labels(labels)
    _check_range(clean, k)
    rng = np.random.default_rng(seed)
    noisy = clean.copy()
    if mode == "random":
        cdf = np.cumsum(t, 1)
        cdf /= cdf[:, -1:]
        u = rng.random(clean.size)
        noisy = (cdf[clean] <= u[:, None]).sum(1).astype(np.int64)  # first class whose cdf exceeds u
        return noisy.reshape(shape)
    for i in range(k):
        idx = np.flatnonzero(clean == i)
        dest = np.array([j for j in range(k) if j != i])
        n_flip = _round_half_even((1.0 - t[i, i]) * idx.size)
        if n_flip == 0 or t[i, dest].sum() <= 0:
            continue
        counts = _largest_remainder(n_flip, t[i, dest])
        chosen = rng.permutation(idx)[:n_flip]
        noisy[chosen] = np.repeat(dest, counts)
    return noisy.reshape(shape)


def labels_sha1(labels: ArrayLike) -> str:
    """SHA-1 of the labels as little-endian int64 bytes (how a noise record names the clean labels it was made from)."""
    return hashlib.sha1(_as_labels(labels).astype("<i8").tobytes()).hexdigest()


def noise_record(clean: ArrayLike, noisy: ArrayLike, matrix: ArrayLike, **settings: Any) -> dict:
    """What a noise injection realised, as a JSON-serialisable dict.

    Args:
        clean: clean class indices ``(N,)``.
        noisy: noisy class indices ``(N,)``.
        matrix: the ``K x K`` transition matrix that was used (row convention).
        settings: extra entries copied into the record (noise type, rate, seed...).

    Returns:
        ``{"num_classes", "num_samples", "matrix" (K x K lists), "expected_rate" (sum_i n_i p_i / N),
        "realised_rate" (fraction of flipped samples), "class_counts" (n_i), "per_class_rate"
        (flipped fraction of each class, None for a class with no sample), "confusion"
        (``C[i][j] = #(true = i, noisy = j)``), **settings}``.

    Raises:
        ValueError: a bad matrix, labels outside ``0..K-1``, or ``clean`` and ``noisy`` of different lengths.
    """
    t = check_transition_matrix(matrix)
    k = t.shape[0]
    c, n = _as_labels(clean, "clean"), _as_labels(noisy, "noisy")
    if c.size != n.size:
        raise ValueError(f"clean and noisy labels differ in length: {c.size} and {n.size}.")
    _check_range(c, k, "clean")
    _check_range(n, k, "noisy")
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (c, n), 1)
    counts = confusion.sum(1)
    flipped = counts - np.diag(confusion)
    p = 1.0 - np.diag(t)
    record = {
        "num_classes": k,
        "num_samples": int(c.size),
        "matrix": t.tolist(),
        "expected_rate": float((counts * p).sum() / c.size) if c.size else 0.0,
        "realised_rate": float(flipped.sum() / c.size) if c.size else 0.0,
        "class_counts": counts.tolist(),
        "per_class_rate": [float(f / m) if m else None for f, m in zip(flipped, counts, strict=True)],
        "confusion": confusion.tolist(),
    }
    record.update(settings)
    return record


def _resolve(
    clean: np.ndarray,
    noise_type: str,
    rate: float,
    num_classes: int | None,
    seed: int,
    mode: str,
    groups: Sequence[Sequence[int]] | None,
    matrix: ArrayLike | None,
    column_convention: bool,
) -> tuple[np.ndarray, dict]:
    """Validate a request: its transition matrix and the settings a record stores."""
    if clean.size == 0:
        raise ValueError("labels is empty: there is nothing to add noise to.")
    if mode not in NOISE_MODES:
        raise ValueError(f"mode must be one of {NOISE_MODES}, got {mode!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}.")
    if num_classes is None:
        if noise_type == "matrix" and matrix is not None and np.ndim(matrix) == 2:
            num_classes = int(np.shape(matrix)[0])
        else:
            num_classes = int(clean.max()) + 1
            if num_classes < 2:
                raise ValueError(
                    f"num_classes defaults to max(labels) + 1 = {num_classes}, fewer than 2: pass num_classes."
                )
    t = transition_matrix(noise_type, rate, num_classes, groups, matrix, column_convention)
    _check_range(clean, t.shape[0])
    settings = {
        "noise_type": noise_type,
        "rate": float(rate),
        "seed": int(seed),
        "mode": mode,
        "groups": None if groups is None else [[int(c) for c in g] for g in groups],
        "column_convention": bool(column_convention),
        "clean_labels_sha1": labels_sha1(clean),
    }
    return t, settings


def make_noisy_labels(
    labels: ArrayLike,
    noise_type: str = "symmetric",
    rate: float = 0.0,
    num_classes: int | None = None,
    seed: int = 0,
    mode: str = "exact",
    groups: Sequence[Sequence[int]] | None = None,
    matrix: ArrayLike | None = None,
    column_convention: bool = False,
) -> dict:
    """Inject label noise and return the noisy labels with their record.

    Args:
        labels: clean class indices, shape ``(N,)`` or ``(N, 1)``.
        noise_type: one of :data:`NOISE_TYPES`.
        rate: flip probability in [0, 1) (not used by ``"matrix"``, but recorded).
        num_classes: ``K``; None: ``max(labels) + 1`` (the matrix's size for ``"matrix"``).
        seed: random seed.
        mode: one of :data:`NOISE_MODES`.
        groups: class groups for ``"grouped"``.
        matrix: transition matrix for ``"matrix"``.
        column_convention: ``matrix`` is given as ``T[j, i]``.

    Returns:
        The :func:`noise_record` with the settings (``noise_type``, ``rate``, ``seed``, ``mode``, ``groups``,
        ``column_convention``, ``clean_labels_sha1``) and ``"noisy_labels"`` (list of int) last.

    Raises:
        ValueError: see :func:`transition_matrix` and :func:`inject_noise`; also empty labels, a non-integer
            seed, or a default ``num_classes`` below 2.
    """
    clean = _as_labels(labels)
    t, settings = _resolve(clean, noise_type, rate, num_classes, seed, mode, groups, matrix, column_convention)
    noisy = inject_noise(clean, t, mode, seed)
    record = noise_record(clean, noisy, t, **settings)
    record["noisy_labels"] = noisy.tolist()
    return record


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-12)
    return a == b


def _dump(record: dict) -> str:
    """One top-level key a line, values compact (readable, and small for long label lists)."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in record.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def load_or_make_noisy_labels(path: str | Path, labels: ArrayLike, **kwargs: Any) -> dict:
    """The noise record stored at ``path``, or a new one made and written there.

    An existing file is reused only if it was made from the same clean labels (SHA-1) with the same
    settings; it is never overwritten. A new record is written atomically (temporary file + ``os.replace``,
    parent folders created), so every method of a comparison trains on the same noisy labels.

    Args:
        path: JSON file of the record.
        labels: clean class indices.
        kwargs: the keyword arguments of :func:`make_noisy_labels`.

    Returns:
        The record (see :func:`make_noisy_labels`).

    Raises:
        ValueError: the file exists but is not a valid record, or one of its fields (noise_type, rate,
            num_classes, seed, mode, groups, num_samples, clean_labels_sha1, matrix) differs from the request:
            the message names the field and the file. Also everything :func:`make_noisy_labels` raises.
        TypeError: an unknown keyword argument.
    """
    path = Path(path).expanduser()
    bound = inspect.signature(make_noisy_labels).bind(labels, **kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    clean = _as_labels(args.pop("labels"))
    t, settings = _resolve(clean, **args)  # validates the request even when the file exists
    if not path.exists():
        noisy = inject_noise(clean, t, args["mode"], args["seed"])
        record = noise_record(clean, noisy, t, **settings)
        record["noisy_labels"] = noisy.tolist()
        write_text_atomic(path, _dump(record))
        return record

    try:
        stored = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable noise record ({e}); delete it or choose another file.") from e
    needed = (*_COMPARED_FIELDS, "matrix", "noisy_labels")
    missing = [f for f in needed if not isinstance(stored, dict) or f not in stored]
    if missing:
        raise ValueError(f"{path}: not a noise record, it lacks {missing}; delete it or choose another file.")
    request = {**settings, "num_classes": t.shape[0], "num_samples": int(clean.size)}
    for field in _COMPARED_FIELDS:
        if not _same(stored[field], request[field]):
            raise ValueError(
                f"{path}: the stored noise has {field}={stored[field]!r} but {request[field]!r} was asked for, so it "
                "was made for other labels or settings. Delete the file or choose another one (it is never "
                "overwritten)."
            )
    if np.shape(stored["matrix"]) != t.shape or not np.allclose(stored["matrix"], t, rtol=0, atol=1e-12):
        raise ValueError(
            f"{path}: the stored noise has matrix={stored['matrix']!r} but {t.tolist()!r} was asked for. Delete the "
            "file or choose another one (it is never overwritten)."
        )
    if len(stored["noisy_labels"]) != clean.size:
        raise ValueError(f"{path}: holds {len(stored['noisy_labels'])} noisy labels for {clean.size} samples.")
    return stored


def _item_label(value: Any, i: int, key: str) -> int:
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iubf" or (arr.dtype.kind == "f" and arr.item() != round(arr.item())):
        raise ValueError(f"datalist item {i}: {key!r} must be one integer class index, got {value!r}.")
    return int(arr.item())


def apply_label_noise(
    datalist: list[dict], out_file: str | Path, key: str = "label", clean_key: str = "clean_label", **make_kwargs: Any
) -> list[dict]:
    """Copies of the datalist items with noisy labels, the noise stored in (or reused from) ``out_file``.

    Each item gets ``key`` = its noisy label (int) and ``clean_key`` = its clean label (int); other entries are
    kept (shallow copies, the input is not changed). With ``rate=0`` the labels stay as they are, and the
    record is still written.

    Args:
        datalist: items holding an integer class label under ``key``.
        out_file: JSON noise record (see :func:`load_or_make_noisy_labels`).
        key: label key.
        clean_key: key that receives the clean label.
        make_kwargs: the keyword arguments of :func:`make_noisy_labels`.

    Returns:
        The new datalist.

    Raises:
        ValueError: an item without ``key``, with a non-integer label, or already holding ``clean_key``
            (noise applied twice); and everything :func:`load_or_make_noisy_labels` raises.
    """
    if key == clean_key:
        raise ValueError(f"key and clean_key must differ, both are {key!r}.")
    clean = []
    for i, item in enumerate(datalist):
        if key not in item:
            raise ValueError(f"datalist item {i} has no {key!r} entry (keys: {sorted(item)}).")
        if clean_key in item:
            raise ValueError(
                f"datalist item {i} already has {clean_key!r}: label noise seems to have been applied already."
            )
        clean.append(_item_label(item[key], i, key))
    record = load_or_make_noisy_labels(out_file, clean, **make_kwargs)
    return [
        {**item, key: int(noisy), clean_key: c}
        for item, c, noisy in zip(datalist, clean, record["noisy_labels"], strict=True)
    ]
