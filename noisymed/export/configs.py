"""Point a bundle config at a vendored copy of a package (``scripts/<package>``) instead of the installed one."""

from __future__ import annotations

from typing import Any

__all__ = ["rewrite_config", "config_imports"]


def rewrite_config(config: Any, package: str = "noisymed", prefix: str = "scripts", where: str = "config") -> Any:
    """A copy of a parsed bundle config that uses ``<prefix>.<package>`` (the bundle's own code).

    - ``"$import <package>"`` becomes ``"$import <prefix>.<package> as <package>"``: every expression keeps
      naming ``<package>.x.y`` and now reaches the vendored copy;
    - a ``_target_`` ``"<package>.x.Y"`` becomes ``"<prefix>.<package>.x.Y"``.

    Args:
        config: the parsed JSON (dicts, lists, strings, numbers).
        package: the vendored package's import name.
        prefix: the package the copy lives in (the zoo's ``scripts``).
        where: the file's name, for error messages.

    Returns:
        The rewritten config.

    Raises:
        ValueError: for another import of the package (``$import <package>.x``, ``$from <package> import y``),
            which the rewrite cannot keep working; the file and the text are named.
    """
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if key == "_target_" and isinstance(value, str) and (value == package or value.startswith(package + ".")):
                out[key] = f"{prefix}.{value}"
            else:
                out[key] = rewrite_config(value, package, prefix, where)
        return out
    if isinstance(config, list):
        return [rewrite_config(v, package, prefix, where) for v in config]
    if isinstance(config, str) and config.startswith("$") and _imports_package(config, package):
        if config.strip() == f"$import {package}":
            return f"$import {prefix}.{package} as {package}"
        raise ValueError(f"{where}: {config!r}: only '$import {package}' can be pointed at the vendored copy; use it.")
    return config


def _imports_package(text: str, package: str) -> bool:
    words = text[1:].split()
    return (
        len(words) >= 2
        and words[0] in ("import", "from")
        and (words[1] == package or words[1].startswith(package + "."))
    )


def config_imports(config: Any) -> set[str]:
    """Top-level module names a config imports (``$import x``, ``$from x import y``) or names in ``_target_`` paths.

    Args:
        config: the parsed JSON.

    Returns:
        The names (``numpy``, ``torch``, ``ignite`` ...); a bare class name (``"DiceLoss"``, found in MONAI) is not
        a module path and is left out.
    """
    found: set[str] = set()
    if isinstance(config, dict):
        for key, value in config.items():
            if key == "_target_" and isinstance(value, str) and "." in value:
                found.add(value.split(".")[0])
            else:
                found |= config_imports(value)
    elif isinstance(config, list):
        for value in config:
            found |= config_imports(value)
    elif isinstance(config, str) and config.startswith("$"):
        words = config[1:].split()
        if len(words) >= 2 and words[0] in ("import", "from"):
            found.add(words[1].split(".")[0])
    return found
