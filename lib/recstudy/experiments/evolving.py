"""The evolving recommender (Paper A's third design goal): newly accumulated history flows into the model.

:func:`replay` walks a timestamped log in time order, period by period (calendar months
by default). After each period it updates the recommender in three ways and scores each
on the *next* period's interactions (full ranking over every item the user has not
interacted with before; users with no earlier interaction cannot be ranked by a
collaborative model and are left out):

- ``no update``: the model trained once, on the first period(s), and never touched again;
- ``incremental``: the previous step's model, warm-started (its weights kept, new users and
  items starting from their initial rows) and trained for ``update_epochs`` more epochs on
  everything seen so far, a cheap update;
- ``full retrain``: a fresh model trained from scratch for ``epochs`` epochs on everything
  seen so far;
- ``most popular``: the period's popularity, recomputed each step, as the floor.

The model is BPR-MF (:mod:`recstudy.models.baselines.bpr_mf`), the study's fastest
collaborative model; user and item rows exist for every id of the whole log from the
start (an id's row is simply untrained until the id first appears), so the three
strategies differ only in how they use the data seen so far. Each step records the
seconds its update took.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstudy.config import resolve_device, seed_everything
from recstudy.data.interactions import IndexedInteractions
from recstudy.data.pairs import cell_codes
from recstudy.evaluation.ranking import full_ranking_metrics
from recstudy.models.baselines.bpr_mf import BPRMF, train_bpr

STRATEGIES = ("no update", "incremental", "full retrain", "most popular")


def period_starts(timestamps: np.ndarray, period: str = "month") -> np.ndarray:
    """Unix-second starts of the calendar periods ("week", "month" or "quarter") covering ``timestamps``, plus the end."""
    freq = {"week": "W", "month": "M", "quarter": "Q"}.get(period)
    if freq is None:
        raise ValueError(f"period must be 'week', 'month' or 'quarter', got {period!r}")
    timestamps = np.asarray(timestamps)
    if len(timestamps) == 0 or (timestamps < 0).any():
        raise ValueError("the evolving recommender needs a timestamp on every interaction")
    first, last = (pd.Timestamp(int(t), unit="s") for t in (timestamps.min(), timestamps.max()))
    starts = pd.period_range(first, last, freq=freq).start_time
    return np.array([int(start.timestamp()) for start in starts] + [int(timestamps.max()) + 1], dtype=np.int64)


def replay(table: pd.DataFrame, *, period: str = "month", warmup_periods: int = 1, epochs: int = 30,
           update_epochs: int = 5, factors: int = 64, lr: float = 5e-3, reg: float = 1e-4, batch_size: int = 4096,
           min_test_users: int = 10, seed: int = 0, device: str = "auto") -> pd.DataFrame:
    """One row per (step, strategy): the period scored, its users, NDCG@10, HR@10, Recall@10 and update seconds.

    ``warmup_periods`` periods form the first training data (the "no update" model's
    only data). A step whose next period has fewer than ``min_test_users`` users with
    history is skipped.
    """
    if warmup_periods < 1 or epochs < 1 or update_epochs < 1:
        raise ValueError(f"need warmup_periods, epochs and update_epochs >= 1, got {warmup_periods}, {epochs}, {update_epochs}")
    device = resolve_device(device)
    data = IndexedInteractions.from_frame(table)
    bounds = period_starts(data.timestamps, period)
    if len(bounds) < warmup_periods + 2:
        raise ValueError(f"the log spans {len(bounds) - 1} {period}(s); the replay needs at least {warmup_periods + 1}")
    n_users, n_items = data.n_users, data.n_items
    training = dict(epochs=epochs, batch_size=batch_size, lr=lr, reg=reg)

    def fresh_model(step_seed: int) -> BPRMF:
        seed_everything(step_seed)
        return BPRMF(n_users, n_items, factors).to(device)

    rows: list[dict[str, Any]] = []
    frozen = incremental = None
    for step in range(warmup_periods, len(bounds) - 1):
        seen = data.timestamps < bounds[step]
        upcoming = (data.timestamps >= bounds[step]) & (data.timestamps < bounds[step + 1])
        train_codes = np.unique(cell_codes(data.users[seen], data.items[seen], n_items))
        train_users, train_items = train_codes // n_items, train_codes % n_items
        known = np.zeros(n_users, dtype=bool)
        known[train_users] = True
        test_codes = np.unique(cell_codes(data.users[upcoming], data.items[upcoming], n_items))
        test_codes = test_codes[known[test_codes // n_items] & ~np.isin(test_codes, train_codes)]  # new pairs of known users
        test_users, test_items = test_codes // n_items, test_codes % n_items
        if len(np.unique(test_users)) < min_test_users:
            continue

        updates: dict[str, tuple[Any, float]] = {}
        start = time.perf_counter()
        if frozen is None:
            frozen = fresh_model(seed)
            train_bpr(frozen, train_users, train_items, seed=seed, **training)
            incremental = copy.deepcopy(frozen)
            updates["incremental"] = (incremental, time.perf_counter() - start)
        else:
            train_bpr(incremental, train_users, train_items, seed=seed + step, **{**training, "epochs": update_epochs})
            updates["incremental"] = (incremental, time.perf_counter() - start)
        updates["no update"] = (frozen, 0.0)
        start = time.perf_counter()
        retrained = fresh_model(seed + step)
        train_bpr(retrained, train_users, train_items, seed=seed + step, **training)
        updates["full retrain"] = (retrained, time.perf_counter() - start)
        start = time.perf_counter()
        popularity = torch.as_tensor(np.bincount(train_items, minlength=n_items), dtype=torch.float32, device=device)
        updates["most popular"] = (popularity, time.perf_counter() - start)

        period_label = pd.Timestamp(int(bounds[step]), unit="s").strftime("%Y-%m-%d")
        for strategy in STRATEGIES:
            model, seconds = updates[strategy]
            if strategy == "most popular":
                score_fn = lambda users, pop=model: pop.expand(len(users), -1)  # noqa: E731
            else:
                model.eval()
                score_fn = lambda users, m=model: m.score_all(users)  # noqa: E731
            with torch.no_grad():
                metrics = full_ranking_metrics(score_fn, n_users, n_items, (train_users, train_items),
                                               (test_users, test_items), k=10, device=device)
            rows.append({"step": step - warmup_periods + 1, "period": period_label, "strategy": strategy,
                         "training_interactions": int(seen.sum()), "test_users": int(len(np.unique(test_users))),
                         "test_items": int(len(test_items)), "NDCG@10": metrics["NDCG@10"], "HR@10": metrics["HR@10"],
                         "Recall@10": metrics["Recall@10"], "update_seconds": seconds})
    if not rows:
        raise ValueError(f"no {period} of the log has {min_test_users} users with earlier history to score")
    return pd.DataFrame(rows)


def compare_strategies(results: pd.DataFrame, a: str, b: str, *, metric: str = "NDCG@10", margin: float = 0.01):
    """``a`` against ``b`` paired over the replayed periods: mean difference, t interval, effect size, verdict."""
    from dataclasses import replace

    from recstudy.evaluation.significance import paired_seeds

    wide = results.pivot(index="step", columns="strategy", values=metric).dropna(subset=[a, b])
    return replace(paired_seeds(wide[a].to_numpy(), wide[b].to_numpy(), margin=margin), method="paired t over periods")
