"""Figures of the evolving-recommender notebook."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd


def plot_replay(results: pd.DataFrame, metric: str = "NDCG@10") -> plt.Figure:
    """Left: ``metric`` on each next period per strategy; right: the seconds each update took."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for strategy, rows in results.groupby("strategy", sort=False):
        left.plot(rows["period"], rows[metric], marker="o", label=strategy)
    left.set(xlabel="period scored (trained on everything before it)", ylabel=f"{metric} on the period", title=f"{metric} period by period")
    left.tick_params(axis="x", rotation=45)
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    cost = results[results.strategy.isin(["incremental", "full retrain"])]
    cost.pivot(index="period", columns="strategy", values="update_seconds").plot.bar(ax=right)
    right.set(xlabel="period scored", ylabel="seconds", title="cost of each update")
    right.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig
