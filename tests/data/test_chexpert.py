from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import CHEXPERT_CLASSES, chexpert_datalist, cxr_classes, cxr_datalist

HEADER = "Path,Sex,Age,Frontal/Lateral,AP/PA," + ",".join(CHEXPERT_CLASSES)


def _row(path: str, view: str, ap_pa: str, values: dict[str, str]) -> str:
    return f"{path},Female,68,{view},{ap_pa}," + ",".join(values.get(c, "") for c in CHEXPERT_CLASSES)


@pytest.fixture
def chexpert_csv(tmp_path):
    root = tmp_path / "CheXpert-v1.0-small"
    root.mkdir()
    rows = [
        HEADER,
        _row("CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Frontal", "AP",
             {"No Finding": "1.0", "Support Devices": "1.0"}),
        _row("CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg", "Frontal", "PA",
             {"Cardiomegaly": "-1.0", "Edema": "1.0", "Pleural Effusion": "0.0", "Lung Opacity": "1.0"}),
        _row("CheXpert-v1.0-small/train/patient00002/study2/view2_lateral.jpg", "Lateral", "",
             {"Cardiomegaly": "-1.0", "Edema": "1.0", "Pleural Effusion": "0.0", "Lung Opacity": "1.0"}),
    ]  # fmt: skip
    (root / "train.csv").write_text("\n".join(rows) + "\n")
    return root / "train.csv"


def test_chexpert_defaults_and_fields(chexpert_csv):
    items = chexpert_datalist(chexpert_csv)
    assert len(items) == 3
    a, b = items[0], items[1]
    assert a["image"] == str(chexpert_csv.parent.parent / "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg")
    assert a["patient_id"] == "patient00001" and a["view"] == "Frontal" and a["ap_pa"] == "AP"
    idx = {c: i for i, c in enumerate(CHEXPERT_CLASSES)}
    assert np.flatnonzero(a["label"]).tolist() == [idx["No Finding"], idx["Support Devices"]]
    # defaults: uncertain (-1) -> 0, blank -> 0, all entries known
    assert b["label"][idx["Cardiomegaly"]] == 0 and b["label"][idx["Edema"]] == 1 and b["label"].sum() == 2
    assert b["label_mask"].min() == 1 and b["label"].dtype == np.float32


def test_chexpert_rules_classes_and_frontal(chexpert_csv):
    classes = ["Edema", "Cardiomegaly", "Pleural Effusion", "Fracture"]
    items = chexpert_datalist(chexpert_csv, classes=classes, uncertain="one", blank="ignore", frontal_only=True)
    assert [i["view"] for i in items] == ["Frontal", "Frontal"]
    assert items[1]["label"].tolist() == [1, 1, 0, 0]  # uncertain Cardiomegaly -> 1
    assert items[1]["label_mask"].tolist() == [1, 1, 1, 0]  # blank Fracture ignored
    items = chexpert_datalist(chexpert_csv, classes=classes, uncertain="ignore")
    assert items[1]["label"].tolist() == [1, 0, 0, 0] and items[1]["label_mask"].tolist() == [1, 0, 1, 1]


def test_chexpert_through_cxr_datalist(chexpert_csv):
    items = cxr_datalist("chexpert", chexpert_csv.parent, frontal_only=True)
    assert len(items) == 2 and items[0]["image"].endswith("patient00001/study1/view1_frontal.jpg")
    assert len(cxr_classes("chexpert")) == 13 and "No Finding" not in cxr_classes("mimic")  # the simulation adds it
    assert items[0]["label"].shape == (13,) and items[0]["label"].sum() == 1  # Support Devices only


def test_chexpert_errors_name_the_problem(tmp_path, chexpert_csv):
    with pytest.raises(ValueError, match=r"no column for class\(es\) \['Nodule'\]"):
        chexpert_datalist(chexpert_csv, classes=["Nodule"])
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n" + _row("CheXpert-v1.0-small/train/patient00003/study1/view1_frontal.jpg", "Frontal", "AP", {"Edema": "2"}) + "\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: label value '2' is not 1, 0, -1 or blank"):
        chexpert_datalist(bad)
    with pytest.raises(ValueError, match="label source must be one of"):
        cxr_datalist("padchest", tmp_path)


def test_chexpert_names_header_only_non_utf8_and_blank_path(tmp_path):
    bad = tmp_path / "valid.csv"
    bad.write_text(HEADER + "\n")
    with pytest.raises(ValueError, match="valid.csv: holds no data row, only the header"):
        chexpert_datalist(bad)
    bad.write_bytes((HEADER + "\n").encode() + _row("p/x.jpg", "Frontal", "AP", {}).encode().replace(b"Female", b"F\xe9male") + b"\n")
    offset = len(HEADER) + 1 + len("p/x.jpg,F")
    with pytest.raises(ValueError, match=rf"valid.csv: not UTF-8 text: byte {offset} \(0xe9, line 2\)"):
        chexpert_datalist(bad)
    bad.write_text(HEADER + "\n" + _row("", "Frontal", "AP", {"Edema": "1"}) + "\n")
    with pytest.raises(ValueError, match=r"valid.csv, line 2: empty 'Path' cell"):
        chexpert_datalist(bad)
    bad.write_text("Path,Edema\nx.jpg,1\n")
    with pytest.raises(ValueError, match=r"valid.csv: has no column \['Frontal/Lateral'\] \(is this CheXpert's"):
        chexpert_datalist(bad)


def test_no_image_left_after_filtering_is_named(tmp_path, chexpert_csv):
    lateral = tmp_path / "CheXpert-v1.0-small" / "lateral.csv"
    lateral.write_text(HEADER + "\n" + _row("CheXpert-v1.0-small/train/patient00009/study1/view2_lateral.jpg", "Lateral", "", {}) + "\n")
    with pytest.raises(ValueError, match=r"CheXpert-v1.0-small: the chexpert labels with \{'frontal_only': True\} leave no image"):
        cxr_datalist("chexpert", chexpert_csv.parent, csv="lateral.csv", frontal_only=True)
