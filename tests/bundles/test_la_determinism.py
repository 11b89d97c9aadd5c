"""Same command and seed, same machine and thread count: the LA bundle trains to bit-identical weights."""

from __future__ import annotations

from pathlib import Path

import torch
from monai.bundle import run as bundle_run

from noisymed.data import ensure_la_demo

CONFIGS = Path(__file__).resolve().parents[2] / "bundles" / "la_mutual_learning" / "configs"


def _train(root: Path, data: Path, seed: int) -> dict:
    bundle_run(
        config_file=[str(CONFIGS / "train.json")],
        logging_file=str(CONFIGS / "logging.conf"),
        bundle_root=str(root),
        dataset_dir=str(data),
        num_labeled=2,
        num_val=1,
        features=4,
        patch_size=[16, 16, 16],
        pixdim=[1.25, 1.25, 1.25],
        num_workers=0,
        max_iterations=4,
        val_interval=2,
        rampup_interval=1,
        seed=seed,
    )
    return torch.load(root / "models" / "checkpoint_final.pt", map_location="cpu", weights_only=False)


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    threads = torch.get_num_threads()
    first, second = _train(tmp_path / "a", data, 7), _train(tmp_path / "b", data, 7)
    assert torch.get_num_threads() == threads
    assert first["trainer"]["iteration"] == second["trainer"]["iteration"] == 4
    for name, value in first["model"].items():
        assert torch.equal(value, second["model"][name]), name
    for a, b in zip(first["optimizer"]["state"].values(), second["optimizer"]["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])
    best_a = torch.load(tmp_path / "a" / "models" / "model.pt", weights_only=True)
    best_b = torch.load(tmp_path / "b" / "models" / "model.pt", weights_only=True)
    assert all(torch.equal(best_a[k], best_b[k]) for k in best_a)  # the same checkpoint was chosen on validation
    other = _train(tmp_path / "c", data, 8)
    assert not all(torch.equal(v, other["model"][k]) for k, v in first["model"].items())

