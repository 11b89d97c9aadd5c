from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from noisymed.data import CHEXPERT_CLASSES, mimic_cxr_datalist, mimic_cxr_image_path

# the column order of mimic-cxr-2.0.0-chexpert.csv.gz (alphabetical, unlike CheXpert's train.csv)
MIMIC_LABEL_COLUMNS = sorted(CHEXPERT_CLASSES)
META_HEADER = (
    "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,StudyDate,"
    "StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,PatientOrientationCodeSequence_CodeMeaning"
)


def _gz(path: Path, lines: list[str]) -> None:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def _labels(values: dict[str, str]) -> str:
    return ",".join(values.get(c, "") for c in MIMIC_LABEL_COLUMNS)


@pytest.fixture
def mimic_root(tmp_path):
    _gz(
        tmp_path / "mimic-cxr-2.0.0-chexpert.csv.gz",
        [
            "subject_id,study_id," + ",".join(MIMIC_LABEL_COLUMNS),
            "10000032,50414267," + _labels({"No Finding": "1.0"}),
            "10000032,53189527," + _labels({"Edema": "1.0", "Cardiomegaly": "-1.0", "Pneumonia": "0.0"}),
            "10000898,50771383," + _labels({"Pneumothorax": "1.0"}),
        ],
    )
    meta = [
        ("02aa804e-bde0afdd-112c0b34-7bc16630-4e384014", "10000032", "50414267", "PA"),
        ("174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962", "10000032", "50414267", "LATERAL"),
        ("2a2277a9-b0ded155-c0de8eb9-c124d10e-82c5caab", "10000032", "53189527", "AP"),
        ("68b5c4b1-227d0485-9cc38c3f-7b84ab51-4b472714", "10000898", "50771383", "PA"),
        ("aaaaaaaa-00000000-00000000-00000000-00000000", "10000999", "59999999", "PA"),  # study without labels
    ]
    _gz(
        tmp_path / "mimic-cxr-2.0.0-metadata.csv.gz",
        [META_HEADER] + [f"{d},{s},{t},CHEST (PA AND LAT),{v},3056,2544,21800506,213014.531,CHEST (PA AND LAT),postero-anterior,Erect" for d, s, t, v in meta],
    )
    splits = ["train", "train", "validate", "test", "train"]
    _gz(tmp_path / "mimic-cxr-2.0.0-split.csv.gz", ["dicom_id,study_id,subject_id,split"] + [f"{d},{t},{s},{sp}" for (d, s, t, _), sp in zip(meta, splits)])
    return tmp_path


def test_image_path_layout(tmp_path):
    path = mimic_cxr_image_path(tmp_path, "10000032", "50414267", "02aa804e")
    assert path == tmp_path / "files" / "p10" / "p10000032" / "s50414267" / "02aa804e.jpg"


def test_mimic_join_frontal_and_labels(mimic_root):
    items = mimic_cxr_datalist(mimic_root)  # frontal only by default; the unlabeled study is left out
    assert [i["view"] for i in items] == ["PA", "AP", "PA"]
    idx = {c: i for i, c in enumerate(CHEXPERT_CLASSES)}
    first, second, third = items
    assert first["image"].endswith("files/p10/p10000032/s50414267/02aa804e-bde0afdd-112c0b34-7bc16630-4e384014.jpg")
    assert np.flatnonzero(first["label"]).tolist() == [idx["No Finding"]]
    assert second["label"][idx["Edema"]] == 1 and second["label"][idx["Cardiomegaly"]] == 0 and second["label"].sum() == 1
    assert third["patient_id"] == "10000898" and third["split"] == "test"
    assert [i["split"] for i in items] == ["train", "validate", "test"]


def test_mimic_options(mimic_root):
    assert len(mimic_cxr_datalist(mimic_root, frontal_only=False)) == 4
    assert [i["id"][:8] for i in mimic_cxr_datalist(mimic_root, split="validate")] == ["2a2277a9"]
    items = mimic_cxr_datalist(mimic_root, classes=["Cardiomegaly", "Edema", "Pneumonia", "Fracture"], uncertain="one", blank="ignore")
    assert items[1]["label"].tolist() == [1, 1, 0, 0] and items[1]["label_mask"].tolist() == [1, 1, 1, 0]
    items = mimic_cxr_datalist(mimic_root, classes=["Cardiomegaly"], uncertain="ignore")
    assert items[1]["label_mask"].tolist() == [0]


def test_mimic_errors(tmp_path, mimic_root):
    with pytest.raises(ValueError, match="split must be one of"):
        mimic_cxr_datalist(mimic_root, split="val")
    with pytest.raises(FileNotFoundError, match="mimic-cxr-2.0.0-chexpert.csv.gz not found"):
        mimic_cxr_datalist(tmp_path / "nothing")


def test_mimic_names_a_missing_split_column_and_blank_ids(mimic_root):
    split_file = mimic_root / "mimic-cxr-2.0.0-split.csv.gz"
    _gz(split_file, ["dicom_id,study_id,subject_id", "x,1,2"])
    with pytest.raises(ValueError, match=r"split.csv.gz: has no column \['split'\] \(is this MIMIC-CXR's split file\?\)"):
        mimic_cxr_datalist(mimic_root)
    _gz(split_file, ["dicom_id,study_id,subject_id,split", "x,1,2,"])
    with pytest.raises(ValueError, match=r"split.csv.gz, line 2: empty 'split' cell"):
        mimic_cxr_datalist(mimic_root)
    _gz(split_file, ["dicom_id,study_id,subject_id,split"])
    with pytest.raises(ValueError, match="split.csv.gz: holds no data row"):
        mimic_cxr_datalist(mimic_root)
