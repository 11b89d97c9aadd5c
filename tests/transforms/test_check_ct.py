"""CheckCT: a loaded CT must be in HU (air below -500 HU) and, read from a folder, a tagged CT DICOM series."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from noisymed.data import PancreasDataError
from noisymed.transforms import CheckCT, CheckCTd
from tests.pancreas_cases import ct_like_volume, write_ct_series


def test_hu_image_passes_unchanged_and_raw_values_are_refused_by_name():
    hu = MetaTensor(torch.tensor([[[[-1000.0, 40.0], [0.0, 300.0]]]]), meta={"filename_or_obj": "/data/ct.nii.gz"})
    assert CheckCT()(hu) is hu
    out = CheckCTd("image")({"image": hu, "case": "ct"})
    assert out["image"] is hu and out["case"] == "ct"
    raw = MetaTensor(hu + 1024, meta={"filename_or_obj": "/data/raw.nii.gz"})  # stored values: lowest is 24
    with pytest.raises(PancreasDataError, match=r"/data/raw\.nii\.gz: does not look like CT in Hounsfield units: its lowest value is 24"):
        CheckCT()(raw)
    with pytest.raises(PancreasDataError, match="the input CT: does not look like CT"):
        CheckCT()(torch.zeros(1, 2, 2, 2))  # no meta: still refused, named generically


def test_series_folder_without_rescale_tags_is_refused(tmp_path):
    hu, _ = ct_like_volume(0)
    write_ct_series(tmp_path / "raw", hu, rescale=False)
    image = MetaTensor(torch.as_tensor(hu.astype(np.float32))[None], meta={"filename_or_obj": str(tmp_path / "raw")})
    with pytest.raises(PancreasDataError, match=r"IM0001\.dcm: lacks the HU rescale tag\(s\)"):
        CheckCTd("image")({"image": image})
    write_ct_series(tmp_path / "ok", hu)
    image.meta["filename_or_obj"] = str(tmp_path / "ok")
    assert CheckCTd("image")({"image": image})["image"] is image
