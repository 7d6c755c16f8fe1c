"""The comparison: all methods x protocols x seeds, summaries with 95% CIs, and paired tests of OCF-B.

Results are tidy: one row per (dataset, protocol, seed, method) with every metric (and
the per-user NDCG@k in ``per_user``). Summaries give the mean over seeds and a t-based
95% confidence interval. The paired tests compare, per dataset, protocol and NCF model,
OCF-B with an alternative on the same seeds (same initial weights, see
:mod:`recstudy.sampling.schemes`) and the same users: the primary analysis is a paired
bootstrap over users of each user's difference averaged over seeds (it covers the
variation of the user population, which a fixed split hides, and the seeds' noise through
the averages), with a bootstrap p-value, an effect size (Cohen's d_z over users), Holm's
correction over the whole family of tests, and an equivalence margin; a paired t-test and
the Wilcoxon signed-rank test over seeds are kept beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recstudy.data.interactions import IndexedInteractions
from recstudy.evaluation.significance import bootstrap_means, confidence_interval, holm
from recstudy.experiments.methods import NCF_MODELS, Task, run_tasks

EQUIVALENCE_MARGIN = 0.005  # NDCG@10: differences inside (-0.005, +0.005) are too small to matter


def comparison_tasks(
    datasets: list[str], protocols: list[str], methods: list[str], seeds: list[int], configs: dict[tuple, dict],
    settings: dict[str, dict], *, k: int = 10, device: str = "cpu",
    seeds_by_method: dict[str, dict[str, list[int]]] | None = None, excluded: dict[str, list[str]] | None = None,
    resample_fixed: bool = False, auc: bool = True,
) -> list[Task]:
    """One task per (dataset, protocol, seed, method).

    ``configs[(dataset, protocol, family)]`` (or, tuned once for all protocols, ``configs[(dataset, family)]``)
    gives the tuned configuration. ``seeds_by_method[dataset][method]`` gives some methods other seeds on a
    dataset (e.g. more for the cheap ones); ``excluded[dataset]`` lists methods not run on that dataset (to
    pay for the rest).
    """
    from recstudy.experiments.methods import tuning_family

    tasks = []
    for name in datasets:
        skip = set((excluded or {}).get(name, []))
        for protocol in protocols:
            for method in methods:
                if method in skip:
                    continue
                family = tuning_family(method)
                key = (name, protocol, family) if (name, protocol, family) in configs else (name, family)
                if key not in configs:
                    raise ValueError(f"no tuned configuration for {method!r} on {name!r} ({protocol})")
                for seed in (seeds_by_method or {}).get(name, {}).get(method, seeds):
                    tasks.append(Task(name, protocol, seed, method, configs[key], settings.get(name, {}), k=k, device=device,
                                      resample_fixed=resample_fixed, auc=auc))
    return tasks


def run_comparison(
    datasets: dict[str, IndexedInteractions], protocols: list[str], methods: list[str], seeds: list[int],
    configs: dict[tuple, dict], settings: dict[str, dict], *, k: int = 10, workers: int = 1, device: str = "cpu",
    seeds_by_method: dict[str, dict[str, list[int]]] | None = None, excluded: dict[str, list[str]] | None = None,
    resample_fixed: bool = False, auc: bool = True, cache_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Fit and evaluate every method on every dataset, protocol and seed; one tidy row per run (AUC unless ``auc=False``).

    ``cache_dir``: where finished runs are kept and read back (:func:`recstudy.experiments.methods.run_tasks`).
    """
    tasks = comparison_tasks(list(datasets), protocols, methods, seeds, configs, settings, k=k, device=device,
                             seeds_by_method=seeds_by_method, excluded=excluded, resample_fixed=resample_fixed, auc=auc)
    return pd.DataFrame(run_tasks(tasks, datasets, workers=workers, cache_dir=cache_dir))


def summarise(results: pd.DataFrame, metrics: list[str], level: float = 0.95) -> pd.DataFrame:
    """Per (dataset, protocol, method): mean, CI low/high and seeds for each metric, sorted by the first metric."""
    rows = []
    for (name, protocol, method), group in results.groupby(["dataset", "protocol", "method"], sort=False):  # noqa: B007
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


def _bootstrap_users(a: list[pd.Series], b: list[pd.Series], n_boot: int, seed: int, level: float = 0.95):
    """Per-user differences averaged over seeds, then a paired bootstrap over users: (diffs, mean, low, high, p)."""
    per_seed = [(x - y).dropna() for x, y in zip(a, b)]
    diff = pd.concat(per_seed, axis=1).mean(axis=1).to_numpy(dtype=float)  # a user's mean over the seeds that test them
    means = bootstrap_means(diff, n_boot, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    # p from the paired t-test over the same users, not the bootstrap's tail count: that count cannot go below
    # 2 / (n_boot + 1) (0.001 with 2,000 resamples), and Holm's first step over the full profile's 63 tests in 04
    # needs 0.05 / 63.
    p = float(stats.ttest_1samp(diff, 0.0).pvalue) if np.any(diff != diff[0]) else (1.0 if diff[0] == 0 else 0.0)
    return diff, float(diff.mean()), float(low), float(high), p


def paired_tests(
    results: pd.DataFrame, metric: str, *, treatment: str = "OCF-B", control: str = "uniform", alpha: float = 0.05,
    margin: float = EQUIVALENCE_MARGIN, comparisons: list[tuple[str, str]] | None = None, n_boot: int = 2000,
) -> pd.DataFrame:
    """Per dataset, protocol and NCF model: ``treatment`` minus ``control`` on ``metric``, paired by seed and user.

    ``comparisons``: pairs of method templates, "{model}" standing for GMF, MLP and NeuMF, e.g.
    ``[("{model}+OCF-B", "{model}+uniform"), ("{model}+OCF-B", "WMF-ALS")]``; by default the one
    pair ``{model}+treatment`` against ``{model}+control``. Only the seeds both methods ran are used.

    With per-user results (a ``per_user`` column, as :func:`run_comparison` gives) the primary
    analysis is the paired bootstrap over users ("difference", "diff low/high", "p"); without
    them, the t interval and the paired t-test over seeds.
    Verdict, after Holm's correction over every row of the table at ``alpha``: "<treatment> better" or
    "<treatment> worse" when significant; otherwise "equivalent" when the 95% interval of the
    difference lies inside (-margin, +margin); otherwise "undecided" (which is not evidence of no
    difference).
    """
    comparisons = comparisons or [(f"{{model}}+{treatment}", f"{{model}}+{control}")]
    with_users = "per_user" in results.columns
    rows = []
    for (name, protocol), group in results.groupby(["dataset", "protocol"], sort=False):
        for first, second in comparisons:
            for model in NCF_MODELS:
                ma, mb = first.format(model=model), second.format(model=model)
                if "{model}" not in first + second and model != NCF_MODELS[0]:
                    continue  # a comparison that names no model is made once
                ga, gb = group[group.method == ma].set_index("seed"), group[group.method == mb].set_index("seed")
                seeds = ga.index.intersection(gb.index)
                if len(seeds) == 0:
                    continue
                a, b = ga.loc[seeds, metric], gb.loc[seeds, metric]
                diff = (a - b).to_numpy()
                t_p = w_p = np.nan
                if len(seeds) >= 2 and np.any(diff != 0):
                    t_p = float(stats.ttest_rel(a, b).pvalue)
                    w_p = float(stats.wilcoxon(diff).pvalue)
                row = {"dataset": name, "protocol": protocol, "model": model if "{model}" in first + second else "-",
                       "treatment": ma, "control": mb, "seeds": len(seeds),
                       f"control {metric}": float(b.mean()), f"treatment {metric}": float(a.mean())}
                if with_users:
                    users, mean, low, high, p = _bootstrap_users(list(ga.loc[seeds, "per_user"]), list(gb.loc[seeds, "per_user"]),
                                                                 n_boot, seed=len(rows))
                    sd = users.std(ddof=1) if len(users) > 1 else 0.0
                    row.update({"users": len(users), "difference": mean, "diff low": low, "diff high": high,
                                "effect size (d_z)": mean / sd if sd > 0 else 0.0, "p": p, "interval": "bootstrap over users"})
                else:
                    mean, low, high = confidence_interval(diff)
                    sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
                    row.update({"difference": mean, "diff low": low, "diff high": high,
                                "effect size (d_z)": mean / sd if sd > 0 else 0.0, "p": t_p, "interval": "t over seeds"})
                row.update({"wins": int((diff > 0).sum()), "t-test p": t_p, "Wilcoxon p": w_p})
                rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["Holm p"] = holm(table["p"].to_numpy())
    table["Holm p (t-test)"] = holm(table["t-test p"].to_numpy())

    def verdict(row) -> str:
        # the same model under two negative schemes: name the scheme ("OCF-B better"); else the method ("MLP+uniform better")
        same_model = row["treatment"].partition("+")[0] == row["control"].partition("+")[0] and "+" in row["control"]
        label = row["treatment"].partition("+")[2] if same_model else row["treatment"]
        if not np.isnan(row["Holm p"]) and row["Holm p"] < alpha:
            return f"{label} better" if row["difference"] > 0 else f"{label} worse"
        if -margin < row["diff low"] and row["diff high"] < margin:
            return "equivalent"
        return "undecided"

    table["verdict"] = table.apply(verdict, axis=1)
    return table


# --- Paper A's claims, decided from the tests (claim / evidence / verdict) --------------------------------------------

REPLICATION_CLAIMS = {  # metric-key prefix recorded by notebooks 01-03 -> the claim it decides
    "claim_auc_rises": "OCF-B raises AUC term by term (the paper's protocol)",
    "claim_better_model": "the AUC rise reflects a better model",
    "claim_removes_false_negatives": "OCF-B removes false negatives",
    "claim_beats_random_heldout": "OCF-B beats random negatives on held-out interactions (the paper's loop, 01-03)",
}


def _tally(rows: pd.DataFrame, *, supported_by: str = "better", equivalent_supports: bool = False) -> tuple[str, str]:
    """Evidence and verdict from a set of paired-test rows, each a treatment against a control.

    The claim is that the treatment wins (``supported_by="better"``) or loses (``"worse"``); a row's verdict is read by
    its direction ("OCF-B better", "GMF+OCF-B worse", ...), whatever it names. "holds" when the claim's side wins a
    majority and the other side none, "does not hold" the other way round, else "undecided". Equivalence counts
    against a claim that one method beats another, and for a claim of "no better than" (``equivalent_supports``).
    """
    n = len(rows)
    if n == 0:
        return "not tested in this run", "not tested"
    better, worse = int(rows.verdict.str.endswith(" better").sum()), int(rows.verdict.str.endswith(" worse").sum())
    equivalent, undecided = int((rows.verdict == "equivalent").sum()), int((rows.verdict == "undecided").sum())
    evidence = (f"{better} better, {worse} worse, {equivalent} equivalent, {undecided} undecided of {n} tests "
                f"(protocols × models); mean difference {rows.difference.mean():+.4f}")
    pro, con = (better, worse) if supported_by == "better" else (worse, better)
    support, against = pro + (equivalent if equivalent_supports else 0), con + (0 if equivalent_supports else equivalent)
    if support > n / 2 and con == 0:
        return evidence, "holds"
    if against > n / 2 and pro == 0:
        return evidence, "does not hold"
    return evidence, "undecided"


def paper_a_verdicts(tests: pd.DataFrame, replication: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """Paper A's verdict table per dataset: claim / evidence / verdict.

    From the comparison's ``tests`` (:func:`paired_tests` with the comparisons named in notebook 04): OCF-B against
    uniform negatives, against WMF-ALS (Pan et al. 2008), the paper's 15-term loop against uniform negatives, MLP
    against NeuMF, GMF against MostPop. From ``replication`` (notebook name -> its recorded metrics, where available):
    the claims notebooks 01-03 decide, coded 1 / -1 / 0 per dataset and ratio.
    """
    rows = []
    for name, part in tests.groupby("dataset", sort=False):
        t, c = part.treatment, part.control

        def add(claim: str, subset: pd.DataFrame, **options) -> None:
            evidence, verdict = _tally(subset, **options)
            rows.append({"dataset": name, "claim": claim, "evidence": evidence, "verdict": verdict})

        add("OCF-B beats random (uniform) negatives on held-out interactions", part[t.str.endswith("+OCF-B") & c.str.endswith("+uniform")])
        add("OCF-B beats the one-class weighting of Pan et al. 2008 (WMF-ALS)", part[t.str.endswith("+OCF-B") & (c == "WMF-ALS")])
        add("Paper A's 15-term OCF-B loop beats uniform negatives", part[t.str.endswith("+OCF-B-15")])
        add("MLP beats NeuMF", part[(t == "MLP+uniform") & (c == "NeuMF+uniform")])
        # "GMF does not converge": it holds in effect when GMF ranks no better than popularity
        add("GMF does not converge (ranks no better than MostPop)", part[(t == "GMF+uniform") & (c == "MostPop")],
            supported_by="worse", equivalent_supports=True)
    for prefix, claim in REPLICATION_CLAIMS.items():
        for notebook, metrics in sorted((replication or {}).items()):
            codes = {k[len(prefix) + 1:]: v for k, v in metrics.items() if k.startswith(prefix + "_")}
            by_dataset: dict[str, list[str]] = {}
            for rest, value in codes.items():
                dataset, _, ratio = rest.rpartition("_n")
                word = {1: "holds", -1: "does not hold"}.get(int(value), "undecided")
                by_dataset.setdefault(dataset, []).append(f"{ratio}x {word}")
            for dataset, parts in by_dataset.items():
                words = [p.split(" ", 1)[1] for p in parts]
                verdict = words[0] if len(set(words)) == 1 else "mixed"
                rows.append({"dataset": dataset, "claim": claim, "evidence": f"{notebook}: " + ", ".join(sorted(parts)),
                             "verdict": verdict})
    return pd.DataFrame(rows, columns=["dataset", "claim", "evidence", "verdict"])
