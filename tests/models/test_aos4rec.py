"""AOS4Rec: seq2seq generator with oracular (teacher-forced / Gumbel-oracle) and Wasserstein-adversarial training."""

import math

import pytest
import torch

from recstudy.experiments.sequential import build_model
from recstudy.models.sequential.aos4rec import following_items, judged_prefixes
from recstudy.models.sequential.base import next_item_loss
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
LOG_KEYS = {"generator_loss", "policy_gradient_loss", "mle_loss", "discriminator_loss", "discriminator_accuracy", "reward",
            "critic_loss", "wasserstein_estimate"}


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


def test_following_items():
    targets = torch.tensor([[0, 0, 3, 4, 5, 6]])
    future = following_items(targets, 3)
    assert future.shape == (1, 6, 3)
    assert future[0, 2].tolist() == [3, 4, 5] and future[0, 4].tolist() == [5, 6, 0] and future[0, 5].tolist() == [6, 0, 0]


def test_judged_prefixes_are_a_random_subset_of_the_candidates():
    torch.manual_seed(0)
    candidates = torch.rand(50, 20) < 0.5
    candidates[0] = False
    candidates[1, :3] = True
    candidates[1, 3:] = False
    chosen = judged_prefixes(candidates, 4)
    assert not (chosen & ~candidates).any()
    assert chosen.sum(1).tolist() == candidates.sum(1).clamp(max=4).tolist()
    assert chosen.float().mean(0).std() < 0.2 and chosen[:, -4:].sum() < chosen.sum()  # not always the same positions


def test_one_step_seq2seq_is_the_next_item_loss_and_more_steps_add_terms(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, k=1, **SMALL)
    users, inputs, targets = batch(data)
    hidden = model.encode(users, inputs)
    valid = targets > 0
    expected = next_item_loss(hidden[valid], targets[valid] - 1, model.output_weights())
    torch.testing.assert_close(model.loss(batch(data)), expected)
    model.k = 3  # same weights: the loss now also scores the 2nd and 3rd following items
    assert not torch.isclose(model.loss(batch(data)), expected)


def test_oracle_items_replace_teacher_forcing(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, oracle_rate=0.0, **SMALL)

    def loss(rate):
        model.oracle_rate = rate
        torch.manual_seed(2)
        return model.loss(batch(data)).item()

    assert loss(0.0) == loss(0.0)  # pure teacher forcing is deterministic (no dropout)
    assert loss(1.0) != pytest.approx(loss(0.0))  # the decoder is fed the model's own Gumbel-max items instead
    model.eval()
    assert loss(1.0) == pytest.approx(loss(0.0))  # no oracle outside training


def test_scores_are_the_first_decoder_step(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, **SMALL).eval()
    users, inputs = torch.arange(data.n_users), as_tensor(data.test_inputs)
    scores = model.scores(users, inputs)
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()
    tokens, log_prob = model.rollout(model.encode(users, inputs)[:, -1], sample=torch.ones(data.n_users, 3, dtype=torch.long))
    first = torch.log_softmax(scores, dim=-1)[:, 0]
    assert tokens.shape == (data.n_users, 3) and (log_prob < first + 1e-6).all()  # later steps add negative terms


def test_padding_neutral_and_causal(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, **SMALL).eval()
    history = torch.tensor([3, 7, 2, 9])
    short, long = (torch.cat([torch.zeros(p, dtype=torch.long), history])[None] for p in (2, 40))
    users = torch.tensor([0])
    with torch.no_grad():
        torch.testing.assert_close(model.scores(users, short), model.scores(users, long), atol=1e-5, rtol=1e-5)
        inputs = as_tensor(data.test_inputs)
        changed = inputs.clone()
        changed[:, -1] = (changed[:, -1] % data.n_items) + 1
        all_users = torch.arange(data.n_users)
        before, after = model.encode(all_users, inputs), model.encode(all_users, changed)
        torch.testing.assert_close(before[:, :-1], after[:, :-1])
        assert not torch.allclose(before[:, -1], after[:, -1])
        # the critic conditions on the generator's encoding, so it judges padding-neutrally as well
        fake = torch.tensor([[1, 2, 3]])
        torch.testing.assert_close(model.critic(model.encode(users, short)[:, -1], fake)[0],
                                   model.critic(model.encode(users, long)[:, -1], fake)[0], atol=1e-6, rtol=1e-5)


def test_adversarial_step_updates_both_players_clips_the_critic_and_logs(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, clip=0.05, **SMALL)
    generator = [p.detach().clone() for p in model.generator_parameters()]
    critic = [p.detach().clone() for p in model.critic.parameters()]
    for _ in range(3):
        g_loss = model.adversarial_step(batch(data))
    assert any(not torch.equal(a, b) for a, b in zip(generator, model.generator_parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(critic, model.critic.parameters()))
    assert all(p.abs().max() <= 0.05 + 1e-7 for p in model.critic.parameters())  # WGAN weight clipping
    entry = model.adversarial_log[-1]
    assert LOG_KEYS <= set(entry) and all(math.isfinite(v) for v in entry.values())
    assert entry["generator_loss"] == pytest.approx(g_loss)
    assert entry["generator_loss"] == pytest.approx(entry["policy_gradient_loss"] + entry["mle_loss"], rel=1e-5)
    assert entry["critic_loss"] == pytest.approx(-entry["wasserstein_estimate"])


def test_critic_learns_to_rank_real_continuations_higher(data):
    torch.manual_seed(0)
    model = build_model("AOS4Rec", data, clip=0.1, d_steps=5, **SMALL)
    model.g_lr, model.d_lr = 1e-6, 5e-3  # the generator hardly moves: the critic's estimate should grow
    for _ in range(20):
        model.adversarial_step(batch(data))
    first, last = model.adversarial_log[0], model.adversarial_log[-1]
    assert last["wasserstein_estimate"] > first["wasserstein_estimate"] and last["wasserstein_estimate"] > 0


# The d_steps count and the runner's MLE-then-adversarial epochs are tested for every adversarial model in
# tests/models/test_sequential.py.
