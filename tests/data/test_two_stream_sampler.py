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


def test_state_dict_resumes_the_same_batches():
    import torch

    sampler = TwoStreamBatchSampler(range(5), range(5, 12), 2, 3, num_batches=3, seed=7)
    list(sampler)  # one epoch: the streams stop mid-pass (6 of 5 labeled draws, 9 of 7 unlabeled)
    state = sampler.state_dict()
    assert state["primary"] == [0, 1, 2, 3, 4] and len(state["queues"]["primary"]) == 4  # 10 - 6 drawn of 2 passes
    expected = [list(sampler), list(sampler)]
    saved = torch.load(_save(state), weights_only=True)  # plain types: loads without pickled code
    fresh = TwoStreamBatchSampler(range(5), range(5, 12), 2, 3, num_batches=3, seed=99)  # another seed: state wins
    fresh.load_state_dict(saved)
    assert [list(fresh), list(fresh)] == expected


def _save(obj):
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_load_state_dict_refuses_another_split():
    state = TwoStreamBatchSampler(range(4), range(4, 8), 2, 2, seed=0).state_dict()
    other = TwoStreamBatchSampler(range(3), range(3, 8), 2, 2, seed=0)
    with pytest.raises(ValueError, match="other primary indices"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="lacks"):
        other.load_state_dict({"generator": state["generator"]})
    bad = {**state, "queues": {"primary": [0, 99], "secondary": []}}
    with pytest.raises(ValueError, match=r"queues primary indices \[99\]"):
        TwoStreamBatchSampler(range(4), range(4, 8), 2, 2, seed=0).load_state_dict(bad)
