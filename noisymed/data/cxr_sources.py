"""One entry point for the chest X-ray label sources: ``cxr_datalist(source, root, ...)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .chexpert import CHEXPERT_CLASSES, chexpert_datalist
from .mimic_cxr import mimic_cxr_datalist
from .nih_cxr14 import NIH_CLASSES, nih_cxr14_datalist, nih_subset_datalist

__all__ = ["CXR_SOURCES", "cxr_datalist", "cxr_classes"]

CXR_SOURCES = ("nih_subset", "nih", "chexpert", "mimic")


def cxr_classes(source: str) -> tuple[str, ...]:
    """The default finding classes of a source: NIH's 14 findings, or CheXpert's observations other than
    "No Finding" (13; CheXpert and MIMIC-CXR). "No Finding" is left out because the single-positive
    simulation's ``"no_finding"`` rule adds it as the last class of images without any finding.

    Raises:
        ValueError: for an unknown source.
    """
    if source not in CXR_SOURCES:
        raise ValueError(f"label source must be one of {CXR_SOURCES}, got {source!r}.")
    return NIH_CLASSES if source.startswith("nih") else tuple(c for c in CHEXPERT_CLASSES if c != "No Finding")


def cxr_datalist(source: str, root: str | Path, classes: Any = None, **kwargs: Any) -> list[dict]:
    """Read a chest X-ray label source in its real format.

    ``"nih_subset"``: ``<root>/labels.csv`` of the local 64 px subset (:func:`nih_subset_datalist`);
    ``"nih"``: ``<root>/Data_Entry_2017.csv`` with PNGs in ``<root>/images`` (:func:`nih_cxr14_datalist`);
    ``"chexpert"``: ``<root>/train.csv`` (or ``csv=...``) (:func:`chexpert_datalist`);
    ``"mimic"``: MIMIC-CXR-JPG's three ``.csv.gz`` files in ``root`` (:func:`mimic_cxr_datalist`).

    Args:
        source: one of :data:`CXR_SOURCES`.
        root: the dataset folder.
        classes: the class set; None for the source's default findings (:func:`cxr_classes`).
        kwargs: options of the source's reader (``uncertain``, ``blank``, ``frontal_only``, ``split``, ``csv``...).

    Returns:
        The datalist.

    Raises:
        ValueError: for an unknown source, no image left after filtering, an image listed twice (and whatever the
            reader raises).
        FileNotFoundError: when ``root`` does not exist.
    """
    classes = tuple(classes) if classes is not None else cxr_classes(source)
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: dataset folder not found.")
    if source == "nih_subset":
        items = nih_subset_datalist(root, classes=classes, **kwargs)
    elif source == "nih":
        items = nih_cxr14_datalist(root / kwargs.pop("csv", "Data_Entry_2017.csv"), classes=classes, **kwargs)
    elif source == "chexpert":
        items = chexpert_datalist(
            root / kwargs.pop("csv", "train.csv"), image_root=root.parent, classes=classes, **kwargs
        )
    elif source == "mimic":
        items = mimic_cxr_datalist(root, classes=classes, **kwargs)
    else:
        raise ValueError(f"label source must be one of {CXR_SOURCES}, got {source!r}.")
    if not items:
        options = f" with {kwargs}" if kwargs else ""
        raise ValueError(
            f"{root}: the {source} labels{options} leave no image (every row filtered out: check split, frontal_only "
            "or frontal_views, and that the label file lists this dataset's images)."
        )
    seen: set[str] = set()
    for item in items:
        if item["image"] in seen:
            raise ValueError(
                f"{item['image']} is listed twice in the {source} labels under {root}; list each image once "
                "(a repeated image is trained on twice, or leaks between training and validation)."
            )
        seen.add(item["image"])
    return items
