"""Turning Paper B's Table 2 (claimed strengths and weaknesses per family) into measured verdicts.

Every verdict is computed from the multi-seed results of
:func:`recstudy.experiments.sequential.run_seeds` by a rule stated next to it, so the table
changes with the numbers. "Within spread" means the difference of two means is
smaller than the larger of their standard deviations across seeds.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from recstudy.experiments.sequential import build_model
from recstudy.data.sequences import SequenceData


def by_history_length(per_user: pd.DataFrame, threshold: float, metric: str = "NDCG@10") -> pd.DataFrame:
    """Mean test ``metric`` per model for users with a history of at most / more than ``threshold`` items.

    Means are over users and seeds; ``long/short`` is their ratio.
    """
    groups = np.where(per_user["history_length"] <= threshold, f"short (<= {threshold:g})", f"long (> {threshold:g})")
    table = per_user.assign(group=groups).pivot_table(index="model", columns="group", values=metric, aggfunc="mean")
    table = table[[f"short (<= {threshold:g})", f"long (> {threshold:g})"]]
    table["long/short"] = table.iloc[:, 1] / table.iloc[:, 0]
    return table


def parameters_by_input_length(data: SequenceData, names: list[str], lengths: tuple[int, ...] = (50, 200),
                               **hparams: Any) -> pd.DataFrame:
    """Parameter count of each model built for each maximum input length (the data's sizes otherwise)."""
    rows = {}
    for name in names:
        rows[name] = {f"max_len {n}": build_model(name, _with_max_len(data, n), **hparams).n_parameters for n in lengths}
    return pd.DataFrame(rows).T


def _with_max_len(data: SequenceData, max_len: int) -> SequenceData:
    from dataclasses import replace

    return replace(data, max_len=max_len)


def _mean_std(runs: pd.DataFrame, model: str, column: str) -> tuple[float, float]:
    values = runs.loc[runs.model == model, column]
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _compare(runs: pd.DataFrame, a: str, b: str, column: str) -> tuple[float, float, bool]:
    """Means of ``a`` and ``b`` and whether their difference exceeds the larger seed spread."""
    (ma, sa), (mb, sb) = _mean_std(runs, a, column), _mean_std(runs, b, column)
    return ma, mb, abs(ma - mb) > max(sa, sb)


def table2_verdicts(runs: pd.DataFrame, gan_log: pd.DataFrame, curves: pd.DataFrame, history: pd.DataFrame,
                    growth: pd.DataFrame, keep_last: int, rnn: str = "GRU4Rec", cnns: tuple[str, ...] = ("Caser", "NextItNet"),
                    attention: tuple[str, ...] = ("SASRec", "BERT4Rec"), gan: str = "SeqGAN",
                    shallow_cnn: str | None = None, deep_cnn: str = "NextItNet", markov: str = "MarkovChain") -> pd.DataFrame:
    """Claim / measured evidence / verdict rows for Paper B's Table 2 (rules in each row's evidence)."""
    rows: list[dict[str, Any]] = []

    def add(family: str, claim: str, evidence: str, verdict: str) -> None:
        # A rule fed a missing measurement (NaN, e.g. one seed gives no spread) has tested nothing.
        if re.search(r"\bnan\b", evidence.lower()):
            verdict = "not tested here (a measurement is missing)"
        rows.append({"family": family, "claim": claim, "evidence": evidence, "verdict": verdict})

    spe = runs.groupby("model")["seconds_per_epoch"].median()
    ndcg = runs.groupby("model")["test_NDCG@10"].mean()
    neural = [m for m in [rnn, *cnns, *attention, gan] if m in ndcg.index]

    # RNN: model size independent of input length
    sizes = growth.loc[rnn]
    same = sizes.nunique() == 1
    grows = [m for m in growth.index if growth.loc[m].nunique() > 1]
    add("RNN", "any input length; model size independent of input length",
        f"{rnn} parameters at {', '.join(growth.columns)}: {', '.join(f'{v:,}' for v in sizes)}; "
        f"models whose size grows with the input length: {', '.join(grows) or 'none'}",
        "not testable here: a recurrent cell's size does not depend on the input length by construction"
        if same else "not supported")

    # RNN: slow (sequential) training
    others = [m for m in [*cnns, *attention] if m in spe.index]
    faster = [m for m in others if spe[m] < spe[rnn]]
    add("RNN", "slow (sequential) training",
        f"median s/epoch: {rnn} {spe[rnn]:.2f}; " + ", ".join(f"{m} {spe[m]:.2f}" for m in others)
        + f". Rule: supported if {rnn} is slower than all CNN and transformer models, not supported if faster than half of them",
        "supported" if len(faster) == len(others) else ("not supported" if len(faster) < len(others) / 2 else "unclear"))

    # RNN: far-past information (truncation to the last n items, and long vs short histories)
    col = f"test_NDCG@10_last_{keep_last}"
    drop = (1 - runs.groupby("model")[col].mean() / ndcg).reindex(neural)
    others = [m for m in neural if m != rnn]
    ratio = history["long/short"]
    verdict = "unclear"
    if drop[rnn] < drop[others].min():
        verdict = "supported"
    elif drop[rnn] > drop[others].median():
        verdict = "not supported"
    add("RNN", "hard to use far-past information",
        f"relative NDCG@10 loss when only the last {keep_last} items are shown: "
        + ", ".join(f"{m} {drop[m]:+.0%}" for m in neural)
        + f"; long/short-history NDCG ratio: {rnn} {ratio.get(rnn, np.nan):.2f}, others median {ratio.reindex(others).median():.2f}. "
        + f"Rule: supported if {rnn} loses least (uses the far past least), not supported if it loses more than the median",
        verdict)

    # CNN: fast training
    cnn_speed = [spe[m] for m in cnns]
    add("CNN", "fast training",
        ", ".join(f"{m} {spe[m]:.2f}" for m in cnns) + f" s/epoch vs {rnn} {spe[rnn]:.2f}, "
        + ", ".join(f"{m} {spe[m]:.2f}" for m in attention if m in spe.index)
        + ". Rule: supported if every CNN is faster than the RNN",
        "supported" if max(cnn_speed) < spe[rnn] else ("not supported" if min(cnn_speed) > spe[rnn] else "unclear"))

    # CNN: good accuracy
    best_neural = ndcg[neural].idxmax()
    verdicts = []
    for m in cnns:
        _, _, differs = _compare(runs, m, best_neural, "test_NDCG@10")
        verdicts.append(m == best_neural or not differs)
    beats_markov = [ndcg[m] > ndcg.get(markov, -np.inf) for m in cnns]
    add("CNN", "good accuracy",
        ", ".join(f"{m} {ndcg[m]:.4f}" for m in cnns) + f" test NDCG@10; best neural {best_neural} {ndcg[best_neural]:.4f}; "
        f"{markov} {ndcg.get(markov, np.nan):.4f}. Rule: supported if a CNN is within seed spread of the best neural model "
        "and above the Markov chain",
        "supported" if any(v and b for v, b in zip(verdicts, beats_markov)) else ("not supported" if not any(verdicts) else "unclear"))

    # CNN: information lost in pooling (Caser max-pools, NextItNet does not)
    pooled, unpooled = cnns[0], cnns[-1]
    mp, mu, differs = _compare(runs, pooled, unpooled, "test_NDCG@10")
    add("CNN", "information lost in pooling",
        f"{pooled} (max-pooling over a window) {mp:.4f} vs {unpooled} (no pooling) {mu:.4f} test NDCG@10. "
        "Rule: supported if the pooling model is lower beyond seed spread",
        "supported" if differs and mp < mu else ("not supported" if differs else "unclear"))

    # CNN: needs enough depth
    if shallow_cnn is not None and shallow_cnn in ndcg.index:
        ms, md, differs = _compare(runs, shallow_cnn, deep_cnn, "test_NDCG@10")
        add("CNN", "needs enough depth",
            f"{shallow_cnn} {ms:.4f} vs {deep_cnn} {md:.4f} test NDCG@10. Rule: supported if the deeper one is higher beyond seed spread",
            "supported" if differs and md > ms else ("not supported" if differs else "unclear"))

    # GAN rows
    if gan in ndcg.index and len(gan_log):
        mle = curves[(curves.model == gan) & (curves.phase == "mle")].groupby("seed")["valid_NDCG@10"].max()
        adv = curves[(curves.model == gan) & (curves.phase == "adversarial")].groupby("seed")["valid_NDCG@10"].max()
        gain = (adv - mle).dropna()
        _, _, differs = _compare(runs, gan, rnn, "test_NDCG@10")
        add("GAN", "strong generative models",
            f"best validation NDCG@10 after adversarial training minus after MLE pre-training, per seed: "
            + ", ".join(f"{g:+.4f}" for g in gain) + f"; test NDCG@10 {gan} {ndcg[gan]:.4f} vs {rnn} (the same generator "
            f"network trained by MLE alone, same epoch budget) {ndcg[rnn]:.4f}. Rule: supported if {gan} beats {rnn} "
            "beyond seed spread, not supported if it is lower beyond spread",
            "supported" if differs and ndcg[gan] > ndcg[rnn] else ("not supported" if differs else "unclear"))
        first = gan_log[gan_log.adversarial_epoch == 1]["discriminator_accuracy"].mean()
        last = gan_log.groupby("seed").tail(1)["discriminator_accuracy"].mean()
        add("GAN", "efficient learning of the classifier",
            f"discriminator accuracy (real vs generated next item) after adversarial epoch 1: {first:.2f}, at the end: {last:.2f}. "
            "Rule: supported if above 0.75 after one epoch",
            "supported" if first > 0.75 else ("not supported" if last < 0.6 else "unclear"))
        cv = runs.groupby("model")["test_NDCG@10"].agg(lambda v: v.std(ddof=1) / v.mean() if len(v) > 1 else np.nan).reindex(neural)
        add("GAN", "unstable training",
            "coefficient of variation of test NDCG@10 across seeds: " + ", ".join(f"{m} {cv[m]:.1%}" for m in neural)
            + f". Rule: supported if {gan} varies most across seeds, not supported if it varies less than the median",
            "supported" if cv[gan] >= cv.max() else ("not supported" if cv[gan] < cv.median() else "unclear"))
        merged = gan_log.merge(curves[(curves.model == gan) & (curves.phase == "adversarial")].assign(
            adversarial_epoch=lambda c: c.groupby("seed").cumcount() + 1), on=["seed", "adversarial_epoch"])
        corr = merged[["generator_loss", "discriminator_loss", "valid_NDCG@10"]].corr()["valid_NDCG@10"]
        add("GAN", "hard to evaluate",
            f"correlation with validation NDCG@10 over adversarial epochs: generator loss {corr['generator_loss']:+.2f}, "
            f"discriminator loss {corr['discriminator_loss']:+.2f}. Rule: supported if neither loss tracks accuracy (|r| < 0.5)",
            "unclear" if corr.isna().any() else
            "supported" if max(abs(corr["generator_loss"]), abs(corr["discriminator_loss"])) < 0.5 else "not supported")
    return pd.DataFrame(rows)
