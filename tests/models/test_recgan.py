"""RecGAN: recurrent (RRN-style) generator and discriminator trained by IRGAN's policy gradient."""

import math

import pytest
import torch

from recstudy.experiments.sequential import build_model
from recstudy.models.sequential.recgan import user_stage
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
LOG_KEYS = {"generator_loss", "policy_gradient_loss", "mle_loss", "discriminator_loss", "discriminator_accuracy", "reward"}


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


def model_with_random_state_parts(data, **kwargs):
    """A model whose zero-initialised parts (stage popularity, biases) are random, so that tests see them."""
    torch.manual_seed(0)
    model = build_model("RecGAN", data, **{**SMALL, **kwargs})
    with torch.no_grad():
        for player in (model.generator, model.discriminator):
            player.stage_popularity.normal_()
            player.bias.normal_()
    return model


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


def test_scores_shape_finite_and_personal(data):
    model = model_with_random_state_parts(data).eval()
    users, inputs = torch.arange(data.n_users), as_tensor(data.test_inputs)
    scores = model.scores(users, inputs)
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()
    # the stationary user factor: the same history scored for another user differs
    assert not torch.allclose(model.scores(users[:1], inputs[:1]), model.scores(users[1:2], inputs[:1]))


def test_user_stage_counts_real_items_only():
    inputs = torch.tensor([[0, 0, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7]])
    assert user_stage(inputs, 8).tolist() == [[0, 0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 2, 2]]
    assert user_stage(inputs, 2).max().item() == 1  # clipped to the last stage


@pytest.mark.parametrize("pads", [(2, 40), (0, 5)])
def test_padding_neutral(data, pads):
    model = model_with_random_state_parts(data).eval()
    history = torch.tensor([3, 7, 2, 9, 1])
    short, long = (torch.cat([torch.zeros(p, dtype=torch.long), history])[None] for p in pads)
    users = torch.tensor([3])
    with torch.no_grad():
        torch.testing.assert_close(model.scores(users, short), model.scores(users, long), atol=1e-5, rtol=1e-5)
        d_short = model.discriminator_logits(users, short, short > 0, torch.arange(5))[0]
        d_long = model.discriminator_logits(users, long, long > 0, torch.arange(5))[0]
        torch.testing.assert_close(d_short, d_long, atol=1e-5, rtol=1e-5)


def test_causal_and_recurrent(data):
    model = model_with_random_state_parts(data).eval()
    users, inputs = torch.arange(data.n_users), as_tensor(data.test_inputs)
    changed = inputs.clone()
    changed[:, -1] = (changed[:, -1] % data.n_items) + 1
    with torch.no_grad():
        before, after = model.encode(users, inputs), model.encode(users, changed)
        torch.testing.assert_close(before[:, :-1], after[:, :-1])
        assert not torch.allclose(before[:, -1], after[:, -1])  # the last position reads the changed item
        # the discriminator reads the history too, and causally
        valid = torch.ones_like(inputs, dtype=torch.bool)
        items = torch.zeros(inputs.numel(), dtype=torch.long)
        d_before = model.discriminator_logits(users, inputs, valid, items)[0].view(inputs.shape)
        d_after = model.discriminator_logits(users, changed, valid, items)[0].view(inputs.shape)
        torch.testing.assert_close(d_before[:, :-1], d_after[:, :-1])
        assert not torch.allclose(d_before[:, -1], d_after[:, -1])


def test_adversarial_step_updates_both_players_and_logs(data):
    torch.manual_seed(0)
    model = build_model("RecGAN", data, **SMALL)
    users, inputs, targets = batch(data)
    valid = targets > 0
    real = targets[valid] - 1
    fake = (real + 7) % data.n_items
    d_before = model.discriminator_loss(users, inputs, valid, real, fake)[0].item()
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_params = [p.detach().clone() for p in model.discriminator.parameters()]
    for _ in range(5):
        model.adversarial_step((users, inputs, targets))
    assert model.discriminator_loss(users, inputs, valid, real, fake)[0].item() < d_before
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_params, model.discriminator.parameters()))
    entry = model.adversarial_log[-1]
    assert LOG_KEYS <= set(entry) and all(math.isfinite(v) for v in entry.values())


# The d_steps count and the runner's MLE-then-adversarial epochs are tested for every adversarial model in
# tests/models/test_sequential.py.
