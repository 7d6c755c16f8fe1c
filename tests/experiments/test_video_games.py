"""The paper-protocol SASRec helpers: grouped loss equals the plain loss, the authors' initialisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recstudy.data.sequences import build_sequences
from recstudy.experiments.sequential import build_model
from recstudy.experiments.video_games import grouped_loss, init_like_authors, train_paper_sasrec
from recstudy.utils import as_tensor


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    rows = [(u, int((u + t) % 20), 1.0, t) for u in range(30) for t in range(int(rng.integers(4, 14)))]
    return build_sequences(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), max_len=12, tie_seed=None)


def test_grouped_loss_equals_the_plain_loss(data):
    torch.manual_seed(0)
    model = build_model("SASRec", data, dim=8, dropout=0.0, max_len=12).eval()
    batch = tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))
    torch.testing.assert_close(grouped_loss((4, 8, 12))(model, batch), model.loss(batch), rtol=1e-5, atol=1e-6)


def test_authors_initialisation_and_a_short_run(data):
    model = build_model("SASRec", data, dim=8, dropout=0.0, max_len=12)
    init_like_authors(model)
    weight = model.item_embedding.weight
    assert weight[0].abs().sum() == 0
    assert weight[1:].std().item() == pytest.approx((2 / sum(weight.shape)) ** 0.5, rel=0.3)  # Glorot-normal
    run = train_paper_sasrec(data, negatives=1, epochs=2, patience=2, dim=8, blocks=1, heads=1, dropout=0.0, max_len=12,
                             lr=1e-2, batch_size=16, n_negatives_eval=5, validation_users=np.arange(10))
    assert 0 <= run["sampled"]["sampled_NDCG@10"] <= 1 and run["history"].epochs <= 2
    with pytest.raises(ValueError, match="embedding_init"):
        train_paper_sasrec(data, negatives=1, epochs=1, patience=1, dim=8, blocks=1, heads=1, dropout=0.0, max_len=12, lr=1e-2,
                           batch_size=16, n_negatives_eval=5, validation_users=np.arange(10), embedding_init="zeros")
