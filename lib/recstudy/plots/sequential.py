"""Figures of the sequential-recommendation notebooks (05-10): one function per figure type."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_sequence_lengths(lengths: np.ndarray, max_len: int) -> plt.Figure:
    """Histogram of users' sequence lengths (log x) with the model's input-length cap marked."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.hist(lengths, bins=np.logspace(np.log10(max(lengths.min(), 1)), np.log10(lengths.max()), 30))
    ax.axvline(max_len, color="k", ls="--", label=f"max input length {max_len}")
    ax.set(xscale="log", xlabel="interactions per user", ylabel="users", title="Sequence lengths")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_learning_curves(curves: pd.DataFrame, x: str = "epoch") -> plt.Figure:
    """Training loss and validation NDCG@10 per epoch (or elapsed seconds), one line per model and seed."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    colours = {m: f"C{i}" for i, m in enumerate(curves["model"].unique())}
    for (model, seed), run in curves.groupby(["model", "seed"], sort=False):
        first = seed == curves.loc[curves.model == model, "seed"].min()
        for ax, y in zip(axes, ("loss", "valid_NDCG@10")):
            ax.plot(run[x], run[y], color=colours[model], alpha=0.7, lw=1.2, label=model if first else None)
    xlabel = {"epoch": "epoch", "elapsed": "training time (s)"}.get(x, x)
    axes[0].set(xlabel=xlabel, ylabel="training loss per position (per phase)", title="Training loss")
    axes[1].set(xlabel=xlabel, ylabel="validation NDCG@10", title="Validation NDCG@10")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_metric_by_seed(runs: pd.DataFrame, metric: str = "test_NDCG@10") -> plt.Figure:
    """One dot per seed and model (spread across seeds = stability), models ordered by their mean."""
    order = runs.groupby("model")[metric].mean().sort_values().index
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(order) + 1.5))
    for row, model in enumerate(order):
        values = runs.loc[runs.model == model, metric].to_numpy()
        ax.scatter(values, np.full(len(values), row), alpha=0.7)
        ax.plot([values.mean()] * 2, [row - 0.3, row + 0.3], color="k")
    ax.set(yticks=range(len(order)), yticklabels=order, xlabel=metric, title=f"{metric} per seed (bar: mean)")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_gan_losses(gan_log: pd.DataFrame) -> plt.Figure:
    """Generator and discriminator losses and D's accuracy per adversarial epoch: a colour per model, a line per seed."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    log = gan_log if "model" in gan_log else gan_log.assign(model="GAN")
    colours = dict(zip(log.model.unique(), plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4))
    for (model, seed), run in log.groupby(["model", "seed"], sort=False):
        first = seed == log[log.model == model].seed.min()
        axes[0].plot(run.adversarial_epoch, run.generator_loss, color=colours[model], label=model if first else None)
        axes[1].plot(run.adversarial_epoch, run.discriminator_loss, color=colours[model])
        axes[2].plot(run.adversarial_epoch, run.discriminator_accuracy, color=colours[model])
    for ax, title, ylabel in zip(axes, ("generator loss (PG + MLE)", "discriminator loss (BCE)", "discriminator accuracy"),
                                 ("loss per position", "BCE per pair", "share of pairs told apart")):
        ax.set(xlabel="adversarial epoch", ylabel=ylabel, title=title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_by_history_length(by_length: pd.DataFrame, metric: str = "NDCG@10") -> plt.Figure:
    """Grouped bars: ``metric`` per model for each history-length group (columns of ``by_length``)."""
    fig, ax = plt.subplots(figsize=(10, 3.8))
    by_length.plot.bar(ax=ax, rot=0)
    ax.set(ylabel=f"test {metric}", title=f"Test {metric} by length of the user's history")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
