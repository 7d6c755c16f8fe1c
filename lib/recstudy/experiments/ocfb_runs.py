"""Paper A's experiments as tidy tables: OCF-B over seeds, negative ratios and variants.

The three notebooks (01_gmf, 02_mlp, 03_neumf) call :func:`run_experiment` and
the summaries below, so none of them repeats the loop. Every table is long
format: one row per (variant, ratio, seed, term[, epoch]).

Variants: "OCF-B" (the paper's loop) and "control" (random negatives drawn once,
never replaced, trained for the same epochs in the same loop).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from recstudy.utils import to_probability
from recstudy.data.interactions import IndexedInteractions
from recstudy.sampling.negatives import Pairs
from recstudy.sampling.ocfb import run_ocfb
from recstudy.evaluation.paper_metrics import PAPER_A_ACCURACY, PAPER_A_AUC, PAPER_A_TERM15, protocol_metrics
from recstudy.data.splits import per_user_holdout_mask

VARIANTS = {"OCF-B": True, "control": False}  # name -> resample
PANEL_METRICS = ("AUC", "precision_positive", "precision_negative", "recall_positive", "recall_negative")


@dataclass
class PositiveSplit:
    """A dataset's positives as indices: the training positives T and (premise test) the held-out ones."""

    n_users: int
    n_items: int
    train: Pairs
    heldout: Pairs | None


def split_positives(table: pd.DataFrame, holdout_fraction: float = 0.0, seed: int = 0) -> PositiveSplit:
    """Index ``table``; with ``holdout_fraction`` > 0 hold out that share of each user's positives (seeded)."""
    data = IndexedInteractions.from_frame(table)
    if holdout_fraction <= 0:
        return PositiveSplit(data.n_users, data.n_items, (data.users, data.items), None)
    test = per_user_holdout_mask(data.users, holdout_fraction, np.random.default_rng(seed))
    return PositiveSplit(
        data.n_users, data.n_items, (data.users[~test], data.items[~test]), (data.users[test], data.items[test])
    )


@dataclass
class Experiment:
    """Tidy results of OCF-B runs."""

    terms: pd.DataFrame  # variant, ratio, seed, term, loss, replaced, protocol metrics, premise counts, seconds
    losses: pd.DataFrame  # variant, ratio, seed, term, epoch, loss, seconds
    predictions: pd.DataFrame  # variant, ratio, seed, label, probability: the last term's protocol test rows
    seconds_per_run: pd.DataFrame  # variant, ratio, seed, seconds


def run_experiment(
    table: pd.DataFrame,
    model_name: str,
    model_config: dict[str, Any],
    *,
    ratios: Sequence[float] = (1.0, 1.5),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    variants: Sequence[str] = ("OCF-B", "control"),
    holdout_fraction: float = 0.0,
    **ocfb_options: Any,
) -> Experiment:
    """:func:`recstudy.sampling.ocfb.run_ocfb` for every variant x ratio x seed, gathered into tidy tables.

    ``holdout_fraction`` > 0 runs the premise test: that share of each user's
    positives (drawn per seed) is held out before any training. ``ocfb_options``
    go to ``run_ocfb`` (terms, theta, error, warm_start, epochs, lr, batch_size, device, ...).
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}: use {list(VARIANTS)}")
    terms, losses, predictions, runs = [], [], [], []
    for seed in seeds:
        positives = split_positives(table, holdout_fraction, seed)
        for ratio in ratios:
            for variant in variants:
                start = time.perf_counter()
                run = run_ocfb(
                    model_name, model_config, positives.n_users, positives.n_items, positives.train,
                    n_negatives=float(ratio), resample=VARIANTS[variant], seed=int(seed), heldout=positives.heldout,
                    **ocfb_options,
                )
                keys = {"variant": variant, "ratio": float(ratio), "seed": int(seed)}
                terms.append(run.terms.assign(**keys))
                losses.append(run.losses.assign(**keys))
                predictions.append(pd.DataFrame({**keys, "label": run.test_labels, "probability": run.test_probabilities}))
                runs.append({**keys, "seconds": time.perf_counter() - start})
    front = ["variant", "ratio", "seed"]

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = pd.concat(frames, ignore_index=True)
        return frame[front + [c for c in frame.columns if c not in front]]

    return Experiment(tidy(terms), tidy(losses), tidy(predictions), pd.DataFrame(runs))


def summarise_terms(terms: pd.DataFrame, metrics: Sequence[str] = PANEL_METRICS) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (variant, ratio, term): columns (metric, mean|std)."""
    return terms.groupby(["variant", "ratio", "term"])[list(metrics)].agg(["mean", "std"])


def final_term_report(predictions: pd.DataFrame, model_name: str, variant: str = "OCF-B") -> pd.DataFrame:
    """The last term's classification report over seeds (mean and sd), beside Paper A's Tables 2-3.

    Rows: (ratio, class) with class in negative, positive, weighted avg, accuracy (and AUC).
    Columns: ours (mean, sd over seeds) and the paper's, for precision, recall, f1 and support.
    """
    rows = []
    for (ratio, seed), group in predictions[predictions.variant == variant].groupby(["ratio", "seed"]):
        m = protocol_metrics(group.label.to_numpy(), group.probability.to_numpy())
        for cls, key in (("negative", "negative"), ("positive", "positive"), ("weighted avg", "weighted")):
            rows.append({"ratio": ratio, "seed": seed, "class": cls, **{s: m[f"{s}_{key}"] for s in ("precision", "recall", "f1", "support")}})
        rows.append({"ratio": ratio, "seed": seed, "class": "accuracy", "precision": np.nan, "recall": np.nan, "f1": m["accuracy"], "support": m["support_weighted"]})
        rows.append({"ratio": ratio, "seed": seed, "class": "AUC", "precision": np.nan, "recall": np.nan, "f1": m["AUC"], "support": np.nan})
    ours = pd.DataFrame(rows).groupby(["ratio", "class"], sort=False)[["precision", "recall", "f1", "support"]].agg(["mean", "std"])
    paper = PAPER_A_TERM15[PAPER_A_TERM15.model == model_name.lower()].set_index(["ratio", "class"])[["precision", "recall", "f1", "support"]]
    paper.columns = pd.MultiIndex.from_product([paper.columns, ["paper"]])
    table = ours.join(paper, how="left")
    for ratio in table.index.get_level_values("ratio").unique():
        key = (model_name.lower(), float(ratio))
        if key in PAPER_A_ACCURACY:
            table.loc[(ratio, "accuracy"), ("f1", "paper")] = PAPER_A_ACCURACY[key]
        if key in PAPER_A_AUC:
            table.loc[(ratio, "AUC"), ("f1", "paper")] = PAPER_A_AUC[key]
    table = table[[(s, k) for s in ("precision", "recall", "f1", "support") for k in ("mean", "std", "paper")]]
    return table


def premise_table(terms: pd.DataFrame, variant: str = "OCF-B") -> pd.DataFrame:
    """Per (ratio, term 1..M): how many removed negatives are held-out real positives, against chance.

    ``share_removed`` = held-out positives among the removed negatives (pooled over
    seeds); ``share_chance`` = held-out positives among all unobserved cells, the
    share a random negative has; ``ratio_pooled`` = their ratio (> 1: OCF-B finds
    false negatives more often than chance), with the per-seed ratios' mean and sd.
    """
    if "removed_heldout" not in terms.columns:
        raise ValueError("these runs had no held-out positives: run the experiment with holdout_fraction > 0")
    t = terms[(terms.variant == variant) & (terms.term > 0)].copy()
    t["share_removed_seed"] = t.removed_heldout / t.replaced.where(t.replaced > 0)
    t["ratio_seed"] = t.share_removed_seed / t.heldout_base_share
    grouped = t.groupby(["ratio", "term"])
    out = grouped[["replaced", "removed_heldout"]].sum()
    out["share_removed"] = out.removed_heldout / out.replaced.where(out.replaced > 0)
    out["share_chance"] = grouped.heldout_base_share.mean()
    out["ratio_pooled"] = out.share_removed / out.share_chance
    out["ratio_mean"] = grouped.ratio_seed.mean()
    out["ratio_sd"] = grouped.ratio_seed.std()
    return out


def premise_overall(terms: pd.DataFrame, variant: str = "OCF-B") -> pd.DataFrame:
    """The premise test pooled over all terms and seeds, per negative ratio."""
    per_term = premise_table(terms, variant)
    pooled = per_term.groupby("ratio")[["replaced", "removed_heldout"]].sum()
    pooled["share_removed"] = pooled.removed_heldout / pooled.replaced
    pooled["share_chance"] = per_term.groupby("ratio").share_chance.mean()
    pooled["ratio_pooled"] = pooled.share_removed / pooled.share_chance
    # One-sided binomial test: are held-out positives over-represented among the removed negatives?
    pooled["p_value"] = [
        binomtest(int(k), int(n), float(p), alternative="greater").pvalue if n > 0 else np.nan
        for k, n, p in zip(pooled.removed_heldout, pooled.replaced, pooled.share_chance)
    ]
    return pooled


def speed_table(experiment: Experiment) -> pd.DataFrame:
    """Median seconds per epoch, per term (training + scoring + resampling) and per whole run, by ratio."""
    t = experiment.terms
    rows = {}
    for ratio, group in t.groupby("ratio"):
        ocfb = group[group.variant == "OCF-B"]
        rows[ratio] = {
            "seconds per epoch (median)": group.seconds_per_epoch.median(),
            "seconds per term (median)": group.seconds_term.median(),
            "seconds scoring all negatives (median)": ocfb.seconds_scoring.median() if "seconds_scoring" in ocfb else np.nan,
            "seconds resampling (median)": ocfb.seconds_resampling.median() if "seconds_resampling" in ocfb else np.nan,
            "seconds per whole run (median)": experiment.seconds_per_run[experiment.seconds_per_run.ratio == ratio].seconds.median(),
        }
    return pd.DataFrame(rows).rename_axis(columns="ratio")


def convergence_curves(
    table: pd.DataFrame,
    model_name: str,
    configs: dict[Any, dict[str, Any]],
    *,
    ratio: float = 1.0,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 50,
    lr: float = 1e-3,
    batch_size: int = 256,
    device: str = "cpu",
) -> pd.DataFrame:
    """Training loss and protocol-test AUC per epoch of one model trained on T + N0 (OCF-B's term 0).

    ``configs`` maps a label (e.g. the number of latent factors) to the model's
    configuration. Returns columns: config, seed, epoch, loss, test_AUC.
    """
    import torch

    from recstudy.models.ncf.train import build_model, predict_logits, train_pointwise
    from recstudy.sampling.negatives import sample_negatives
    from recstudy.evaluation.paper_metrics import stratified_test_mask

    positives = split_positives(table)
    pos_users, pos_items = positives.train
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        neg_users, neg_items = sample_negatives(positives.n_users, positives.n_items, positives.train, float(ratio), rng)
        users, items = np.r_[pos_users, neg_users], np.r_[pos_items, neg_items]
        labels = np.r_[np.ones(len(pos_users)), np.zeros(len(neg_users))]
        test = stratified_test_mask(labels, 0.3, seed)
        for label, config in configs.items():
            torch.manual_seed(seed)
            model = build_model(model_name, positives.n_users, positives.n_items, **config)

            def test_auc(m: torch.nn.Module) -> float:
                logits = predict_logits(m, users[test], items[test], device=device)
                return protocol_metrics(labels[test], to_probability(logits))["AUC"]

            history = train_pointwise(
                model, users[~test], items[~test], labels[~test], epochs=epochs, lr=lr, batch_size=batch_size,
                seed=seed, device=device, validate=test_auc,
            )
            rows += [
                {"config": label, "seed": seed, "epoch": e + 1, "loss": loss, "test_AUC": auc}
                for e, (loss, auc) in enumerate(zip(history.losses, history.val_scores))
            ]
    return pd.DataFrame(rows)


def auc_rise(terms: pd.DataFrame) -> pd.DataFrame:
    """AUC at the last term minus term 0, on the protocol's test rows and on the fixed term-0 rows, per variant and ratio."""
    ends = terms[terms.term.isin([0, terms.term.max()])].pivot_table(index=["variant", "ratio", "seed"], columns="term",
                                                                       values=["AUC", "fixed_AUC"])
    last = terms.term.max()
    rise = pd.DataFrame({"AUC rise (protocol)": ends[("AUC", last)] - ends[("AUC", 0)],
                         "AUC rise (fixed negatives)": ends[("fixed_AUC", last)] - ends[("fixed_AUC", 0)]})
    return rise.groupby(["variant", "ratio"]).agg(["mean", "std"])


# --- the closing sentences of notebooks 01-03, composed from the numbers ---------------------------

def premise_sentence(pooled: pd.DataFrame, where: str) -> str:
    """Whether the removed negatives are held-out positives more often than chance, per ratio (pooled over terms)."""
    parts, tested = [], []
    for ratio, row in pooled.iterrows():
        if not row.replaced or not np.isfinite(row.ratio_pooled):
            parts.append(f"n = {ratio:g}x: no negative was removed, so the premise was not tested")
            continue
        tested.append(row.ratio_pooled > 1 and row.p_value < 0.01)
        parts.append(f"n = {ratio:g}x: {int(row.removed_heldout)} of {int(row.replaced)} removed negatives were held-out "
                     f"positives ({100 * row.share_removed:.2f}% against {100 * row.share_chance:.2f}% by chance, ratio "
                     f"{row.ratio_pooled:.2f}, one-sided binomial p = {row.p_value:.2g}, removals pooled over terms)")
    if not tested:
        verdict = "the premise was not tested here"
    elif all(tested):
        verdict = ("OCF-B's premise holds: the negatives it removes are real positives more often than random cells are"
                   + ("" if len(tested) == len(parts) else " (at the ratios where it removed any)"))
    else:
        verdict = "the premise is not supported at the 1% level at every ratio tested"
    return f"On {where}, " + "; ".join(parts) + f". So {verdict}."


def rise_sentence(rise: pd.DataFrame, where: str, ratio: float) -> str:
    """How much of OCF-B's AUC rise survives on the fixed term-0 test rows, beside the control."""
    o, c = rise.loc[("OCF-B", ratio)], rise.loc[("control", ratio)]
    return (f"On {where} (n = {ratio:g}x), the protocol AUC of OCF-B rose by {o[('AUC rise (protocol)', 'mean')]:+.3f} from "
            f"term 0 to the last term, but on the fixed term-0 test rows by {o[('AUC rise (fixed negatives)', 'mean')]:+.3f}; "
            f"the control (no resampling, same epochs) moved by {c[('AUC rise (protocol)', 'mean')]:+.3f}. The gap between "
            f"the first two numbers is the part of the paper's AUC rise that comes from easier test negatives.")


def heldout_sentence(heldout: pd.DataFrame, where: str, ratio: float) -> str:
    """OCF-B against the control on held-out positives ranked against every unobserved item (means over seeds)."""
    o, c = heldout.loc[("OCF-B", ratio)], heldout.loc[("control", ratio)]
    ours, control = o[("heldout_NDCG@10", "mean")], c[("heldout_NDCG@10", "mean")]
    if not (np.isfinite(ours) and np.isfinite(control)):
        return f"On {where} the held-out ranking was not measured (n = {ratio:g}x)."
    word = "higher than" if ours > control else ("lower than" if ours < control else "the same as")
    return (f"On the protocol OCF-B cannot influence (each user's held-out positives ranked against all unobserved items), "
            f"OCF-B's mean NDCG@10 over seeds is {word} the control's on {where} (n = {ratio:g}x, last term): {ours:.4f} "
            f"against {control:.4f}; with these few seeds this is a description, not a test.")
