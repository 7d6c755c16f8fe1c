"""The evolving recommender: periods, what each strategy is trained on, and a comparison that can go either way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstudy.experiments.evolving import STRATEGIES, compare_strategies, period_starts, replay

DAY = 86_400


def drifting_log(months: int = 4, users: int = 40, seed: int = 0) -> pd.DataFrame:
    """Each month every user likes the items of that month's block: a taste that drifts."""
    rng = np.random.default_rng(seed)
    rows = []
    start = 1_600_000_000 - 1_600_000_000 % (31 * DAY)
    for month in range(months):
        t0 = int(pd.Timestamp(start, unit="s").to_period("M").start_time.timestamp()) + month * 31 * DAY + 2 * DAY
        for user in range(users):
            for item in rng.choice(np.arange(month * 10, month * 10 + 10), 5, replace=False):
                rows.append((user, int(item), 1.0, t0 + int(rng.integers(0, 20 * DAY))))
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def test_period_starts_cover_the_log_in_calendar_months():
    stamps = np.array([pd.Timestamp("2021-01-15").timestamp(), pd.Timestamp("2021-03-02").timestamp()], dtype=np.int64)
    bounds = period_starts(stamps)
    assert [pd.Timestamp(b, unit="s").strftime("%Y-%m-%d") for b in bounds[:-1]] == ["2021-01-01", "2021-02-01", "2021-03-01"]
    assert bounds[-1] == stamps.max() + 1
    with pytest.raises(ValueError, match="timestamp on every interaction"):
        period_starts(np.array([5, -1]))
    with pytest.raises(ValueError, match="period must be"):
        period_starts(stamps, "decade")


def test_replay_scores_every_strategy_on_the_next_period():
    log = drifting_log()
    results = replay(log, epochs=5, update_epochs=2, factors=8, batch_size=256, seed=0, device="cpu")
    assert set(results.strategy) == set(STRATEGIES) and results.step.max() == 3
    sizes = results.groupby("step").training_interactions.first()
    assert sizes.is_monotonic_increasing and sizes.iloc[0] == (log.timestamp < period_starts(log.timestamp.to_numpy())[1]).sum()
    assert (results[results.strategy == "no update"].update_seconds == 0).all()
    first = results[results.step == 1].set_index("strategy")["NDCG@10"]
    assert first["incremental"] == first["no update"]  # before any new period the two are the same model
    assert results["NDCG@10"].between(0, 1).all() and (results.test_users == 40).all()
    again = replay(log, epochs=5, update_epochs=2, factors=8, batch_size=256, seed=0, device="cpu")
    pd.testing.assert_series_equal(results["NDCG@10"], again["NDCG@10"])  # seeded: the same numbers


def test_the_comparison_can_favour_either_side_or_call_it_equivalent():
    rows = [{"step": s, "strategy": name, "NDCG@10": value}
            for s in range(1, 7) for name, value in (("a", 0.20 + 0.001 * s), ("b", 0.10 + 0.002 * s), ("c", 0.20 + 0.001 * s + 0.001 * (-1) ** s))]
    frame = pd.DataFrame(rows)
    assert compare_strategies(frame, "a", "b").verdict == "higher"
    assert compare_strategies(frame, "b", "a").verdict == "lower"
    assert compare_strategies(frame, "a", "c", margin=0.01).verdict == "equivalent"
    assert compare_strategies(frame, "a", "b").method == "paired t over periods"
