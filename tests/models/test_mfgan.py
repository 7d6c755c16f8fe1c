"""MFGAN: a SASRec generator judged by one discriminator per factor (item, genre, release year, popularity)."""

import numpy as np
import pandas as pd
import pytest
import torch

from recstudy.data.sequences import build_sequences
from recstudy.data.side_info import ItemSideInfo, MissingSideInfo
from recstudy.experiments.sequential import build_model, train_sequential
from recstudy.models.sequential.mfgan import FACTORS, popularity_codes, year_codes
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}


def side():
    items = pd.DataFrame({"item": np.arange(15), "title": [f"Movie {i}" for i in range(15)],
                          "year": [str(1980 + 2 * i) if i != 4 else "unknown" for i in range(15)],
                          "genres": ["Action|Drama" if i % 2 else "Comedy" for i in range(15)]})
    return ItemSideInfo.from_movielens_items(items)


@pytest.fixture(scope="module")
def data(cycle_table):
    return build_sequences(cycle_table, max_len=8, item_side=side())


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


@pytest.mark.parametrize("negatives", [0, 3])
def test_one_step_lowers_the_loss_and_honours_negatives(data, negatives):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **SMALL)
    model.negatives = negatives
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss():
        torch.manual_seed(1)
        return model.loss(batch(data))

    before = loss()
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    assert loss().item() < before.item()
    model.negatives = 5 - negatives  # another loss gives another value
    assert loss().item() != pytest.approx(before.item())


def test_scores_shape_padding_neutral_and_causal(data):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **SMALL).eval()
    users = torch.arange(data.n_users)
    inputs = as_tensor(data.test_inputs)
    scores = model.scores(users, inputs)
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()
    history = torch.tensor([3, 7, 2])
    short, long = (torch.cat([torch.zeros(p, dtype=torch.long), history])[None] for p in (2, 40))
    torch.manual_seed(0)
    wide = build_model("MFGAN", data, max_len=45, **SMALL).eval()  # room for 40 pads
    with torch.no_grad():
        torch.testing.assert_close(wide.scores(users[:1], short), wide.scores(users[:1], long), atol=1e-5, rtol=1e-5)
        changed = inputs.clone()
        changed[:, -1] = (changed[:, -1] % data.n_items) + 1
        torch.testing.assert_close(model.encode(users, inputs)[:, :-1], model.encode(users, changed)[:, :-1])


def test_discriminators_are_causal_and_read_only_their_factor(data):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **SMALL).eval()
    inputs, targets = as_tensor(data.test_inputs), as_tensor(data.test_inputs)
    changed = inputs.clone()
    changed[:, -1] = (changed[:, -1] % data.n_items) + 1
    with torch.no_grad():
        for name, d in model.discriminators.items():
            before, after = d(inputs, targets)[0], d(changed, targets)[0]
            torch.testing.assert_close(before[:, :-1], after[:, :-1])  # position t judges from the prefix <= t
    # two items with the same genres: the genre discriminator cannot tell them apart, the item one can
    same_genre = [i for i in range(data.n_items) if data.item_side.genres[i].tolist() == data.item_side.genres[0].tolist()]
    a, b = torch.tensor([[0, 0, same_genre[0] + 1]]), torch.tensor([[0, 0, same_genre[1] + 1]])
    with torch.no_grad():
        genre = model.discriminators["genre"]
        torch.testing.assert_close(genre(a, a)[0], genre(b, a)[0])
        assert not torch.allclose(model.discriminators["item"](a, a)[0], model.discriminators["item"](b, a)[0])


@pytest.mark.parametrize("d_steps", [1, 3])
def test_every_factor_discriminator_gets_d_steps_updates_per_generator_update(data, d_steps):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **{**SMALL, "d_steps": d_steps})
    g_opt, d_opts = model.optimizers()
    assert set(d_opts) == set(FACTORS)
    before = {name: [p.detach().clone() for p in d.parameters()] for name, d in model.discriminators.items()}
    model.adversarial_step(batch(data))
    assert g_opt.state_dict()["state"][0]["step"].item() == 1
    for name, opt in d_opts.items():
        steps = {s["step"].item() for s in opt.state_dict()["state"].values()}
        assert steps == {d_steps}, name
        assert any(not torch.equal(a, b) for a, b in zip(before[name], model.discriminators[name].parameters())), name


def test_adversarial_steps_train_both_sides_and_log_per_factor(data):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **SMALL)
    users, inputs, targets = batch(data)
    fake = torch.where(targets > 0, (targets % data.n_items) + 1, targets)
    d_before = model.discriminator_loss(inputs, targets, fake)[0].item()
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    for _ in range(5):
        model.adversarial_step((users, inputs, targets))
    assert model.discriminator_loss(inputs, targets, fake)[0].item() < d_before
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    entry = model.adversarial_log[-1]
    assert {"generator_loss", "policy_gradient_loss", "mle_loss", "discriminator_loss", "discriminator_accuracy",
            "reward"} <= set(entry)
    assert {f"discriminator_accuracy_{f}" for f in FACTORS} <= set(entry) and {f"reward_{f}" for f in FACTORS} <= set(entry)
    assert entry["reward"] == pytest.approx(np.mean([entry[f"reward_{f}"] for f in FACTORS]), rel=1e-5)


def test_popularity_comes_from_the_training_targets_seen(data):
    torch.manual_seed(0)
    model = build_model("MFGAN", data, **SMALL)
    assert model.target_counts.sum() == 0
    b = batch(data)
    model.train()
    model.loss(b)
    expected = np.bincount(data.train_targets[data.train_targets > 0] - 1, minlength=data.n_items)
    np.testing.assert_array_equal(model.target_counts.numpy(), expected)
    model.eval()
    with torch.no_grad():
        model.loss(b)  # evaluation does not count
    np.testing.assert_array_equal(model.target_counts.numpy(), expected)
    model.train()
    model.adversarial_step(b)  # the adversarial batch counts, then the buckets are refreshed from the counts
    codes = model.discriminators["popularity"].view.codes
    torch.testing.assert_close(codes[1:], popularity_codes(model.target_counts, model.popularity_buckets))
    assert codes[0] == 0


def test_bucket_helpers():
    counts = torch.tensor([0.0, 5, 5, 1, 9, 0, 2])
    codes = popularity_codes(counts, 2)
    assert codes[0] == codes[5] == 1  # never seen
    assert codes[1] == codes[2]  # ties share a bucket
    assert codes[3] == codes[6] == 2 and codes[4] == 3  # the lower half of the seen items, then the upper half
    assert popularity_codes(counts * 7, 2).tolist() == codes.tolist()  # only the order of counts matters
    years = np.array([1990.0, np.nan, 1950, 1995, 1970])
    yc = year_codes(years, 2)
    assert yc[1] == 1 and yc[2] == yc[4] == 2 and yc[0] == yc[3] == 3


def test_known_popularity_is_used_as_given(data):
    counts = np.arange(data.n_items, dtype=float)
    model = build_model("MFGAN", data, item_popularity=counts, **SMALL)
    model.train()
    model.loss(batch(data))
    np.testing.assert_array_equal(model.target_counts.numpy(), counts)
    with pytest.raises(ValueError, match="one non-negative count per item"):
        build_model("MFGAN", data, item_popularity=counts[:-1], **SMALL)


def test_refused_without_side_info(cycle_table):
    plain = build_sequences(cycle_table, max_len=8)
    with pytest.raises(MissingSideInfo, match="MFGAN needs item side information"):
        build_model("MFGAN", plain, **SMALL)


def test_trains_end_to_end_through_the_runner_with_adversarial_epochs(data):
    run = train_sequential("MFGAN", data, seed=0, device="cpu", epochs=3, adversarial_epochs=2, patience=None, lr=1e-2,
                           **SMALL)
    assert len(run.history.losses) == 3 and len(run.adversarial_history.losses) == 2
    assert run.model.g_lr == run.model.d_lr == 1e-2
    log = run.gan_log()
    assert len(log) == 2 and "discriminator_accuracy_genre" in log.columns
    assert 0.0 <= run.test["NDCG@10"] <= 1.0
