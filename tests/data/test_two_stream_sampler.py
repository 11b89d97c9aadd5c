from __future__ import annotations

import pytest

from noisymed.data import TwoStreamBatchSampler


def test_each_batch_is_labeled_then_unlabeled():
    sampler = TwoStreamBatchSampler(range(4), range(4, 20), 2, 2, num_batches=10, seed=3)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 10
    for b in batches:
        assert len(b) == 4 and all(i < 4 for i in b[:2]) and all(i >= 4 for i in b[2:])
    first_pass = sorted(i for b in batches[:2] for i in b[:2])
    assert first_pass == [0, 1, 2, 3]  # labeled indices drawn without replacement within a pass
    assert list(TwoStreamBatchSampler(range(4), range(4, 20), 2, 2, 10, seed=3)) == batches  # seeded


def test_streams_continue_across_epochs_and_default_length():
    sampler = TwoStreamBatchSampler(range(6), range(6, 9), 2, 1, seed=0)
    assert len(sampler) == 3
    e1, e2 = list(sampler), list(sampler)
    assert sorted(i for b in e1 for i in b[:2]) == list(range(6)) == sorted(i for b in e2 for i in b[:2])
    assert sorted(b[2] for b in e1) == [6, 7, 8]


def test_supervised_only_when_no_unlabeled():
    assert all(len(b) == 2 for b in TwoStreamBatchSampler(range(4), [], 2, 2, num_batches=3))


def test_rank_shards_are_disjoint():
    r0 = TwoStreamBatchSampler(range(8), range(8, 16), 2, 2, 4, num_replicas=2, rank=0)
    r1 = TwoStreamBatchSampler(range(8), range(8, 16), 2, 2, 4, num_replicas=2, rank=1)
    s0 = {i for b in r0 for i in b}
    s1 = {i for b in r1 for i in b}
    assert s0.isdisjoint(s1) and s0 | s1 == set(range(16))


def test_errors():
    with pytest.raises(ValueError, match="fewer than primary_batch_size"):
        TwoStreamBatchSampler([0], [1, 2], 2, 2)
    with pytest.raises(ValueError, match="overlap"):
        TwoStreamBatchSampler([0, 1], [1, 2], 2, 2)
    with pytest.raises(ValueError, match="secondary"):
        TwoStreamBatchSampler([0, 1], [2], 2, 2)
