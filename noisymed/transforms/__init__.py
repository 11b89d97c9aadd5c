"""MONAI-style transforms that MONAI lacks."""

from __future__ import annotations

from .labeled_flag import MarkLabeledd

__all__ = ["MarkLabeledd"]
