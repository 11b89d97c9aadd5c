from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import ProbabilityCSVSaver


def test_header_once_then_rows(tmp_path):
    saver = ProbabilityCSVSaver(["normal", "pneumonia"], output_dir=tmp_path, filename="p.csv")
    saver.save(np.array([0.25, 0.75]), {"filename_or_obj": "/data/a.png"})
    saver.finalize()
    assert (tmp_path / "p.csv").read_text().splitlines() == ["filename,normal,pneumonia", "/data/a.png,0.25,0.75"]
    saver.save(np.array([1.0, 0.0]), {"filename_or_obj": "/data/b.dcm"})
    saver.finalize()
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines == ["filename,normal,pneumonia", "/data/a.png,0.25,0.75", "/data/b.dcm,1.0,0.0"]
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]  # no temporary file left


def test_an_existing_csv_is_refused_before_anything_is_written_or_replaced_whole(tmp_path):
    old = tmp_path / "p.csv"
    old.write_text("filename,a,b,c\nold.png,0.1,0.2,0.7\n")
    with pytest.raises(FileExistsError, match=r"p.csv already exists: .*pass another --output_dir, or pass --overwrite true"):
        ProbabilityCSVSaver(["normal", "pneumonia"], output_dir=tmp_path, filename="p.csv")
    assert old.read_text() == "filename,a,b,c\nold.png,0.1,0.2,0.7\n"
    saver = ProbabilityCSVSaver(["normal", "pneumonia"], output_dir=tmp_path, filename="p.csv", overwrite="true")
    assert old.read_text().startswith("filename,a,b,c")  # replaced only when the new file is complete
    saver.save(np.array([0.5, 0.5]), {"filename_or_obj": "new.png"})
    saver.finalize()
    assert old.read_text() == "filename,normal,pneumonia\nnew.png,0.5,0.5\n"  # never appended to the old header
    with pytest.raises(TypeError, match="overwrite must be a bool"):
        ProbabilityCSVSaver(["a"], output_dir=tmp_path / "x", overwrite="sometimes")


def test_wrong_number_of_values_is_refused(tmp_path):
    saver = ProbabilityCSVSaver(["a", "b", "c"], output_dir=tmp_path)
    saver.save(np.array([0.5, 0.5]), {"filename_or_obj": "x"})
    with pytest.raises(ValueError, match="2 values for 3 classes"):
        saver.finalize()
    assert not (tmp_path / "predictions.csv").exists()
    with pytest.raises(ValueError, match="at least one class"):
        ProbabilityCSVSaver([], output_dir=tmp_path)
