"""Plotting helpers for the data notebook: one function per figure type."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_degree_distributions(datasets: dict[str, pd.DataFrame]) -> plt.Figure:
    """Complementary CDF of interactions per user and per item (log-log), one line per dataset."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], "user", "users"), (axes[1], "item", "items")):
        for name, df in datasets.items():
            degree = np.sort(df.groupby(key).size().to_numpy())
            share_at_least = 1.0 - np.arange(len(degree)) / len(degree)
            ax.step(degree, share_at_least, where="post", label=f"{name} ({len(degree)} {label})")
        ax.set(xscale="log", yscale="log", xlabel=f"interactions per {key}", ylabel=f"share of {label} with at least x",
               title=f"Degree distribution: {label}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_interactions_over_time(datasets: dict[str, pd.DataFrame], freq: str = "W") -> plt.Figure:
    """Interactions per period (weekly by default), one line per dataset; rows without timestamps are skipped."""
    fig, ax = plt.subplots(figsize=(11, 3.5))
    for name, df in datasets.items():
        known = df[df.timestamp >= 0]
        if known.empty:
            continue
        counts = pd.Series(1, index=pd.to_datetime(known.timestamp, unit="s")).resample(freq).sum()
        ax.plot(counts.index, counts.to_numpy(), label=f"{name} ({len(known):,} interactions)")
    ax.set(yscale="log", xlabel="date", ylabel=f"interactions per {'week' if freq == 'W' else freq}", title="Interactions over time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
