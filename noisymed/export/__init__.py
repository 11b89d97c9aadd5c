"""Export of a trained bundle to the MONAI model zoo's layout: vendored code, requirements, weights, zip.

Not imported by ``import noisymed``: it is tooling, and the vendored copy leaves it out.
"""

from __future__ import annotations

from .configs import config_imports, rewrite_config
from .export_bundle import REQUIRED_BUNDLE_FILES, ZOO_MAX_FILE_BYTES, export_bundle
from .requirements import installed_versions, is_published
from .vendor import third_party_imports, vendor_package
from .weights import half_precision_error, half_precision_state

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
]
