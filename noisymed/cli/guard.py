"""Guards for ``python -m monai.bundle run``: refuse override typos, and end a failure with its cause.

MONAI's bundle command line accepts any ``--key value``: a typo (``--num_labelled 2``) adds a new config key and
the run goes on with the default. And when a config item fails, the last line a user sees is MONAI's generic
``RuntimeError: Failed to evaluate ConfigExpression`` / ``Failed to instantiate component``; the real cause sits
mid-traceback. :func:`guard_command_line`, called first in a bundle's ``initialize`` list, fixes both.
"""

from __future__ import annotations

import ast
import difflib
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "RUN_ARGUMENTS",
    "ALLOW_NEW_KEYS_ENV",
    "guard_command_line",
    "cli_overrides",
    "config_ids",
    "unknown_overrides",
    "refuse_unknown_overrides",
    "error_cause",
    "install_cause_last_hook",
]

RUN_ARGUMENTS = frozenset(
    {
        "run_id",
        "init_id",
        "final_id",
        "meta_file",
        "config_file",
        "logging_file",
        "tracking",
        "args_file",
        "workflow_name",
        "workflow_type",
        "properties_path",
    }
)
"""Arguments of ``monai.bundle run`` itself: not config overrides."""

TRACKING_KEYS = frozenset({"output_dir", "tracking_uri", "experiment_name", "run_name", "save_execute_config"})
"""Keys ``--tracking`` adds to a config (MONAI's experiment-management settings)."""

ALLOW_NEW_KEYS_ENV = "NOISYMED_ALLOW_NEW_KEYS"
"""Set to ``1`` to let an override add a key no config file has (the check is then skipped)."""

MONAI_WRAPPERS = ("Failed to evaluate", "Failed to instantiate component")


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def cli_overrides(argv: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Split a ``monai.bundle run`` command line into its run arguments and its config overrides.

    Reads ``--key value``, ``--key=value`` and a bare ``--flag`` (fire's ``True``), as fire does; positional
    words (``run``, a run id) are ignored.

    Args:
        argv: the words after the program name, e.g. ``["run", "--config_file", "configs/train.json", "--seed", "1"]``.

    Returns:
        ``(run_arguments, override_keys)``: the run arguments with their values (parsed as Python literals where
        they are, e.g. a list of config files) and the override keys in command-line order.
    """
    run_args: dict[str, Any] = {}
    keys: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("--") or word == "--":
            continue
        key, has_value, value = word[2:].partition("=")
        if not has_value:
            if i < len(words) and not words[i].startswith("--"):
                value = words[i]
                i += 1
            else:
                value = "True"
        key = key.replace("-", "_") if key.replace("-", "_") in RUN_ARGUMENTS else key
        if key in RUN_ARGUMENTS:
            run_args[key] = _parse_value(value)
        else:
            keys.append(key)
    return run_args, keys


def config_ids(config: Any, prefix: str = "") -> list[str]:
    """Every id of a parsed config: ``"a"``, ``"a#b"``, ``"a#0"`` ... (MONAI's ``#`` separator).

    Args:
        config: the config content (dicts and lists).
        prefix: the id of ``config`` itself (empty at the top).

    Returns:
        The ids of all items below ``config``, parents before children.
    """
    ids: list[str] = []
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(config, Mapping):
        items = config.items()
    elif isinstance(config, list):
        items = enumerate(config)
    for key, value in items:
        item_id = f"{prefix}#{key}" if prefix else str(key)
        ids.append(item_id)
        ids.extend(config_ids(value, item_id))
    return ids


def _lookup(config: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    node = config
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def unknown_overrides(
    config: Mapping[str, Any], keys: Iterable[str], extra: Iterable[str] = ()
) -> dict[str, list[str]]:
    """The override keys that name no item of ``config``, each with the closest valid ids.

    A key is known when its id exists, or when it sets a new keyword argument of an existing component (its
    parent is a dict with ``_target_``), or when it is in ``extra``.

    Args:
        config: the merged config content the run reads.
        keys: the override keys (``::`` is read as ``#``, as MONAI does).
        extra: keys allowed besides the config's (e.g. those ``--tracking`` adds).

    Returns:
        ``{key: [closest ids]}`` for each unknown key, in the order given.
    """
    allowed = set(extra)
    unknown: dict[str, list[str]] = {}
    all_ids: list[str] | None = None
    for key in keys:
        item_id = key.replace("::", "#")
        if item_id in allowed:
            continue
        parts = item_id.split("#")
        found, _ = _lookup(config, parts)
        if found:
            continue
        parent_found, parent = _lookup(config, parts[:-1])
        if parent_found and isinstance(parent, Mapping) and "_target_" in parent:
            continue
        if all_ids is None:
            all_ids = config_ids(config)
        unknown[key] = difflib.get_close_matches(item_id, all_ids, n=3, cutoff=0.6)
    return unknown


def refuse_unknown_overrides(argv: Sequence[str] | None = None) -> None:
    """Stop a ``monai.bundle run`` whose command line overrides a key that no config file has.

    Does nothing unless ``argv`` is given or this process is ``python -m monai.bundle run ...`` (a call of
    ``monai.bundle.run`` from Python passes its overrides as keywords, which this cannot see), or when
    ``NOISYMED_ALLOW_NEW_KEYS=1`` is set.

    Args:
        argv: the command line after the program name (default: ``sys.argv[1:]`` of a bundle run).

    Raises:
        ValueError: naming each unknown key with the closest valid keys, and how to add a new key on purpose.
    """
    if os.environ.get(ALLOW_NEW_KEYS_ENV, "") == "1":
        return
    if argv is None:
        if not _is_bundle_run(sys.argv):
            return
        argv = sys.argv[1:]
    from monai.bundle import ConfigParser

    run_args, keys = cli_overrides(argv)
    if "args_file" in run_args:
        from_file = ConfigParser.load_config_file(str(run_args["args_file"]))
        run_args = {**{k: v for k, v in from_file.items() if k in RUN_ARGUMENTS}, **run_args}
        keys = [k for k in from_file if k not in RUN_ARGUMENTS] + keys
    if not keys or "config_file" not in run_args:
        return
    config = ConfigParser.load_config_files(run_args["config_file"])
    extra = TRACKING_KEYS if run_args.get("tracking") else frozenset()
    unknown = unknown_overrides(config, keys, extra)
    if unknown:
        lines = []
        for key, close in unknown.items():
            hint = f"; did you mean {', '.join('--' + c for c in close)}?" if close else ""
            lines.append(f"--{key} names no key of {run_args['config_file']}{hint}")
        raise ValueError(
            "unknown override(s): " + " | ".join(lines) + f" (to add a new key on purpose, set {ALLOW_NEW_KEYS_ENV}=1)"
        )


def _is_bundle_run(argv: Sequence[str]) -> bool:
    program = Path(argv[0]) if argv else Path()
    return program.name == "__main__.py" and program.parent.name == "bundle" and len(argv) > 1 and argv[1] == "run"


def error_cause(exc: BaseException) -> BaseException:
    """The exception that says what went wrong: the outermost one in the chain that is not one of MONAI's
    config wrappers (``Failed to evaluate ...`` / ``Failed to instantiate component ...``).

    Args:
        exc: the exception that reached the top.

    Returns:
        That exception, or ``exc`` itself when the chain holds nothing else.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not (isinstance(current, RuntimeError) and str(current).startswith(MONAI_WRAPPERS)):
            return current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return exc


def _print_cause_last(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    _PREVIOUS_HOOK(exc_type, exc, tb)
    cause = error_cause(exc)
    if cause is not exc:
        text = "".join(traceback.format_exception_only(type(cause), cause)).rstrip()
        print(f"\nThe cause of the error above:\n{text}", file=sys.stderr)


_PREVIOUS_HOOK = sys.excepthook


def install_cause_last_hook() -> None:
    """Make an uncaught error end with its cause: after the usual traceback, print the exception that
    :func:`error_cause` finds, when that is not the last one already. Installed once; the previous hook still
    prints the traceback."""
    global _PREVIOUS_HOOK
    if sys.excepthook is not _print_cause_last:
        _PREVIOUS_HOOK = sys.excepthook
        sys.excepthook = _print_cause_last


def guard_command_line() -> None:
    """The first item of a bundle's ``initialize``: a failing run ends with its cause, and an override that
    names no config key stops the run (see :func:`refuse_unknown_overrides`).

    Raises:
        ValueError: for an override that names no config key.
    """
    if _is_bundle_run(sys.argv):
        install_cause_last_hook()
    refuse_unknown_overrides()
