from __future__ import annotations

import gzip

import numpy as np
import pytest

from noisymed.data import check_classes, encode_observations, read_csv_rows


def test_encode_observations_rules():
    values = ["1.0", "0", "-1.0", "", "1"]
    label, mask = encode_observations(values)  # defaults: uncertain -> 0, blank -> 0
    assert label.tolist() == [1, 0, 0, 0, 1] and mask.tolist() == [1, 1, 1, 1, 1]
    label, mask = encode_observations(values, uncertain="one", blank="ignore")
    assert label.tolist() == [1, 0, 1, 0, 1] and mask.tolist() == [1, 1, 1, 0, 1]
    label, mask = encode_observations(values, uncertain="ignore", blank="one")
    assert label.tolist() == [1, 0, 0, 1, 1] and mask.tolist() == [1, 1, 0, 1, 1]
    assert label.dtype == np.float32 and mask.dtype == np.float32


def test_encode_observations_rejects_bad_values_and_rules():
    with pytest.raises(ValueError, match="'2.0' is not 1, 0, -1 or blank"):
        encode_observations(["2.0"])
    with pytest.raises(ValueError, match="'yes' is not 1, 0, -1 or blank"):
        encode_observations(["yes"])
    with pytest.raises(ValueError, match="uncertain must be one of"):
        encode_observations(["1"], uncertain="maybe")


def test_read_csv_rows_plain_and_gzip(tmp_path):
    text = "a,b\n1,\n-1.0,0\n"
    (tmp_path / "t.csv").write_text(text)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("t.csv", "t.csv.gz"):
        assert read_csv_rows(tmp_path / name) == [{"a": "1", "b": ""}, {"a": "-1.0", "b": "0"}]
    with pytest.raises(FileNotFoundError, match="nope.csv: label file not found"):
        read_csv_rows(tmp_path / "nope.csv")


def test_check_classes():
    assert check_classes(["b", "a"], ["a", "b", "c"], "src") == ["b", "a"]
    with pytest.raises(ValueError, match=r"src: no column for class\(es\) \['z'\]"):
        check_classes(["a", "z"], ["a", "b"], "src")
    with pytest.raises(ValueError, match="duplicates"):
        check_classes(["a", "a"], ["a"], "src")
