from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import ProbabilityCSVSaver


def test_header_once_then_rows(tmp_path):
    saver = ProbabilityCSVSaver(["normal", "pneumonia"], output_dir=tmp_path, filename="p.csv", overwrite=False)
    saver.save(np.array([0.25, 0.75]), {"filename_or_obj": "/data/a.png"})
    saver.finalize()
    saver.save(np.array([1.0, 0.0]), {"filename_or_obj": "/data/b.dcm"})
    saver.finalize()
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines == ["filename,normal,pneumonia", "/data/a.png,0.25,0.75", "/data/b.dcm,1.0,0.0"]


def test_wrong_number_of_values_is_refused(tmp_path):
    saver = ProbabilityCSVSaver(["a", "b", "c"], output_dir=tmp_path)
    saver.save(np.array([0.5, 0.5]), {"filename_or_obj": "x"})
    with pytest.raises(ValueError, match="2 values for 3 classes"):
        saver.finalize()
    with pytest.raises(ValueError, match="at least one class"):
        ProbabilityCSVSaver([], output_dir=tmp_path)
