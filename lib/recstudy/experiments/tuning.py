"""Equal tuning: every method gets the same number of configurations, scored on a validation split.

The validation split is carved from a protocol's training pairs
(:func:`recstudy.data.protocols.validation_split`), so tuning never sees a test
interaction. Each grid lists its configurations in a fixed order; a budget of B
takes the first B of every grid (a method with fewer configurations, such as
MostPop with none, simply uses what it has). The score is NDCG@k on the validation
pairs; ties go to the earlier configuration.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from recstudy.data.interactions import IndexedInteractions
from recstudy.models import model_defaults
from recstudy.experiments.methods import METHODS, Task, run_tasks, tuning_family

# First entries first: a small budget takes the head of each list, which is the model's library default. Paper A's best
# sizes (4 user, 4 item and 4 MF latent factors) are one configuration of MLP and NeuMF.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "MostPop": [{}],
    "ItemKNN": [
        model_defaults("ItemKNN"), {"neighbours": 100, "shrink": 10.0}, {"neighbours": 20, "shrink": 0.0},
        {"neighbours": None, "shrink": 10.0},
    ],
    "UserCF": [model_defaults("UserCF"), {"neighbours": 20}, {"neighbours": 200}, {"neighbours": None}],
    "BPR-MF": [
        model_defaults("BPR-MF"), {"factors": 64, "reg": 3e-3, "lr": 5e-3},
        {"factors": 128, "reg": 3e-2, "lr": 5e-3}, {"factors": 32, "reg": 1e-2, "lr": 1e-2},
    ],
    "WMF-ALS": [
        model_defaults("WMF-ALS"), {"factors": 64, "reg": 10.0, "missing_weight": 0.2},
        {"factors": 32, "reg": 2.0, "missing_weight": 0.05}, {"factors": 128, "reg": 20.0, "missing_weight": 0.2},
    ],
    "GMF": [
        model_defaults("GMF"), {"factors": 8, "lr": 5e-3}, {"factors": 64, "lr": 2e-3}, {"factors": 16, "lr": 1e-2},
    ],
    "MLP": [
        model_defaults("MLP"), {"layers": (8, 4), "lr": 5e-3},
        {"layers": (32, 16, 8), "lr": 2e-3}, {"layers": (128, 64, 32), "lr": 2e-3},
    ],
    "NeuMF": [
        model_defaults("NeuMF"),
        {"mf_factors": 4, "layers": (8, 4), "lr": 5e-3},
        {"mf_factors": 32, "layers": (64, 32, 16), "lr": 2e-3},
        {"mf_factors": 8, "layers": (16, 8), "lr": 1e-2},
    ],
}


def tuning_grid(family: str, budget: int) -> list[dict[str, Any]]:
    """The first ``budget`` configurations of ``family``'s grid."""
    if family not in GRIDS:
        raise ValueError(f"no grid for {family!r}: known are {sorted(GRIDS)}")
    if budget <= 0:
        raise ValueError(f"the tuning budget must be positive, got {budget}")
    return GRIDS[family][:budget]


def tune(
    datasets: dict[str, IndexedInteractions], protocol: str, methods: list[str], *, budget: int, settings: dict[str, dict],
    seed: int = 0, k: int = 10, workers: int = 1, device: str = "cpu",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every configuration of every method's family on each dataset's validation split.

    NCF methods are tuned once per model with uniform negatives ("GMF+uniform" stands
    for "GMF+OCF-B" and "GMF+popularity" too). Returns (every configuration's validation
    scores, the chosen configuration per dataset and family).
    """
    families = list(dict.fromkeys(tuning_family(m) for m in methods))
    # an NCF model is tuned with uniform negatives; a baseline is its own family
    representative = {f: f"{f}+uniform" if f"{f}+uniform" in METHODS else f for f in families}
    tasks = [
        Task(name, protocol, seed, representative[family], config, settings.get(name, {}), role="validation", k=k, device=device)
        for name in datasets for family in families for config in tuning_grid(family, budget)
    ]
    rows = run_tasks(tasks, datasets, workers=workers)
    grid = pd.DataFrame(rows)
    grid.insert(0, "family", [tuning_family(m) for m in grid.method])
    metric = f"NDCG@{k}"
    best = grid.loc[grid.groupby(["dataset", "family"], sort=False)[metric].idxmax()]
    chosen = best[["dataset", "family", "config", metric]].reset_index(drop=True)
    chosen["config_dict"] = [tasks[j].config for j in best.index]
    return grid[["dataset", "family", "config", metric, f"Recall@{k}", "fit_seconds"]], chosen
