from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from noisymed.labels import (
    NOISE_MODES,
    NOISE_TYPES,
    apply_label_noise,
    check_transition_matrix,
    inject_noise,
    labels_sha1,
    load_or_make_noisy_labels,
    make_noisy_labels,
    noise_record,
    transition_matrix,
)

# K = 4 with unequal class sizes (1000 samples), shuffled so class members are not contiguous.
COUNTS = (400, 300, 200, 100)
LABELS = np.random.default_rng(0).permutation(np.repeat(np.arange(4), COUNTS))


def confusion(clean, noisy, k=4):
    c = np.zeros((k, k), int)
    np.add.at(c, (np.asarray(clean), np.asarray(noisy)), 1)
    return c


def test_symmetric_and_pairflip_matrices():
    t = transition_matrix("symmetric", 0.3, 4)
    assert np.allclose(np.diag(t), 0.7) and np.allclose(t[0, 1:], 0.1)
    t = transition_matrix("pairflip", 0.2, 3)
    assert np.allclose(t, [[0.8, 0.2, 0], [0, 0.8, 0.2], [0.2, 0, 0.8]])
    assert np.array_equal(transition_matrix("symmetric", 0.0, 3), np.eye(3))


def test_grouped_matrix_flips_within_groups_only():
    t = transition_matrix("grouped", 0.4, 6, groups=[[0, 2, 4], [1, 3], [5]])
    expected = np.eye(6)
    for i, j in [(0, 2), (0, 4), (2, 0), (2, 4), (4, 0), (4, 2)]:
        expected[i, j] = 0.2
    expected[1, 3] = expected[3, 1] = 0.4
    expected[[0, 2, 4, 1, 3], [0, 2, 4, 1, 3]] = 0.6
    assert np.allclose(t, expected)  # class 5 (singleton) never flips
    t = transition_matrix("grouped", 0.4, 4, groups=[[1, 2]])
    assert t[0, 0] == 1 and t[3, 3] == 1  # classes in no group never flip


def test_matrix_type_and_column_convention():
    rows = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.0, 0.3, 0.7]])
    assert np.array_equal(transition_matrix("matrix", 0.0, 3, matrix=rows), rows)
    t = transition_matrix("matrix", 0.0, 3, matrix=rows.T, column_convention=True)
    assert np.array_equal(t, rows)
    with pytest.raises(ValueError, match="column 0 sums to 1.1"):
        check_transition_matrix(rows, column_convention=True)


@pytest.mark.filterwarnings("ignore:.*not identifiable")
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.37, 0.5])
@pytest.mark.parametrize("noise_type", ["symmetric", "pairflip"])
def test_exact_mode_realises_exact_counts(noise_type, rate):
    t = transition_matrix(noise_type, rate, 4)
    noisy = inject_noise(LABELS, t, "exact", seed=3)
    c = confusion(LABELS, noisy)
    for i, n in enumerate(COUNTS):
        n_flip = round(rate * n)
        assert n - c[i, i] == n_flip
        if noise_type == "pairflip":
            assert c[i, (i + 1) % 4] == n_flip and c[i].sum() - c[i, i] - c[i, (i + 1) % 4] == 0
        else:  # largest remainder of n_flip / 3 each, ties to the lower class index
            q, r = divmod(n_flip, 3)
            others = [j for j in range(4) if j != i]
            assert [c[i, j] for j in others] == [q + (k < r) for k in range(3)]


def test_exact_destination_counts_by_largest_remainder():
    # row 0 flips 10 of 20 samples with destination weights 0.1, 0.15, 0.25 -> quotas 2, 3, 5
    # row 1 flips round(0.3 * 10) = 3 with weights 0.05, 0.05, 0.2 -> quotas 0.5, 0.5, 2 -> 1, 0, 2 (tie to lower)
    t = np.array([[0.5, 0.1, 0.15, 0.25], [0.05, 0.7, 0.05, 0.2], [0, 0, 1, 0], [0, 0, 0, 1]])
    labels = np.array([0] * 20 + [1] * 10 + [2] * 3)
    c = confusion(labels, inject_noise(labels, t, seed=0))
    assert c[0].tolist() == [10, 2, 3, 5]
    assert c[1].tolist() == [1, 7, 0, 2]
    assert c[2].tolist() == [0, 0, 3, 0]


def test_exact_rounding_is_round_half_even():
    labels = np.repeat([0, 1], [10, 30])  # 0.25 * 10 = 2.5 -> 2, 0.25 * 30 = 7.5 -> 8
    noisy = inject_noise(labels, transition_matrix("symmetric", 0.25, 2), seed=0)
    assert confusion(labels, noisy, 2).tolist() == [[8, 2], [8, 22]]


def test_exact_mode_is_seeded():
    t = transition_matrix("symmetric", 0.3, 4)
    a, b = inject_noise(LABELS, t, seed=1), inject_noise(LABELS, t, seed=1)
    c = inject_noise(LABELS, t, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(confusion(LABELS, a), confusion(LABELS, c))  # counts do not depend on the seed


def test_symmetric_flip_never_stays():
    # a flip goes to one of the other classes: the realised rate equals the asked rate, overall and per class
    for rate in (0.1, 0.3, 0.6):
        rec = make_noisy_labels(LABELS, "symmetric", rate, seed=5)
        assert rec["realised_rate"] == pytest.approx(rate) and rec["expected_rate"] == pytest.approx(rate)
        assert rec["per_class_rate"] == pytest.approx([rate] * 4)
        noisy = np.array(rec["noisy_labels"])
        assert (noisy != LABELS).sum() == round(rate * 1000)


def test_grouped_noise_stays_in_groups():
    labels = np.repeat(np.arange(5), 100)
    for mode in NOISE_MODES:
        rec = make_noisy_labels(labels, "grouped", 0.45, groups=[[0, 1, 2], [3, 4]], mode=mode, seed=2)
        c = np.array(rec["confusion"])
        assert c[:3, 3:].sum() == 0 and c[3:, :3].sum() == 0
        assert c[:3, :3].sum() == 300 and rec["realised_rate"] > 0.3


@pytest.mark.parametrize("noise_type, rate", [("symmetric", 0.2), ("pairflip", 0.4)])
def test_random_mode_rate_within_binomial_tolerance(noise_type, rate):
    n = 20000
    labels = np.arange(n) % 4
    t = transition_matrix(noise_type, rate, 4)
    noisy = inject_noise(labels, t, "random", seed=11)
    flipped = (noisy != labels).mean()
    assert abs(flipped - rate) < 4 * np.sqrt(rate * (1 - rate) / n)
    c = confusion(labels, noisy)
    assert np.all(c[t == 0] == 0)  # impossible transitions never happen
    assert np.array_equal(noisy, inject_noise(labels, t, "random", seed=11))
    assert not np.array_equal(noisy, inject_noise(labels, t, "random", seed=12))


def test_rate_zero_keeps_labels():
    for mode in NOISE_MODES:
        assert np.array_equal(inject_noise(LABELS, np.eye(4), mode, seed=0), LABELS)


def test_labels_shape_is_kept():
    labels = LABELS[:, None]
    assert inject_noise(labels, transition_matrix("symmetric", 0.2, 4)).shape == (1000, 1)


def test_noise_record_hand_computed():
    clean = [0, 0, 0, 1, 1, 2]
    noisy = [0, 1, 2, 1, 1, 0]
    rec = noise_record(clean, noisy, np.eye(3), note="x")
    assert rec["confusion"] == [[1, 1, 1], [0, 2, 0], [1, 0, 0]]
    assert rec["realised_rate"] == pytest.approx(3 / 6)
    assert rec["per_class_rate"] == pytest.approx([2 / 3, 0.0, 1.0])
    assert rec["class_counts"] == [3, 2, 1] and rec["expected_rate"] == 0.0
    assert rec["num_classes"] == 3 and rec["num_samples"] == 6 and rec["note"] == "x"
    rec = noise_record([0, 0], [0, 1], transition_matrix("symmetric", 0.5, 3))
    assert rec["per_class_rate"] == [0.5, None, None]  # no sample of classes 1 and 2
    json.dumps(rec)


def test_make_noisy_labels_record():
    rec = make_noisy_labels(LABELS, "symmetric", 0.2, seed=4)
    for key in ("noisy_labels", "matrix", "realised_rate", "per_class_rate", "confusion", "seed", "mode",
                "noise_type", "rate", "num_classes", "num_samples", "clean_labels_sha1"):
        assert key in rec
    assert rec["num_classes"] == 4 and rec["num_samples"] == 1000 and rec["mode"] == "exact"
    assert rec["realised_rate"] == 0.2 and rec["clean_labels_sha1"] == labels_sha1(LABELS)
    assert np.array_equal(rec["noisy_labels"], inject_noise(LABELS, np.array(rec["matrix"]), seed=4))
    assert make_noisy_labels([0, 1, 1], rate=0.0, num_classes=5)["num_classes"] == 5
    json.dumps(rec)


def test_load_or_make_reuses_the_file(tmp_path):
    path = tmp_path / "sub" / "noise.json"
    first = load_or_make_noisy_labels(path, LABELS, noise_type="pairflip", rate=0.3, seed=7)
    text, mtime = path.read_text(), path.stat().st_mtime_ns
    second = load_or_make_noisy_labels(path, LABELS, noise_type="pairflip", rate=0.3, seed=7)
    assert second["noisy_labels"] == first["noisy_labels"] and second == json.loads(text)
    assert path.read_text() == text and path.stat().st_mtime_ns == mtime
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rate": 0.2}, "rate"),
        ({"seed": 8}, "seed"),
        ({"mode": "random"}, "mode"),
        ({"noise_type": "symmetric"}, "noise_type"),
        ({"num_classes": 5}, "num_classes"),
    ],
)
def test_load_or_make_refuses_other_settings(tmp_path, change, field):
    path = tmp_path / "noise.json"
    kwargs = {"noise_type": "pairflip", "rate": 0.3, "seed": 7}
    load_or_make_noisy_labels(path, LABELS, **kwargs)
    text = path.read_text()
    with pytest.raises(ValueError, match=f"{field}=.*noise.json|noise.json.*{field}="):
        load_or_make_noisy_labels(path, LABELS, **{**kwargs, **change})
    assert path.read_text() == text


def test_load_or_make_refuses_other_labels_or_matrix(tmp_path):
    path = tmp_path / "noise.json"
    load_or_make_noisy_labels(path, LABELS, rate=0.1)
    other = LABELS.copy()
    other[[0, 1]] = other[[1, 0]] if other[0] != other[1] else (other[0] + 1) % 4
    with pytest.raises(ValueError, match="clean_labels_sha1"):
        load_or_make_noisy_labels(path, other, rate=0.1)
    with pytest.raises(ValueError, match="num_samples"):
        load_or_make_noisy_labels(path, LABELS[:10], rate=0.1, num_classes=4)
    m = transition_matrix("symmetric", 0.1, 4)
    path2 = tmp_path / "m.json"
    load_or_make_noisy_labels(path2, LABELS, noise_type="matrix", matrix=m)
    m2 = m.copy()
    m2[0] = [0.9, 0.0, 0.1, 0.0]
    with pytest.raises(ValueError, match="matrix="):
        load_or_make_noisy_labels(path2, LABELS, noise_type="matrix", matrix=m2)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a readable noise record"):
        load_or_make_noisy_labels(tmp_path / "bad.json", LABELS)


def test_apply_label_noise(tmp_path):
    datalist = [{"image": f"img{i}.png", "label": int(y)} for i, y in enumerate(LABELS[:100])]
    out = apply_label_noise(datalist, tmp_path / "n.json", noise_type="symmetric", rate=0.2, seed=1)
    assert [d["clean_label"] for d in out] == LABELS[:100].tolist()
    assert [d["image"] for d in out] == [d["image"] for d in datalist]
    assert sum(d["label"] != d["clean_label"] for d in out) == 20
    assert all(type(d["label"]) is int for d in out) and "clean_label" not in datalist[0]  # input unchanged
    record = json.loads((tmp_path / "n.json").read_text())
    assert [d["label"] for d in out] == record["noisy_labels"]
    again = apply_label_noise(datalist, tmp_path / "n.json", noise_type="symmetric", rate=0.2, seed=1)
    assert again == out
    clean = apply_label_noise(datalist, tmp_path / "zero.json", rate=0.0)
    assert [d["label"] for d in clean] == LABELS[:100].tolist() and (tmp_path / "zero.json").is_file()
    with pytest.raises(ValueError, match="already has 'clean_label'"):
        apply_label_noise(out, tmp_path / "twice.json", rate=0.2)
    with pytest.raises(ValueError, match="item 1 has no 'label'"):
        apply_label_noise([{"label": 0}, {"image": "x"}], tmp_path / "x.json", rate=0.2)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), "a"])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"rate must be .*\[0, 1\)"):
        transition_matrix("symmetric", rate, 3)


def test_bad_matrix():
    with pytest.raises(ValueError, match="row 1 sums to 0.9"):
        check_transition_matrix([[1, 0], [0.5, 0.4]])
    with pytest.raises(ValueError, match="square"):
        check_transition_matrix([[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="negative entry -0.1 at \\[0, 1\\]"):
        check_transition_matrix([[1.1, -0.1], [0, 1]])
    with pytest.raises(ValueError, match="non-finite"):
        check_transition_matrix([[np.nan, 1], [0, 1]])
    with pytest.raises(ValueError, match="3 x 3 but num_classes is 4"):
        transition_matrix("matrix", 0.0, 4, matrix=np.eye(3))
    with pytest.raises(ValueError, match="row 0 sums to 2"):
        inject_noise([0, 1], [[1, 1], [0, 1]])


@pytest.mark.parametrize(
    "labels, message",
    [([0, 1, 4], "0..3, got 4 at index 2"), ([0, -1], "got -1 at index 1"), ([0, 1.5], "integers, got 1.5"),
     (["a", "b"], "integers"), ([[0, 1], [1, 0]], "1D")],
)
def test_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        inject_noise(labels, np.eye(4))


def test_float_integral_labels_are_accepted():
    assert inject_noise([0.0, 3.0], np.eye(4)).tolist() == [0, 3]


def test_bad_names_and_missing_arguments():
    with pytest.raises(ValueError, match="noise_type must be one of .*'symmetric'.*got 'uniform'"):
        transition_matrix("uniform", 0.1, 3)
    with pytest.raises(ValueError, match="mode must be one of .*'exact'.*got 'fast'"):
        inject_noise([0, 1], np.eye(2), mode="fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        make_noisy_labels([0, 1], rate=0.1, mode="fast")
    with pytest.raises(ValueError, match="grouped' needs groups"):
        transition_matrix("grouped", 0.1, 3)
    with pytest.raises(ValueError, match="'matrix' needs matrix"):
        make_noisy_labels([0, 1], noise_type="matrix")
    with pytest.raises(ValueError, match="groups is only used by noise_type='grouped'"):
        transition_matrix("symmetric", 0.1, 3, groups=[[0, 1]])
    with pytest.raises(ValueError, match="column_convention only applies"):
        transition_matrix("symmetric", 0.1, 3, column_convention=True)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2, got 1"):
        transition_matrix("symmetric", 0.1, 1)
    with pytest.raises(ValueError, match="max\\(labels\\) \\+ 1 = 1"):
        make_noisy_labels([0, 0], rate=0.1)
    with pytest.raises(ValueError, match="empty"):
        make_noisy_labels([], rate=0.1, num_classes=2)


@pytest.mark.parametrize(
    "groups, message",
    [([[0, 1], [1, 2]], "class 1 is in groups\\[0\\] and groups\\[1\\]"), ([[0, 5]], "holds 5"), ([[]], "non-empty"),
     ([[0, -1]], "holds -1")],
)
def test_bad_groups(groups, message):
    with pytest.raises(ValueError, match=message):
        transition_matrix("grouped", 0.2, 3, groups=groups)


def test_unidentifiable_noise_warns():
    with pytest.warns(UserWarning, match="not identifiable"):
        transition_matrix("symmetric", 0.75, 4)  # (K-1)/K
    with pytest.warns(UserWarning, match="not identifiable"):
        transition_matrix("symmetric", 2 / 3, 3)  # 1 - 2/3 > (2/3)/2 in floating point: a tie all the same
    with pytest.warns(UserWarning, match="not identifiable"):
        transition_matrix("pairflip", 0.5, 4)
    with pytest.warns(UserWarning, match="classes \\[1\\]"):
        transition_matrix("matrix", 0.0, 3, matrix=[[1, 0, 0], [0.3, 0.3, 0.4], [0, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transition_matrix("symmetric", 0.74, 4)
        transition_matrix("pairflip", 0.49, 4)


def test_constants():
    assert NOISE_TYPES == ("symmetric", "pairflip", "grouped", "matrix") and NOISE_MODES == ("exact", "random")


def test_record_file_is_readable_by_others_like_any_new_file(tmp_path):
    import os
    import stat

    from noisymed.labels import load_or_make_noisy_labels

    path = tmp_path / "noise.json"
    load_or_make_noisy_labels(path, [0, 1, 0, 1], rate=0.0)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
