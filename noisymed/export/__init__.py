"""Export of a trained bundle to the MONAI model zoo's layout: vendored code, requirements, weights, zip.

Not imported by ``import noisymed``: it is tooling, and the vendored copy leaves it out.
"""

from __future__ import annotations

from .configs import config_imports, rewrite_config
from .export_bundle import REQUIRED_BUNDLE_FILES, ZOO_MAX_FILE_BYTES, export_bundle
from .requirements import installed_versions, is_published
from .vendor import third_party_imports, vendor_package
from .weights import half_precision_error, half_precision_state

# ``fp16_check`` is also run as ``python -m noisymed.export.fp16_check``: imported here eagerly, runpy would warn
# that the module is already in ``sys.modules`` before it runs as ``__main__``; so its names load on first use.
_FP16_CHECK = ("compare_fp16_evaluation", "compare_prediction_files", "read_metrics_csv")


def __getattr__(name: str) -> object:
    """The names of :mod:`noisymed.export.fp16_check`, imported on first use (PEP 562)."""
    if name in _FP16_CHECK:
        from . import fp16_check

        return getattr(fp16_check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "export_bundle",
    "REQUIRED_BUNDLE_FILES",
    "ZOO_MAX_FILE_BYTES",
    "rewrite_config",
    "config_imports",
    "installed_versions",
    "is_published",
    "vendor_package",
    "third_party_imports",
    "half_precision_state",
    "half_precision_error",
    "compare_fp16_evaluation",
    "compare_prediction_files",
    "read_metrics_csv",
]
