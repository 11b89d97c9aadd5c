from __future__ import annotations

import numpy as np
import torch
from monai.data import MetaTensor

from noisymed.transforms import InvertMonochrome1d, photometric_interpretation


def test_inverts_only_monochrome1():
    img = MetaTensor(torch.tensor([[[0.0, 10.0], [4.0, 2.0]]]), meta={"00280004": {"vr": "CS", "Value": ["MONOCHROME1"]}})
    out = InvertMonochrome1d("image")({"image": img})["image"]
    assert np.allclose(np.asarray(out), [[[10.0, 0.0], [6.0, 8.0]]])
    assert photometric_interpretation(out.meta) == "MONOCHROME2"
    mono2 = MetaTensor(torch.tensor([[[1.0, 2.0]]]), meta={"00280004": {"vr": "CS", "Value": ["MONOCHROME2"]}})
    assert torch.equal(InvertMonochrome1d("image")({"image": mono2})["image"], mono2)
    png = MetaTensor(torch.tensor([[[1.0, 2.0]]]))
    assert photometric_interpretation(png.meta) is None
    assert torch.equal(InvertMonochrome1d("image")({"image": png})["image"], png)
