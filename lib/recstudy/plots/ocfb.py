"""Figures of the Paper A notebooks: per-term panels like its Figures 5-6, ROC, loss and premise curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from recstudy.experiments.ocfb_runs import PANEL_METRICS

PANEL_TITLES = {
    "AUC": "AUC",
    "precision_positive": "positive precision",
    "precision_negative": "negative precision",
    "recall_positive": "positive recall",
    "recall_negative": "negative recall",
}
VARIANT_STYLES = {"OCF-B": "-", "control": ":"}


def _ratio_label(ratio: float) -> str:
    return f"n = {ratio:g}x positives"


def _finish(ax: plt.Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Labels, title, grid and legend: how every figure of this module ends."""
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def plot_term_panels(terms: pd.DataFrame, title: str = "", metrics: Sequence[str] = PANEL_METRICS) -> plt.Figure:
    """Five panels (AUC, positive/negative precision, positive/negative recall) against the OCF-B term.

    One colour per negative ratio, solid for OCF-B and dotted for the control;
    lines are means over seeds, bands +- one standard deviation.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.2), sharex=True)
    colours = dict(zip(sorted(terms.ratio.unique()), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        for (variant, ratio), group in terms.groupby(["variant", "ratio"]):
            stats = group.groupby("term")[metric].agg(["mean", "std"]).fillna({"std": 0.0})
            ax.plot(stats.index, stats["mean"], VARIANT_STYLES.get(variant, "--"), color=colours[ratio],
                    label=f"{variant}, {_ratio_label(ratio)}")
            ax.fill_between(stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=colours[ratio], alpha=0.15)
        ax.set_title(PANEL_TITLES.get(metric, metric))
        ax.set_xlabel("OCF-B term")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_roc_curves(predictions: pd.DataFrame, variant: str = "OCF-B", title: str = "") -> plt.Figure:
    """ROC curves of the last term's protocol test rows, one thin line per seed, one colour per ratio."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    colours = dict(zip(sorted(predictions.ratio.unique()), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    labelled = set()
    for (ratio, _seed), group in predictions[predictions.variant == variant].groupby(["ratio", "seed"]):
        fpr, tpr, _ = roc_curve(group.label, group.probability)
        ax.plot(fpr, tpr, color=colours[ratio], lw=1, alpha=0.7, label=None if ratio in labelled else _ratio_label(ratio))
        labelled.add(ratio)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title or f"ROC at the last term ({variant})")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_loss_curves(losses: pd.DataFrame, title: str = "") -> plt.Figure:
    """Training loss per epoch, the terms one after another (x = cumulative epoch), mean over seeds."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    colours = dict(zip(sorted(losses.ratio.unique()), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for (variant, ratio), group in losses.groupby(["variant", "ratio"]):
        epochs_per_term = group.groupby("term").epoch.max()
        offset = epochs_per_term.cumsum().shift(fill_value=0)
        x = group.term.map(offset) + group.epoch
        mean = group.assign(x=x).groupby("x").loss.mean()
        ax.plot(mean.index, mean.values, VARIANT_STYLES.get(variant, "--"), color=colours[ratio], lw=1,
                label=f"{variant}, {_ratio_label(ratio)}")
    _finish(ax, "epoch (terms one after another)", "training BCE loss per pair", title or "training loss")
    return fig


def plot_premise(premise: pd.DataFrame, title: str = "") -> plt.Figure:
    """Share of held-out positives among removed negatives divided by chance, per term (1 = chance)."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for ratio, group in premise.groupby("ratio"):
        g = group.droplevel("ratio")
        ax.errorbar(g.index, g.ratio_mean, yerr=g.ratio_sd, marker="o", ms=3, capsize=2, label=f"{_ratio_label(ratio)} (mean +- sd over seeds)")
        ax.plot(g.index, g.ratio_pooled, "x", color=ax.lines[-1].get_color())
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    _finish(ax, "OCF-B term", "held-out share: removed / chance", title or "Do removed negatives hide real positives? (x: pooled over seeds)")
    return fig


def plot_metric_by_term(terms: pd.DataFrame, metric: str, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """One metric against the term, mean +- sd over seeds, a line per (variant, ratio)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.4))
    colours = dict(zip(sorted(terms.ratio.unique()), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for (variant, ratio), group in terms.groupby(["variant", "ratio"]):
        stats = group.groupby("term")[metric].agg(["mean", "std"]).fillna({"std": 0.0})
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], fmt=VARIANT_STYLES.get(variant, "--"),
                    color=colours[ratio], capsize=2, lw=1, label=f"{variant}, {_ratio_label(ratio)}")
    _finish(ax, "OCF-B term", metric, title or metric)
    return ax


def plot_epoch_curves(curves: pd.DataFrame, value: str, by: str, title: str = "", ax: plt.Axes | None = None) -> plt.Axes:
    """Mean (+- sd over seeds) of ``value`` against the epoch, one line per value of ``by`` (e.g. factors)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.4))
    for key, group in curves.groupby(by):
        stats = group.groupby("epoch")[value].agg(["mean", "std"]).fillna({"std": 0.0})
        ax.plot(stats.index, stats["mean"], label=f"{by} = {key}")
        ax.fill_between(stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.15)
    _finish(ax, "epoch", value, title or value)
    return ax
