"""Validation labels as noisy as the training labels, the situation of a user who has no clean labels at all.

Validating on clean labels while training on noisy ones quietly rescues a method: the best-validation model is
picked with information the user does not have (on PneumoniaMNIST, CE at 40 % noise scores 0.62 at its last epoch
but 0.77 at its best clean-validation epoch). With ``enabled`` the validation labels get the same kind and rate of
noise as the training labels (their own record file); every item keeps its clean label under ``clean_key``, so the
clean accuracy of whichever model is picked can still be measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from noisymed.utils import as_bool

from .noise import apply_label_noise

__all__ = ["noisy_validation_labels"]


def noisy_validation_labels(
    datalist: list[dict], enabled: bool | str, out_file: str | Path, **make_kwargs: Any
) -> list[dict]:
    """The validation datalist, with noisy labels when ``enabled``, otherwise unchanged.

    Args:
        datalist: validation items with an integer ``label``.
        enabled: inject noise (a bool or the text MONAI's command line passes).
        out_file: the JSON noise record of the validation labels (reused when its settings match).
        make_kwargs: the training noise's settings (``noise_type``, ``rate``, ``num_classes``, ``seed``, ``mode``,
            ``groups``), as :func:`noisymed.labels.apply_label_noise` takes them.

    Returns:
        ``datalist`` itself when not enabled; otherwise copies with ``label`` noisy and ``clean_label`` clean.

    Raises:
        TypeError: for an ``enabled`` that is not a boolean.
        ValueError: everything :func:`noisymed.labels.apply_label_noise` raises.
    """
    if not as_bool(enabled, "val_noise"):
        return datalist
    return apply_label_noise(datalist, out_file, **make_kwargs)
