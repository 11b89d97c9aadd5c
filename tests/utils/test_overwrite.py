from __future__ import annotations

import pytest

from noisymed.utils import refuse_overwrite


def test_missing_files_pass_and_existing_ones_are_named_with_both_ways_on(tmp_path):
    refuse_overwrite([tmp_path / "a.csv", tmp_path / "b.csv"])  # nothing there yet
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "b.csv").write_text("y")
    with pytest.raises(FileExistsError) as err:
        refuse_overwrite([tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"], hint="pass another --output_dir")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'a.csv'} already exists (and 1 more)")
    assert message.endswith("pass another --output_dir, or pass --overwrite true to replace it.")
    with pytest.raises(FileExistsError, match=r"b\.csv already exists: .*; pass --overwrite true"):
        refuse_overwrite(tmp_path / "b.csv", "false")


def test_overwrite_allows_and_a_non_boolean_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    refuse_overwrite(tmp_path / "a.csv", overwrite="true")
    refuse_overwrite(str(tmp_path / "a.csv"), overwrite=True)
    with pytest.raises(TypeError, match="overwrite must be a bool"):
        refuse_overwrite(tmp_path / "a.csv", overwrite="sometimes")
