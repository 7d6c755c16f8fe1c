"""The three NCF models: output shapes, score_all agreeing with forward, training lowering the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recstudy.models.ncf.train import build_model, predict_logits, train_pointwise
from recstudy.models.ncf.neumf import NeuMF

CONFIGS = {
    "gmf": {"factors": 3},
    "mlp": {"layers": (8, 4)},
    "neumf": {"mf_factors": 3, "layers": (6, 4)},
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_shapes_and_score_all_match_forward(name):
    torch.manual_seed(0)
    model = build_model(name, 7, 11, **CONFIGS[name])
    users = torch.tensor([0, 3, 6])
    items = torch.tensor([10, 0, 5])
    assert model(users, items).shape == (3,)
    all_scores = model.score_all(users)
    assert all_scores.shape == (3, 11)
    torch.testing.assert_close(all_scores[torch.arange(3), items], model(users, items), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "neumf"])
def test_score_all_over_several_blocks_matches_forward(name, monkeypatch):
    """Blocks of 2 users reuse one buffer per layer; every pair still scores as forward() does, the last block short."""
    import recstudy.models.ncf.mlp as mlp_module

    monkeypatch.setattr(mlp_module, "_SCORE_BLOCK_ELEMENTS", 2 * 11 * 8)
    torch.manual_seed(1)
    config = {"layers": (16, 8, 6, 4)} if name == "mlp" else {"mf_factors": 3, "layers": (16, 8, 4)}
    model = build_model(name, 7, 11, **config)
    assert (model if name == "mlp" else model.mlp).score_block_users == 2
    users = torch.tensor([6, 0, 3, 5, 1])
    scores = model.score_all(users)
    pairs_users, pairs_items = users.repeat_interleave(11), torch.arange(11).repeat(5)
    torch.testing.assert_close(scores.reshape(-1), model(pairs_users, pairs_items).detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_training_lowers_the_loss(name):
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 20, 400), rng.integers(0, 30, 400)
    labels = ((users + items) % 2).astype(float)  # learnable from the embeddings
    torch.manual_seed(0)
    model = build_model(name, 20, 30, **CONFIGS[name])
    history = train_pointwise(model, users, items, labels, epochs=30, lr=0.01, batch_size=64, seed=0)
    assert history.losses[-1] < history.losses[0] - 0.05
    assert predict_logits(model, users[:5], items[:5]).shape == (5,)


def test_unknown_model_and_bad_config_are_named():
    with pytest.raises(ValueError, match="unknown model 'ncf'"):
        build_model("ncf", 3, 3)
    with pytest.raises(ValueError, match="bad configuration for model 'gmf'"):
        build_model("gmf", 3, 3, layers=(4,))
    for layers in ((), (8,), (7, 4), (8, 0)):
        with pytest.raises(ValueError, match="MLP layers"):
            build_model("mlp", 3, 3, layers=layers)
    with pytest.raises(ValueError, match="bad configuration for model 'mlp'"):
        build_model("mlp", 3, 3, factors=4, layers=(8, 4))  # the embedding size comes from layers[0]
    with pytest.raises(ValueError, match="not an NCF model"):
        build_model("SASRec", 3, 3)


def test_mlp_follows_he_et_al_layer_convention():
    model = build_model("MLP", 5, 6, layers=(8, 4))
    assert model.user_embedding.embedding_dim == model.item_embedding.embedding_dim == 4
    assert [(l.in_features, l.out_features) for l in model.tower] == [(8, 4)]
    assert model.output.in_features == 4
    neumf = build_model("NeuMF", 5, 6, mf_factors=3, layers=(16, 8, 4))
    assert neumf.mlp.factors == 8 and neumf.output.in_features == 3 + 4


def test_neumf_from_pretrained_averages_the_two_models():
    torch.manual_seed(0)
    gmf = build_model("gmf", 5, 6, factors=2)
    mlp = build_model("mlp", 5, 6, layers=(6, 2))
    neumf = NeuMF.from_pretrained(gmf, mlp, alpha=0.5)
    users, items = torch.tensor([0, 1, 4]), torch.tensor([5, 2, 0])
    expected = 0.5 * gmf(users, items) + 0.5 * mlp(users, items)
    torch.testing.assert_close(neumf(users, items), expected)
    with pytest.raises(ValueError, match="alpha"):
        NeuMF.from_pretrained(gmf, mlp, alpha=1.5)
