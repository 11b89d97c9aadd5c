from __future__ import annotations

import pytest

from noisymed.labels import grouped_kfold_split, grouped_split


def _data(sizes):
    out = []
    for p, n in enumerate(sizes):
        out += [{"id": f"{p}_{k}", "patient_id": f"p{p}"} for k in range(n)]
    return out


def test_patient_disjoint_seeded_and_sized():
    data = _data([1, 3, 2, 1, 1, 4, 2, 1, 3, 2])  # 20 images, 10 patients
    a = grouped_split(data, val_fraction=0.25, seed=0)
    assert len(a["train"]) + len(a["val"]) == 20 and len(a["val"]) >= 5
    assert not {i["patient_id"] for i in a["train"]} & {i["patient_id"] for i in a["val"]}
    assert a == grouped_split(data, val_fraction=0.25, seed=0)
    assert any(grouped_split(data, 0.25, seed=s)["val"] != a["val"] for s in range(1, 5))
    assert [i["id"] for i in a["train"]] == [i["id"] for i in data if i in a["train"]]  # order kept


def test_errors():
    with pytest.raises(ValueError, match="val_fraction must be in"):
        grouped_split(_data([1, 1]), val_fraction=1.0)
    with pytest.raises(ValueError, match="at least two patient_id groups"):
        grouped_split(_data([3]), 0.5)
    with pytest.raises(ValueError, match="have no 'patient_id'"):
        grouped_split([{"id": 1}], 0.5)


def test_kfold_partitions_patients_and_balances_items():
    data = _data([1, 3, 2, 1, 1, 4, 2, 1, 3, 2, 5, 1])  # 26 images, 12 patients
    folds = [grouped_kfold_split(data, num_folds=3, fold=f, seed=0) for f in range(3)]
    val_ids = [[i["id"] for i in f["val"]] for f in folds]
    assert sorted(sum(val_ids, [])) == sorted(i["id"] for i in data)  # every image validated exactly once
    for f in folds:
        assert len(f["train"]) + len(f["val"]) == 26
        assert not {i["patient_id"] for i in f["train"]} & {i["patient_id"] for i in f["val"]}
        assert [i["id"] for i in f["val"]] == [i["id"] for i in data if i in f["val"]]  # order kept
    # patients dealt largest first (5, 4, 3, 3, 2, ...) to the fold with the fewest images: loads 9, 9, 8
    assert sorted(len(f["val"]) for f in folds) == [8, 9, 9]
    assert folds == [grouped_kfold_split(data, 3, f, seed=0) for f in range(3)]
    assert any(grouped_kfold_split(data, 3, 0, seed=s)["val"] != folds[0]["val"] for s in range(1, 6))


def test_kfold_errors():
    with pytest.raises(ValueError, match="num_folds must be an int >= 2"):
        grouped_kfold_split(_data([1, 1]), num_folds=1)
    with pytest.raises(ValueError, match=r"fold must be an int in \[0, 2\)"):
        grouped_kfold_split(_data([1, 1]), num_folds=2, fold=2)
    with pytest.raises(ValueError, match="more than the 2 patient_id groups"):
        grouped_kfold_split(_data([1, 1]), num_folds=3, fold=0)
    with pytest.raises(ValueError, match="have no 'patient_id'"):
        grouped_kfold_split([{"id": 1}, {"id": 2}], 2)
