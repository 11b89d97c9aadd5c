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


def run_multi_gpu_bundle(configs: Path, port: int, *args: str):
    """``train.json`` + ``multi_gpu_train.json`` of a bundle under ``torchrun --nproc_per_node=2`` (gloo, CPU).

    Args:
        configs: the bundle's configs folder.
        port: a master port of its own (tests may run side by side).
        args: ``--key value`` overrides.

    Returns:
        The completed process, after asserting it exited with 0 (its output tail is the assertion message).
    """
    import os
    import subprocess
    import sys

    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
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
