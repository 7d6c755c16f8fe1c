"""Turning Paper B's Table 2 (claimed strengths and weaknesses per family) into verdicts that can fail.

Every verdict comes from the multi-seed results of
:func:`recstudy.experiments.sequential.run_seeds` by a rule stated in its row, and every rule
can come out either way:

- accuracy claims compare two models *paired*: a bootstrap over users of the per-user
  NDCG@10 difference (each user's score averaged over seeds), with its 95% interval, the
  effect size and an equivalence margin (:mod:`recstudy.evaluation.significance`); an
  accuracy claim is only judged when every run involved converged (early stopping ended
  it before its epoch cap), otherwise it is "not tested here";
- speed claims compare seconds per epoch paired by seed (log ratio, t interval, a 10%
  equivalence margin);
- a claim the setting cannot test says so and why ("not testable here").
Each row names which members of the family support the claim and which do not.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from recstudy.evaluation.significance import PairedDifference, paired_bootstrap, paired_seeds
from recstudy.experiments.sequential import SeedResults, build_model
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


NOT_CONVERGED = "not tested here: {runs} of the runs compared stopped at their epoch cap (not converged)"


def _user_scores(results: SeedResults, model: str, metric: str = "NDCG@10") -> pd.Series:
    """Each user's ``metric`` for ``model``, averaged over its seeds."""
    rows = results.per_user[results.per_user.model == model]
    return rows.groupby("user")[metric].mean()


def compare_users(results: SeedResults, a: str, b: str, *, margin: float, seed: int = 0, n_boot: int = 2000) -> PairedDifference:
    """``a`` against ``b`` on the same users: paired bootstrap of the per-user NDCG@10 difference."""
    ua, ub = _user_scores(results, a), _user_scores(results, b)
    users = ua.index.intersection(ub.index)
    return paired_bootstrap(ua[users].to_numpy(), ub[users].to_numpy(), margin=margin, seed=seed, n_boot=n_boot)


def compare_seeds(runs: pd.DataFrame, a: str, b: str, column: str, *, margin: float, log: bool = False) -> PairedDifference:
    """``a`` against ``b`` paired by seed on ``column`` (on the log scale with ``log``: a ratio)."""
    wide = runs[runs.model.isin([a, b])].pivot_table(index="seed", columns="model", values=column).dropna()
    values = np.log(wide) if log else wide
    return paired_seeds(values[a].to_numpy(), values[b].to_numpy(), margin=margin)


def _not_converged(runs: pd.DataFrame, models: list[str]) -> str | None:
    """The "not tested" verdict when a run of ``models`` did not converge, else None."""
    involved = runs[runs.model.isin(models) & runs.converged.notna()]
    stopped_at_cap = int((~involved.converged.astype(bool)).sum())
    return NOT_CONVERGED.format(runs=f"{stopped_at_cap} of {len(involved)}") if stopped_at_cap else None


def _describe(d: PairedDifference, unit: str = "") -> str:
    return (f"{d.difference:+.4f}{unit} [95% CI {d.low:+.4f}, {d.high:+.4f}], effect size {d.effect_size:+.2f}, "
            f"{d.verdict}")


# Each adversarial model and the model its generator is when trained by maximum likelihood alone (None: no
# such twin in the study), for "strong generative models": SeqGAN's and RecGAN's generators are GRU4Rec
# networks, MFGAN's is SASRec.
GAN_TWINS: dict[str, str | None] = {"SeqGAN": "GRU4Rec", "RecGAN": "GRU4Rec", "MFGAN": "SASRec", "IRGAN": None,
                                    "AOS4Rec": None}


def family_verdict(member_verdicts: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """A family's verdict from its members' (verdict, supporting members, members against).

    Supported when every member that could be judged supports the claim, not supported when none
    does, "unclear" when no member decides, "mixed" otherwise (the row lists which); members
    "not tested" are left out, and a family with no judged member is not tested.
    """
    judged = {m: v for m, v in member_verdicts.items() if not v.startswith("not test")}
    supporting = [m for m, v in judged.items() if v == "supported"]
    against = [m for m, v in judged.items() if v == "not supported"]
    if not judged:
        reasons = sorted(set(member_verdicts.values()))
        return (reasons[0] if len(reasons) == 1 else "not tested here: no member could be judged"), [], []
    if len(supporting) == len(judged):
        return "supported", supporting, against
    if len(against) == len(judged):
        return "not supported", supporting, against
    if not supporting and not against:
        return "unclear", supporting, against
    return f"mixed: {len(supporting)} of {len(judged)} judged members support it", supporting, against


def table2_verdicts(results: SeedResults, growth: pd.DataFrame, keep_last: int, *,
                    rnns: tuple[str, ...] = ("GRU4Rec", "DREAM", "CA-RNN", "HPMN"),
                    cnns: tuple[str, ...] = ("Caser", "NextItNet", "3D-CNN"), attention: tuple[str, ...] = ("SASRec", "BERT4Rec"),
                    gans: tuple[str, ...] = ("SeqGAN", "IRGAN", "RecGAN", "MFGAN", "AOS4Rec"),
                    shallow_cnn: str | None = None, deep_cnn: str = "NextItNet",
                    unpooled_cnn: str | None = None, pooled_cnn: str = "Caser", margin: float = 0.005,
                    time_margin: float = 0.10, far_past_margin: float = 0.02, seed: int = 0,
                    timings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claim / members / evidence / verdict rows for Paper B's Table 2 (each row states its rule).

    ``margin``: NDCG@10 differences inside (-margin, margin) count as equivalent;
    ``time_margin``: speed ratios within 1 +- time_margin count as equal;
    ``far_past_margin``: the noise threshold for the loss from truncating the input.
    ``timings``: epoch seconds from :func:`~recstudy.experiments.sequential.epoch_timings`
    (interleaved rounds in one process, paired by round); without it the speed claims pair
    the training runs' median epoch seconds by seed.
    """
    runs = results.runs
    speed, paired_by = (timings, "round of an interleaved timing") if timings is not None else (runs, "seed")
    rows: list[dict[str, Any]] = []
    present = set(runs.model)
    rnns = [m for m in rnns if m in present]
    cnns = tuple(m for m in cnns if m in present)
    gans = [m for m in gans if m in present]
    neural = [m for m in [*rnns, *cnns, *attention, *gans] if m in present]

    def add(family: str, claim: str, evidence: str, verdict: str, supporting: list[str] | None = None,
            against: list[str] | None = None) -> None:
        # A rule fed a missing measurement (NaN, e.g. one seed gives no spread) has tested nothing.
        if re.search(r"\bnan\b", evidence.lower()) and not verdict.startswith("not test"):
            verdict = "not tested here (a measurement is missing)"
        rows.append({"family": family, "claim": claim, "supported by": ", ".join(supporting or []),
                     "not by": ", ".join(against or []), "evidence": evidence, "verdict": verdict})

    # RNN: model size independent of input length — true of a recurrent cell by construction.
    if rnns:
        grows = [m for m in growth.index if growth.loc[m].nunique() > 1]
        growing_rnns = [m for m in rnns if m in grows]
        add("RNN", "any input length; model size independent of input length",
            "parameters at " + ", ".join(growth.columns) + ": " + "; ".join(
                f"{m} {', '.join(f'{v:,}' for v in growth.loc[m])}" for m in rnns if m in growth.index)
            + f"; models whose size grows with the input length: {', '.join(grows) or 'none'}",
            "not supported" if growing_rnns else
            "not testable here: a recurrent cell's size does not depend on the input length by construction",
            [], growing_rnns)

    time_log_margin = math.log(1 + time_margin)
    # RNN: slow (sequential) training, each RNN paired against every CNN and transformer
    others = [m for m in [*cnns, *attention] if m in present]
    if rnns and others:
        member, evidence = {}, []
        for rnn in rnns:
            d = {m: compare_seeds(speed, rnn, m, "seconds_per_epoch", margin=time_log_margin, log=True) for m in others}
            slower = [m for m in others if d[m].verdict == "higher"]
            not_slower = [m for m in others if d[m].verdict in ("lower", "equivalent")]
            member[rnn] = ("supported" if len(slower) == len(others) else
                           "not supported" if len(not_slower) >= len(others) / 2 else "unclear")
            evidence.append(f"{rnn} to " + ", ".join(f"{m} {_describe(d[m])}" for m in others))
        verdict, supporting, against = family_verdict(member)
        add("RNN", "slow (sequential) training",
            "log seconds-per-epoch ratio of " + "; ".join(evidence)
            + f". Rule (paired by {paired_by}, ratios within {time_margin:.0%} equal): an RNN supports it if slower than every "
            "CNN and transformer, refutes it if not slower than at least half of them; the family as its members agree",
            verdict, supporting, against)

    # RNN: hard to use far-past information (loss from showing only the last keep_last items)
    col = f"test_NDCG@10_last_{keep_last}"
    if rnns and col in runs.columns and len(neural) > len(rnns):
        drop = runs.assign(drop=1 - runs[col] / runs["test_NDCG@10"])
        others = [m for m in neural if m not in rnns]
        member, evidence = {}, []
        for rnn in rnns:
            d = {m: compare_seeds(drop, rnn, m, "drop", margin=far_past_margin) for m in others}
            less = [m for m in others if d[m].verdict == "lower"]
            more = [m for m in others if d[m].verdict in ("higher", "equivalent")]
            member[rnn] = _not_converged(runs, [rnn, *others]) or (
                "supported" if len(less) == len(others) else "not supported" if len(more) >= len(others) / 2 else "unclear")
            evidence.append(f"{rnn} minus " + ", ".join(f"{m} {_describe(d[m])}" for m in others))
        verdict, supporting, against = family_verdict(member)
        add("RNN", "hard to use far-past information",
            f"relative NDCG@10 lost when only the last {keep_last} items are shown: " + "; ".join(evidence)
            + f". Rule (paired by seed, differences within {far_past_margin:.0%} are noise): an RNN supports it if it loses less "
            "than every non-RNN model (it uses the far past least), refutes it if it loses as much or more than at least half",
            verdict, supporting, against)

    # CNN: fast training, each CNN against every RNN
    if rnns and cnns:
        member, evidence = {}, []
        for cnn in cnns:
            d = {r: compare_seeds(speed, cnn, r, "seconds_per_epoch", margin=time_log_margin, log=True) for r in rnns}
            faster = [r for r in rnns if d[r].verdict == "lower"]
            member[cnn] = "supported" if len(faster) == len(rnns) else "not supported" if not faster else "unclear"
            evidence.append(f"{cnn} to " + ", ".join(f"{r} {_describe(d[r])}" for r in rnns))
        verdict, supporting, against = family_verdict(member)
        add("CNN", "fast training",
            "log seconds-per-epoch ratio of " + "; ".join(evidence)
            + f". Rule (paired by {paired_by}, ratios within {time_margin:.0%} equal): a CNN supports it if faster than every RNN, "
            "refutes it if faster than none; the family as its members agree",
            verdict, supporting, against)

    # CNN: good accuracy, each CNN against the best non-CNN neural model
    rivals = [m for m in neural if m not in cnns]
    if cnns and rivals:
        ndcg = runs.groupby("model")["test_NDCG@10"].mean()
        best = ndcg[rivals].idxmax()
        d = {m: compare_users(results, m, best, margin=margin, seed=seed) for m in cnns}
        good = [m for m in cnns if d[m].verdict in ("higher", "equivalent")]
        worse = [m for m in cnns if d[m].verdict == "lower"]
        add("CNN", "good accuracy",
            f"test NDCG@10 against the best non-CNN model ({best} {ndcg[best]:.4f}), paired over users: "
            + "; ".join(f"{m} {ndcg[m]:.4f}: {_describe(d[m])}" for m in cnns)
            + f". Rule (equivalence margin {margin}): supported if a CNN is as good as or better than the best other "
            "family, not supported if every CNN is worse",
            _not_converged(runs, [*cnns, best]) or ("supported" if good else "not supported" if len(worse) == len(cnns)
                                                    else "unclear"), good, worse)

    # CNN: information lost in pooling — the same Caser with and without its max-pooling
    if unpooled_cnn is not None and unpooled_cnn in present and pooled_cnn in present:
        d = compare_users(results, pooled_cnn, unpooled_cnn, margin=margin, seed=seed)
        add("CNN", "information lost in pooling",
            f"{pooled_cnn} (max-pooling) minus {unpooled_cnn} (the same model, every placement kept), paired over users: "
            f"{_describe(d)}. Rule: supported if pooling loses accuracy, not supported if it is as good or better",
            _not_converged(runs, [pooled_cnn, unpooled_cnn]) or {"lower": "supported", "higher": "not supported",
                                                                  "equivalent": "not supported"}.get(d.verdict, "unclear"))
    else:
        add("CNN", "information lost in pooling", "no pooling ablation was run",
            "not testable here: needs the same CNN with and without pooling")

    # CNN: needs enough depth — the same NextItNet at two depths
    if shallow_cnn is not None and shallow_cnn in present and deep_cnn in present:
        d = compare_users(results, deep_cnn, shallow_cnn, margin=margin, seed=seed)
        add("CNN", "needs enough depth",
            f"{deep_cnn} minus {shallow_cnn} (fewer blocks), paired over users: {_describe(d)}. Rule: supported if the "
            "deeper one is better, not supported if it is as good or worse",
            _not_converged(runs, [deep_cnn, shallow_cnn]) or {"higher": "supported", "lower": "not supported",
                                                               "equivalent": "not supported"}.get(d.verdict, "unclear"))

    # GAN rows, each adversarial model judged on its own, the family as its members agree
    gan_log = results.gan_log
    twins = {g: GAN_TWINS.get(g) for g in gans}
    if gans:
        member, evidence = {}, []
        for g in gans:
            twin = twins[g]
            if twin is None or twin not in present:
                member[g] = "not testable here: no model in the study is its generator trained by maximum likelihood alone"
                evidence.append(f"{g}: no maximum-likelihood twin")
                continue
            d = compare_users(results, g, twin, margin=margin, seed=seed)
            member[g] = _not_converged(runs, [g, twin]) or {"higher": "supported", "lower": "not supported",
                                                             "equivalent": "not supported"}.get(d.verdict, "unclear")
            evidence.append(f"{g} minus {twin} (its generator trained by maximum likelihood alone): {_describe(d)}")
        verdict, supporting, against = family_verdict(member)
        add("GAN", "strong generative models", "paired over users: " + "; ".join(evidence)
            + ". Rule: a GAN supports it if adversarial training makes its generator better, refutes it if it leaves it "
            "as good or worse", verdict, supporting, against)
    logged = [g for g in gans if len(gan_log) and "model" in gan_log and (gan_log.model == g).any()]
    if logged:
        member, evidence = {}, []
        for g in logged:
            last = gan_log[gan_log.model == g].groupby("seed").tail(1)["discriminator_accuracy"]
            member[g] = "supported" if (last > 0.75).all() else "not supported" if (last < 0.6).all() else "unclear"
            evidence.append(f"{g} " + ", ".join(f"{v:.2f}" for v in last))
        verdict, supporting, against = family_verdict(member)
        add("GAN", "efficient learning of the classifier",
            "discriminator accuracy (real vs generated next item) at the end of adversarial training, over seeds: "
            + "; ".join(evidence) + ". Rule: a GAN supports it if above 0.75 for every seed, refutes it if below 0.6 "
            "for every seed", verdict, supporting, against)

        cv = runs[runs.model.isin(neural)].groupby("model")["test_NDCG@10"].agg(
            lambda v: v.std(ddof=1) / v.mean() if len(v) > 2 else np.nan)
        member = {g: ("supported" if cv[g] >= cv.drop(gans, errors="ignore").max() else
                      "not supported" if cv[g] < cv.median() else "unclear") for g in logged}
        verdict, supporting, against = family_verdict(member)
        add("GAN", "unstable training",
            "coefficient of variation of test NDCG@10 across seeds: " + ", ".join(f"{m} {cv[m]:.1%}" for m in neural)
            + ". Rule (at least 3 seeds): a GAN supports it if it varies more than every non-GAN model, refutes it if "
            "it varies less than the median model", verdict, supporting, against)

        curves = results.curves
        member, evidence = {}, []
        for g in logged:
            if {"model", "phase", "valid_NDCG@10"} <= set(curves.columns):
                adversarial = curves[(curves.model == g) & (curves.phase == "adversarial")].assign(
                    adversarial_epoch=lambda c: c.groupby("seed").cumcount() + 1)
                merged = gan_log[gan_log.model == g].merge(adversarial[["seed", "adversarial_epoch", "valid_NDCG@10"]],
                                                           on=["seed", "adversarial_epoch"])
            else:  # no learning curves recorded
                merged = pd.DataFrame()
            if len(merged) >= 6 and "policy_gradient_loss" in merged:
                corr = merged[["policy_gradient_loss", "discriminator_loss", "valid_NDCG@10"]].corr()["valid_NDCG@10"]
                strongest = max(abs(corr["policy_gradient_loss"]), abs(corr["discriminator_loss"]))
                member[g] = "supported" if strongest < 0.5 else "not supported"
                evidence.append(f"{g} over {len(merged)} epochs: adversarial loss without its MLE term "
                                f"{corr['policy_gradient_loss']:+.2f}, discriminator loss {corr['discriminator_loss']:+.2f}")
            else:
                member[g] = "not tested here: too few adversarial epochs to correlate (at least 6 over all seeds)"
                evidence.append(f"{g}: {len(merged)} adversarial epochs logged")
        verdict, supporting, against = family_verdict(member)
        add("GAN", "hard to evaluate",
            "correlation with validation NDCG@10 over the adversarial epochs (all seeds): " + "; ".join(evidence)
            + ". Rule: a GAN supports it if neither loss tracks accuracy (|r| < 0.5), refutes it if one does",
            verdict, supporting, against)
    return pd.DataFrame(rows)


def against_baseline(results: SeedResults, models: list[str], baseline: str = "MarkovChain", *, margin: float = 0.005,
                     seed: int = 0) -> pd.DataFrame:
    """Each model against ``baseline`` on the same users (paired bootstrap of per-user NDCG@10, averaged over seeds).

    One row per model: both means, the difference with its 95% interval, the effect size
    and the verdict under the equivalence ``margin`` ("not tested here" when a run of the
    model stopped at its epoch cap).
    """
    rows = []
    for model in models:
        d = compare_users(results, model, baseline, margin=margin, seed=seed)
        rows.append({"model": model, "NDCG@10": d.mean_a, f"{baseline} NDCG@10": d.mean_b, "difference": d.difference,
                     "95% low": d.low, "95% high": d.high, "effect size": d.effect_size, "users": d.n,
                     "verdict": _not_converged(results.runs, [model]) or d.verdict})
    return pd.DataFrame(rows).set_index("model")


def below_popularity(results: SeedResults, versus_popular: pd.DataFrame, popular: str = "MostPop") -> pd.DataFrame:
    """The models that do not score above most-popular (``versus_popular``: :func:`against_baseline` against it),
    each with what its runs show and a diagnosis read from them; empty when every model is above.

    The diagnosis, in order: runs stopped at the epoch cap (undertrained, not judged); below most-popular on
    validation as well (at its tuned settings the model learns less than item popularity); above on validation
    but not on test (its validation edge does not carry over to the last item).
    """
    runs = results.runs
    popular_valid = float(runs.loc[runs.model == popular, "valid_NDCG@10"].mean())
    rows = []
    for model, row in versus_popular.iterrows():
        if row.verdict == "higher":
            continue
        own = runs[(runs.model == model) & runs.converged.notna()]
        converged = float(own.converged.astype(bool).mean()) if len(own) else float("nan")
        valid = float(own["valid_NDCG@10"].mean())
        if converged < 1:
            diagnosis = f"{1 - converged:.0%} of its runs stopped at the epoch cap: undertrained, not judged"
        elif valid <= popular_valid:
            diagnosis = f"below {popular} on validation too: at its tuned settings it learns less than item popularity"
        else:
            diagnosis = f"above {popular} on validation, not on test: its validation edge does not carry to the last item"
        rows.append({"model": model, "verdict": row.verdict, "difference": row.difference, "converged": converged,
                     "best epoch (median)": float(own.best_epoch.median()), "valid NDCG@10": valid,
                     f"{popular} valid NDCG@10": popular_valid, "diagnosis": diagnosis})
    columns = ["model", "verdict", "difference", "converged", "best epoch (median)", "valid NDCG@10",
               f"{popular} valid NDCG@10", "diagnosis"]
    return pd.DataFrame(rows, columns=columns).set_index("model")
