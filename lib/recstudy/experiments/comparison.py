"""The comparison: all methods x protocols x seeds, summaries with 95% CIs, and the paired OCF-B test.

Results are tidy: one row per (dataset, protocol, seed, method) with every metric.
Summaries give the mean over seeds and a t-based 95% confidence interval. The
paired test compares, per dataset, protocol and NCF model, OCF-B negatives with
uniform negatives over the same seeds (same initial weights and first negatives,
see :mod:`recstudy.sampling.schemes`): a paired t-test and the Wilcoxon signed-rank
test (scipy), with Holm's correction over all the tests made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recstudy.data.interactions import IndexedInteractions
from recstudy.evaluation.significance import confidence_interval
from recstudy.experiments.methods import NCF_MODELS, Task, run_tasks


def comparison_tasks(
    datasets: list[str], protocols: list[str], methods: list[str], seeds: list[int], configs: dict[tuple[str, str], dict],
    settings: dict[str, dict], *, k: int = 10, device: str = "cpu",
) -> list[Task]:
    """One task per (dataset, protocol, seed, method); ``configs[(dataset, family)]`` gives the tuned configuration."""
    from recstudy.experiments.methods import tuning_family

    tasks = []
    for name in datasets:
        for protocol in protocols:
            for seed in seeds:
                for method in methods:
                    key = (name, tuning_family(method))
                    if key not in configs:
                        raise ValueError(f"no tuned configuration for {method!r} on {name!r}")
                    tasks.append(Task(name, protocol, seed, method, configs[key], settings.get(name, {}), k=k, device=device))
    return tasks


def run_comparison(
    datasets: dict[str, IndexedInteractions], protocols: list[str], methods: list[str], seeds: list[int],
    configs: dict[tuple[str, str], dict], settings: dict[str, dict], *, k: int = 10, workers: int = 1, device: str = "cpu",
) -> pd.DataFrame:
    """Fit and evaluate every method on every dataset, protocol and seed; one tidy row per run."""
    tasks = comparison_tasks(list(datasets), protocols, methods, seeds, configs, settings, k=k, device=device)
    return pd.DataFrame(run_tasks(tasks, datasets, workers=workers))


def summarise(results: pd.DataFrame, metrics: list[str], level: float = 0.95) -> pd.DataFrame:
    """Per (dataset, protocol, method): mean, CI low/high and seeds for each metric, sorted by the first metric."""
    rows = []
    for (name, protocol, method), group in results.groupby(["dataset", "protocol", "method"], sort=False):
        row: dict[str, Any] = {"dataset": name, "protocol": protocol, "method": method, "seeds": len(group)}
        for metric in metrics:
            mean, low, high = confidence_interval(group[metric].to_numpy(), level)
            row[metric], row[f"{metric} low"], row[f"{metric} high"] = mean, low, high
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values(["dataset", "protocol", metrics[0]], ascending=[True, True, False], ignore_index=True)


def mean_ci_table(summary: pd.DataFrame, metric: str, digits: int = 3) -> pd.DataFrame:
    """Methods x (dataset, protocol) table of "mean ± half-width" strings for ``metric``."""
    half = (summary[f"{metric} high"] - summary[f"{metric} low"]) / 2
    text = summary[metric].round(digits).map(lambda v: f"{v:.{digits}f}") + " ± " + half.round(digits).map(lambda v: f"{v:.{digits}f}")
    wide = summary.assign(cell=text).pivot_table(index="method", columns=["dataset", "protocol"], values="cell", aggfunc="first")
    order = summary.groupby("method")[metric].mean().sort_values(ascending=False).index
    return wide.loc[order]


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN and are not counted)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    running = 0.0
    for rank, j in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[j]))
        adjusted[j] = running
    return adjusted


def paired_tests(
    results: pd.DataFrame, metric: str, *, treatment: str = "OCF-B", control: str = "uniform", alpha: float = 0.05,
    margin: float = 0.005,
) -> pd.DataFrame:
    """Per dataset, protocol and NCF model: ``treatment`` minus ``control`` negatives on ``metric``, paired by seed.

    Verdict: "better" / "worse" when the Holm-adjusted t-test p (over the whole family of
    tests in the table) is below ``alpha``; otherwise "equivalent" when the 95% interval of
    the difference lies inside (-margin, margin), else "undecided" (too few seeds or too
    much noise to tell, which is not evidence of no difference).
    """
    rows = []
    for (name, protocol), group in results.groupby(["dataset", "protocol"], sort=False):
        for model in NCF_MODELS:
            a = group[group.method == f"{model}+{treatment}"].set_index("seed")[metric]
            b = group[group.method == f"{model}+{control}"].set_index("seed")[metric]
            seeds = a.index.intersection(b.index)
            if len(seeds) == 0:
                continue
            diff = (a.loc[seeds] - b.loc[seeds]).to_numpy()
            t_p = w_p = np.nan
            if len(seeds) >= 2 and np.any(diff != 0):
                t_p = float(stats.ttest_rel(a.loc[seeds], b.loc[seeds]).pvalue)
                w_p = float(stats.wilcoxon(diff).pvalue)
            mean, low, high = confidence_interval(diff)
            rows.append({
                "dataset": name, "protocol": protocol, "model": model, "seeds": len(seeds),
                f"{control} {metric}": float(b.loc[seeds].mean()), f"{treatment} {metric}": float(a.loc[seeds].mean()),
                "difference": mean, "diff low": low, "diff high": high, "wins": int((diff > 0).sum()),
                "t-test p": t_p, "Wilcoxon p": w_p,
            })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["Holm p (t-test)"] = holm(table["t-test p"].to_numpy())

    def verdict(row) -> str:
        if not np.isnan(row["Holm p (t-test)"]) and row["Holm p (t-test)"] < alpha:
            return f"{treatment} better" if row["difference"] > 0 else f"{treatment} worse"
        if -margin < row["diff low"] and row["diff high"] < margin:
            return "equivalent"
        return "undecided"

    table["verdict"] = table.apply(verdict, axis=1)
    return table
