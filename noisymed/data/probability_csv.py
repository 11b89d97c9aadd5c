"""MONAI's ``CSVSaver`` with a header row naming the classes and the project's overwrite policy, for
classification inference and evaluation outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monai.data import CSVSaver

from noisymed.utils import as_bool, refuse_overwrite, write_text_atomic

__all__ = ["ProbabilityCSVSaver"]


class ProbabilityCSVSaver(CSVSaver):
    """Write ``filename,<class 0>,<class 1>,...`` and one row of probabilities per image, one whole file per run.

    MONAI's ``CSVSaver`` writes bare rows and appends to whatever file is there (rows of another width end up
    under an old header), or deletes the old file as soon as it is created. This saver follows the project's
    overwrite policy (:func:`noisymed.utils.refuse_overwrite`): when the file exists it refuses at construction,
    before the run writes anything, unless ``overwrite`` is set; it never appends. Each ``finalize`` writes the
    header and every row saved so far to a temporary file and renames it into place, so the file on disk is
    always whole. Use it as the ``saver`` of MONAI's ``ClassificationSaver`` handler.

    Args:
        classes: the class names, in the network's output order.
        output_dir: the folder of the CSV file.
        filename: the CSV file's name.
        overwrite: replace an existing file (whole, atomically) instead of refusing to run.
        delimiter: the column delimiter.
        hint: the other way on, named in the refusal besides ``--overwrite true``.

    Raises:
        ValueError: for no classes, or (at ``finalize``) a row whose length differs from ``len(classes)``.
        FileExistsError: when the file exists and ``overwrite`` is false (the file named).
        TypeError: for an ``overwrite`` that is not a boolean.
    """

    def __init__(
        self,
        classes: Sequence[str],
        output_dir: Any = "./",
        filename: str = "predictions.csv",
        overwrite: bool | str = False,
        delimiter: str = ",",
        hint: str = "pass another --output_dir",
    ) -> None:
        if not classes:
            raise ValueError("classes must name at least one class.")
        super().__init__(output_dir=output_dir, filename=filename, overwrite=False, flush=False, delimiter=delimiter)
        self.classes = [str(c) for c in classes]
        self.overwrite = as_bool(overwrite, "overwrite")
        refuse_overwrite(self._filepath, self.overwrite, hint=hint)
        self._rows: list[str] = []

    def finalize(self) -> None:
        """Write the header and all rows saved so far (atomically), then clear the cache."""
        for key, value in self._cache_dict.items():
            if value.size != len(self.classes):
                raise ValueError(f"{key}: {value.size} values for {len(self.classes)} classes {self.classes}.")
        self._rows.extend(
            self.delimiter.join([str(key), *map(str, value.flatten())]) for key, value in self._cache_dict.items()
        )
        header = self.delimiter.join(["filename", *self.classes])
        write_text_atomic(self._filepath, "\n".join([header, *self._rows]) + "\n")
        self.reset_cache()
