"""Copy the ``noisymed`` package into a bundle's ``scripts/`` folder so the bundle runs without it installed."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

from noisymed.utils import write_text_atomic

__all__ = ["vendor_package", "third_party_imports"]


def _relative(module: str, package: str, importer: str, is_package: bool) -> str:
    """``from <module> import`` as seen from ``importer``, as a relative module path (``..utils``)."""
    here = importer.split(".") if is_package else importer.split(".")[:-1]
    target = module.split(".")
    depth = len(here) - 1  # levels up from the importer's package to the package root
    return "." * (depth + 1) + ".".join(target[1:])


#: The line length of the model zoo's black and isort settings; a rewritten import that fits is put on one line.
ZOO_LINE_LENGTH = 120


def _import_text(node: ast.ImportFrom, lines: list[str], module: str) -> list[str]:
    """The lines of ``node`` with its module replaced by ``module``: one line where the statement spanned several
    (a parenthesised name list, no comment) and its one-line form now fits in :data:`ZOO_LINE_LENGTH`, as black
    (``--skip-magic-trailing-comma``) and isort (profile black) write it."""
    text = lines[node.lineno - 1 : node.end_lineno]
    first = text[0]
    start = first.index("from", node.col_offset) + len("from ")
    end = first.index(node.module, start) + len(node.module)
    text = [first[:start] + module + first[end:], *text[1:]]
    if len(text) > 1 and not any("#" in line for line in text) and not text[-1][node.end_col_offset :].strip():
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
        one_line = f"{first[: node.col_offset]}from {module} import {names}"
        if len(one_line) <= ZOO_LINE_LENGTH:
            text = [one_line + "\n"]
    return text


def _statement_lists(tree: ast.AST) -> list[list[ast.stmt]]:
    """Every list of statements in ``tree`` (the module body, function bodies, ``if``/``try`` branches ...)."""
    out = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                out.append(value)
    return out


def _rewrite_imports(source: str, path: Path, package: str, module: str, is_package: bool) -> str:
    """``source`` with every ``from <package>[.x] import y`` made relative; ``import <package>`` is refused.

    The rewritten imports join the relative ones as isort (profile black) wants them: one block, no blank line
    between the two, ``..`` before ``.``, and each statement on one line where it now fits.
    """
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines(keepends=True)
    rewritten: dict[int, tuple[str, list[str]]] = {}  # id of the statement -> its relative module, its new lines
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    raise ValueError(
                        f"{path}:{node.lineno}: 'import {alias.name}' cannot be vendored; write 'from {package}... import "
                        "name' or a relative import."
                    )
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            if node.module == package or node.module.startswith(package + "."):
                relative = _relative(node.module, package, module, is_package)
                rewritten[id(node)] = relative, _import_text(node, lines, relative)
    if not rewritten:
        return source

    def relative_module(node: ast.stmt) -> str | None:
        if id(node) in rewritten:
            return rewritten[id(node)][0]
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            return "." * node.level + (node.module or "")
        return None

    def sort_key(node: ast.stmt) -> tuple[int, str]:  # isort's order: more leading dots first, then the name
        name = relative_module(node) or ""
        dots = len(name) - len(name.lstrip("."))
        return -dots, name[dots:].lower()

    edits: list[tuple[int, int, list[str]]] = []  # rows [start, end) replaced by lines
    for body in _statement_lists(tree):
        i = 0
        while i < len(body):
            run = [body[i]]  # relative imports (after the rewrite) with only blank lines between them
            while i + len(run) < len(body):
                prev, nxt = run[-1], body[i + len(run)]
                gap = lines[prev.end_lineno : nxt.lineno - 1]
                if relative_module(prev) is None or relative_module(nxt) is None or nxt.lineno <= prev.end_lineno:
                    break
                if any(line.strip() for line in gap):
                    break
                run.append(nxt)
            if any(id(n) in rewritten for n in run):
                text = []
                for node in sorted(run, key=sort_key) if len(run) > 1 else run:
                    text += (
                        rewritten[id(node)][1] if id(node) in rewritten else lines[node.lineno - 1 : node.end_lineno]
                    )
                edits.append((run[0].lineno - 1, run[-1].end_lineno, text))
            i += len(run)
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = text
    return "".join(lines)


def vendor_package(
    source_dir: str | Path, target_dir: str | Path, package: str = "noisymed", exclude: Iterable[str] = ("export",)
) -> list[Path]:
    """Copy the Python files of a package, its imports of itself made relative, so it works under any name.

    ``<source_dir>/a/b.py`` goes to ``<target_dir>/a/b.py``; ``from noisymed.utils import x`` in it becomes
    ``from ..utils import x``, so the copy imports itself, never an installed ``noisymed``.

    Args:
        source_dir: the package folder (holding ``__init__.py``).
        target_dir: the folder the copy becomes (e.g. ``<bundle>/scripts/noisymed``).
        package: the package's import name.
        exclude: top-level subpackages not copied (the export tool itself).

    Returns:
        The files written, in name order.

    Raises:
        FileNotFoundError: when ``source_dir`` is not a package.
        ValueError: for an ``import <package>`` statement, which has no relative form (the file and line named).
    """
    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if not (source_dir / "__init__.py").is_file():
        raise FileNotFoundError(f"{source_dir}: not a Python package (no __init__.py).")
    skipped = set(exclude)
    written = []
    for path in sorted(source_dir.rglob("*.py")):
        rel = path.relative_to(source_dir)
        if "__pycache__" in rel.parts or (len(rel.parts) > 1 and rel.parts[0] in skipped):
            continue
        is_package = path.name == "__init__.py"
        parts = rel.with_suffix("").parts[:-1] if is_package else rel.with_suffix("").parts
        module = ".".join((package, *parts))
        text = _rewrite_imports(path.read_text(encoding="utf-8"), path, package, module, is_package)
        written.append(write_text_atomic(target_dir / rel, text))
    return written


def third_party_imports(files: Iterable[str | Path], own: Iterable[str] = ("noisymed",)) -> tuple[set[str], set[str]]:
    """Top-level names of the modules some files import that are neither the standard library nor their own.

    Args:
        files: Python files.
        own: top-level names to leave out (the package itself).

    Returns:
        ``(module_level, lazy)``: names imported at module level (needed as soon as the code is imported), and
        names imported only inside functions (needed by the features that use them).
    """
    skip = set(own) | set(sys.stdlib_module_names) | {"__future__"}
    eager: set[str] = set()
    lazy: set[str] = set()
    for file in files:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"), filename=str(file))
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            else:
                continue
            inside_function = id(node) not in top_level and not _in_module_block(tree, node)
            for name in names:
                if name not in skip:
                    (lazy if inside_function else eager).add(name)
    return eager, lazy - eager


def _in_module_block(tree: ast.Module, target: ast.AST) -> bool:
    """Whether ``target`` sits in a module-level ``if``/``try`` block (imported with the module), not in a function."""
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            for inner in ast.walk(node):
                if inner is target:
                    return True
    return False
