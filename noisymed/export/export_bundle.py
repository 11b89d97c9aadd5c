"""Export a trained bundle as a self-contained MONAI model-zoo bundle (folder + zip)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

import noisymed
from noisymed.utils import atomic_path, refuse_overwrite, torch_save_atomic, write_text_atomic

from .configs import config_imports, rewrite_config
from .requirements import installed_versions
from .vendor import third_party_imports, vendor_package
from .weights import half_precision_error, half_precision_state

__all__ = ["export_bundle", "ZOO_MAX_FILE_BYTES", "REQUIRED_BUNDLE_FILES"]

#: The model zoo's limit per file in its repository (CONTRIBUTING.md, "Model storage": 25MB); larger files are
#: hosted elsewhere and listed in ``large_files.yml``.
ZOO_MAX_FILE_BYTES = 25 * 1000 * 1000

#: What a bundle must hold before it can be exported (relative to the bundle root).
REQUIRED_BUNDLE_FILES = (
    "configs/metadata.json",
    "configs/inference.json",
    "configs/train.json",
    "LICENSE",
    "docs/README.md",
    "docs/data_license.txt",
    "models/model.pt",
)

_VERSIONED_ELSEWHERE = {"monai": "monai_version", "torch": "pytorch_version", "numpy": "numpy_version"}


def _check_sources(bundle: Path) -> None:
    missing = [name for name in REQUIRED_BUNDLE_FILES if not (bundle / name).is_file()]
    if missing:
        hints = []
        if "models/model.pt" in missing:
            hints.append(
                f"there are no trained weights: train the bundle first (python -m monai.bundle run --config_file "
                f"configs/train.json --bundle_root {bundle}) or copy a trained models/ folder into it"
            )
        if any(m.startswith("docs/") or m == "LICENSE" for m in missing):
            hints.append("the zoo asks for a LICENSE, docs/README.md and docs/data_license.txt (the data's terms)")
        raise FileNotFoundError(
            f"{bundle}: cannot export, missing {', '.join(missing)}: {'; '.join(hints) or 'add them'}."
        )


def _fake_shape(spec: list, n: int = 4, p: int = 4) -> list[int]:
    """A concrete input shape from a metadata ``spatial_shape`` (ints, or ``"16*n"`` / ``"2**p"`` strings)."""
    shape = []
    for item in spec:
        if isinstance(item, int):
            shape.append(item)
        elif isinstance(item, str) and re.fullmatch(r"[0-9np*+\- ()]+", item):
            shape.append(int(eval(item, {"__builtins__": {}}, {"n": n, "p": p})))  # digits, n, p and * + - only
        else:
            raise ValueError(f"metadata spatial_shape entry {item!r} is not an int nor an expression of n or p.")
    return shape


def _example_input(meta: dict) -> torch.Tensor:
    image = meta["network_data_format"]["inputs"]["image"]
    shape = [1, int(image.get("num_channels", 1)), *_fake_shape(image["spatial_shape"])]
    gen = torch.Generator().manual_seed(0)
    low_high = image.get("value_range") or []
    if len(low_high) == 2:
        return torch.rand(shape, generator=gen) * (low_high[1] - low_high[0]) + low_high[0]
    return torch.randn(shape, generator=gen)


def _network(bundle: Path, meta: dict) -> torch.nn.Module:
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_meta(str(bundle / "configs" / "metadata.json"))
    parser.read_config(str(bundle / "configs" / "inference.json"))
    parser["bundle_root"] = str(bundle)
    return parser.get_parsed_content("network_def")


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    raise ValueError(f"{path}: is not a plain state dict of tensors (the file a noisymed bundle's training writes).")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=4, ensure_ascii=False) + "\n")


def _copy_file(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def export_bundle(
    bundle: str | Path, out: str | Path, weights: str = "auto", fp16_tolerance: float = 1e-3, overwrite: bool = False
) -> dict[str, Any]:
    """Write ``<out>/<name>/`` (a self-contained model-zoo bundle) and ``<out>/<name>_v<version>.zip``.

    The export holds ``LICENSE``, ``docs/`` (with ``data_license.txt``), ``configs/`` (rewritten to the vendored
    code: ``$import scripts.noisymed as noisymed``, ``_target_`` ``scripts.noisymed...``), ``models/model.pt`` (and
    the ``models/*.json`` settings inference reads), ``scripts/noisymed/`` (this package, its imports of itself
    made relative; the export tool is left out) and ``large_files.yml`` (``models/model.pt``: URL empty for the
    publisher, SHA-256 filled in). In ``configs/metadata.json`` ``required_packages_version`` lists the published
    distributions the configs and the vendored code import at module level, ``optional_packages_version`` those
    imported only inside functions (one not installed here is left out and named in the report), each with the
    version installed here; ``monai_version``/``pytorch_version``/
    ``numpy_version`` are set to the installed ones.

    Weights: ``"fp32"`` keeps ``model.pt``; ``"fp16"`` stores its float tensors as float16 after checking that the
    network's outputs on a metadata-shaped input move by at most ``fp16_tolerance`` of their range, else refuses;
    ``"auto"`` does that only for a file over the zoo's 25 MB limit and keeps float32 when the check fails (the
    file must then be hosted; ``large_files.yml`` lists it either way).

    Args:
        bundle: the bundle folder, trained (``models/model.pt``).
        out: the output folder (created).
        weights: ``"auto"``, ``"fp16"`` or ``"fp32"``.
        fp16_tolerance: the largest relative output change float16 storage may cause.
        overwrite: replace an earlier export of this bundle (folder and zip) instead of refusing.

    Returns:
        The export report (also written to ``<out>/<name>_export_report.json``): paths, weights dtype, sizes,
        the float16 check's numbers, the requirements.

    Raises:
        FileNotFoundError: when the bundle lacks a file the export needs (all named, with what to do).
        FileExistsError: for an earlier export when ``overwrite`` is false.
        ValueError: for a bad ``weights``, a float16 check that fails with ``weights="fp16"``, a config import the
            rewrite cannot keep working, an unpublished requirement, a config format other than JSON naming
            ``noisymed``.
    """
    if weights not in ("auto", "fp16", "fp32"):
        raise ValueError(f"weights must be 'auto', 'fp16' or 'fp32', got {weights!r}.")
    bundle, out = Path(bundle).expanduser().resolve(), Path(out).expanduser()
    if not bundle.is_dir():
        raise FileNotFoundError(f"{bundle}: bundle folder not found.")
    _check_sources(bundle)
    meta = json.loads((bundle / "configs" / "metadata.json").read_text(encoding="utf-8"))
    name, version = bundle.name, str(meta.get("version", ""))
    if not version or version not in meta.get("changelog", {}):
        raise ValueError(f"{bundle / 'configs' / 'metadata.json'}: 'version' must be set and have a 'changelog' entry.")
    target, archive = out / name, out / f"{name}_v{version}.zip"
    report_path = out / f"{name}_export_report.json"
    refuse_overwrite([target, archive, report_path], overwrite, hint="pass --overwrite true to replace that export")

    out.mkdir(parents=True, exist_ok=True)
    stage = out / f".{name}.export-tmp"
    if stage.exists():
        shutil.rmtree(stage)  # a stage an interrupted export left: never a finished result
    try:
        report = _build(bundle, stage, meta, weights, fp16_tolerance)
        if target.exists():
            shutil.rmtree(target)
        stage.rename(target)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    with atomic_path(archive) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in target.rglob("*") if p.is_file()):
                zf.write(path, arcname=f"{name}/{path.relative_to(target).as_posix()}")
    report.update({"bundle": str(bundle), "export": str(target), "zip": str(archive)})
    _write_json(report_path, report)
    return report


def _build(bundle: Path, stage: Path, meta: dict, weights: str, fp16_tolerance: float) -> dict[str, Any]:
    report: dict[str, Any] = {"name": bundle.name, "version": meta["version"]}
    _copy_file(bundle / "LICENSE", stage / "LICENSE")
    for path in sorted(p for p in (bundle / "docs").rglob("*") if p.is_file()):
        _copy_file(path, stage / "docs" / path.relative_to(bundle / "docs"))

    imported: set[str] = set()
    for path in sorted(p for p in (bundle / "configs").rglob("*") if p.is_file()):
        rel = path.relative_to(bundle)
        if path.suffix == ".json" and path.name != "metadata.json":
            config = json.loads(path.read_text(encoding="utf-8"))
            imported |= config_imports(config)
            _write_json(stage / rel, rewrite_config(config, where=str(rel)))
        elif path.name != "metadata.json":
            if path.suffix in (".yaml", ".yml") and "noisymed" in path.read_text(encoding="utf-8"):
                raise ValueError(f"{path}: YAML configs naming noisymed are not rewritten by the export; use JSON.")
            _copy_file(path, stage / rel)

    package_dir = Path(noisymed.__file__).parent
    vendored = vendor_package(package_dir, stage / "scripts" / "noisymed")
    own_scripts = bundle / "scripts"
    if own_scripts.is_dir():
        for path in sorted(p for p in own_scripts.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            rel = path.relative_to(own_scripts)
            if rel.parts[0] == "noisymed":
                raise ValueError(f"{path}: the bundle's scripts/noisymed would be replaced by the vendored package.")
            _copy_file(path, stage / "scripts" / rel)
    if not (stage / "scripts" / "__init__.py").is_file():
        write_text_atomic(stage / "scripts" / "__init__.py", '"""Code this bundle runs: a copy of noisymed."""\n')
    eager, lazy = third_party_imports(
        [*vendored, *sorted((stage / "scripts").glob("*.py"))], own=("noisymed", "scripts")
    )
    imported = {m for m in imported if m not in sys.stdlib_module_names and m not in ("scripts", "noisymed")}
    # what the source metadata required stays required (e.g. tensorboard, used through MONAI's handlers)
    listed = {k for k in meta.get("required_packages_version", {}) if k != "noisymed"}
    required = installed_versions(eager | imported, drop=_VERSIONED_ELSEWHERE)
    for dist in sorted(listed):
        required.update(installed_versions([_module_of(dist)], drop=_VERSIONED_ELSEWHERE))
    providers = metadata.packages_distributions()
    missing_optional = sorted(m for m in lazy if m not in providers)  # features this installation lacks too
    optional = {
        k: v
        for k, v in installed_versions(lazy - set(missing_optional), drop=_VERSIONED_ELSEWHERE).items()
        if k not in required
    }
    meta = dict(meta)
    meta["required_packages_version"] = dict(sorted(required.items(), key=lambda kv: kv[0].lower()))
    meta["optional_packages_version"] = optional
    versions = installed_versions(list(_VERSIONED_ELSEWHERE))
    meta["monai_version"] = versions["monai"]
    meta["pytorch_version"] = versions["torch"].split("+")[0]
    meta["numpy_version"] = versions["numpy"]
    _write_json(stage / "configs" / "metadata.json", meta)
    report["required_packages_version"] = meta["required_packages_version"]
    report["optional_packages_version"] = optional
    report["optional_modules_not_installed"] = missing_optional

    for path in sorted((bundle / "models").glob("*.json")):
        _copy_file(path, stage / "models" / path.name)
    source = bundle / "models" / "model.pt"
    state = _state_dict(source)
    size32 = source.stat().st_size
    report["weights"] = {"source_bytes": size32, "dtype": "float32"}
    if weights == "fp16" or (weights == "auto" and size32 > ZOO_MAX_FILE_BYTES):
        error = half_precision_error(_network(bundle, meta), state, _example_input(meta))
        report["weights"]["fp16_check"] = {**error, "tolerance": fp16_tolerance}
        if error["max_rel"] <= fp16_tolerance:
            state = half_precision_state(state)
            report["weights"]["dtype"] = "float16"
        elif weights == "fp16":
            raise ValueError(
                f"{source}: float16 storage changes the outputs by {error['max_rel']:.2e} of their range (> "
                f"{fp16_tolerance:.0e}); export with --weights fp32 and host the file (large_files.yml)."
            )
    if report["weights"]["dtype"] == "float32":
        _copy_file(source, stage / "models" / "model.pt")
    else:
        torch_save_atomic(state, stage / "models" / "model.pt")
    model = stage / "models" / "model.pt"
    report["weights"]["export_bytes"] = model.stat().st_size
    report["weights"]["within_zoo_limit"] = model.stat().st_size <= ZOO_MAX_FILE_BYTES
    sha = _sha256(model)
    write_text_atomic(
        stage / "large_files.yml",
        "# Files over the model zoo's 25 MB limit, or hosted outside its repository: upload each file and fill in\n"
        "# its url; hash_val is the SHA-256 of the exported file.\n"
        f'large_files:\n  - path: "models/model.pt"\n    url: ""\n    hash_val: {json.dumps(sha)}\n    hash_type: "sha256"\n',
    )
    report["weights"]["sha256"] = sha
    too_large = [
        str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file() and p.stat().st_size > ZOO_MAX_FILE_BYTES
    ]
    report["files_over_zoo_limit"] = too_large
    return report


def _module_of(distribution: str) -> str:
    """A top-level module an installed distribution provides (to look its version up like the imported ones)."""
    for module, dists in metadata.packages_distributions().items():
        if any(d.lower() == distribution.lower() for d in dists):
            return module
    raise ModuleNotFoundError(f"metadata requires {distribution!r}, which is not installed here; install it first.")
