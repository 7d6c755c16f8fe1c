"""Equal tuning: every method gets the same number of configurations, scored on a validation split.

The validation split is carved from a protocol's training pairs
(:func:`recstudy.data.protocols.validation_split`), so tuning never sees a test
interaction of that split; the comparison tunes every protocol on its own split (seed 0).
Each grid lists its configurations in a fixed order; a budget of B
takes the first B of every grid (a method with fewer configurations, such as
MostPop with none, simply uses what it has). The score is NDCG@k on the validation
pairs; ties go to the earlier configuration.

OCF-B is tuned as a method in its own right ("GMF+OCF-B" is its own family): with the
same budget B, the first B entries of :data:`OCFB_GRID` (its threshold ``theta``, its
negatives per positive and its number of rounds), each on top of the model's
configuration chosen with uniform negatives (a second stage: the model's own
hyperparameters are shared, so the negative scheme stays the treatment).
"""

from __future__ import annotations

from pathlib import Path
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


# OCF-B's own settings, first entry = the comparison's defaults (theta 0.5; the dataset's negatives and rounds).
# The others keep the cost (negatives per positive x rounds) near that of 3 x 4 and cover the paper's 1.0x and 1.5x.
OCFB_GRID: list[dict[str, Any]] = [
    {"theta": 0.5},
    {"theta": 0.7, "negatives_per_positive": 1.5, "rounds": 8},
    {"theta": 0.3, "negatives_per_positive": 4.0, "rounds": 3},
    {"theta": 0.9, "negatives_per_positive": 1.0, "rounds": 12},
]


def tuning_grid(family: str, budget: int) -> list[dict[str, Any]]:
    """The first ``budget`` configurations of ``family``'s grid ("GMF+OCF-B": OCF-B's own settings, :data:`OCFB_GRID`)."""
    if family.endswith("+OCF-B") and family.split("+")[0] in GRIDS:
        if budget <= 0:
            raise ValueError(f"the tuning budget must be positive, got {budget}")
        return OCFB_GRID[:budget]
    if family not in GRIDS:
        raise ValueError(f"no grid for {family!r}: known are {sorted(GRIDS)}")
    if budget <= 0:
        raise ValueError(f"the tuning budget must be positive, got {budget}")
    return GRIDS[family][:budget]


def tune(
    datasets: dict[str, IndexedInteractions], protocol: str | list[str], methods: list[str], *, budget: int | dict[str, int],
    settings: dict[str, dict], seed: int = 0, k: int = 10, workers: int = 1, device: str = "cpu",
    excluded: dict[str, list[str]] | None = None, cache_dir: Path | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every configuration of every method's family on each dataset's validation split of each protocol.

    ``protocol``: one protocol or a list; each is tuned on the validation split carved from its own
    training part (seed ``seed``). ``budget``: configurations per method, one number or one per dataset.
    ``excluded[dataset]``: methods not run (so not tuned) on that dataset. ``cache_dir``: where finished runs
    are kept and read back (:func:`recstudy.experiments.methods.run_tasks`).
    Stage 1: the baselines and each NCF model with uniform negatives ("GMF+uniform" stands
    for "GMF+popularity" and "GMF+OCF-B-15" too). Stage 2: each "+OCF-B" method, its own
    :data:`OCFB_GRID` entries on top of its model's stage-1 choice. Returns (every
    configuration's validation scores, the chosen configuration per dataset, protocol and family).
    """
    protocols = [protocol] if isinstance(protocol, str) else list(protocol)

    def budget_of(name: str) -> int:
        return budget[name] if isinstance(budget, dict) else budget

    def families_of(name: str) -> list[str]:
        skip = set((excluded or {}).get(name, []))
        return list(dict.fromkeys(tuning_family(m) for m in methods if m not in skip))

    def base_families(name: str) -> list[str]:
        fams = families_of(name)
        return list(dict.fromkeys([f for f in fams if not f.endswith("+OCF-B")] + [f.split("+")[0] for f in fams if f.endswith("+OCF-B")]))

    def representative(family: str) -> str:  # an NCF model is tuned with uniform negatives; a baseline is its own family
        return f"{family}+uniform" if f"{family}+uniform" in METHODS else family

    def task(name: str, proto: str, method: str, config: dict) -> Task:
        return Task(name, proto, seed, method, config, settings.get(name, {}), role="validation", k=k, device=device)

    tasks = [task(name, proto, representative(f), config) for name in datasets for proto in protocols
             for f in base_families(name) for config in tuning_grid(f, budget_of(name))]
    rows = run_tasks(tasks, datasets, workers=workers, cache_dir=cache_dir)
    family = [tuning_family(t.method) for t in tasks]
    metric = f"NDCG@{k}"
    ocfb = {name: [f for f in families_of(name) if f.endswith("+OCF-B")] for name in datasets}
    if any(ocfb.values()):
        first = pd.DataFrame(rows).assign(family=family)
        best_model = {(first.dataset[j], first.protocol[j], first.family[j]): tasks[j].config
                      for j in first.groupby(["dataset", "protocol", "family"], sort=False)[metric].idxmax()}
        more = [task(name, proto, f, {**best_model[(name, proto, f.split("+")[0])], **extra}) for name in datasets
                for proto in protocols for f in ocfb[name] for extra in tuning_grid(f, budget_of(name))]
        rows += run_tasks(more, datasets, workers=workers, cache_dir=cache_dir)
        tasks += more
        family += [t.method for t in more]
    grid = pd.DataFrame(rows).drop(columns="per_user", errors="ignore")
    grid.insert(0, "family", family)
    wanted = {(name, f) for name in datasets for f in families_of(name)}
    grid = grid[[(d, f) in wanted for d, f in zip(grid.dataset, grid.family)]]  # a model tuned only as its OCF-B's base
    best = grid.loc[grid.groupby(["dataset", "protocol", "family"], sort=False)[metric].idxmax()]
    chosen = best[["dataset", "protocol", "family", "config", metric]].reset_index(drop=True)
    chosen["config_dict"] = [tasks[j].config for j in best.index]
    return grid[["dataset", "protocol", "family", "config", metric, f"Recall@{k}", "fit_seconds"]], chosen
