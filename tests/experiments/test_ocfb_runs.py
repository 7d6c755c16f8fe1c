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
    overall = premise_overall(_terms())
    assert overall.loc[1.0, "ratio_pooled"] == pytest.approx((8 / 300) / 0.01)
    # P(X >= 8) for X ~ Binomial(300, 0.01), summed by hand
    tail = sum(math.comb(300, k) * 0.01**k * 0.99 ** (300 - k) for k in range(8, 301))
    assert overall.loc[1.0, "p_value"] == pytest.approx(tail)
    with pytest.raises(ValueError, match="holdout_fraction"):
        premise_table(_terms().drop(columns="removed_heldout"))


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
    with pytest.raises(ValueError, match="unknown variant"):
        run_experiment(table, "gmf", {}, variants=["boost"])


def test_closing_sentences_say_not_tested_when_nothing_was_measured():
    from recstudy.experiments.ocfb_runs import heldout_sentence, premise_sentence

    pooled = pd.DataFrame({"replaced": [0, 500], "removed_heldout": [0, 30], "share_removed": [np.nan, 0.06],
                           "share_chance": [0.02, 0.02], "ratio_pooled": [np.nan, 3.0], "p_value": [np.nan, 1e-6]},
                          index=pd.Index([1.5, 1.0], name="ratio"))
    text = premise_sentence(pooled, "toy")
    assert "n = 1.5x: no negative was removed, so the premise was not tested" in text
    assert "premise holds" in text and "not supported" not in text
    assert "was not tested here" in premise_sentence(pooled.iloc[:1], "toy")
    assert "not supported at the 1% level" in premise_sentence(pooled.iloc[1:].assign(p_value=0.5), "toy")
    columns = pd.MultiIndex.from_tuples([("heldout_NDCG@10", "mean")])
    heldout = pd.DataFrame([[np.nan], [0.1]], index=pd.MultiIndex.from_tuples([("OCF-B", 1.0), ("control", 1.0)]), columns=columns)
    assert "not measured" in heldout_sentence(heldout, "toy", 1.0)
