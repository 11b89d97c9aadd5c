"""The command line of `python -m monai.bundle run` as noisymed bundles see it (the top layer): its guards."""

from __future__ import annotations

from .guard import (
    ALLOW_NEW_KEYS_ENV,
    RUN_ARGUMENTS,
    cli_overrides,
    config_ids,
    error_cause,
    guard_command_line,
    install_cause_last_hook,
    refuse_unknown_overrides,
    unknown_overrides,
)

__all__ = [
    "ALLOW_NEW_KEYS_ENV",
    "RUN_ARGUMENTS",
    "cli_overrides",
    "config_ids",
    "error_cause",
    "guard_command_line",
    "install_cause_last_hook",
    "refuse_unknown_overrides",
    "unknown_overrides",
]
