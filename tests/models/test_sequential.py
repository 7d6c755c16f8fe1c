"""Every sequential model: one training step lowers the loss; scores have the right shape; no leaks."""

import inspect

import numpy as np
import pandas as pd
import pytest
import torch

from recstudy.experiments.sequential import MODELS, build_model, evaluate, fit_baseline, top_k_items, train_sequential
from recstudy.data.sequences import build_sequences
from recstudy.data.side_info import ItemSideInfo
from recstudy.models import get_model
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}


def cycle_side_info():
    """Titles, genres and years for the 15 items of the cycle (for the models that read item side information)."""
    rng = np.random.default_rng(1)
    return ItemSideInfo(np.arange(15), tuple(f"item number {i}" for i in range(15)),
                        (rng.random((15, 4)) < 0.4).astype(np.float32), ("a", "b", "c", "d"),
                        np.array([1990.0 + i for i in range(14)] + [np.nan]))


@pytest.fixture(scope="module")
def data():
    # 12 users walking a cycle of 15 items from different starting points: a clear next-item pattern;
    # an hour between steps, so the models that read time see distinct, ordered timestamps
    rng = np.random.default_rng(0)
    rows = [(u, int((start + t) % 15), 1.0, 1_000_000 + 3600 * t) for u in range(12) for start in [rng.integers(15)]
            for t in range(14)]
    return build_sequences(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), max_len=8,
                           item_side=cycle_side_info())


def batch(data, model=None):
    """A batch of every training window; with the input timestamps when ``model`` reads time."""
    arrays = (data.train_users, data.train_inputs, data.train_targets)
    if getattr(model, "uses_time", False):
        arrays += (data.train_times,)
    return tuple(as_tensor(a) for a in arrays)


def scores(model, users, inputs, times=None):
    return model.scores(users, inputs, times) if getattr(model, "uses_time", False) else model.scores(users, inputs)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("negatives", [0, 3])
def test_one_step_lowers_the_loss(data, name, negatives):
    torch.manual_seed(0)
    model = build_model(name, data, **SMALL)
    model.negatives = negatives
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss():
        torch.manual_seed(1)  # the same masks / negatives before and after the step
        return model.loss(batch(data, model))

    before = loss()
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    assert loss().item() < before.item()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scores_shape_and_no_masked_item_in_top_k(data, name):
    torch.manual_seed(0)
    model = build_model(name, data, **SMALL).eval()
    users = torch.arange(data.n_users)
    scored = scores(model, users, as_tensor(data.test_inputs), as_tensor(data.test_times))
    assert scored.shape == (data.n_users, data.n_items) and torch.isfinite(scored).all()
    top = top_k_items(model, data, "test", k=2)  # 13 of the 15 items are in each test history
    ex_users, ex_items = data.excluded_pairs("test")
    history = set(zip(ex_users.tolist(), ex_items.tolist()))
    assert top.shape == (data.n_users, 2)
    assert not any((u, int(i)) in history for u in range(data.n_users) for i in top[u])


@pytest.mark.parametrize("name", ["GRU4Rec", "Caser", "NextItNet", "SASRec", "SeqGAN"])
def test_causal_models_do_not_see_the_future(data, name):
    torch.manual_seed(0)
    model = build_model(name, data, **SMALL).eval()
    inputs = as_tensor(data.test_inputs)
    changed = inputs.clone()
    changed[:, -1] = (changed[:, -1] % data.n_items) + 1
    users = torch.arange(data.n_users)
    with torch.no_grad():
        torch.testing.assert_close(model.encode(users, inputs)[:, :-1], model.encode(users, changed)[:, :-1])


def test_gan_adversarial_step_updates_both_players(data):
    torch.manual_seed(0)
    model = build_model("SeqGAN", data, **SMALL)
    users, inputs, targets = batch(data)
    fake = torch.where(targets > 0, (targets % data.n_items) + 1, targets)
    d_before = model.discriminator_loss(inputs, targets, fake)[0].item()
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    for _ in range(3):
        model.adversarial_step((users, inputs, targets))
    assert model.discriminator_loss(inputs, targets, fake)[0].item() < d_before
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    assert {"generator_loss", "discriminator_loss", "discriminator_accuracy"} <= set(model.adversarial_log[-1])


GAN_LOG_KEYS = {"generator_loss", "policy_gradient_loss", "mle_loss", "discriminator_loss", "discriminator_accuracy", "reward"}
EXTRA_LOG_KEYS = {"AOS4Rec": {"critic_loss", "wasserstein_estimate"}}


@pytest.mark.parametrize("name", ["SeqGAN", "IRGAN", "RecGAN", "AOS4Rec"])  # MFGAN has one optimizer per discriminator
@pytest.mark.parametrize("d_steps", [1, 4])
def test_gan_discriminator_gets_d_steps_updates_per_generator_update(data, name, d_steps):
    torch.manual_seed(0)
    model = build_model(name, data, **{**SMALL, "d_steps": d_steps})
    g_opt, d_opt = model.optimizers()
    for _ in range(2):
        model.adversarial_step(batch(data))
    d_counts = {int(s["step"]) for s in d_opt.state_dict()["state"].values()}
    g_counts = {int(s["step"]) for s in g_opt.state_dict()["state"].values()}
    assert d_counts == {2 * d_steps} and g_counts == {2}


@pytest.mark.parametrize("name", ["SeqGAN", "IRGAN", "RecGAN", "AOS4Rec"])
def test_runner_trains_mle_then_adversarial_epochs(data, name):
    run = train_sequential(name, data, seed=0, device="cpu", epochs=3, adversarial_epochs=2, lr=1e-2, patience=None,
                           dim=8, dropout=0.0)
    assert len(run.history.losses) == 3 and len(run.adversarial_history.losses) == 2
    assert 0.0 <= run.test["NDCG@10"] <= 1.0
    log = run.gan_log()
    assert len(log) == 2 and GAN_LOG_KEYS | EXTRA_LOG_KEYS.get(name, set()) <= set(log.columns)


def test_training_learns_the_cycle_and_baselines(data):
    run = train_sequential("SASRec", data, seed=0, device="cpu", epochs=20, lr=1e-2, patience=None, dim=16, dropout=0.0)
    assert run.test["NDCG@10"] > 0.8  # the next item of a cycle is easy to learn; an untrained model scores far lower
    markov = evaluate(fit_baseline("MarkovChain", data), data, "test")
    assert markov["HR@10"] == 1.0 and markov["MRR@10"] == 1.0  # every transition of the cycle was seen
    popular = fit_baseline("MostPop", data).scores(torch.arange(3), as_tensor(data.test_inputs[:3]))
    assert popular.shape == (3, data.n_items)


def test_unknown_model_and_bad_settings_are_named(data):
    with pytest.raises(ValueError, match="unknown sequential model 'LSTM'"):
        build_model("LSTM", data)
    with pytest.raises(ValueError, match="negatives"):
        train_sequential("GRU4Rec", data, device="cpu", epochs=1, negatives=-1)
    with pytest.raises(ValueError, match="heads"):
        build_model("SASRec", data, dim=10, heads=3)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scores_do_not_depend_on_the_number_of_left_pads(data, name):
    torch.manual_seed(0)
    takes_max_len = "max_len" in inspect.signature(get_model(name)).parameters
    model = build_model(name, data, dim=16, dropout=0.0, **({"max_len": 45} if takes_max_len else {})).eval()
    history, times = torch.tensor([3, 7, 2]), torch.tensor([1_000_000, 1_003_600, 1_090_000])
    short, long = (torch.cat([torch.zeros(pads, dtype=torch.long), history])[None] for pads in (2, 40))
    short_times, long_times = (torch.cat([torch.zeros(pads, dtype=torch.long), times])[None] for pads in (2, 40))
    users = torch.tensor([0])
    with torch.no_grad():
        torch.testing.assert_close(scores(model, users, short, short_times), scores(model, users, long, long_times),
                                   atol=1e-5, rtol=1e-5)


def test_bert4rec_masks_a_fixed_count_and_trains_on_mask_last_instances():
    from recstudy.models.sequential.bert4rec import masked_positions

    torch.manual_seed(0)
    sequence = torch.tensor([[0, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]] * 400)  # 10 real items per row
    masked = masked_positions(sequence, mask_prob=0.2, mask_last_prob=0.25)
    counts = masked.sum(dim=1)
    last_only = (counts == 1) & masked[:, -1]
    assert set(counts.tolist()) <= {1, 2} and (counts[~last_only] == 2).all()  # round(0.2 x 10) = 2 per row
    assert 60 < int(last_only.sum()) < 140  # about a quarter of the rows mask only their last item
    assert not masked[:, :2].any()  # pads are never masked


def test_caser_has_an_output_bias_and_seqgan_honours_negatives(data):
    caser = build_model("Caser", data, **SMALL)
    assert caser.output_bias() is not None and caser.output_bias().shape == (data.n_items,)
    torch.manual_seed(0)
    gan = build_model("SeqGAN", data, **SMALL)
    losses = []
    for negatives in (0, 5):
        gan.negatives = negatives
        torch.manual_seed(1)
        losses.append(gan.loss(batch(data)).item())
    assert losses[0] != pytest.approx(losses[1])


def test_caser_without_pooling_keeps_every_placement(data):
    torch.manual_seed(0)
    pooled = build_model("Caser", data, **SMALL)
    unpooled = build_model("Caser", data, pooling=False, **SMALL)
    window, horizontal = pooled.window, pooled.horizontal[0].out_channels
    assert pooled.fc.in_features == horizontal * window + pooled.vertical.shape[0] * 16
    assert unpooled.fc.in_features == horizontal * window * (window + 1) // 2 + unpooled.vertical.shape[0] * 16
    inputs = as_tensor(data.test_inputs)
    assert unpooled.eval().scores(torch.arange(data.n_users), inputs).shape == (data.n_users, data.n_items)


def test_sample_categorical_follows_the_probabilities_and_never_draws_a_zero():
    from recstudy.models.layers import sample_categorical

    probs = torch.tensor([[0.0, 0.2, 0.8, 0.0], [5.0, 0.0, 0.0, 5.0]])  # the second row is not normalised
    draws = sample_categorical(probs, 20_000, generator=torch.Generator().manual_seed(0))
    assert draws.shape == (2, 20_000)
    first = torch.bincount(draws[0], minlength=4).float() / 20_000
    second = torch.bincount(draws[1], minlength=4).float() / 20_000
    assert first[0] == 0 and first[3] == 0 and abs(first[2].item() - 0.8) < 0.02
    assert second[1] == 0 and second[2] == 0 and abs(second[0].item() - 0.5) < 0.02


@pytest.mark.parametrize("with_bias", [False, True])
def test_full_softmax_loss_matches_cross_entropy_in_value_and_gradient(with_bias):
    # The hand-written backward of the full-softmax loss against autograd's F.cross_entropy, in float64.
    from recstudy.models.sequential.base import next_item_loss

    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(37, 8, dtype=torch.float64, generator=generator, requires_grad=True)
    weights = torch.randn(11, 8, dtype=torch.float64, generator=generator, requires_grad=True)
    bias = torch.randn(11, dtype=torch.float64, generator=generator, requires_grad=True) if with_bias else None
    targets = torch.randint(0, 11, (37,), generator=generator)
    leaves = [hidden, weights] + ([bias] if with_bias else [])

    logits = hidden @ weights.T
    expected = torch.nn.functional.cross_entropy(logits + bias if with_bias else logits, targets)
    expected_grads = torch.autograd.grad(expected, leaves)
    loss = next_item_loss(hidden, targets, weights, 0, bias)
    grads = torch.autograd.grad(loss * 3.0, leaves)  # an upstream gradient other than one is honoured
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, 3.0 * want, rtol=1e-10, atol=1e-12)



def test_gru4rec_states_are_those_of_a_packed_gru_over_the_real_items():
    # GRU4Rec runs a plain GRU over the history moved to the front (pads behind it); at every real position
    # that is the state a packed sequence of the real items gives, and pads read nothing.
    from recstudy.models.sequential.gru4rec import GRU4Rec

    torch.manual_seed(0)
    model = GRU4Rec(20, dim=8, dropout=0.0, layers=2).eval()
    inputs = torch.tensor([[0, 0, 0, 4, 7, 2], [3, 1, 5, 9, 9, 6], [0, 0, 0, 0, 0, 11]])
    real = (inputs > 0).sum(1)
    front = torch.stack([torch.cat([row[row > 0], row[row == 0]]) for row in inputs])
    packed = torch.nn.utils.rnn.pack_padded_sequence(model.item_embedding(front), real, batch_first=True,
                                                     enforce_sorted=False)
    expected_front, _ = torch.nn.utils.rnn.pad_packed_sequence(model.gru(packed)[0], batch_first=True,
                                                               total_length=inputs.shape[1])
    with torch.no_grad():
        hidden = model.encode(None, inputs)
    for row in range(len(inputs)):
        n = int(real[row])
        torch.testing.assert_close(hidden[row, -n:], expected_front[row, :n].detach(), rtol=1e-5, atol=1e-6)
        assert (hidden[row, :-n] == 0).all()



def test_policy_gradient_update_matches_autograd_in_value_and_gradient():
    # The adversarial models' generator update (hand-written backward) against autograd on the same loss,
    # -mean(advantage * log p(drawn)) + w * nll(real), in float64; some drawn items are the real ones.
    from recstudy.models.sequential.base import generator_softmax, policy_gradient_update

    generator = torch.Generator().manual_seed(0)
    hidden0 = torch.randn(29, 6, dtype=torch.float64, generator=generator)
    weights0 = torch.randn(13, 6, dtype=torch.float64, generator=generator)
    targets = torch.randint(0, 13, (29,), generator=generator)
    sampled = torch.randint(0, 13, (29,), generator=generator)
    sampled[:5] = targets[:5]
    reward = torch.rand(29, dtype=torch.float64, generator=generator)
    mle_weight = 0.7

    hidden, weights = hidden0.clone().requires_grad_(), weights0.clone().requires_grad_()
    log_probs = torch.log_softmax(hidden @ weights.T, dim=1)
    advantage = reward - reward.mean()
    expected_pg = -(advantage * log_probs.gather(1, sampled[:, None]).squeeze(1)).mean()
    expected_mle = torch.nn.functional.nll_loss(log_probs, targets)
    expected_grads = torch.autograd.grad(expected_pg + mle_weight * expected_mle, [hidden, weights])

    hidden, weights = hidden0.clone().requires_grad_(), weights0.clone().requires_grad_()
    probs, target_log_probs = generator_softmax(hidden, weights, targets)
    assert not probs.requires_grad
    torch.testing.assert_close(probs, log_probs.detach().exp())
    optimizer = torch.optim.SGD([hidden, weights], lr=0.0)  # lr 0: the gradients are read, the leaves kept
    g_loss, pg_loss, mle_loss = policy_gradient_update(optimizer, hidden, weights, probs, target_log_probs, sampled,
                                                       reward, targets, mle_weight)
    assert pg_loss.item() == pytest.approx(expected_pg.item(), rel=1e-10)
    assert mle_loss.item() == pytest.approx(expected_mle.item(), rel=1e-10)
    assert g_loss.item() == pytest.approx((expected_pg + mle_weight * expected_mle).item(), rel=1e-10)
    for got, want in zip((hidden.grad, weights.grad), expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)



def test_sasrec_block_as_the_authors_code_is_causal_padding_neutral_and_learns(data):
    # block="code": kang205/SASRec's block layout (normalised query as the residual, raw keys and values)
    torch.manual_seed(0)
    model = build_model("SASRec", data, dim=16, dropout=0.0, max_len=45, block="code")
    assert not hasattr(model, "encoder") and len(model.code_blocks) == 2
    users, inputs, targets = batch(data)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = model.loss((users, inputs, targets)).item()
    for _ in range(5):
        optimizer.zero_grad()
        model.loss((users, inputs, targets)).backward()
        optimizer.step()
    assert model.loss((users, inputs, targets)).item() < before
    model.eval()
    test_inputs = as_tensor(data.test_inputs)
    changed = test_inputs.clone()
    changed[:, -1] = (changed[:, -1] % data.n_items) + 1
    everyone = torch.arange(data.n_users)
    history = torch.tensor([3, 7, 2])
    short, long = (torch.cat([torch.zeros(pads, dtype=torch.long), history])[None] for pads in (2, 40))
    with torch.no_grad():
        torch.testing.assert_close(model.encode(everyone, test_inputs)[:, :-1], model.encode(everyone, changed)[:, :-1])
        torch.testing.assert_close(model.scores(torch.tensor([0]), short), model.scores(torch.tensor([0]), long),
                                   atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="block must be one of"):
        build_model("SASRec", data, block="post-norm")
