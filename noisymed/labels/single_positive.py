"""Seeded single-positive label simulation, saved to and reused from a JSON file.

Each image keeps exactly one observed positive, drawn uniformly among its true positives; the others
become hidden (unobserved). Images without any positive follow an explicit rule:

- ``"no_finding"``: "No Finding" becomes an extra, last class, and is their observed positive (the class
  set grows by one; an image with a finding has "No Finding" = 0 in its full label);
- ``"drop"``: they are left out of the single-positive training set.

The draw of each image uses ``numpy.random.default_rng([seed, crc32(id)])``, so it does not depend on
the datalist's order. :func:`load_or_simulate_single_positive` writes the draw next to the run and
reuses it, so every method of a benchmark sees the same labels.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from noisymed.utils import write_text_atomic

__all__ = [
    "NO_POSITIVE_RULES",
    "NO_FINDING_CLASS",
    "simulate_single_positive",
    "apply_single_positive",
    "load_or_simulate_single_positive",
]

NO_POSITIVE_RULES = ("no_finding", "drop")
NO_FINDING_CLASS = "No Finding"


def _item_id(item: dict, id_key: str) -> str:
    if id_key not in item:
        raise ValueError(f"item has no {id_key!r} (keys: {sorted(item)}); each image needs a stable id.")
    return str(item[id_key])


def simulate_single_positive(
    datalist: Sequence[dict],
    classes: Sequence[str],
    seed: int = 0,
    no_positive: str = "no_finding",
    label_key: str = "label",
    id_key: str = "id",
) -> dict:
    """Draw one observed positive per image.

    Args:
        datalist: items with a full 0/1 ``label_key`` vector over ``classes`` and a unique ``id_key``.
        classes: the class names of the label vectors.
        seed: the simulation's seed.
        no_positive: rule for images without a positive, one of :data:`NO_POSITIVE_RULES`.
        label_key: key of the full label vector.
        id_key: key of the image id.

    Returns:
        A JSON-able record: ``seed``, ``no_positive``, ``classes`` (with "No Finding" appended under
        ``"no_finding"``), ``observed`` (``{id: class index}``, dropped images absent), ``dropped`` (ids),
        ``num_images``, ``true_positives``, ``observed_positives`` and ``hidden_positives``
        (true positives that became unobserved).

    Raises:
        ValueError: for an unknown rule, duplicate ids, a label of the wrong length, or a class list that
            already has "No Finding" under ``"no_finding"``.
    """
    if no_positive not in NO_POSITIVE_RULES:
        raise ValueError(f"no_positive must be one of {NO_POSITIVE_RULES}, got {no_positive!r}.")
    classes = list(classes)
    if no_positive == "no_finding" and NO_FINDING_CLASS in classes:
        raise ValueError(f"classes already contain {NO_FINDING_CLASS!r}; use no_positive='drop' or remove it.")
    observed: dict[str, int] = {}
    dropped: list[str] = []
    true_pos = 0
    for item in datalist:
        key = _item_id(item, id_key)
        if key in observed or key in dropped:
            raise ValueError(f"duplicate image id {key!r}.")
        label = np.asarray(item[label_key]).reshape(-1)
        if label.shape[0] != len(classes):
            raise ValueError(f"{key}: label has {label.shape[0]} entries, expected {len(classes)} classes.")
        positives = np.flatnonzero(label > 0.5)
        true_pos += len(positives)
        if len(positives) == 0:
            if no_positive == "drop":
                dropped.append(key)
            else:
                observed[key] = len(classes)
            continue
        rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
        observed[key] = int(positives[rng.integers(len(positives))])
    num_observed_findings = sum(1 for v in observed.values() if v < len(classes))
    return {
        "seed": seed,
        "no_positive": no_positive,
        "classes": classes + ([NO_FINDING_CLASS] if no_positive == "no_finding" else []),
        "num_images": len(datalist),
        "true_positives": int(true_pos),
        "observed_positives": int(num_observed_findings),
        "hidden_positives": int(true_pos - num_observed_findings),
        "dropped": dropped,
        "observed": observed,
    }


def apply_single_positive(
    datalist: Sequence[dict], record: dict, label_key: str = "label", id_key: str = "id"
) -> list[dict]:
    """Items with the simulated labels: ``label`` = the single observed positive (1) and zeros (unobserved),
    ``full_label`` = the full labels over the same classes, ``index`` = position in the returned list.

    Args:
        datalist: the items the record was drawn from.
        record: the output of :func:`simulate_single_positive`.
        label_key: key of the full label vector in ``datalist``.
        id_key: key of the image id.

    Returns:
        New dicts (the input is not changed); dropped images are left out.

    Raises:
        ValueError: when an image is neither observed nor dropped in the record.
    """
    num = len(record["classes"])
    extra = record["no_positive"] == "no_finding"
    dropped = set(record["dropped"])
    out = []
    for item in datalist:
        key = _item_id(item, id_key)
        if key in dropped:
            continue
        if key not in record["observed"]:
            raise ValueError(f"{key}: not in the single-positive record; was it drawn from another datalist?")
        full = np.zeros(num, np.float32)
        base = np.asarray(item[label_key], np.float32).reshape(-1)
        full[: base.shape[0]] = base
        if extra and base.max(initial=0) <= 0.5:
            full[-1] = 1.0
        single = np.zeros(num, np.float32)
        single[int(record["observed"][key])] = 1.0
        out.append({**item, "label": single, "full_label": full, "index": len(out)})
    return out


def load_or_simulate_single_positive(
    path: str | Path,
    datalist: Sequence[dict],
    classes: Sequence[str],
    seed: int = 0,
    no_positive: str = "no_finding",
    label_key: str = "label",
    id_key: str = "id",
) -> dict:
    """Reuse the simulated labels in ``path`` when they match (seed, rule, classes, image ids), else draw and save.

    Args:
        path: the JSON file (e.g. next to the run).
        datalist, classes, seed, no_positive, label_key, id_key: as in :func:`simulate_single_positive`.

    Returns:
        ``{"data": apply_single_positive(...), "record": record, "classes": record["classes"], "path": str}``.

    Raises:
        ValueError: when ``path`` holds labels drawn with other settings or for other images.
    """
    path = Path(path)
    ids = sorted(_item_id(item, id_key) for item in datalist)
    if path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
        wanted = {"seed": seed, "no_positive": no_positive}
        got = {k: record.get(k) for k in wanted}
        base_classes = record["classes"][:-1] if record.get("no_positive") == "no_finding" else record["classes"]
        if got != wanted or base_classes != list(classes):
            raise ValueError(
                f"{path}: labels drawn with {got}, classes {base_classes}; asked for {wanted}, {list(classes)}."
            )
        if sorted(list(record["observed"]) + record["dropped"]) != ids:
            raise ValueError(f"{path}: labels drawn for other images; delete the file or use another path.")
    else:
        record = simulate_single_positive(datalist, classes, seed, no_positive, label_key, id_key)
        write_text_atomic(path, json.dumps(record, indent=1))
    return {
        "data": apply_single_positive(datalist, record, label_key, id_key),
        "record": record,
        "classes": record["classes"],
        "path": str(path),
    }
