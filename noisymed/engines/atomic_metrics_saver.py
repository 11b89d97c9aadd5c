"""MONAI's ``MetricsSaver`` with every CSV written to a temporary name and renamed into place.

MONAI's ``write_metrics_reports`` opens ``metrics.csv``, ``<metric>_raw.csv`` and ``<metric>_summary.csv`` in the
evaluation folder and writes them line by line: a run killed while writing (or a full disk) leaves a truncated CSV
that a later reader (a benchmark, ``noisymed.export.read_metrics_csv``, a spreadsheet) takes for a finished one.
:class:`AtomicMetricsSaver` lets MONAI write the reports into a private staging folder inside ``save_dir`` and then
moves each finished file into place with ``os.replace``, so every CSV in ``save_dir`` is either the previous
complete one or the new complete one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import ignite.distributed as idist
from monai.handlers import MetricsSaver

from noisymed.utils.atomic_write import TEMP_MARK

__all__ = ["AtomicMetricsSaver", "STAGING_PREFIX"]

STAGING_PREFIX = ".metrics_saver."
"""Start of the staging folders' names (``.metrics_saver.<random>.tmp``), hidden and marked as temporary."""


class AtomicMetricsSaver(MetricsSaver):
    """``monai.handlers.MetricsSaver`` whose CSV files appear in ``save_dir`` only when complete.

    It takes exactly MONAI's arguments and writes the same files with the same content; only the way they reach
    ``save_dir`` differs. Staging folders that a killed run left behind are removed when the next evaluation
    epoch starts.

    Args:
        save_dir: folder for the reports (created when needed).
        *args: the other positional arguments of ``MetricsSaver``.
        **kwargs: the other keyword arguments of ``MetricsSaver`` (``metrics``, ``metric_details``,
            ``batch_transform``, ``summary_ops``, ``save_rank``, ``delimiter``, ``output_type``).

    Raises:
        ValueError: when ``save_dir`` is empty.
    """

    def __init__(self, save_dir: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        if not str(save_dir).strip():
            raise ValueError("save_dir must name a folder for the metric reports, got an empty string.")
        super().__init__(save_dir, *args, **kwargs)

    def _started(self, _engine: Any) -> None:
        super()._started(_engine)
        folder = Path(self.save_dir)
        if idist.get_rank() == self.save_rank and folder.is_dir():  # only the writing rank touches the folder
            for leftover in folder.glob(f"{STAGING_PREFIX}*{TEMP_MARK}"):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)

    def __call__(self, engine: Any) -> None:
        """Write the reports as ``MetricsSaver`` does, through a staging folder, then rename each into place.

        Args:
            engine: the ignite engine whose epoch has completed.
        """
        if idist.get_rank() != self.save_rank:  # this rank only joins the gather of file names; it writes nothing
            super().__call__(engine)
            return
        target = Path(self.save_dir)
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target, prefix=STAGING_PREFIX, suffix=TEMP_MARK))
        try:
            self.save_dir = str(staging)
            super().__call__(engine)
            for report in sorted(staging.iterdir()):
                if not report.is_file():
                    continue
                with open(report, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(report, target / report.name)
        finally:
            self.save_dir = str(target)
            shutil.rmtree(staging, ignore_errors=True)
