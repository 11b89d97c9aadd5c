"""The published distributions (and their installed versions) that provide some imported modules."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import metadata

__all__ = ["installed_versions", "is_published"]


def is_published(distribution: str) -> bool:
    """Whether an installed distribution came from a package index, not from a local folder or file.

    pip records a local or editable install in ``direct_url.json`` (PEP 610); an install from an index has none,
    or one naming a remote archive.

    Args:
        distribution: the distribution name.

    Returns:
        False for a local folder, an editable install or a local file.
    """
    text = metadata.distribution(distribution).read_text("direct_url.json")
    if not text:
        return True
    info = json.loads(text)
    return "dir_info" not in info and not str(info.get("url", "")).startswith("file:")


def installed_versions(modules: Iterable[str], drop: Iterable[str] = ()) -> dict[str, str]:
    """``{distribution: installed version}`` for the distributions that provide some top-level modules.

    Args:
        modules: top-level import names (``PIL``, ``ignite``, ``SimpleITK``).
        drop: distribution names to leave out (e.g. those the bundle metadata lists in fields of their own).

    Returns:
        The distributions, sorted by name (``PIL`` → ``pillow``, ``ignite`` → ``pytorch-ignite``).

    Raises:
        ModuleNotFoundError: for a module no installed distribution provides (named).
        ValueError: for a distribution installed from a local folder or file (named): it is not published, so a
            bundle cannot ask the zoo to install it.
    """
    providers = metadata.packages_distributions()
    dropped = {d.lower() for d in drop}
    out: dict[str, str] = {}
    for module in sorted(set(modules)):
        names = providers.get(module)
        if not names:
            raise ModuleNotFoundError(f"no installed distribution provides the module {module!r}; install it first.")
        name = metadata.distribution(names[0]).metadata["Name"]
        if name.lower() in dropped:
            continue
        if not is_published(name):
            raise ValueError(
                f"{name} (providing {module!r}) is installed from a local folder or file, not a package index: a zoo "
                "bundle can only require published packages. Vendor its code too or install a released version."
            )
        out[name] = metadata.version(name)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))
