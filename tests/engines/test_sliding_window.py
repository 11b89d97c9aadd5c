from __future__ import annotations

import pytest
import torch
from monai.inferers import SlidingWindowInferer

from noisymed.engines import SlidingWindowAverageInferer, overlap_for_stride


def test_overlap_for_stride_gives_the_official_strides():
    overlap = overlap_for_stride([112, 112, 80], [18, 18, 4])
    assert overlap == pytest.approx([1 - 18.5 / 112, 1 - 18.5 / 112, 1 - 4.5 / 80])
    assert [int(r * (1 - o)) for r, o in zip([112, 112, 80], overlap)] == [18, 18, 4]
    # the overlaps the docs used to suggest give stride 17 in x/y; 0.835 gives 18
    assert int(112 * (1 - 0.84)) == 17 and int(112 * (1 - 0.835)) == 18
    assert overlap_for_stride([16, 8], 4) == pytest.approx([1 - 4.5 / 16, 1 - 4.5 / 8])
    assert overlap_for_stride([8], [8]) == [0.0]  # stride == roi: adjacent windows


def test_overlap_for_stride_errors():
    with pytest.raises(ValueError, match="one value per axis"):
        overlap_for_stride([16, 16, 16], [4, 4])
    with pytest.raises(ValueError, match="got 0"):
        overlap_for_stride([16, 16], [0, 4])
    with pytest.raises(ValueError, match="got 17"):
        overlap_for_stride([16, 16], [17, 4])
    with pytest.raises(ValueError, match="average must be one of"):
        SlidingWindowAverageInferer([8, 8], average="mean")


def _counting_network(calls):
    def net(x):
        calls.append(x.shape)
        # two channels whose logits vary with the window contents: averaging logits and probabilities differ
        return torch.cat([x * 3.0, -x * 2.0 + 1.0], dim=1)

    return net


def test_stride_sets_window_positions_like_the_official_loop():
    calls = []
    image = torch.randn(1, 1, 20, 12)
    SlidingWindowAverageInferer([8, 8], stride=[5, 4], sw_batch_size=1)(image, _counting_network(calls))
    # official: ceil((20 - 8) / 5) + 1 = 4 positions in x, ceil((12 - 8) / 4) + 1 = 2 in y
    assert len(calls) == 8


def test_probability_averaging_by_hand():
    image = torch.tensor([[[[0.0, 1.0, 2.0]]]])  # (1, 1, 1, 3); windows (1, 2): positions 0 and 1
    net = _counting_network([])
    out = SlidingWindowAverageInferer([1, 2], stride=[1, 1], average="probs")(image, net)
    probs = torch.softmax(net(image), dim=1)  # per-voxel probabilities do not depend on the window here
    # voxel 1 is covered twice with the same probability; every voxel's average equals its probability
    assert torch.allclose(torch.softmax(out, 1), probs, atol=1e-6)
    assert torch.allclose(out.exp().sum(1), torch.ones(1, 1, 3), atol=1e-6)


def test_probability_vs_logit_averaging_differ_only_where_windows_overlap():
    torch.manual_seed(0)
    image = torch.randn(1, 1, 12, 12)

    def net(x):  # window-dependent output: logits scaled by the window mean
        return torch.cat([x * x.mean() * 5, -x], dim=1)

    logit_avg = SlidingWindowAverageInferer([8, 8], stride=[4, 4])(image, net)
    reference = SlidingWindowInferer([8, 8], overlap=overlap_for_stride([8, 8], [4, 4]), sw_batch_size=1)(image, net)
    assert torch.equal(logit_avg, reference)  # "logits" is MONAI's behaviour
    prob_avg = torch.softmax(SlidingWindowAverageInferer([8, 8], stride=[4, 4], average="probs")(image, net), 1)
    # by hand: mean over the windows covering each voxel of softmax(net(window))
    total, count = torch.zeros(1, 2, 12, 12), torch.zeros(1, 1, 12, 12)
    for x0 in (0, 4):
        for y0 in (0, 4):
            w = image[..., x0 : x0 + 8, y0 : y0 + 8]
            total[..., x0 : x0 + 8, y0 : y0 + 8] += torch.softmax(net(w), 1)
            count[..., x0 : x0 + 8, y0 : y0 + 8] += 1
    assert torch.allclose(prob_avg, total / count, atol=1e-6)
    assert torch.allclose(torch.softmax(logit_avg, 1)[..., :4, :4], prob_avg[..., :4, :4], atol=1e-6)


def test_channels_last_windows_and_bfloat16_logits():
    """``channels_last`` hands each window to the network in channels-last format (values unchanged); with
    ``average="probs"`` the windows' bfloat16 logits are averaged as float32 probabilities."""
    torch.manual_seed(0)
    image = torch.randn(1, 2, 12, 10, 8)
    formats = []

    def net(x):
        formats.append(x.is_contiguous(memory_format=torch.channels_last_3d) and not x.is_contiguous())
        return torch.cat([x[:, :1] * 3.0, -x[:, 1:] * 2.0 + 1.0], dim=1)

    for average in ("logits", "probs"):
        plain = SlidingWindowAverageInferer([8, 8, 8], overlap=0.5, average=average)(image, net)
        assert formats and not any(formats)
        formats.clear()
        converted = SlidingWindowAverageInferer([8, 8, 8], overlap=0.5, average=average, channels_last="true")(image, net)
        assert formats and all(formats)
        formats.clear()
        assert torch.allclose(plain, converted)
    low = SlidingWindowAverageInferer([8, 8, 8], overlap=0.5, average="probs")(image, lambda x: net(x).bfloat16())
    assert low.dtype == torch.float32
    reference = SlidingWindowAverageInferer([8, 8, 8], overlap=0.5, average="probs")(image, net)
    assert torch.allclose(low.exp(), reference.exp(), atol=1e-2)  # bfloat16 logits: about 3 significant digits
