from __future__ import annotations

import pytest

from noisymed.labels import grouped_split


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
