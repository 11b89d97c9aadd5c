from __future__ import annotations

import pytest

from noisymed.data import partition_cases

CASES = ["c0", "c1", "c2", "c3", "c4", "c5"]


class SourceError(ValueError):
    pass


def test_head_labeled_tail_validation_rest_unlabeled():
    assert partition_cases(CASES, 2, num_val=2) == (["c0", "c1"], ["c2", "c3"], ["c4", "c5"])
    assert partition_cases(CASES, 2, num_val=2, max_unlabeled=1) == (["c0", "c1"], ["c2"], ["c4", "c5"])
    assert partition_cases(CASES, 0, max_unlabeled=0) == ([], [], [])
    assert partition_cases(CASES, 6) == (CASES, [], [])


def test_separate_validation_list():
    assert partition_cases(CASES[:4], 1, val_cases=["v0"]) == (["c0"], ["c1", "c2", "c3"], ["v0"])
    # num_val wins over a (default) validation list, as "instead of" says
    assert partition_cases(CASES, 1, num_val=1, val_cases=["c0"]) == (["c0"], ["c1", "c2", "c3", "c4"], ["c5"])
    items = [{"case": c, "label": f"{c}.nii"} for c in CASES[:3]]
    labeled, unlabeled, val = partition_cases(items, 1, val_cases=[{"case": "v"}], key=lambda i: i["case"])
    assert [i["case"] for i in labeled + unlabeled + val] == ["c0", "c1", "c2", "v"]
    with pytest.raises(SourceError, match=r"^list.txt: validation cases also in the training list: \['c1', 'c2'\]\.$"):
        partition_cases(CASES, 1, val_cases=["c2", "x", "c1"], error=SourceError, where="list.txt")
    with pytest.raises(SourceError, match=r"also in the training list: \['c0'\]"):
        partition_cases(items, 1, val_cases=[{"case": "c0"}], error=SourceError, key=lambda i: i["case"])


def test_bad_counts_are_named():
    with pytest.raises(SourceError, match=r"^root: 4 training cases \(after holding out 2 for validation\) is fewer "):
        partition_cases(CASES, 5, num_val=2, error=SourceError, where="root")
    with pytest.raises(SourceError, match="num_val=6 leaves no training case of the 6 listed"):
        partition_cases(CASES, 1, num_val=6, error=SourceError)
    for kwargs, name in (({"num_labeled": -1}, "num_labeled"), ({"num_labeled": 1, "num_val": 1.5}, "num_val")):
        with pytest.raises(SourceError, match=f"{name} must be a whole number >= 0"):
            partition_cases(CASES, error=SourceError, **kwargs)
    with pytest.raises(ValueError, match="max_unlabeled must be a whole number >= 0, got True"):
        partition_cases(CASES, 1, max_unlabeled=True)


def test_numpy_integers_count_as_numbers_but_text_does_not():
    import numpy as np

    labeled, unlabeled, val = partition_cases(CASES, np.int64(2), num_val=np.int32(1), max_unlabeled=np.int64(2))
    assert (labeled, unlabeled, val) == (CASES[:2], CASES[2:4], CASES[-1:])
    assert all(type(x) is str for x in labeled)
    with pytest.raises(ValueError, match="num_labeled must be a whole number >= 0, got '2'"):
        partition_cases(CASES, "2")
    with pytest.raises(ValueError, match="num_labeled must be a whole number >= 0, got np.True_|got True"):
        partition_cases(CASES, np.bool_(True))
