"""Small helpers used by every layer."""

from __future__ import annotations

from .atomic_write import (
    TEMP_MARK,
    atomic_path,
    remove_temporaries,
    torch_save_atomic,
    write_bytes_atomic,
    write_text_atomic,
)
from .figures import new_figure, plot_bars, plot_curves, plot_overlay, save_figure
from .flags import as_bool
from .hardware import at_least_float32, autocast_off, channels_last_format, to_channels_last
from .options import as_int, as_size, as_spacing
from .overwrite import refuse_overwrite
from .ramps import ConsistencyWeight, sigmoid_rampup

__all__ = [
    "sigmoid_rampup",
    "ConsistencyWeight",
    "atomic_path",
    "write_bytes_atomic",
    "write_text_atomic",
    "torch_save_atomic",
    "remove_temporaries",
    "TEMP_MARK",
    "as_bool",
    "to_channels_last",
    "channels_last_format",
    "autocast_off",
    "at_least_float32",
    "as_int",
    "as_spacing",
    "as_size",
    "refuse_overwrite",
    "new_figure",
    "save_figure",
    "plot_curves",
    "plot_bars",
    "plot_overlay",
]
