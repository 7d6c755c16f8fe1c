"""HPMN: periodic layer updates counted from the first real item, causality, padding-neutrality, training."""

import numpy as np
import pytest
import torch

from recstudy.experiments.sequential import build_model, train_sequential
from recstudy.models.sequential.hpmn import HPMN
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
HISTORY = torch.tensor([3, 7, 2, 9, 4, 11, 5, 8, 12, 6, 1])


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


def padded(pads: int, history=HISTORY):
    return torch.cat([torch.zeros(pads, dtype=torch.long), history])[None]


def model(**options):
    torch.manual_seed(0)
    return HPMN(20, **{**SMALL, **options}).eval()


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


@pytest.mark.parametrize("options", [{}, {"hops": 3}, {"layers": 3, "stride": 3}, {"layers": 1}])
def test_scores_have_the_catalogue_shape_and_are_finite(data, options):
    torch.manual_seed(0)
    net = build_model("HPMN", data, **SMALL, **options).eval()
    scores = net.scores(torch.arange(data.n_users), as_tensor(data.test_inputs))
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()


@pytest.mark.parametrize("pads", [0, 1, 3, 6])
def test_a_layer_of_period_p_updates_on_every_pth_real_item(pads):
    net = model(layers=4, stride=2)  # periods 1, 2, 4, 8
    inputs = padded(pads)
    mask = net.update_mask(inputs)[0]  # (L, J)
    real_count = np.arange(1, len(HISTORY) + 1)
    for j, period in enumerate((1, 2, 4, 8)):
        assert not mask[:pads, j].any()
        assert mask[pads:, j].tolist() == (real_count % period == 0).tolist()
    # and the memories change exactly there: each layer's state moves only when it updates
    with torch.no_grad():
        memory = net.memories(inputs)[0]  # (L, J, d)
    previous = torch.cat([torch.zeros_like(memory[:1]), memory[:-1]])
    changed = (memory - previous).abs().amax(dim=-1) > 0
    assert changed.tolist() == mask.tolist()


def test_the_first_layer_is_a_gru_over_the_items_and_higher_layers_read_the_layer_below():
    net = model(layers=3, stride=2)
    with torch.no_grad():
        memory = net.memories(padded(0))[0]
        emb = net.item_embedding(HISTORY)[None]
        first = net.grus[0](emb)[0][0]
        second = net.grus[1](first[None, 1::2])[0][0]  # after real items 2, 4, 6, ...
    torch.testing.assert_close(memory[:, 0], first)
    torch.testing.assert_close(memory[1::2, 1], second)
    torch.testing.assert_close(memory[2::2, 1], second[: len(memory[2::2])])  # held until the next update


def test_read_out_is_the_attention_mlp_over_query_and_layer_memories():
    # reference: softmax over layers of MLP([q, m, q - m, q * m]) with q = the current item (projected)
    net = model(layers=3)
    inputs = padded(2)
    with torch.no_grad():
        memory = net.memories(inputs)
        current = net.item_embedding(inputs)
        q = net.query(current)[:, :, None].expand_as(memory)
        weights = torch.softmax(net.attention(torch.cat([q, memory, q - memory, q * memory], dim=-1)), dim=2)
        expected = net.out(torch.cat([(weights * memory).sum(dim=2), current], dim=-1)) * (inputs > 0)[..., None]
        torch.testing.assert_close(net.encode(torch.tensor([0]), inputs), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"hops": 3}, {"layers": 3, "stride": 3}])
def test_scores_do_not_depend_on_the_number_of_left_pads(options):
    net = model(**options)
    users = torch.tensor([0])
    with torch.no_grad():
        torch.testing.assert_close(net.scores(users, padded(1)), net.scores(users, padded(10)), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(net.encode(users, padded(1))[:, 1:], net.encode(users, padded(10))[:, 10:],
                                   atol=1e-5, rtol=1e-5)


def test_no_position_sees_a_later_input():
    net = model(hops=2)
    users = torch.tensor([0])
    inputs = padded(2)
    with torch.no_grad():
        base = net.encode(users, inputs)
        for t in range(3, inputs.shape[1]):
            changed = inputs.clone()
            changed[0, t] = 19
            out = net.encode(users, changed)
            torch.testing.assert_close(out[:, :t], base[:, :t])
            assert not torch.allclose(out[:, t], base[:, t])


def test_covariance_penalty_is_zero_for_uncorrelated_layers_and_enters_the_loss(data):
    net = model()
    a = torch.tensor([1.0, -1.0, 2.0, -2.0])
    flat = torch.full((4,), 3.0)  # constant over dimensions: zero after centring
    assert net.covariance_penalty(torch.stack([a, flat])[None]).item() == 0.0
    assert net.covariance_penalty(torch.stack([a, a])[None]).item() > 0.0
    torch.manual_seed(0)
    with_penalty = build_model("HPMN", data, cov_weight=1.0, **SMALL)
    torch.manual_seed(0)
    without = build_model("HPMN", data, cov_weight=0.0, **SMALL)
    assert with_penalty.loss(batch(data)).item() > without.loss(batch(data)).item()
    # at a window's first items the upper layers are still zero (zero penalty): the gradient must stay finite
    short = (torch.tensor([0]), torch.tensor([[0, 0, 3, 4]]), torch.tensor([[0, 0, 4, 5]]))
    with_penalty.loss(short).backward()
    assert all(torch.isfinite(p.grad).all() for p in with_penalty.parameters() if p.grad is not None)


def test_training_runs_end_to_end(data):
    run = train_sequential("HPMN", data, seed=0, device="cpu", epochs=3, lr=1e-2, patience=None, dim=16, dropout=0.0)
    assert len(run.history.losses) == 3 and run.history.losses[-1] < run.history.losses[0]
    assert 0.0 <= run.test["NDCG@10"] <= 1.0


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="layers"):
        HPMN(10, layers=0)
