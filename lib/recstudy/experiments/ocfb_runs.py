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
from recstudy.data.pairs import cell_codes
from recstudy.sampling.negatives import Pairs
from recstudy.sampling.ocfb import run_ocfb
from recstudy.evaluation.significance import holm
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
    """Index ``table``; with ``holdout_fraction`` > 0 hold out that share of each user's positives (seeded).

    Paper A's positives are (user, item) cells: a log that records the same pair twice (a book
    borrowed again, a product bought twice) gives one positive, its first occurrence, so a
    held-out positive can never also be a training positive.
    """
    data = IndexedInteractions.from_frame(table)
    first = np.sort(np.unique(cell_codes(data.users, data.items, data.n_items), return_index=True)[1])
    users, items = data.users[first], data.items[first]
    if holdout_fraction <= 0:
        return PositiveSplit(data.n_users, data.n_items, (users, items), None)
    test = per_user_holdout_mask(users, holdout_fraction, np.random.default_rng(seed))
    return PositiveSplit(data.n_users, data.n_items, (users[~test], items[~test]), (users[test], items[test]))


@dataclass
class Experiment:
    """Tidy results of OCF-B runs."""

    terms: pd.DataFrame  # variant, ratio, seed, term, loss, replaced, protocol metrics, premise counts, seconds
    losses: pd.DataFrame  # variant, ratio, seed, term, epoch, loss, seconds
    predictions: pd.DataFrame  # variant, ratio, seed, label, probability: the last term's protocol test rows
    seconds_per_run: pd.DataFrame  # variant, ratio, seed, seconds
    heldout_users: pd.DataFrame | None = None  # variant, ratio, seed, user, HR@10, NDCG@10, AUC: last term (premise runs)


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
    terms, losses, predictions, runs, heldout_users = [], [], [], [], []
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
                if run.heldout_users is not None:
                    heldout_users.append(run.heldout_users.assign(**keys))
    front = ["variant", "ratio", "seed"]

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = pd.concat(frames, ignore_index=True)
        return frame[front + [c for c in frame.columns if c not in front]]

    return Experiment(tidy(terms), tidy(losses), tidy(predictions), pd.DataFrame(runs),
                      tidy(heldout_users) if heldout_users else None)


HELDOUT_MARGIN = 0.005  # NDCG@10: a difference inside (-0.005, +0.005) counts as no difference (the comparison's margin)


def heldout_test(experiment: Experiment, metric: str = "NDCG@10", *, margin: float = HELDOUT_MARGIN, n_boot: int = 2000,
                 treatment: str = "OCF-B", control: str = "control") -> pd.DataFrame:
    """OCF-B against the control on held-out positives ranked against all unobserved items, per ratio.

    Both variants of a seed share the held-out split and the users, so the comparison is
    paired per (seed, user); each user's differences are averaged over seeds and the mean
    difference gets a paired bootstrap interval over users (which covers the variation of
    the users, and the seeds' noise through the averages). Verdict: "higher" / "lower"
    when the 95% interval excludes 0, "equivalent" inside (-margin, +margin), else "undecided".
    """
    from recstudy.evaluation.significance import paired_bootstrap

    if experiment.heldout_users is None:
        raise ValueError("these runs ranked no held-out positives: run the experiment with holdout_fraction > 0")
    h = experiment.heldout_users
    rows = []
    for ratio, group in h.groupby("ratio"):
        wide = group.pivot_table(index=["seed", "user"], columns="variant", values=metric)
        if treatment not in wide or control not in wide:
            continue
        wide = wide.dropna(subset=[treatment, control])
        per_user = wide.groupby(level="user")[[treatment, control]].mean()
        d = paired_bootstrap(per_user[treatment].to_numpy(), per_user[control].to_numpy(), margin=margin, n_boot=n_boot,
                             seed=int(1000 * ratio))
        rows.append({"ratio": ratio, "seeds": wide.index.get_level_values("seed").nunique(), "users": d.n,
                     treatment: d.mean_a, control: d.mean_b, "difference": d.difference, "low": d.low, "high": d.high,
                     "effect size (d_z)": d.effect_size, "verdict": d.verdict})
    return pd.DataFrame(rows).set_index("ratio")


def summarise_terms(terms: pd.DataFrame, metrics: Sequence[str] = PANEL_METRICS) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (variant, ratio, term): columns (metric, mean|std)."""
    return terms.groupby(["variant", "ratio", "term"])[list(metrics)].agg(["mean", "std"])


def final_term_report(predictions: pd.DataFrame, model_name: str, variant: str = "OCF-B", *, with_paper: bool = True) -> pd.DataFrame:
    """The last term's classification report over seeds (mean and sd), beside Paper A's Tables 2-3.

    Rows: (ratio, class) with class in negative, positive, weighted avg, accuracy (and AUC).
    Columns: ours (mean, sd over seeds) and, with ``with_paper`` (where the paper's numbers apply: the
    paper-shaped set), the paper's, for precision, recall, f1 and support. Supports are class
    counts in the test rows; under the paper's plain random split they vary around 30% of each class.
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
    return table if with_paper else table.drop(columns="paper", level=1)


PAPER_SHAPED = "paper-shaped"


def dataset_key(name: str) -> str:
    """A short name for metric keys: the built-in names as they are, a file path by its stem."""
    from pathlib import Path

    return name if name in ("ml-100k", "ml-1m", PAPER_SHAPED) else Path(name.partition("?")[0]).stem


def describe_data(name: str, table: pd.DataFrame) -> str:
    """One sentence on the data a run used: its name and sizes (and, for the paper-shaped set, what it is)."""
    users, items, pairs = table.user.nunique(), table.item.nunique(), len(table.drop_duplicates(["user", "item"]))
    what = {PAPER_SHAPED: "MovieLens-100K drawn to the shape of Paper A's private influencer data",
            "ml-100k": "the full MovieLens-100K, every rating a positive"}.get(name, "a user's own interaction log, every row a positive")
    return (f"**{name}** ({what}): {users:,} users × {items:,} items, {pairs:,} positive pairs "
            f"(sparsity {100 * (1 - pairs / (users * items)):.2f}%)")


def _binomial_greater(k: float, n: float, p: float) -> float:
    return binomtest(int(k), int(n), float(p), alternative="greater").pvalue if n > 0 and p > 0 else np.nan


def premise_table(terms: pd.DataFrame, variant: str = "OCF-B") -> pd.DataFrame:
    """Per (ratio, term 1..M): how many removed negatives are held-out real positives, against chance.

    ``share_removed`` = held-out positives among the removed negatives (pooled over
    seeds, which are independent runs); ``share_chance`` = held-out positives among all
    unobserved cells, the share a random negative has; ``ratio_pooled`` = their ratio
    (> 1: OCF-B finds false negatives more often than chance), with the per-seed ratios'
    mean and sd. ``p_term``: one-sided binomial test of that term's counts (one test per
    term, so no removal is counted twice); ``p_holm``: Holm's correction over the terms
    of the ratio (the family of per-term tests).
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
    out["p_term"] = [_binomial_greater(k, n, p) for k, n, p in zip(out.removed_heldout, out.replaced, out.share_chance)]
    out["p_holm"] = np.nan
    for ratio in out.index.get_level_values("ratio").unique():
        rows = out.index.get_level_values("ratio") == ratio
        out.loc[rows, "p_holm"] = holm(out.loc[rows, "p_term"].to_numpy())
    return out


def run_level_permutation(excess: np.ndarray) -> float:
    """Exact one-sided sign-flip permutation p of the mean per-run excess (runs are independent; terms within a run are not).

    Under the null (removal unrelated to being a held-out positive) each run's excess of
    held-out positives over the expected count is symmetric about zero, so flipping signs
    gives the null distribution. With R runs the smallest attainable p is 2**-R.
    """
    excess = np.asarray(excess, dtype=float)
    excess = excess[np.isfinite(excess)]
    if len(excess) == 0:
        return np.nan
    signs = 1 - 2 * ((np.arange(2 ** len(excess))[:, None] >> np.arange(len(excess))) & 1)  # every sign pattern
    null = (signs * np.abs(excess)).mean(axis=1)
    return float(np.mean(null >= excess.mean() - 1e-12))


def premise_overall(terms: pd.DataFrame, variant: str = "OCF-B", alpha: float = 0.05) -> pd.DataFrame:
    """The premise test per negative ratio, with tests that respect the dependence across terms.

    Removals of one run are not independent across terms (a term's negatives come from the
    previous term's model and pool), so pooling them into one binomial test overstates the
    evidence. Instead: ``p_first_term``, the binomial test of term 1 alone (the first removal
    from purely random negatives); ``p_min_holm`` and ``terms_significant``, the per-term
    binomial tests (each pooled over independent seeds) with Holm's correction over terms;
    ``p_runs``, an exact sign-flip permutation test at the run level on each run's excess of
    removed held-out positives over chance (``runs_above``: runs with an excess > 0).
    ``supported``: some term is significant after Holm at ``alpha`` and the pooled ratio is > 1.
    The pooled counts are kept as a description.
    """
    per_term = premise_table(terms, variant)
    pooled = per_term.groupby("ratio")[["replaced", "removed_heldout"]].sum()
    pooled["share_removed"] = pooled.removed_heldout / pooled.replaced.where(pooled.replaced > 0)
    pooled["share_chance"] = per_term.groupby("ratio").share_chance.mean()
    pooled["ratio_pooled"] = pooled.share_removed / pooled.share_chance
    first = per_term[per_term.index.get_level_values("term") == 1].droplevel("term")
    pooled["p_first_term"] = first.p_term.reindex(pooled.index)
    pooled["terms"] = per_term.groupby("ratio").size()
    pooled["terms_significant"] = (per_term.p_holm < alpha).groupby("ratio").sum()
    pooled["p_min_holm"] = per_term.groupby("ratio").p_holm.min()
    t = terms[(terms.variant == variant) & (terms.term > 0)]
    runs = t.assign(expected=t.replaced * t.heldout_base_share).groupby(["ratio", "seed"])[["removed_heldout", "expected"]].sum()
    runs["excess"] = (runs.removed_heldout - runs.expected) / runs.expected.where(runs.expected > 0)
    pooled["runs"] = runs.groupby("ratio").size()
    pooled["runs_above"] = (runs.excess > 0).groupby("ratio").sum()
    pooled["p_runs"] = [run_level_permutation(runs.loc[ratio].excess.to_numpy()) for ratio in pooled.index]
    pooled["supported"] = (pooled.p_min_holm < alpha) & (pooled.ratio_pooled > 1)
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
    split: str = "random",
    device: str = "cpu",
) -> pd.DataFrame:
    """Training loss and protocol-test AUC per epoch of one model trained on T + N0 (OCF-B's term 0).

    ``configs`` maps a label (e.g. the number of latent factors) to the model's
    configuration. Returns columns: config, seed, epoch, loss, test_AUC.
    """
    import torch

    from recstudy.models.ncf.train import build_model, predict_logits, train_pointwise
    from recstudy.sampling.negatives import sample_negatives
    from recstudy.evaluation.paper_metrics import paper_test_mask

    positives = split_positives(table)
    pos_users, pos_items = positives.train
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        neg_users, neg_items = sample_negatives(positives.n_users, positives.n_items, positives.train, float(ratio), rng)
        users, items = np.r_[pos_users, neg_users], np.r_[pos_items, neg_items]
        labels = np.r_[np.ones(len(pos_users)), np.zeros(len(neg_users))]
        test = paper_test_mask(labels, 0.3, seed, split)
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

def premise_sentence(pooled: pd.DataFrame, where: str, alpha: float = 0.05) -> str:
    """Whether the removed negatives are held-out positives more often than chance, per ratio (tests per term and per run)."""
    parts, tested = [], []
    for ratio, row in pooled.iterrows():
        if not row.replaced or not np.isfinite(row.ratio_pooled):
            parts.append(f"n = {ratio:g}x: no negative was removed, so the premise was not tested")
            continue
        tested.append(bool(row.supported))
        parts.append(f"n = {ratio:g}x: {int(row.removed_heldout)} of {int(row.replaced)} removed negatives were held-out "
                     f"positives ({100 * row.share_removed:.2f}% against {100 * row.share_chance:.2f}% by chance, ratio "
                     f"{row.ratio_pooled:.2f}); {int(row.terms_significant)} of {int(row.terms)} terms significant after Holm "
                     f"(smallest adjusted p = {row.p_min_holm:.2g}; "
                     + (f"term 1 alone p = {row.p_first_term:.2g}" if np.isfinite(row.p_first_term) else "no removal at term 1")
                     + "), and "
                     f"{int(row.runs_above)} of {int(row.runs)} runs above chance (run-level sign-flip p = {row.p_runs:.2g}, "
                     f"smallest attainable {2.0 ** -int(row.runs):.2g})")
    if not tested:
        verdict = "the premise was not tested here"
    elif all(tested):
        verdict = ("OCF-B's premise is supported: in at least one term the negatives it removes are real positives more often "
                   "than random cells, after correction over terms"
                   + ("" if len(tested) == len(parts) else " (at the ratios where it removed any)"))
    elif any(tested):
        verdict = "the premise is supported at some ratios but not at others"
    else:
        verdict = (f"the premise is not supported: no term shows an excess of held-out positives among the removed negatives "
                   f"at the {alpha:g} level after Holm's correction (which is not proof that there is none)")
    return (f"On {where}, " + "; ".join(parts) + f". Removals are tested term by term (each term's count pooled over "
            f"independent seeds) and run by run, never pooled over the dependent terms of one run. So {verdict}.")


def rise_sentence(rise: pd.DataFrame, where: str, ratio: float) -> str:
    """How much of OCF-B's AUC rise survives on the fixed term-0 test rows, beside the control."""
    o, c = rise.loc[("OCF-B", ratio)], rise.loc[("control", ratio)]
    return (f"On {where} (n = {ratio:g}x), the protocol AUC of OCF-B rose by {o[('AUC rise (protocol)', 'mean')]:+.3f} from "
            f"term 0 to the last term, but on the fixed term-0 test rows by {o[('AUC rise (fixed negatives)', 'mean')]:+.3f}; "
            f"the control (no resampling, same epochs) moved by {c[('AUC rise (protocol)', 'mean')]:+.3f}. The gap between "
            f"the first two numbers is the part of the paper's AUC rise that comes from easier test negatives.")


def heldout_sentence(tested: pd.DataFrame, where: str, ratio: float) -> str:
    """OCF-B against the control on held-out positives ranked against every unobserved item, with its interval and verdict."""
    if ratio not in tested.index:
        return f"On {where} the held-out ranking was not measured (n = {ratio:g}x)."
    row = tested.loc[ratio]
    word = {"higher": "higher than", "lower": "lower than", "equivalent": "equivalent to",
            "undecided": "not distinguishable from"}[row.verdict]
    return (f"On the protocol OCF-B cannot influence (each user's held-out positives ranked against all unobserved items), "
            f"OCF-B's NDCG@10 at the last term is {word} the control's on {where} (n = {ratio:g}x): {row['OCF-B']:.4f} against "
            f"{row['control']:.4f}, difference {row.difference:+.4f} (95% paired bootstrap interval over {int(row.users)} users, "
            f"{int(row.seeds)} seed(s) averaged per user: {row.low:+.4f} to {row.high:+.4f}; equivalence margin ±{HELDOUT_MARGIN}).")


# --- the Paper A verdict rows a replication notebook can decide (claim / evidence / verdict) -----------------------

VERDICT_CODES = {"holds": 1, "does not hold": -1, "undecided": 0}


def _interval_verdict(values: np.ndarray, margin: float = 0.0) -> tuple[float, float, float, str]:
    """Mean, 95% t interval over seeds and a verdict: "holds" when the interval lies above ``margin``, "does not hold"
    when it lies below 0 or (with a margin) inside (-margin, +margin), else "undecided"."""
    from recstudy.evaluation.significance import confidence_interval

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return (float(values.mean()) if len(values) else np.nan), np.nan, np.nan, "undecided"
    mean, low, high = confidence_interval(values)
    if low > margin:
        return mean, low, high, "holds"
    if high < 0 or (margin > 0 and -margin < low and high < margin):
        return mean, low, high, "does not hold"
    return mean, low, high, "undecided"


def replication_verdicts(terms: pd.DataFrame, premise: pd.DataFrame | None, heldout: pd.DataFrame | None, where: str,
                         margin: float = 0.01) -> pd.DataFrame:
    """Claim / evidence / verdict rows for the claims a replication run decides, per negative ratio.

    - "OCF-B raises AUC term by term": the protocol AUC rise (last term minus term 0) of OCF-B over seeds;
      holds when its 95% interval lies above 0.
    - "the rise reflects a better model": OCF-B's rise on the fixed term-0 test rows minus the control's,
      paired by seed; holds when above 0, does not hold when below 0 or inside ±``margin`` AUC.
    - "OCF-B removes false negatives": the premise test (per-term tests with Holm's correction).
    - "OCF-B beats random negatives on held-out interactions": OCF-B against the control, paired bootstrap over users.
    """
    last = terms.term.max()
    ends = terms[terms.term.isin([0, last])].pivot_table(index=["variant", "ratio", "seed"], columns="term",
                                                         values=["AUC", "fixed_AUC"])
    rows = []
    for ratio in sorted(terms.ratio.unique()):
        o = ends.loc[("OCF-B", ratio)] if ("OCF-B", ratio) in ends.index.droplevel("seed") else None
        if o is None:
            continue
        rise = (o[("AUC", last)] - o[("AUC", 0)]).to_numpy()
        mean, low, high, verdict = _interval_verdict(rise)
        rows.append({"claim": "OCF-B raises AUC term by term (the paper's protocol)", "dataset": where, "ratio": ratio,
                     "evidence": f"AUC rise term 0 to {last}: {mean:+.3f} (95% CI {low:+.3f} to {high:+.3f}, {len(rise)} seeds)",
                     "verdict": verdict})
        if ("control", ratio) in ends.index.droplevel("seed"):
            c = ends.loc[("control", ratio)]
            seeds = o.index.intersection(c.index)
            gain = ((o.loc[seeds, ("fixed_AUC", last)] - o.loc[seeds, ("fixed_AUC", 0)])
                    - (c.loc[seeds, ("fixed_AUC", last)] - c.loc[seeds, ("fixed_AUC", 0)])).to_numpy()
            mean, low, high, verdict = _interval_verdict(gain, margin)
            rows.append({"claim": "the AUC rise reflects a better model", "dataset": where, "ratio": ratio,
                         "evidence": f"on the fixed term-0 test rows OCF-B's rise minus the control's: {mean:+.3f} "
                                     f"(95% CI {low:+.3f} to {high:+.3f}; margin ±{margin})", "verdict": verdict})
        if premise is not None and ratio in premise.index:
            p = premise.loc[ratio]
            verdict = ("undecided" if not p.replaced else "holds" if p.supported else
                       "does not hold" if p.ratio_pooled <= 1 else "undecided")
            rows.append({"claim": "OCF-B removes false negatives", "dataset": where, "ratio": ratio,
                         "evidence": f"held-out share among removed / chance = {p.ratio_pooled:.2f}; {int(p.terms_significant)} of "
                                     f"{int(p.terms)} terms significant after Holm; run-level p = {p.p_runs:.2g}",
                         "verdict": verdict})
        if heldout is not None and ratio in heldout.index:
            h = heldout.loc[ratio]
            verdict = {"higher": "holds", "lower": "does not hold", "equivalent": "does not hold"}.get(h.verdict, "undecided")
            rows.append({"claim": "OCF-B beats random negatives on held-out interactions", "dataset": where, "ratio": ratio,
                         "evidence": f"NDCG@10 OCF-B minus control {h.difference:+.4f} (95% bootstrap CI {h.low:+.4f} to "
                                     f"{h.high:+.4f}, {int(h.users)} users; {h.verdict})", "verdict": verdict})
    return pd.DataFrame(rows)
