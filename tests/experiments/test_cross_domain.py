import json

import pytest

from recstudy.experiments.cross_domain import Domain, across, best_methods, cross_domain_table, outcome


def _write(folder, notebook, metrics):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{notebook}.metrics.json").write_text(json.dumps(metrics))


@pytest.mark.parametrize("verdict, expected", [
    ("higher", "yes"), ("supported", "yes"), ("better", "yes"), ("not supported", "no"), ("lower", "no"),
    ("worse", "no"), ("equivalent", "equivalent"), ("undecided", "undecided"), ("unclear", "undecided"),
    ("not tested here: 2 of 2 runs stopped at their epoch cap", "not tested"),
    ("not testable here: size is fixed by construction", "not tested"), (None, "missing"),
])
def test_outcome_sorts_every_verdict_word(verdict, expected):
    assert outcome(verdict) == expected


def test_outcome_refuses_an_unknown_word():
    with pytest.raises(ValueError, match="unrecognised verdict"):
        outcome("maybe")


def test_across_can_say_holds_fails_differs_or_undecided():
    assert across("yes", "yes") == "holds on both"
    assert across("no", "no") == "fails on both"
    assert across("yes", "no") == "differs between domains"
    assert across("equivalent", "yes") == "differs between domains"
    assert across("yes", "not tested") == "decided on one domain only"
    assert across("missing", "undecided") == "not decided on either"


def test_table_pairs_the_claims_of_both_domains(tmp_path):
    movies, games = Domain("MovieLens", tmp_path / "a", "ml-100k"), Domain("Games", tmp_path / "b", "amazon-video")
    _write(movies.reports, "10_sequential_comparison", {"SASRec_vs_MarkovChain_verdict": "higher",
                                                         "GRU4Rec_vs_MarkovChain_verdict": "higher",
                                                         "verdict: good accuracy": "supported"})
    _write(games.reports, "10_sequential_comparison", {"SASRec_vs_MarkovChain_verdict": "higher",
                                                        "GRU4Rec_vs_MarkovChain_verdict": "lower"})
    _write(movies.reports, "04_comparison", {"ocfb_ml-100k_holdout_MLP_verdict": "worse",
                                              "ocfb_paper-shaped_holdout_MLP_verdict": "better"})
    _write(games.reports, "04_comparison", {"ocfb_amazon-video_holdout_MLP_verdict": "worse"})
    _write(games.reports, "12_evolving", {"_skipped": "no timestamps"})
    table = cross_domain_table(movies, games).set_index("claim")
    assert table.loc["SASRec beats the Markov chain", "across domains"] == "holds on both"
    assert table.loc["GRU4Rec beats the Markov chain", "across domains"] == "differs between domains"
    assert table.loc["good accuracy", "across domains"] == "decided on one domain only"
    assert table.loc["OCF-B beats uniform negatives: holdout_MLP", "across domains"] == "fails on both"
    assert len(table) == 4  # the paper-shaped set is not the MovieLens domain's main data; skipped 12 adds nothing


def test_best_methods_reads_the_means_and_intervals_of_04(tmp_path):
    d = Domain("MovieLens", tmp_path, "ml-100k")
    _write(tmp_path, "04_comparison", {"ml-100k_holdout_BPR-MF_NDCG@10": 0.2, "ml-100k_holdout_BPR-MF_NDCG@10_lo": 0.18,
                                        "ml-100k_holdout_BPR-MF_NDCG@10_hi": 0.22, "ml-100k_holdout_MostPop_NDCG@10": 0.1,
                                        "ml-100k_holdout_best_NDCG@10": 0.2})
    best = best_methods(d)
    assert best.loc[0, "best method"] == "BPR-MF" and best.loc[0, "runner-up"] == "MostPop"
    assert best.loc[0, "95% interval"] == "0.18 to 0.22"
