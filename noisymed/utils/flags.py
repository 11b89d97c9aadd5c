"""Boolean options that may arrive as text from MONAI's bundle command line."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_bool"]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def as_bool(value: Any, name: str = "value") -> bool:
    """Read a boolean option, accepting the text forms a command line gives.

    ``python -m monai.bundle run ... --resume false`` passes the *string* ``"false"``, which Python reads as
    true (MONAI's command line parses ``False`` but not ``false``). This maps ``true/false``, ``yes/no``,
    ``on/off`` and ``1/0`` (any case, surrounding blanks ignored), Python and NumPy bools and the integers
    0 and 1 to a ``bool``, and refuses anything else rather than guessing.

    Args:
        value: the option's value.
        name: the option's name, for the error message.

    Returns:
        The boolean.

    Raises:
        TypeError: for any other value (``"maybe"``, ``2``, ``None``, a list ...).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise TypeError(f"{name} must be a bool (true/false), got {value!r}.")
