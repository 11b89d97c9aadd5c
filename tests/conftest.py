from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LA_H5 = SHARED_DATA / "la_h5"

requires_la = pytest.mark.skipif(
    not (LA_H5 / "train48.list").is_file(),
    reason=f"real LA data not found at {LA_H5} (it ships beside the repository in ../shared, not in it)",
)

MEDMNIST = SHARED_DATA / "medmnist"

requires_medmnist = pytest.mark.skipif(
    not (MEDMNIST / "pneumoniamnist.npz").is_file() or not (MEDMNIST / "adrenalmnist3d.npz").is_file(),
    reason=f"real MedMNIST files not found in {MEDMNIST} (they ship beside the repository in ../shared, not in it)",
)


def exception_messages(exc: BaseException | None) -> str:
    """All messages of an exception chain (MONAI wraps a reader's or a config item's error in its own)."""
    out = []
    while exc is not None:
        out.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(out)


def parse_error(parser, key: str) -> str:
    """The messages of the exception chain that parsing config item ``key`` raises (fails when it raises none)."""
    with pytest.raises(Exception) as err:
        parser.get_parsed_content(key)
    return exception_messages(err.value)


def check_model_zoo_layout(bundle: Path, *extra_configs: str) -> dict:
    """The model-zoo files of ``bundle`` exist and its metadata names the current schema, input ``image`` and
    output ``pred``; return the metadata."""
    import json

    configs = bundle / "configs"
    for name in ("metadata.json", "train.json", *extra_configs, "evaluate.json", "inference.json", "multi_gpu_train.json", "logging.conf"):
        assert (configs / name).is_file(), name
    assert (bundle / "docs" / "README.md").is_file() and (bundle / "LICENSE").is_file()
    meta = json.loads((configs / "metadata.json").read_text())
    assert "schema" in meta and meta["schema"].endswith("meta_schema_20240725.json")
    assert list(meta["network_data_format"]["inputs"]) == ["image"]
    assert list(meta["network_data_format"]["outputs"]) == ["pred"]
    return meta


def check_torchscript_export(configs: Path, net, x, tmp_path: Path, **overrides) -> None:
    """``ckpt_export`` of ``net``'s state dict through a bundle's inference config gives the same output as ``net``."""
    import torch
    from monai.bundle import ckpt_export

    net = net.eval()
    torch.save(net.state_dict(), tmp_path / "model.pt")
    ckpt_export(
        net_id="network_def", filepath=str(tmp_path / "model.ts"), ckpt_file=str(tmp_path / "model.pt"),
        meta_file=str(configs / "metadata.json"), config_file=str(configs / "inference.json"), **overrides,
    )  # fmt: skip
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(tmp_path / "model.ts"))(x), net(x), atol=1e-5)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it), for a test's process group.

    A fixed port fails when another job on the machine holds it; the port is free when returned (another process
    could still take it before the group binds it, which the OS makes unlikely by not reusing ports at once).
    """
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_multi_gpu_bundle(configs: Path, *args: str):
    """``train.json`` + ``multi_gpu_train.json`` of a bundle under ``torchrun --nproc_per_node=2`` (gloo, CPU).

    Args:
        configs: the bundle's configs folder.
        args: ``--key value`` overrides.

    Returns:
        The completed process, after asserting it exited with 0 (its output tail is the assertion message).
    """
    import os
    import subprocess
    import sys

    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}",
        "-m", "monai.bundle", "run",
        "--config_file", f"['{configs / 'train.json'}','{configs / 'multi_gpu_train.json'}']",
        "--logging_file", str(configs / "logging.conf"), *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def write_la_case(root: Path, name: str, image=None, label=None, shape=(20, 18, 16)) -> Path:
    """Write ``<root>/<name>/mri_norm2.h5`` with the given arrays (random binary/normal when None)."""
    import h5py
    import numpy as np

    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    if image is None:
        image = rng.standard_normal(shape).astype(np.float32)
    if label is None:
        label = (rng.random(shape) > 0.8).astype(np.uint8)
    (root / name).mkdir(parents=True, exist_ok=True)
    path = root / name / "mri_norm2.h5"
    with h5py.File(path, "w") as f:
        if image is not False:
            f["image"] = image
        if label is not False:
            f["label"] = label
    return path


@pytest.fixture
def tiny_la(tmp_path):
    """A 6-case LA-layout folder with train.list (5 cases) and test.list (1 case)."""
    names = [f"CASE{i}" for i in range(6)]
    for n in names:
        write_la_case(tmp_path, n)
    (tmp_path / "train.list").write_text("\n".join(names[:5]) + "\n")
    (tmp_path / "test.list").write_text(names[5] + "\n")
    return tmp_path
