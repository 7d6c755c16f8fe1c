"""Figures of the comparison notebook: method ranking, rank heatmap, OCF-B differences, learning curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

GROUP_COLOURS = {"baseline": "tab:gray", "uniform": "tab:blue", "OCF-B": "tab:red", "popularity": "tab:green",
                 "OCF-B-15": "tab:purple"}


def method_group(method: str) -> str:
    """"baseline" for a baseline, else the NCF method's negative scheme ("uniform", "OCF-B", "popularity", "OCF-B-15")."""
    return method.split("+")[1] if "+" in method else "baseline"


def plot_method_ranking(summary: pd.DataFrame, metric: str) -> plt.Figure:
    """One panel per (dataset, protocol): methods sorted by mean ``metric`` with 95% CI bars."""
    panels = list(summary.groupby(["dataset", "protocol"], sort=False).groups)
    datasets = list(dict.fromkeys(d for d, _ in panels))
    protocols = list(dict.fromkeys(p for _, p in panels))
    fig, axes = plt.subplots(len(datasets), len(protocols), figsize=(4.6 * len(protocols), 0.33 * 15 * len(datasets) + 1),
                             squeeze=False)
    for r, name in enumerate(datasets):
        for c, protocol in enumerate(protocols):
            ax = axes[r][c]
            part = summary[(summary.dataset == name) & (summary.protocol == protocol)].sort_values(metric)
            y = np.arange(len(part))
            colours = [GROUP_COLOURS[method_group(m)] for m in part.method]
            ax.errorbar(part[metric], y, xerr=[part[metric] - part[f"{metric} low"], part[f"{metric} high"] - part[metric]],
                        fmt="none", ecolor="0.6", capsize=2)
            ax.scatter(part[metric], y, c=colours, zorder=3, s=22)
            ax.set_yticks(y, part.method, fontsize=8)
            ax.set_title(f"{name} · {protocol}", fontsize=10)
            ax.grid(True, axis="x", alpha=0.3)
            if r == len(datasets) - 1:
                ax.set_xlabel(f"{metric} (mean, 95% CI over seeds)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=g) for g, c in GROUP_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _flat(table: pd.DataFrame) -> pd.DataFrame:
    table.columns = [f"{d} · {p}" for d, p in table.columns]
    return table


def rank_table(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rank (1 = best mean ``metric``) of each method in each "dataset · protocol" column, plus "mean rank"; best first."""
    ranks = summary.assign(rank=summary.groupby(["dataset", "protocol"])[metric].rank(ascending=False, method="min"))
    table = _flat(ranks.pivot_table(index="method", columns=["dataset", "protocol"], values="rank", sort=False))
    table["mean rank"] = table.mean(axis=1)
    return table.sort_values("mean rank")


def plot_rank_heatmap(summary: pd.DataFrame, metric: str) -> plt.Figure:
    """Methods x (dataset, protocol): colour = rank by mean ``metric``, text = the mean; best methods on top."""
    ranks = rank_table(summary, metric)
    columns = [c for c in ranks.columns if c != "mean rank"]
    means = _flat(summary.pivot_table(index="method", columns=["dataset", "protocol"], values=metric, sort=False))
    means = means.loc[ranks.index, columns]
    fig, ax = plt.subplots(figsize=(1.6 * len(columns) + 3, 0.38 * len(ranks) + 1.5))
    image = ax.imshow(ranks[columns].to_numpy(), cmap="RdYlGn_r", aspect="auto")
    for i in range(len(ranks)):
        for j in range(len(columns)):
            ax.text(j, i, f"{means.iat[i, j]:.3f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(columns)), [c.replace(" · ", "\n") for c in columns], fontsize=8)
    ax.set_yticks(range(len(ranks)), [f"{m} ({r:.1f})" for m, r in ranks["mean rank"].items()], fontsize=8)
    ax.set_title(f"Rank by mean {metric} (1 = best; text: the mean; label: mean rank)")
    fig.colorbar(image, ax=ax, label="rank")
    fig.tight_layout()
    return fig


def plot_paired_differences(tests: pd.DataFrame, metric: str, margin: float | None = None) -> plt.Figure:
    """Treatment minus control ``metric`` per row of :func:`recstudy.experiments.comparison.paired_tests`, with its 95% interval.

    Red / green: significantly worse / better after Holm; blue: equivalent within ``margin`` (shaded); grey: undecided.
    """
    if "treatment" in tests:
        labels = [f"{r.dataset} · {r.protocol} · {r.treatment} − {r.control}" for r in tests.itertuples()]
    else:
        labels = [f"{r.dataset} · {r.protocol} · {r.model}" for r in tests.itertuples()]
    y = np.arange(len(tests))
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(tests) + 1.2))
    colours = ["tab:red" if v.endswith("worse") else "tab:green" if v.endswith("better") else
               "tab:blue" if v == "equivalent" else "tab:gray" for v in tests.verdict]
    if margin:
        ax.axvspan(-margin, margin, color="tab:blue", alpha=0.08)
    ax.errorbar(tests.difference, y, xerr=[tests.difference - tests["diff low"], tests["diff high"] - tests.difference],
                fmt="none", ecolor="0.6", capsize=2)
    ax.scatter(tests.difference, y, c=colours, zorder=3)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric}: treatment minus control (95% interval; red/green = significant after Holm, blue = equivalent)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learning_curves(curves: dict[str, pd.DataFrame], metric: str, reference: dict[str, float] | None = None) -> plt.Figure:
    """Validation ``metric`` per epoch for each named run (columns ``epoch`` and ``validation``); dashed references."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, curve in curves.items():
        ax.plot(curve["epoch"], curve["validation"], marker="o", ms=3, label=name)
    for name, value in (reference or {}).items():
        ax.axhline(value, ls="--", lw=0.8, color="0.4")
        ax.text(ax.get_xlim()[0], value, f" {name}", va="bottom", fontsize=8, color="0.3")
    ax.set(xlabel="epoch", ylabel=f"validation {metric}", title="Learning curves on the validation split")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
