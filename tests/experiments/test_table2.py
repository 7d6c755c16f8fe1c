"""Paper B's Table 2 verdicts: every rule can come out either way, and non-converged runs are not judged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstudy.experiments.sequential import SeedResults
from recstudy.experiments.table2 import table2_verdicts

MODELS = ["GRU4Rec", "Caser", "NextItNet", "SASRec", "BERT4Rec", "Caser (no pooling)", "NextItNet (1 block)"]


def results(ndcg: dict[str, float], speed: dict[str, float], converged: bool = True, seeds=(0, 1, 2, 3, 4)) -> SeedResults:
    rng = np.random.default_rng(0)
    base = rng.random(400) * 0.2  # user difficulty shared by all models: pairing removes it
    runs, per_user = [], []
    for model in MODELS:
        for seed in seeds:
            users = np.clip(base + ndcg[model] - 0.1 + rng.normal(0, 0.01, 400), 0, 1)
            per_user.append(pd.DataFrame({"model": model, "seed": seed, "user": np.arange(400), "NDCG@10": users}))
            runs.append({"model": model, "family": "x", "seed": seed, "test_NDCG@10": users.mean(),
                         "test_NDCG@10_last_5": users.mean() * (0.9 if model == "GRU4Rec" else 0.6),
                         "seconds_per_epoch": speed[model] * (1 + rng.normal(0, 0.01)), "converged": converged})
    return SeedResults(pd.DataFrame(runs), pd.DataFrame(), pd.DataFrame(), pd.concat(per_user, ignore_index=True))


GROWTH = pd.DataFrame({"max_len 50": [100] * 5, "max_len 200": [100, 100, 100, 200, 200]},
                      index=["GRU4Rec", "Caser", "NextItNet", "SASRec", "BERT4Rec"])


def verdicts(r: SeedResults) -> dict[str, str]:
    table = table2_verdicts(r, GROWTH, 5, shallow_cnn="NextItNet (1 block)", unpooled_cnn="Caser (no pooling)")
    return dict(zip(table.claim, table.verdict))


def test_claims_supported_on_data_made_to_support_them():
    ndcg = {"GRU4Rec": 0.10, "Caser": 0.15, "NextItNet": 0.16, "SASRec": 0.12, "BERT4Rec": 0.11,
            "Caser (no pooling)": 0.18, "NextItNet (1 block)": 0.12}
    speed = {"GRU4Rec": 5.0, "Caser": 1.0, "NextItNet": 1.5, "SASRec": 2.0, "BERT4Rec": 3.0,
             "Caser (no pooling)": 1.2, "NextItNet (1 block)": 1.0}
    v = verdicts(results(ndcg, speed))
    assert v["slow (sequential) training"] == "supported"
    assert v["fast training"] == "supported"
    assert v["good accuracy"] == "supported"
    assert v["information lost in pooling"] == "supported"
    assert v["needs enough depth"] == "supported"
    assert v["hard to use far-past information"] == "supported"
    assert v["any input length; model size independent of input length"].startswith("not testable here")


def test_the_same_claims_fail_on_data_made_to_refute_them():
    ndcg = {"GRU4Rec": 0.20, "Caser": 0.10, "NextItNet": 0.11, "SASRec": 0.19, "BERT4Rec": 0.18,
            "Caser (no pooling)": 0.10, "NextItNet (1 block)": 0.14}
    speed = {"GRU4Rec": 1.0, "Caser": 3.0, "NextItNet": 2.5, "SASRec": 2.0, "BERT4Rec": 3.0,
             "Caser (no pooling)": 3.0, "NextItNet (1 block)": 2.0}
    v = verdicts(results(ndcg, speed))
    assert v["slow (sequential) training"] == "not supported"
    assert v["fast training"] == "not supported"
    assert v["good accuracy"] == "not supported"
    assert v["information lost in pooling"] == "not supported"  # pooling as good as no pooling
    assert v["needs enough depth"] == "not supported"


def test_accuracy_claims_are_not_judged_without_convergence():
    ndcg = dict.fromkeys(MODELS, 0.1)
    speed = dict.fromkeys(MODELS, 1.0)
    v = verdicts(results(ndcg, speed, converged=False))
    for claim in ("good accuracy", "information lost in pooling", "needs enough depth", "hard to use far-past information"):
        assert v[claim].startswith("not tested here"), claim
    assert v["fast training"] == "not supported"  # equal speed: timing claims need no convergence


def test_speed_claims_follow_the_interleaved_timings_when_given():
    fast_rnn = {m: 1.0 if m == "GRU4Rec" else 2.0 for m in MODELS}
    slow_rnn = {m: 3.0 if m == "GRU4Rec" else 1.0 for m in MODELS}
    r = results({m: 0.1 for m in MODELS}, fast_rnn)  # the runs say the RNN is fast
    rows = [{"model": m, "seed": k, "seconds_per_epoch": slow_rnn[m] * (1 + 0.01 * k)} for m in MODELS for k in range(3)]
    table = table2_verdicts(r, GROWTH, 5, timings=pd.DataFrame(rows))
    by_claim = dict(zip(table.claim, table.verdict))
    assert by_claim["slow (sequential) training"] == "supported" and by_claim["fast training"] == "supported"
    assert "interleaved" in table.set_index("claim").loc["fast training", "evidence"]
    assert verdicts(r)["slow (sequential) training"] == "not supported"  # the runs alone say otherwise


def test_each_model_against_the_markov_chain_can_be_higher_lower_or_not_tested():
    from recstudy.experiments.table2 import against_baseline

    r = results({"GRU4Rec": 0.15, "Caser": 0.05, "NextItNet": 0.1, "SASRec": 0.1, "BERT4Rec": 0.1,
                 "Caser (no pooling)": 0.1, "NextItNet (1 block)": 0.1}, {m: 1.0 for m in MODELS})
    table = against_baseline(r, ["GRU4Rec", "Caser", "SASRec"], baseline="NextItNet", margin=0.005)
    assert table.loc["GRU4Rec", "verdict"] == "higher" and table.loc["Caser", "verdict"] == "lower"
    assert table.loc["SASRec", "verdict"] in ("equivalent", "undecided")
    unconverged = results({m: 0.1 for m in MODELS}, {m: 1.0 for m in MODELS}, converged=False)
    assert against_baseline(unconverged, ["GRU4Rec"], baseline="NextItNet").loc["GRU4Rec", "verdict"].startswith("not tested")


def test_a_family_verdict_says_which_members_agree():
    from recstudy.experiments.table2 import family_verdict

    assert family_verdict({"A": "supported", "B": "supported"})[0] == "supported"
    assert family_verdict({"A": "not supported", "B": "not supported"})[0] == "not supported"
    verdict, supporting, against = family_verdict({"A": "supported", "B": "not supported", "C": "not tested here: x"})
    assert verdict == "mixed: 1 of 2 judged members support it" and supporting == ["A"] and against == ["B"]
    assert family_verdict({"A": "unclear"})[0] == "unclear"
    assert family_verdict({"A": "not tested here: x", "B": "not tested here: x"})[0] == "not tested here: x"


def test_every_rnn_member_is_judged_and_the_family_can_split():
    global MODELS
    saved = MODELS
    MODELS = saved + ["DREAM"]
    try:
        ndcg = {**dict.fromkeys(MODELS, 0.1)}
        speed = {**{m: 1.0 for m in MODELS}, "GRU4Rec": 5.0, "DREAM": 0.5}  # one slow RNN, one fast
        growth = pd.concat([GROWTH, pd.DataFrame({"max_len 50": [100], "max_len 200": [100]}, index=["DREAM"])])
        table = table2_verdicts(results(ndcg, speed), growth, 5).set_index("claim")
        row = table.loc["slow (sequential) training"]
        assert row.verdict.startswith("mixed") and row["supported by"] == "GRU4Rec" and row["not by"] == "DREAM"
        assert "DREAM to" in row.evidence
        both_slow = {**speed, "DREAM": 6.0}
        assert table2_verdicts(results(ndcg, both_slow), growth, 5).set_index("claim").loc[
            "slow (sequential) training", "verdict"] == "supported"
    finally:
        MODELS = saved


def test_each_gan_is_judged_on_its_own_log():
    r = results(dict.fromkeys(MODELS, 0.1), dict.fromkeys(MODELS, 1.0))
    log = pd.DataFrame([{"model": g, "seed": s, "adversarial_epoch": 1, "discriminator_accuracy": acc,
                         "discriminator_loss": 0.5, "policy_gradient_loss": 0.1, "generator_loss": 1.0}
                        for g, acc in (("SeqGAN", 0.9), ("MFGAN", 0.5)) for s in range(3)])
    runs = pd.concat([r.runs] + [r.runs[r.runs.model == "GRU4Rec"].assign(model=g) for g in ("SeqGAN", "MFGAN")])
    per_user = pd.concat([r.per_user] + [r.per_user[r.per_user.model == "GRU4Rec"].assign(model=g) for g in ("SeqGAN", "MFGAN")])
    with_gans = SeedResults(runs, r.curves, log, per_user)
    row = table2_verdicts(with_gans, GROWTH, 5).set_index("claim").loc["efficient learning of the classifier"]
    assert row.verdict.startswith("mixed") and row["supported by"] == "SeqGAN" and row["not by"] == "MFGAN"
    strong = table2_verdicts(with_gans, GROWTH, 5).set_index("claim").loc["strong generative models"]
    assert "SeqGAN minus GRU4Rec" in strong.evidence and "MFGAN minus SASRec" in strong.evidence


def test_models_not_above_most_popular_are_listed_with_a_diagnosis_read_from_their_runs():
    from recstudy.experiments.table2 import against_baseline, below_popularity

    r = results({"GRU4Rec": 0.15, "Caser": 0.05, "NextItNet": 0.1, "SASRec": 0.05, "BERT4Rec": 0.1,
                 "Caser (no pooling)": 0.1, "NextItNet (1 block)": 0.1}, {m: 1.0 for m in MODELS})
    valid = {"GRU4Rec": 0.2, "Caser": 0.05, "SASRec": 0.3, "NextItNet": 0.1}  # NextItNet stands in for most-popular
    r.runs["valid_NDCG@10"] = r.runs.model.map(valid).fillna(0.1)
    r.runs["best_epoch"] = 7
    versus = against_baseline(r, ["GRU4Rec", "Caser", "SASRec"], baseline="NextItNet", margin=0.005)
    table = below_popularity(r, versus, popular="NextItNet")
    assert list(table.index) == ["Caser", "SASRec"]  # GRU4Rec is above
    assert "learns less than item popularity" in table.loc["Caser", "diagnosis"]
    assert "does not carry" in table.loc["SASRec", "diagnosis"]
    r.runs.loc[(r.runs.model == "Caser") & (r.runs.seed == 0), "converged"] = False
    again = below_popularity(r, against_baseline(r, ["GRU4Rec", "Caser"], baseline="NextItNet"), popular="NextItNet")
    assert "20% of its runs stopped at the epoch cap" in again.loc["Caser", "diagnosis"]
    everyone_above = versus.loc[["GRU4Rec"]]
    assert below_popularity(r, everyone_above, popular="NextItNet").empty
