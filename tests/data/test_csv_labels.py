from __future__ import annotations

import gzip

import numpy as np
import pytest

from noisymed.data import check_classes, encode_observations, read_csv_rows, read_csv_table, required_cell


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


def test_read_csv_table_numbers_rows_and_checks_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"two\nlines"\n3,4\n')
    columns, rows = read_csv_table(path, required=["a"])
    assert columns == ["a", "b"] and rows == [(3, {"a": "1", "b": "two\nlines"}), (4, {"a": "3", "b": "4"})]
    with pytest.raises(ValueError, match=r"t.csv: has no column \['split'\] \(the hint\); its columns are \['a', 'b'\]"):
        read_csv_table(path, required=["a", "split"], hint="the hint")
    path.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(ValueError, match=r"t.csv: column\(s\) \['a'\] appear more than once"):
        read_csv_table(path)
    path.write_text("path,label\nimg/a,b.png,1\nc.png,0\n")  # an unquoted comma shifts the label
    with pytest.raises(ValueError, match=r"t.csv, line 2: 3 cells for the 2 columns of the header; quote a cell"):
        read_csv_table(path)
    path.write_text("a,,\n1,2,3\n")  # empty trailing names (NIH's header ends with a comma) are not repeats
    assert read_csv_table(path)[1][0][1]["a"] == "1"


def test_read_csv_table_refuses_header_only_empty_and_non_utf8_files(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("path,label\n")
    with pytest.raises(ValueError, match=r"t.csv: holds no data row, only the header \['path', 'label'\]"):
        read_csv_rows(path)
    path.write_text("")
    with pytest.raises(ValueError, match="t.csv: no header row"):
        read_csv_rows(path)
    path.write_bytes("a,b\nx,1\nM\u00fcller,2\n".encode("latin-1"))  # ü is the single byte 0xfc at offset 9
    with pytest.raises(ValueError, match=r"t.csv: not UTF-8 text: byte 9 \(0xfc, line 3\)"):
        read_csv_rows(path)
    path.write_bytes(b"\xef\xbb\xbfa\n\xff\n")  # the offset counts the byte order mark too
    with pytest.raises(ValueError, match=r"t.csv: not UTF-8 text: byte 5 \(0xff, line 2\)"):
        read_csv_rows(path)
    path.write_bytes(b"\xef\xbb\xbfa\n1\n")
    assert read_csv_rows(path) == [{"a": "1"}]
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress("a\n\xe9\n".encode("latin-1")))
    with pytest.raises(ValueError, match=r"t.csv.gz: not UTF-8 text: byte 2 \(0xe9, line 2\)"):
        read_csv_rows(gz)


def test_required_cell_names_file_line_and_column():
    assert required_cell({"a": " x "}, "a", "f.csv", 3) == "x"
    with pytest.raises(ValueError, match=r"f.csv, line 7: empty 'label' cell"):
        required_cell({"label": "  "}, "label", "f.csv", 7)
    with pytest.raises(ValueError, match=r"f.csv, line 2: empty 'split' cell"):
        required_cell({"label": None}, "split", "f.csv", 2)
