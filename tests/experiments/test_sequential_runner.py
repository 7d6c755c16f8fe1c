"""The sequential runner: convergence flags, tied and untied test users, baselines on the same transitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstudy.data.sequences import build_sequences
from recstudy.experiments.sequential import COMMON_TRAINING, run_seeds, train_sequential


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    rows = []
    for user in range(16):
        start = int(rng.integers(12))
        for t in range(9 + user % 2):  # a cycle over 12 items; every third step shares the previous step's second
            rows.append((user, (start + t) % 12, 1.0, t - (t % 3 == 2)))
    return build_sequences(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), max_len=6, tie_seed=0)


def test_defaults_train_to_convergence():
    assert COMMON_TRAINING["patience"] >= 10 and COMMON_TRAINING["epochs"] >= 100


def test_a_run_stopped_by_patience_converged_and_one_at_the_cap_did_not(data):
    small = dict(dim=8, dropout=0.0, device="cpu")
    stopped = train_sequential("GRU4Rec", data, epochs=60, patience=2, lr=0.05, **small).summary()
    capped = train_sequential("GRU4Rec", data, epochs=1, patience=2, **small).summary()
    assert stopped["converged"] is True and stopped["epochs_run"] < 60
    assert capped["converged"] is False and capped["epochs_run"] == 1


def test_tied_and_untied_users_add_up_and_baselines_are_not_counted(data):
    results = run_seeds(["SASRec", "MarkovChain"], data, [0], device="cpu",
                        settings={"SASRec": dict(dim=8, dropout=0.0, epochs=3, patience=2)})
    runs = results.runs.set_index("model")
    tied = data.test_tied
    assert 0 < tied.sum() < len(tied)
    for model in ("SASRec", "MarkovChain"):
        row = runs.loc[model]
        combined = (row["test_NDCG@10_tied"] * tied.sum() + row["test_NDCG@10_untied"] * (~tied).sum()) / len(tied)
        assert combined == pytest.approx(row["test_NDCG@10"], abs=1e-6)
    assert np.isnan(runs.loc["MarkovChain", "converged"])
    assert results.converged_fraction in (0.0, 1.0)  # one trained run
