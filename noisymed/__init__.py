"""noisymed: MONAI-native training on imperfect medical imaging labels.

Layers (a lower one never imports a higher one):
``utils`` → ``data`` → ``labels`` → ``transforms`` → ``networks`` → ``losses`` → ``metrics`` → ``engines``
→ ``cli``.
"""

from __future__ import annotations

from . import cli, data, engines, labels, losses, metrics, networks, transforms, utils

__version__ = "0.1.0"

__all__ = ["__version__", "cli", "data", "engines", "labels", "losses", "metrics", "networks", "transforms", "utils"]
