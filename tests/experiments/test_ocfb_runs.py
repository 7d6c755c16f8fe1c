"""The tidy summaries of OCF-B experiments: premise ratios and the last-term report, on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recstudy.experiments.ocfb_runs import final_term_report, premise_overall, premise_table, run_experiment, split_positives


def _terms() -> pd.DataFrame:
    rows = []
    for seed, counts in ((0, [(100, 5), (50, 0)]), (1, [(100, 1), (50, 2)])):
        rows.append({"variant": "OCF-B", "ratio": 1.0, "seed": seed, "term": 0, "replaced": 0, "removed_heldout": 0, "heldout_base_share": 0.01})
        for term, (replaced, heldout) in enumerate(counts, start=1):
            rows.append({"variant": "OCF-B", "ratio": 1.0, "seed": seed, "term": term, "replaced": replaced,
                         "removed_heldout": heldout, "heldout_base_share": 0.01})
    return pd.DataFrame(rows)


def test_premise_ratios_pool_and_average_over_seeds():
    table = premise_table(_terms())
    assert table.loc[(1.0, 1), "share_removed"] == pytest.approx(6 / 200)
    assert table.loc[(1.0, 1), "ratio_pooled"] == pytest.approx(3.0)
    assert table.loc[(1.0, 1), "ratio_mean"] == pytest.approx((5.0 + 1.0) / 2)
    assert table.loc[(1.0, 2), "ratio_pooled"] == pytest.approx(2.0)
    assert table.loc[(1.0, 2), "ratio_mean"] == pytest.approx((0.0 + 4.0) / 2)
    # per-term tests: term 1 pools 6 of 200 over the two (independent) seeds; P(X >= 6), X ~ Binomial(200, 0.01)
    tail1 = sum(math.comb(200, k) * 0.01**k * 0.99 ** (200 - k) for k in range(6, 201))
    tail2 = sum(math.comb(100, k) * 0.01**k * 0.99 ** (100 - k) for k in range(2, 101))
    assert table.loc[(1.0, 1), "p_term"] == pytest.approx(tail1)
    assert table.loc[(1.0, 2), "p_term"] == pytest.approx(tail2)
    # Holm over the two terms: the smaller p doubled, the larger kept (and never below the first)
    small, large = sorted([tail1, tail2])
    assert sorted(table.p_holm) == pytest.approx(sorted([min(1, 2 * small), max(min(1, 2 * small), large)]))
    overall = premise_overall(_terms())
    assert overall.loc[1.0, "ratio_pooled"] == pytest.approx((8 / 300) / 0.01)
    assert "p_value" not in overall  # no binomial test over removals pooled across dependent terms
    assert overall.loc[1.0, "p_first_term"] == pytest.approx(tail1)
    assert overall.loc[1.0, "p_min_holm"] == pytest.approx(min(1, 2 * small))
    # runs: seed 0 has 5 held-out among 150 removals (expected 1.5), seed 1 has 3 (expected 1.5): both above chance;
    # with two runs the sign-flip test can only reach 1/4
    assert overall.loc[1.0, "runs_above"] == 2 and overall.loc[1.0, "p_runs"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="holdout_fraction"):
        premise_table(_terms().drop(columns="removed_heldout"))


def test_run_level_permutation_is_exact():
    from recstudy.experiments.ocfb_runs import run_level_permutation

    assert run_level_permutation(np.array([1.0, 2.0, 3.0])) == pytest.approx(1 / 8)
    assert run_level_permutation(np.array([-1.0, -2.0, -3.0])) == pytest.approx(1.0)
    # one negative run among five: the patterns with a mean at least as large are few
    p = run_level_permutation(np.array([1.0, 1.0, 1.0, 1.0, -1.0]))
    assert p == pytest.approx(6 / 32)


def test_final_term_report_sets_ours_beside_the_paper():
    predictions = pd.DataFrame({
        "variant": "OCF-B", "ratio": 1.0, "seed": [0] * 5 + [1] * 5,
        "label": [0, 0, 0, 1, 1] * 2,
        "probability": [0.2, 0.3, 0.7, 0.9, 0.1, 0.1, 0.2, 0.3, 0.8, 0.9],
    })
    report = final_term_report(predictions, "mlp")
    # seed 0: positive precision 1/2; seed 1: everything right -> mean 0.75
    assert report.loc[(1.0, "positive"), ("precision", "mean")] == pytest.approx(0.75)
    assert report.loc[(1.0, "accuracy"), ("f1", "mean")] == pytest.approx((0.6 + 1.0) / 2)
    assert report.loc[(1.0, "positive"), ("precision", "paper")] == 0.82
    assert report.loc[(1.0, "AUC"), ("f1", "paper")] == 0.8868
    # on data other than the paper-shaped set the paper's numbers do not apply and are left out
    alone = final_term_report(predictions, "mlp", with_paper=False)
    assert "paper" not in alone.columns.get_level_values(1) and alone.shape[1] == 8


def test_replication_verdicts_decide_each_claim():
    from recstudy.experiments.ocfb_runs import describe_data, replication_verdicts

    rows = []
    for seed in range(4):
        for variant, rise, fixed in (("OCF-B", 0.2, 0.0), ("control", 0.0, 0.0)):
            for term, step in ((0, 0.0), (3, 1.0)):
                rows.append({"variant": variant, "ratio": 1.0, "seed": seed, "term": term,
                             "AUC": 0.6 + step * (rise + 0.01 * seed), "fixed_AUC": 0.6 + step * (fixed + 0.001 * seed)})
    table = replication_verdicts(pd.DataFrame(rows), None, None, "toy").set_index("claim")
    assert table.loc["OCF-B raises AUC term by term (the paper's protocol)", "verdict"] == "holds"
    # the fixed-row rise equals the control's within the margin: the rise is not a better model
    assert table.loc["the AUC rise reflects a better model", "verdict"] == "does not hold"
    text = describe_data("paper-shaped", pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1]}))
    assert "2 users × 2 items, 3 positive pairs" in text and "shape of Paper A's" in text
    assert "own interaction log" in describe_data("/tmp/shop.csv", pd.DataFrame({"user": [1], "item": [1]}))


def test_run_experiment_gives_tidy_tables():
    rng = np.random.default_rng(0)
    codes = rng.choice(30 * 40, size=240, replace=False)
    table = pd.DataFrame({"user": codes // 40, "item": codes % 40, "rating": 1.0, "timestamp": 0})
    split = split_positives(table, 0.2, seed=1)
    assert len(split.train[0]) + len(split.heldout[0]) == 240
    e = run_experiment(table, "gmf", {"factors": 2}, ratios=[1.0], seeds=[0, 1], holdout_fraction=0.2, terms=2, epochs=1,
                       batch_size=64)
    assert len(e.terms) == 2 * 2 * 3  # seeds x variants x terms 0..2
    assert set(e.terms.variant) == {"OCF-B", "control"}
    assert set(e.predictions.seed) == {0, 1} and e.losses.epoch.max() == 1
    # the held-out ranking per user, paired by (seed, user) between the variants, then tested by a user bootstrap
    assert set(e.heldout_users.variant) == {"OCF-B", "control"} and "NDCG@10" in e.heldout_users
    from recstudy.experiments.ocfb_runs import heldout_sentence, heldout_test

    tested = heldout_test(e)
    assert tested.loc[1.0, "seeds"] == 2 and tested.loc[1.0, "users"] == e.heldout_users.user.nunique()
    assert tested.loc[1.0, "low"] <= tested.loc[1.0, "difference"] <= tested.loc[1.0, "high"]
    assert tested.loc[1.0, "verdict"] in {"higher", "lower", "equivalent", "undecided"}
    assert "paired bootstrap" in heldout_sentence(tested, "toy", 1.0)
    # the paper's plain random 70/30 split is the default: class counts in the test rows vary with the seed
    supports = {(s, int(g.label.sum())) for s, g in e.predictions[e.predictions.variant == "OCF-B"].groupby("seed")}
    assert all(0 < pos < len(e.predictions) for _, pos in supports)
    with pytest.raises(ValueError, match="unknown variant"):
        run_experiment(table, "gmf", {}, variants=["boost"])


def test_closing_sentences_say_not_tested_when_nothing_was_measured():
    from recstudy.experiments.ocfb_runs import heldout_sentence, premise_sentence

    pooled = pd.DataFrame({"replaced": [0, 500], "removed_heldout": [0, 30], "share_removed": [np.nan, 0.06],
                           "share_chance": [0.02, 0.02], "ratio_pooled": [np.nan, 3.0], "p_first_term": [np.nan, 1e-4],
                           "terms": [2, 2], "terms_significant": [0, 2], "p_min_holm": [np.nan, 1e-6], "runs": [3, 3],
                           "runs_above": [0, 3], "p_runs": [np.nan, 0.125], "supported": [False, True]},
                          index=pd.Index([1.5, 1.0], name="ratio"))
    text = premise_sentence(pooled, "toy")
    assert "n = 1.5x: no negative was removed, so the premise was not tested" in text
    assert "premise is supported" in text and "not supported" not in text
    assert "smallest attainable 0.12" in text  # the run-level test's floor with 3 runs is stated
    assert "was not tested here" in premise_sentence(pooled.iloc[:1], "toy")
    assert "premise is not supported" in premise_sentence(pooled.iloc[1:].assign(supported=False), "toy")
    assert "not measured" in heldout_sentence(pd.DataFrame(index=pd.Index([], name="ratio")), "toy", 1.0)


def test_a_pair_logged_twice_is_one_positive_and_never_both_held_out_and_trained():
    from recstudy.experiments.ocfb_runs import split_positives

    rows = [(u, i, 1.0, t) for u in range(20) for t, i in enumerate([1, 2, 3, 1, 4, 5, 2, 6, 7, 8])]  # items 1, 2 twice
    table = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    split = split_positives(table, holdout_fraction=0.3, seed=0)
    train = set(zip(*split.train)); heldout = set(zip(*split.heldout))
    assert not train & heldout
    assert len(train) + len(heldout) == 20 * 8 == len(split.train[0]) + len(split.heldout[0])
