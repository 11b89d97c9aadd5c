"""noisymed: MONAI-native training on imperfect medical imaging labels.

Layers (a lower one never imports a higher one):
``utils`` → ``data`` → ``transforms`` → ``networks`` → ``losses`` → ``metrics`` → ``engines``.
"""

from __future__ import annotations

from . import data, engines, labels, losses, metrics, networks, transforms, utils

__version__ = "0.1.0"

__all__ = ["__version__", "data", "engines", "labels", "losses", "metrics", "networks", "transforms", "utils"]
