"""The MONAI model zoo's bundle checks, with MONAI's public API only: runs where noisymed is NOT installed.

This file imports nothing from noisymed (only the standard library, torch and MONAI), so it can be run by path
with an interpreter that lacks noisymed, from anywhere::

    python noisymed/export/zoo_checks.py dist/la_mutual_learning --schema meta_schema_20240725.json

What it checks, after the zoo's ``ci/verify_bundle.py`` and ``CONTRIBUTING.md`` (Project-MONAI/model-zoo):

1. layout: ``configs/metadata.json``, ``LICENSE``, ``docs/README.md``, ``docs/data_license.txt``, the preferred
   ``configs/inference.json`` and ``models/model.pt``; ``large_files.yml`` entries with ``path``/``url``/
   ``hash_val``/``hash_type`` and a supported hash type, the hash matching the file;
2. size: every file at most 25 MB (the zoo's per-file limit) unless ``large_files.yml`` lists it (hosted);
3. ``version`` present with a ``changelog`` entry;
4. ``verify_metadata`` against the given schema file (the zoo's ``eval/schema.json``; nothing is downloaded);
5. ``verify_net_in_out`` of ``network_def`` in ``configs/inference.json`` (the zoo's default net id and config);
6. ``ckpt_export`` of ``models/model.pt`` to TorchScript, then ``torch.jit.load`` of the result;
7. ``ConfigWorkflow(..., workflow_type="train"|"infer").check_properties()`` returning no missing property
   (the train check with ``bundle_root`` in a temporary folder, so data it prepares lands there; the infer check
   with ``dataset_dir`` an empty temporary folder).

The bundle root is put first on ``sys.path`` (what ``python -m monai.bundle run`` from the bundle root and
``ConfigWorkflow.run`` do), so ``scripts`` is the bundle's own code. With ``--forbid noisymed`` the check first
makes sure that ``noisymed`` cannot be imported, and fails otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

__all__ = ["check_bundle", "main"]

MAX_FILE_BYTES = 25 * 1000 * 1000
HASH_TYPES = ("md5", "sha1", "sha256", "sha512")


def _large_files(bundle: Path) -> dict[str, dict]:
    path = bundle / "large_files.yml"
    if not path.is_file():
        return {}
    import yaml

    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("large_files", [])
    out = {}
    for entry in entries:
        missing = [k for k in ("path", "url", "hash_val", "hash_type") if k not in entry]
        if missing:
            raise AssertionError(f"{path}: entry {entry} lacks {missing}.")
        if entry["hash_type"] not in HASH_TYPES:
            raise AssertionError(f"{path}: hash_type {entry['hash_type']!r} is not one of {HASH_TYPES}.")
        out[entry["path"]] = entry
    return out


def check_bundle(bundle: str | Path, schema: str | Path | None, forbid: tuple[str, ...] = ()) -> list[str]:
    """Run the checks on an exported bundle; return what passed, one line each.

    Args:
        bundle: the bundle folder.
        schema: the metadata schema file (None: the schema check is skipped and reported so).
        forbid: modules that must not be importable (``noisymed``).

    Returns:
        The passed checks.

    Raises:
        AssertionError: for a failed check (named); MONAI's own errors pass through.
    """
    bundle = Path(bundle).resolve()
    done = []
    for name in forbid:
        if importlib.util.find_spec(name) is not None:
            raise AssertionError(
                f"{name} is importable here ({importlib.util.find_spec(name).origin}): not a clean check."
            )
    if forbid:
        done.append(f"not importable: {', '.join(forbid)}")
    sys.path.insert(0, str(bundle))

    for rel in (
        "configs/metadata.json",
        "configs/inference.json",
        "LICENSE",
        "docs/README.md",
        "docs/data_license.txt",
        "models/model.pt",
    ):
        if not (bundle / rel).is_file():
            raise AssertionError(f"{bundle}: {rel} is missing.")
    large = _large_files(bundle)
    for rel, entry in large.items():
        digest = hashlib.new(entry["hash_type"])
        digest.update((bundle / rel).read_bytes())
        if entry["hash_val"] and digest.hexdigest() != entry["hash_val"]:
            raise AssertionError(f"large_files.yml: the {entry['hash_type']} of {rel} is not {entry['hash_val']}.")
    done.append(f"layout; large_files.yml lists {sorted(large)} with matching hashes")
    too_big = [
        str(p.relative_to(bundle)) for p in bundle.rglob("*")
        if p.is_file() and p.stat().st_size > MAX_FILE_BYTES and str(p.relative_to(bundle)) not in large
    ]  # fmt: skip
    if too_big:
        raise AssertionError(f"files over 25 MB not listed in large_files.yml: {too_big}.")
    biggest = max((p.stat().st_size for p in bundle.rglob("*") if p.is_file()), default=0)
    done.append(f"sizes: largest file {biggest / 1e6:.1f} MB (limit 25 MB unless hosted)")

    meta = json.loads((bundle / "configs" / "metadata.json").read_text(encoding="utf-8"))
    if "version" not in meta or meta["version"] not in meta.get("changelog", {}):
        raise AssertionError("metadata: 'version' missing or not in 'changelog'.")
    done.append(f"version {meta['version']} with changelog")

    from monai.bundle import ConfigWorkflow, ckpt_export, verify_metadata, verify_net_in_out

    meta_file, infer_file = str(bundle / "configs" / "metadata.json"), str(bundle / "configs" / "inference.json")
    if schema is not None:
        verify_metadata(meta_file=meta_file, filepath=str(schema))
        done.append("verify_metadata")
    else:
        done.append("verify_metadata SKIPPED (no schema file given)")
    verify_net_in_out(
        net_id="network_def", meta_file=meta_file, config_file=infer_file, bundle_root=str(bundle), n=1, device="cpu"
    )
    done.append("verify_net_in_out")
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        ts = Path(tmp) / "model.ts"
        ckpt_export(
            net_id="network_def", filepath=str(ts), ckpt_file=str(bundle / "models" / "model.pt"),
            meta_file=meta_file, config_file=infer_file, bundle_root=str(bundle),
        )  # fmt: skip
        torch.jit.load(str(ts))
    done.append("ckpt_export + torch.jit.load")

    configs = {"train": bundle / "configs" / "train.json", "infer": bundle / "configs" / "inference.json"}
    for workflow_type, config in configs.items():
        if not config.is_file():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            overrides = (
                {"bundle_root": tmp} if workflow_type == "train" else {"bundle_root": str(bundle), "dataset_dir": tmp}
            )
            workflow = ConfigWorkflow(
                config_file=str(config), meta_file=meta_file, workflow_type=workflow_type, **overrides
            )
            workflow.initialize()
            missing = workflow.check_properties()
            if missing:
                raise AssertionError(f"{config.name}: {workflow_type} properties missing or with wrong ids: {missing}.")
        done.append(f"check_properties({workflow_type})")
    return done


def main(argv: list[str] | None = None) -> int:
    """Command line: ``zoo_checks.py BUNDLE [--schema FILE] [--forbid noisymed]``; prints each passed check."""
    parser = argparse.ArgumentParser(description="MONAI model-zoo checks of a bundle (see the module docstring).")
    parser.add_argument("bundle")
    parser.add_argument("--schema", default=None, help="metadata schema file (the zoo's eval/schema.json)")
    parser.add_argument("--forbid", action="append", default=[], help="a module that must not be importable")
    args = parser.parse_args(argv)
    for line in check_bundle(args.bundle, args.schema, tuple(args.forbid)):
        print(f"passed: {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
