"""MONAI's ``CSVSaver`` with a header row naming the classes, for classification inference outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monai.data import CSVSaver

__all__ = ["ProbabilityCSVSaver"]


class ProbabilityCSVSaver(CSVSaver):
    """Write ``filename,<class 0>,<class 1>,...`` once, then one row of probabilities per image.

    MONAI's ``CSVSaver`` writes bare rows; a reader then has to know the class order. This saver writes the
    header when it creates the file, and checks each row's length against it. Use it as the ``saver`` of
    MONAI's ``ClassificationSaver`` handler.

    Args:
        classes: the class names, in the network's output order.
        kwargs: everything ``CSVSaver`` takes (``output_dir``, ``filename``, ``overwrite``...).

    Raises:
        ValueError: for no classes, or (at ``finalize``) a row whose length differs from ``len(classes)``.
    """

    def __init__(self, classes: Sequence[str], **kwargs: Any) -> None:
        if not classes:
            raise ValueError("classes must name at least one class.")
        super().__init__(**kwargs)
        self.classes = [str(c) for c in classes]

    def finalize(self) -> None:
        for key, value in self._cache_dict.items():
            if value.size != len(self.classes):
                raise ValueError(f"{key}: {value.size} values for {len(self.classes)} classes {self.classes}.")
        if not self._filepath.exists() or self._filepath.stat().st_size == 0:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            with open(self._filepath, "w") as f:
                f.write(self.delimiter.join(["filename", *self.classes]) + "\n")
        super().finalize()
