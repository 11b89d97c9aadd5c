from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from noisymed.labels import apply_single_positive, load_or_simulate_single_positive, simulate_single_positive

CLASSES = ["a", "b", "c", "d"]


def _data():
    labels = [[1, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]
    return [{"id": f"img{i}", "label": np.asarray(v, np.float32), "patient_id": str(i // 2)} for i, v in enumerate(labels)]


def test_one_observed_positive_among_the_true_ones_and_hidden_count():
    data = _data()
    rec = simulate_single_positive(data, CLASSES, seed=3)
    assert rec["classes"] == CLASSES + ["No Finding"]
    assert rec["true_positives"] == 3 + 0 + 1 + 2 + 0 + 4 == 10
    assert rec["observed_positives"] == 4 and rec["hidden_positives"] == 6  # one kept per image with findings
    for item in data:
        obs = rec["observed"][item["id"]]
        if item["label"].sum() == 0:
            assert obs == 4  # "No Finding" is the observed positive of an image without findings
        else:
            assert item["label"][obs] == 1
    assert rec["observed"]["img2"] == 1  # the only positive


def test_determinism_order_independence_and_seed_dependence():
    data = _data()
    a = simulate_single_positive(data, CLASSES, seed=0)
    b = simulate_single_positive(list(reversed(data)), CLASSES, seed=0)
    assert a["observed"] == b["observed"]
    # over many images, another seed changes some draws, and draws are uniform among the positives
    many = [{"id": f"x{i}", "label": np.ones(4, np.float32)} for i in range(400)]
    c0 = simulate_single_positive(many, CLASSES, seed=0)["observed"]
    c1 = simulate_single_positive(many, CLASSES, seed=1)["observed"]
    assert c0 != c1
    counts = np.bincount(list(c0.values()), minlength=4)
    assert counts.min() > 70  # ~100 each


def test_drop_rule_and_apply():
    data = _data()
    rec = simulate_single_positive(data, CLASSES, seed=0, no_positive="drop")
    assert rec["classes"] == CLASSES and rec["dropped"] == ["img1", "img4"]
    items = apply_single_positive(data, rec)
    assert [i["id"] for i in items] == ["img0", "img2", "img3", "img5"] and [i["index"] for i in items] == [0, 1, 2, 3]
    for item in items:
        assert item["label"].sum() == 1 and item["label"].dtype == np.float32
        assert (item["label"] <= item["full_label"]).all()  # the observed positive is a true positive
    nf = apply_single_positive(data, simulate_single_positive(data, CLASSES, seed=0))
    assert nf[1]["label"].tolist() == [0, 0, 0, 0, 1] and nf[1]["full_label"].tolist() == [0, 0, 0, 0, 1]
    assert nf[0]["full_label"].tolist() == [1, 1, 0, 1, 0]
    assert data[0]["label"].shape == (4,)  # input untouched


def test_saved_and_reused(tmp_path):
    data = _data()
    path = tmp_path / "run" / "labels.json"
    first = load_or_simulate_single_positive(path, data, CLASSES, seed=5)
    saved = json.loads(path.read_text())
    assert saved["hidden_positives"] == 6 and saved["observed"] == first["record"]["observed"]
    saved["observed"]["img0"] = 3  # a reused file wins over a fresh draw
    path.write_text(json.dumps(saved))
    again = load_or_simulate_single_positive(path, data, CLASSES, seed=5)
    assert again["data"][0]["label"].tolist() == [0, 0, 0, 1, 0]
    with pytest.raises(ValueError, match="labels drawn with"):
        load_or_simulate_single_positive(path, data, CLASSES, seed=6)
    with pytest.raises(ValueError, match="labels drawn for other images"):
        load_or_simulate_single_positive(path, data[:3], CLASSES, seed=5)


def test_errors():
    with pytest.raises(ValueError, match="no_positive must be one of"):
        simulate_single_positive(_data(), CLASSES, no_positive="ignore")
    with pytest.raises(ValueError, match="duplicate image id 'img0'"):
        simulate_single_positive(_data() + _data()[:1], CLASSES)
    with pytest.raises(ValueError, match="expected 3 classes"):
        simulate_single_positive(_data(), CLASSES[:3])
    with pytest.raises(ValueError, match="already contain 'No Finding'"):
        simulate_single_positive(_data(), ["a", "b", "c", "No Finding"])


NIH_SUBSET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nih_cxr14_1000"


@pytest.mark.realdata
@pytest.mark.skipif(not (NIH_SUBSET / "labels.csv").is_file(), reason=f"NIH subset not found at {NIH_SUBSET} (ships in ../shared)")
def test_real_subset_split_and_hidden_positives():
    from noisymed.data import NIH_CLASSES, nih_subset_datalist
    from noisymed.labels import grouped_split

    split = grouped_split(nih_subset_datalist(NIH_SUBSET), val_fraction=0.2, seed=0)
    assert (len(split["train"]), len(split["val"])) == (640, 160)
    rec = simulate_single_positive(split["train"], NIH_CLASSES, seed=0)
    abnormal = sum(int(i["label"].sum() > 0) for i in split["train"])
    assert rec["observed_positives"] == abnormal == 318
    assert rec["true_positives"] == 519 and rec["hidden_positives"] == 519 - 318
