"""Optuna tuning: maximises on validation only, is reproducible, cached, and reports edge optima."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recstudy.data.sequences import build_sequences
from recstudy.experiments import optuna_tuning
from recstudy.experiments.optuna_tuning import SEARCH_SPACES, at_edge, tune_sequential


@pytest.fixture(scope="module")
def data():
    rows = [(u, (u + t) % 9, 1.0, t) for u in range(6) for t in range(7)]
    return build_sequences(pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), max_len=5)


@pytest.fixture
def fake_training(monkeypatch):
    calls = []

    def train_sequential(name, data, *, seed, device, on_epoch, evaluate_test, **settings):
        assert evaluate_test is False  # tuning never scores the test target
        calls.append(settings)
        score = 1.0 - (np.log10(settings["lr"]) + 2.5) ** 2 - (settings["dropout"] - 0.3) ** 2
        for epoch in (1, 2, 3):
            on_epoch(epoch, score * epoch / 3)
        return SimpleNamespace(valid={"NDCG@10": score})

    monkeypatch.setattr(optuna_tuning.runner, "train_sequential", train_sequential)
    return calls


SPACE = {"lr": ("float", 1e-4, 1e-1, True), "dropout": ("float", 0.0, 0.6, False)}


def test_finds_the_optimum_reproducibly_and_stores_in_sqlite(data, fake_training, tmp_path):
    first = tune_sequential("GRU4Rec", data, n_trials=25, space=SPACE, seed=3, cache_dir=tmp_path / "a", pruner="none")
    assert abs(np.log10(first.best_params["lr"]) + 2.5) < 0.5 and abs(first.best_params["dropout"] - 0.3) < 0.2
    assert (tmp_path / "a" / "optuna-GRU4Rec.db").exists() and not first.from_cache
    again = tune_sequential("GRU4Rec", data, n_trials=25, space=SPACE, seed=3, cache_dir=tmp_path / "b", pruner="none")
    assert again.best_params == first.best_params  # same seed, same trials
    assert len(first.table()) == 25


def test_second_call_is_served_from_the_cache(data, fake_training, tmp_path):
    tune_sequential("SASRec", data, n_trials=4, space=SPACE, seed=0, cache_dir=tmp_path)
    trained = len(fake_training)
    cached = tune_sequential("SASRec", data, n_trials=4, space=SPACE, seed=0, cache_dir=tmp_path)
    assert cached.from_cache and len(fake_training) == trained
    other = tune_sequential("SASRec", data, n_trials=5, space=SPACE, seed=0, cache_dir=tmp_path)  # another budget
    assert not other.from_cache


def test_edges_are_reported():
    space = {"lr": ("float", 1e-4, 1e-1, True), "dim": ("categorical", [32, 64, 128]), "k": ("int", 2, 10, False)}
    assert at_edge({"lr": 0.095, "dim": 64, "k": 6}, space) == ["lr"]
    assert at_edge({"lr": 1e-3, "dim": 128, "k": 2}, space) == ["dim", "k"]


def test_every_sequential_model_has_a_space_and_optuna_is_pinned():
    from recstudy.experiments.sequential import MODELS

    assert set(SEARCH_SPACES) == set(MODELS)
    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()
    assert "optuna==" in requirements


def test_tuned_settings_fix_overrides_outside_the_search_and_share_the_run_protocol(data, fake_training, tmp_path):
    result, settings = optuna_tuning.tuned_settings("GRU4Rec", data, n_trials=3, seed=0, epochs=40, patience=10,
                                                    trial_patience=3, overrides={"dim": 16, "dropout": 0.25},
                                                    pruner="none", cache_dir=tmp_path)
    assert "dropout" not in result.best_params and "dim" not in result.best_params  # fixed, so not searched
    assert all(call["dim"] == 16 and call["dropout"] == 0.25 and call["epochs"] == 40 and call["patience"] == 3
               for call in fake_training)  # trials stop sooner; the final runs get the full patience
    assert settings == {"dim": 16, "dropout": 0.25, "epochs": 40, "patience": 10, **result.best_params}
