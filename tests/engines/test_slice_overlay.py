from __future__ import annotations

import numpy as np
import pytest
import torch
from ignite.engine import Engine

pytest.importorskip("matplotlib", reason="figures need the plot extra (matplotlib)")

from noisymed.engines import SliceOverlaySaver, busiest_slice, mask_of  # noqa: E402


def test_mask_of_and_busiest_slice():
    onehot = torch.zeros(2, 3, 3, 4)
    onehot[0] = 1
    onehot[1, :, :, 2], onehot[0, :, :, 2] = 1, 0
    onehot[1, 0, 0, 1], onehot[0, 0, 0, 1] = 1, 0
    mask = mask_of(onehot)
    assert mask.shape == (3, 3, 4) and mask[..., 2].sum() == 9 and mask[..., 1].sum() == 1
    assert busiest_slice(mask, 4) == 2 and busiest_slice(None, 4) == 2 and busiest_slice(np.zeros((3, 3, 5)), 5) == 2
    assert mask_of(np.array([[[0.2, 0.7]]], np.float32)).tolist() == [[False, True]]


def test_the_first_cases_get_a_png_named_after_the_case(tmp_path):
    def step(engine, batch):
        image = torch.rand(1, 8, 8, 6)
        label = torch.zeros(2, 8, 8, 6)
        label[0] = 1
        label[1, 2:6, 2:6, 4], label[0, 2:6, 2:6, 4] = 1, 0
        return [{"image": image, "label": label, "pred": label.clone(), "case": f"C{batch}"}]

    saver = SliceOverlaySaver(tmp_path, num_cases=2)
    engine = Engine(step)
    saver.attach(engine)
    engine.run([0, 1, 2], max_epochs=1)
    assert [p.name for p in saver.saved] == ["overlay_C0.png", "overlay_C1.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay_C0.png", "overlay_C1.png"]
    with pytest.raises(FileExistsError, match="overlay_C0.png already exists"):
        SliceOverlaySaver(tmp_path)(type("E", (), {"state": type("S", (), {"output": step(None, 0)})()})())
    with pytest.raises(ValueError, match="num_cases"):
        SliceOverlaySaver(tmp_path, num_cases=0)


def test_names_come_from_the_batch_or_the_file_and_never_collide(tmp_path):
    from monai.data import MetaTensor

    def step(engine, batch):
        image = MetaTensor(torch.rand(1, 6, 6), meta={"filename_or_obj": f"/data/{batch}/mri_norm2.h5"})
        pred = torch.zeros(2, 6, 6)
        pred[0] = 1
        return [{"image": image, "pred": pred}]

    engine = Engine(step)
    saver = SliceOverlaySaver(tmp_path / "by_file", num_cases=2)
    saver.attach(engine)
    engine.run(["A", "B"], max_epochs=1)
    assert [p.name for p in saver.saved] == ["overlay_mri_norm2.png", "overlay_mri_norm2_1.png"]

    named = SliceOverlaySaver(tmp_path / "by_case")
    state = type("S", (), {"output": step(None, "A"), "batch": [{"case": "LA/07"}]})()
    named(type("E", (), {"state": state})())
    assert [p.name for p in named.saved] == ["overlay_LA_07.png"]
