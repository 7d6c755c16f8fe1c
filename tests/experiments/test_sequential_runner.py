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


def test_cached_runs_are_reused_only_for_the_same_settings(data, tmp_path, monkeypatch):
    from recstudy.experiments import sequential

    small = {"SASRec": dict(dim=8, dropout=0.0, epochs=2, patience=2)}
    first = run_seeds(["SASRec", "MarkovChain"], data, [0, 1], settings=small, device="cpu", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3  # two SASRec seeds and the chain

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(sequential, "train_sequential", no_training)
    again = run_seeds(["SASRec", "MarkovChain"], data, [0, 1], settings=small, device="cpu", cache_dir=tmp_path)
    columns = ["model", "seed", "test_NDCG@10", "test_HR@10", "converged", "test_NDCG@10_tied"]
    pd.testing.assert_frame_equal(first.runs[columns], again.runs[columns])
    pd.testing.assert_frame_equal(first.per_user.reset_index(drop=True), again.per_user.reset_index(drop=True),
                                  check_dtype=False)
    assert len(again.curves) == len(first.curves)
    relabelled = run_seeds(["tiny"], data, [0], settings={"tiny": {**small["SASRec"], "model": "SASRec"}}, device="cpu",
                           cache_dir=tmp_path)
    assert set(relabelled.runs.model) == set(relabelled.per_user.model) == {"tiny"}  # same run, its own label
    with pytest.raises(AssertionError, match="trained again"):  # other settings: not served from the cache
        run_seeds(["SASRec"], data, [0], settings={"SASRec": {**small["SASRec"], "dim": 12}}, device="cpu",
                  cache_dir=tmp_path)


def test_the_test_target_is_scored_once_per_run(data, monkeypatch):
    from recstudy.experiments import sequential

    splits = []
    original = sequential.evaluate

    def counting(model, data, split="test", **kwargs):
        splits.append((split, kwargs.get("keep_last")))
        return original(model, data, split, **kwargs)

    monkeypatch.setattr(sequential, "evaluate", counting)
    run_seeds(["GRU4Rec"], data, [0], settings={"GRU4Rec": dict(dim=8, epochs=2, patience=2)}, device="cpu")
    assert splits.count(("test", None)) == 1


def _cycle_table(tied: bool) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for user in range(30):
        items = rng.permutation(12)[:8]
        for t, item in enumerate(items):
            rows.append((user, int(item), 1.0, t // 2 if tied else t))  # tied: every two ratings share a second
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


@pytest.mark.parametrize("tied", [True, False])
def test_tie_order_spread_is_zero_without_ties_and_brackets_the_score(tied):
    from recstudy.experiments.sequential import tie_order_data

    table = _cycle_table(tied)
    data = build_sequences(table, max_len=6, tie_seed=0)
    others = tie_order_data(table, data, 4)
    row = run_seeds(["MarkovChain"], data, [0], device="cpu", tie_orders=others).runs.iloc[0]
    assert row["test_NDCG@10_tie_orders"] == 5
    assert row["test_NDCG@10_tie_min"] <= row["test_NDCG@10"] <= row["test_NDCG@10_tie_max"]
    if tied:
        assert row["test_NDCG@10_tie_sd"] > 0  # other orders move the target, and the score with it
    else:
        assert row["test_NDCG@10_tie_sd"] == 0 and row["test_NDCG@10_tie_min"] == row["test_NDCG@10_tie_max"]


def test_epoch_timings_interleave_every_model_in_every_round(data):
    from recstudy.experiments.sequential import epoch_timings

    small = dict(dim=8, dropout=0.0)
    timings = epoch_timings(["GRU4Rec", "SeqGAN", "shallow"], data,
                            {"GRU4Rec": small, "SeqGAN": small, "shallow": {**small, "model": "NextItNet", "dilations": [1]}},
                            repeats=2, device="cpu")
    assert len(timings) == 6 and set(timings.seed) == {0, 1}
    assert timings.groupby("seed").model.nunique().eq(3).all() and (timings.seconds_per_epoch > 0).all()


def test_results_combine_keeps_every_row():
    from recstudy.experiments.sequential import SeedResults

    a = SeedResults(pd.DataFrame({"model": ["x"], "converged": [True]}), pd.DataFrame({"model": ["x"]}), pd.DataFrame(),
                    pd.DataFrame({"model": ["x"], "user": [0]}))
    b = SeedResults(pd.DataFrame({"model": ["y", "y"], "converged": [False, True]}), pd.DataFrame(), pd.DataFrame(),
                    pd.DataFrame({"model": ["y"], "user": [0]}))
    both = SeedResults.combine(a, b)
    assert list(both.runs.model) == ["x", "y", "y"] and len(both.per_user) == 2 and len(both.curves) == 1
    assert both.converged_fraction == pytest.approx(2 / 3)


def test_a_model_that_reads_time_gets_the_input_times_in_training_and_scoring():
    import torch
    from recstudy.data.sequences import build_sequences
    from recstudy.experiments import sequential as runner
    from recstudy.models.sequential.base import SequentialRecommender

    class TimeAware(SequentialRecommender):
        uses_time = True
        seen: list = []

        def encode(self, users, inputs, times):
            TimeAware.seen.append(times.clone())
            return self.item_embedding(inputs) * (1 + 0 * times[..., None].float())

    table = pd.DataFrame({"user": [1] * 5 + [2] * 4, "item": [1, 2, 3, 4, 5, 2, 3, 4, 1], "rating": 1.0,
                          "timestamp": [10, 20, 30, 40, 50, 11, 21, 31, 41]})
    data = build_sequences(table, max_len=3, tie_seed=None)
    model = TimeAware(data.n_items, 4)
    batch = next(iter(runner.window_batches(data, 8, "cpu", times=True)(torch.Generator().manual_seed(0))))
    assert len(batch) == 4 and batch[3].shape == batch[1].shape
    model.loss(batch).backward()
    TimeAware.seen.clear()
    runner.evaluate(model, data, "test")
    assert torch.equal(TimeAware.seen[-1], torch.as_tensor(data.input_times("test")))


def test_models_that_need_side_information_are_skipped_with_the_reason_on_data_without_it():
    from recstudy.experiments.sequential import available_models

    table = pd.DataFrame({"user": [1] * 5, "item": [1, 2, 3, 4, 5], "rating": 1.0, "timestamp": [1, 2, 3, 4, 5]})
    data = build_sequences(table, max_len=3)
    kept, skipped = available_models(["GRU4Rec", "3D-CNN", "MarkovChain"], data)
    assert kept == ["GRU4Rec", "MarkovChain"] and "item side information" in skipped["3D-CNN"]


def test_a_models_fingerprint_covers_the_model_files_it_builds_on():
    from recstudy.experiments.fingerprints import model_modules

    assert {"recstudy.models.sequential.irgan", "recstudy.models.sequential.gru4rec",
            "recstudy.models.sequential.base"} <= set(model_modules("RecGAN"))
    assert "recstudy.models.sequential.sasrec" in model_modules("MFGAN")
    assert "recstudy.models.sequential.irgan" not in model_modules("SASRec")
    assert "recstudy.models" not in model_modules("SASRec")  # adding a model to the registry invalidates nothing


def test_early_stopping_on_a_validation_subset_scores_only_those_users_and_reports_every_user(data, monkeypatch):
    import recstudy.experiments.sequential as sequential

    subset = sequential.validation_users(data, 5)
    assert len(subset) == 5 and np.array_equal(subset, sequential.validation_users(data, 5))  # fixed, not per run
    assert sequential.validation_users(data, None) is None and sequential.validation_users(data, data.n_users) is None
    scored = []
    evaluate = sequential.evaluate

    def counting_evaluate(*args, **kwargs):
        result = evaluate(*args, **kwargs)
        scored.append(result["users"])
        return result

    monkeypatch.setattr(sequential, "evaluate", counting_evaluate)
    run = train_sequential("GRU4Rec", data, epochs=2, patience=2, dim=8, device="cpu", valid_users=5, evaluate_test=False)
    assert scored[:2] == [5, 5]  # the two epochs' early-stopping checks
    assert run.valid["users"] == data.n_users  # the reported validation metrics cover every user
    with pytest.raises(ValueError, match="valid_users"):
        sequential.validation_users(data, 0)
