from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from noisymed.data import (
    NIH_CLASSES,
    cxr_datalist,
    ensure_cxr_demo,
    nih_cxr14_datalist,
    nih_subset_datalist,
    parse_finding_labels,
)

NIH_SUBSET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nih_cxr14_1000"
requires_nih_subset = pytest.mark.skipif(
    not (NIH_SUBSET / "labels.csv").is_file(),
    reason=f"NIH ChestX-ray14 subset not found at {NIH_SUBSET} (it ships beside the repository in ../shared)",
)
DATA_ENTRY_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
    "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"
)


def test_parse_finding_labels():
    v = parse_finding_labels("Effusion|Mass")
    assert v.dtype == np.float32 and np.flatnonzero(v).tolist() == [NIH_CLASSES.index("Effusion"), NIH_CLASSES.index("Mass")]
    assert parse_finding_labels("No Finding").sum() == 0
    assert parse_finding_labels("Effusion|Hernia", classes=["Hernia", "Mass"]).tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"unknown finding\(s\) \['Covid'\]"):
        parse_finding_labels("Effusion|Covid")
    with pytest.raises(ValueError, match="'No Finding' mixed with findings"):
        parse_finding_labels("No Finding|Mass")


def test_data_entry_2017(tmp_path):
    rows = [
        DATA_ENTRY_HEADER,
        "00000001_000.png,Cardiomegaly,0,1,58,M,PA,2682,2749,0.143,0.143,",
        "00000001_001.png,Cardiomegaly|Emphysema,1,1,58,M,PA,2894,2729,0.143,0.143,",
        "00000002_000.png,No Finding,0,2,81,M,AP,2500,2048,0.168,0.168,",
        "00000003_000.png,Hernia,0,3,81,F,LL,2582,2991,0.143,0.143,",
    ]
    (tmp_path / "Data_Entry_2017.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "train_val_list.txt").write_text("00000001_000.png\n00000002_000.png\n")
    items = nih_cxr14_datalist(tmp_path / "Data_Entry_2017.csv")
    assert [i["id"] for i in items] == ["00000001_000.png", "00000001_001.png", "00000002_000.png"]  # LL view dropped
    assert items[0]["image"] == str(tmp_path / "images" / "00000001_000.png") and items[0]["patient_id"] == "1"
    assert items[1]["label"].sum() == 2 and items[2]["label"].sum() == 0 and items[2]["view"] == "AP"
    kept = nih_cxr14_datalist(tmp_path / "Data_Entry_2017.csv", image_list=tmp_path / "train_val_list.txt", frontal_views=None)
    assert [i["id"] for i in kept] == ["00000001_000.png", "00000002_000.png"]
    assert len(cxr_datalist("nih", tmp_path, frontal_views=None)) == 4
    (tmp_path / "bad.csv").write_text(DATA_ENTRY_HEADER + "\nx.png,Covid,0,9,1,M,PA,1,1,1,1,\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: .*unknown finding"):
        nih_cxr14_datalist(tmp_path / "bad.csv")


def test_subset_format_on_the_demo_set(tmp_path):
    root = ensure_cxr_demo(tmp_path / "demo", num_images=8, size=32)
    items = nih_subset_datalist(root)
    assert len(items) == 8 and all(Path(i["image"]).is_file() for i in items)
    assert [i["label"].sum() > 0 for i in items] == [False, True] * 4
    assert len({i["patient_id"] for i in items}) == 4
    text = (root / "labels.csv").read_text()
    (root / "labels.csv").write_text(text.replace("No Finding,0,0", "No Finding,1,0", 1))
    with pytest.raises(ValueError, match="contradict finding_labels"):
        nih_subset_datalist(root)


@pytest.mark.realdata
@requires_nih_subset
def test_real_nih_subset():
    items = nih_subset_datalist(NIH_SUBSET)
    assert len(items) == 800 and sum(i["split"] == "train" for i in items) == 600
    assert sum(i["label"].sum() == 0 for i in items) == 400  # half "No Finding"
    assert all(i["label"].shape == (14,) for i in items)
    assert Path(items[0]["image"]).is_file()


def test_subset_names_missing_split_column_blank_cells_and_bad_files(tmp_path):
    root = ensure_cxr_demo(tmp_path / "demo", num_images=8, size=32)
    path = root / "labels.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("split")
    path.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines) + "\n")
    with pytest.raises(ValueError, match=r"labels.csv: has no column \['split'\] \(the subset's labels.csv has path, split"):
        nih_subset_datalist(root)
    cells = lines[2].split(",")
    cells[header.index("Effusion")] = ""
    path.write_text("\n".join([lines[0], lines[1], ",".join(cells)]) + "\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 3: empty 'Effusion' cell"):
        nih_subset_datalist(root)
    cells[header.index("Effusion")] = "yes"
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 2: 'Effusion' is 'yes'; finding columns hold 0 or 1"):
        nih_subset_datalist(root)
    path.write_text(lines[0] + "\n")
    with pytest.raises(ValueError, match="labels.csv: holds no data row"):
        cxr_datalist("nih_subset", root)
    path.write_bytes(lines[0].encode() + b"\n\xff\n")
    with pytest.raises(ValueError, match=rf"labels.csv: not UTF-8 text: byte {len(lines[0]) + 1} \(0xff, line 2\)"):
        nih_subset_datalist(root)


def test_data_entry_names_a_blank_cell(tmp_path):
    (tmp_path / "Data_Entry_2017.csv").write_text(DATA_ENTRY_HEADER + "\nx.png,,0,9,1,M,PA,1,1,1,1,\n")
    with pytest.raises(ValueError, match=r"Data_Entry_2017.csv, line 2: empty Finding Labels"):
        nih_cxr14_datalist(tmp_path / "Data_Entry_2017.csv")
    (tmp_path / "Data_Entry_2017.csv").write_text(DATA_ENTRY_HEADER + "\n,Mass,0,9,1,M,PA,1,1,1,1,\n")
    with pytest.raises(ValueError, match=r"Data_Entry_2017.csv, line 2: empty 'Image Index' cell"):
        nih_cxr14_datalist(tmp_path / "Data_Entry_2017.csv")


def test_an_image_listed_twice_is_refused(tmp_path):
    root = ensure_cxr_demo(tmp_path / "demo", num_images=8, size=32)
    lines = (root / "labels.csv").read_text().splitlines()
    (root / "labels.csv").write_text("\n".join(lines + [lines[3]]) + "\n")
    with pytest.raises(ValueError, match=r"00000001_000.png is listed twice in the nih_subset labels under .*demo; list each"):
        cxr_datalist("nih_subset", root)
