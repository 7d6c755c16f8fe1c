"""IRGAN: the user-item minimax game of Wang et al. (SIGIR 2017) on the study's next-item windows."""

import math

import pytest
import torch

from recstudy.experiments.sequential import build_model
from recstudy.models.layers import sample_categorical
from recstudy.models.sequential.irgan import IRGAN
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
LOG_KEYS = {"generator_loss", "policy_gradient_loss", "mle_loss", "discriminator_loss", "discriminator_accuracy", "reward"}


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


def test_scores_shape_and_the_sequence_is_not_read(data):
    torch.manual_seed(0)
    model = build_model("IRGAN", data, **SMALL).eval()
    users, inputs = torch.arange(data.n_users), as_tensor(data.test_inputs)
    scores = model.scores(users, inputs)
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()
    # a user-only model: other items, another order or another length give the same scores
    shuffled = inputs[:, torch.randperm(inputs.shape[1])]
    torch.testing.assert_close(model.scores(users, shuffled), scores)
    torch.testing.assert_close(model.encode(users, inputs[:, -3:]), model.encode(users, inputs)[:, -3:])
    # ... but different users get different scores
    assert not torch.allclose(scores[0], scores[1])


def test_padding_neutral(data):
    torch.manual_seed(0)
    model = build_model("IRGAN", data, **SMALL).eval()
    history = torch.tensor([3, 7, 2])
    short = torch.cat([torch.zeros(2, dtype=torch.long), history])[None]
    long = torch.cat([torch.zeros(40, dtype=torch.long), history])[None]
    users = torch.tensor([4])
    torch.testing.assert_close(model.scores(users, short), model.scores(users, long), atol=1e-5, rtol=1e-5)


def test_needs_users(data):
    with pytest.raises(ValueError, match="n_users"):
        IRGAN(data.n_items, dim=8)


def test_sampling_follows_each_rows_distribution():
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(3, 6) * 2, dim=-1)
    rows = torch.tensor([0, 1, 2, 1]).repeat(20000)
    drawn = sample_categorical(probs, 2, rows=rows)
    assert drawn.shape == (len(rows), 2)
    for r in range(3):
        chosen = drawn[rows == r].flatten()
        frequencies = torch.bincount(chosen, minlength=6).float() / len(chosen)
        assert (frequencies - probs[r]).abs().max() < 0.01
    assert sample_categorical(torch.tensor([[0.0, 1.0, 0.0]]), 50).eq(1).all()  # an item of zero probability is never drawn


def test_adversarial_step_updates_both_players_and_logs(data):
    torch.manual_seed(0)
    model = build_model("IRGAN", data, **SMALL)
    users, inputs, targets = batch(data)
    valid = targets > 0
    real = targets[valid] - 1
    fake = (real + 7) % data.n_items  # items that never follow in the cycle
    d_before = model.discriminator_loss(users, inputs, valid, real, fake)[0].item()
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_params = [p.detach().clone() for p in model.discriminator.parameters()]
    for _ in range(5):
        g_loss = model.adversarial_step((users, inputs, targets))
    assert model.discriminator_loss(users, inputs, valid, real, fake)[0].item() < d_before
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_params, model.discriminator.parameters()))
    entry = model.adversarial_log[-1]
    assert LOG_KEYS <= set(entry) and all(math.isfinite(v) for v in entry.values())
    assert len(model.adversarial_log) == 5 and entry["generator_loss"] == pytest.approx(g_loss)
    assert entry["raw_reward"] > 0  # the paper's reward log(1 + exp(D)) is positive


@pytest.mark.parametrize("mle_weight", [0.0, 2.0])
def test_mle_weight_adds_the_mle_loss(data, mle_weight):
    torch.manual_seed(0)
    model = build_model("IRGAN", data, mle_weight=mle_weight, **SMALL)
    model.adversarial_step(batch(data))
    entry = model.adversarial_log[-1]
    expected = entry["policy_gradient_loss"] + mle_weight * entry["mle_loss"]
    assert entry["generator_loss"] == pytest.approx(expected, rel=1e-5)


def test_the_papers_estimator_without_baseline_differs(data):
    losses = []
    for baseline in (True, False):
        torch.manual_seed(0)
        model = build_model("IRGAN", data, baseline=baseline, mle_weight=0.0, **SMALL)
        model.adversarial_step(batch(data))
        losses.append(model.adversarial_log[-1]["policy_gradient_loss"])
    # same draws: without a baseline every (positive) reward pushes its item up, so the loss is far larger
    assert losses[1] > losses[0] + 0.5


# The d_steps count and the runner's MLE-then-adversarial epochs are tested for every adversarial model in
# tests/models/test_sequential.py.
