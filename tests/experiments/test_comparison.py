"""Summaries, confidence intervals, Holm's correction, the paired OCF-B test, tuning, runner and top-N."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from recstudy.experiments.comparison import confidence_interval, holm, mean_ci_table, paired_tests, run_comparison, summarise
from recstudy.data.interactions import IndexedInteractions
from recstudy.experiments.methods import METHODS, fit_method, tuning_family
from recstudy.data.pairs import cell_codes
from recstudy.sampling.schemes import per_positive_negatives, train_ncf_with_negatives
from recstudy.data.protocols import make_split
from recstudy.experiments.recommend import top_n
from recstudy.experiments.tuning import GRIDS, tune, tuning_grid


@pytest.fixture(scope="module")
def tiny() -> IndexedInteractions:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(30), 8)
    items = (users % 5) * 4 + rng.integers(0, 8, len(users))  # five taste groups over 28 items
    frame = pd.DataFrame({"user": users, "item": items, "rating": 1.0, "timestamp": rng.integers(0, 10**6, len(users))})
    return IndexedInteractions.from_frame(frame.drop_duplicates(["user", "item"]))


def test_confidence_interval_by_hand():
    mean, low, high = confidence_interval(np.array([1.0, 2.0, 3.0]))
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    assert confidence_interval(np.array([0.5])) == (0.5, 0.5, 0.5)


def test_holm_adjustment():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, np.nan])), [0.03, 0.06, 0.06, np.nan])


def _fake_results(shift: float, noise: float = 0.001) -> pd.DataFrame:
    rows = []
    for seed in range(6):
        for model in ("GMF", "MLP", "NeuMF"):
            base = 0.3 + 0.01 * seed
            rows.append({"dataset": "d", "protocol": "p", "seed": seed, "method": f"{model}+uniform", "NDCG@10": base})
            rows.append({"dataset": "d", "protocol": "p", "seed": seed, "method": f"{model}+OCF-B",
                         "NDCG@10": base + shift + noise * (seed % 3) * (-1) ** seed})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("shift, noise, verdict", [(-0.05, 0.001, "OCF-B worse"), (0.05, 0.001, "OCF-B better"),
                                                   (0.0, 0.001, "equivalent"), (0.0, 0.03, "undecided")])
def test_paired_test_verdicts(shift, noise, verdict):
    table = paired_tests(_fake_results(shift, noise), "NDCG@10", margin=0.005)
    assert len(table) == 3 and (table.verdict == verdict).all()
    assert table.difference.to_numpy() == pytest.approx(shift, abs=noise * 2 + 1e-9)


def _fake_users(shift: float, n_users: int = 400, seeds: int = 3, sd: float = 0.05) -> pd.DataFrame:
    """Per-user NDCG for uniform and OCF-B: the same users' base values, OCF-B shifted by ``shift`` plus user noise ``sd``."""
    rng = np.random.default_rng(1)
    base = rng.random(n_users) * 0.5
    rows = []
    for seed in range(seeds):
        for model in ("GMF", "MLP", "NeuMF"):
            for method, values in ((f"{model}+uniform", base), (f"{model}+OCF-B", base + shift + rng.normal(0, sd, n_users))):
                rows.append({"dataset": "d", "protocol": "p", "seed": seed, "method": method, "NDCG@10": values.mean(),
                             "per_user": pd.Series(values)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("shift, sd, verdict", [(-0.03, 0.02, "OCF-B worse"), (0.03, 0.02, "OCF-B better"),
                                                (0.0, 0.01, "equivalent"), (0.0, 0.4, "undecided")])
def test_paired_bootstrap_over_users_verdicts(shift, sd, verdict):
    table = paired_tests(_fake_users(shift, sd=sd), "NDCG@10", margin=0.005)
    assert (table.interval == "bootstrap over users").all() and (table.users == 400).all()
    assert (table.verdict == verdict).all(), table[["difference", "diff low", "diff high", "Holm p", "verdict"]]
    assert (np.sign(table["effect size (d_z)"]) == np.sign(table.difference)).all()


def test_a_clear_difference_survives_holm_over_many_tests():
    # 22 protocols x 3 models = 66 tests, about as many as 04 runs (63 in the full profile): a bootstrap tail count
    # (never below 2 / 2,001) could not pass Holm's first step (0.05 / 66); the p-value must resolve far smaller values
    many = pd.concat([_fake_users(-0.03, sd=0.02).assign(protocol=f"p{i}") for i in range(22)], ignore_index=True)
    table = paired_tests(many, "NDCG@10", margin=0.005, n_boot=2000)
    assert len(table) == 66 and (table.verdict == "OCF-B worse").all() and (table["Holm p"] < 1e-6).all()


def test_claims_against_another_method_are_tallied_by_the_direction_of_each_verdict():
    # rows against WMF-ALS or MostPop read "GMF+OCF-B worse" / "GMF+uniform better", not "OCF-B worse"
    from recstudy.experiments.comparison import paper_a_verdicts

    users = _fake_users(-0.03, sd=0.02)
    base = users[users.method.str.endswith("+uniform")]
    others = pd.concat([base[base.method == "GMF+uniform"].assign(method=name) for name in ("WMF-ALS", "MostPop")])
    others = others.reset_index(drop=True)
    rng = np.random.default_rng(2)
    for row in others.index[others.method == "MostPop"]:  # lower for every user, with noise
        others.at[row, "per_user"] = others.at[row, "per_user"] - 0.05 + rng.normal(0, 0.01, 400)
    tests = paired_tests(pd.concat([users, others], ignore_index=True), "NDCG@10", margin=0.005,
                         comparisons=[("{model}+OCF-B", "WMF-ALS"), ("GMF+uniform", "MostPop")])
    table = paper_a_verdicts(tests).set_index("claim")
    versus_weighting = table.loc["OCF-B beats the one-class weighting of Pan et al. 2008 (WMF-ALS)"]
    assert versus_weighting.evidence.startswith("0 better, 3 worse") and versus_weighting.verdict == "does not hold"
    gmf = table.loc["GMF does not converge (ranks no better than MostPop)"]
    assert gmf.evidence.startswith("1 better, 0 worse") and gmf.verdict == "does not hold"


def test_paper_a_verdict_table_tallies_the_tests():
    from recstudy.experiments.comparison import paper_a_verdicts

    tests = paired_tests(_fake_users(0.03, sd=0.02), "NDCG@10", margin=0.005)
    table = paper_a_verdicts(tests, {"02_mlp": {"claim_auc_rises_paper-shaped_n1": 1, "claim_auc_rises_paper-shaped_n1.5": 0,
                                                "seeds": 5}}).set_index("claim")
    assert table.loc["OCF-B beats random (uniform) negatives on held-out interactions", "verdict"] == "holds"
    assert table.loc["MLP beats NeuMF", "verdict"] == "not tested"
    rise = table.loc["OCF-B raises AUC term by term (the paper's protocol)"]
    assert rise.verdict == "mixed" and rise.dataset == "paper-shaped" and "1.5x undecided" in rise.evidence
    worse = paper_a_verdicts(paired_tests(_fake_users(-0.03, sd=0.02), "NDCG@10")).set_index("claim")
    assert worse.loc["OCF-B beats random (uniform) negatives on held-out interactions", "verdict"] == "does not hold"


def test_summarise_and_table():
    results = _fake_results(0.05)
    summary = summarise(results, ["NDCG@10"])
    assert summary.seeds.eq(6).all()
    assert summary.iloc[0]["method"].endswith("OCF-B")  # sorted best first
    table = mean_ci_table(summary, "NDCG@10")
    assert table.shape == (6, 1) and "±" in table.iloc[0, 0]


def test_grids_give_every_family_the_same_budget():
    families = {tuning_family(m) for m in METHODS}
    assert families == set(GRIDS) | {f"{m}+OCF-B" for m in ("GMF", "MLP", "NeuMF")}  # OCF-B is tuned in its own right
    assert {len(tuning_grid(f, 3)) for f in families if f != "MostPop"} == {3}
    assert tuning_family("MLP+OCF-B-15") == tuning_family("MLP+popularity") == "MLP"
    assert tuning_grid("MLP+OCF-B", 1) == [{"theta": 0.5}]  # budget 1: the untuned defaults
    with pytest.raises(ValueError, match="no grid"):
        tuning_grid("SVD", 2)


def test_unknown_method_and_setting_are_refused(tiny):
    split = make_split(tiny, "holdout")
    with pytest.raises(ValueError, match="unknown method"):
        fit_method("SVD", split, {})
    with pytest.raises(ValueError, match="unknown training setting"):
        fit_method("MostPop", split, {}, settings={"epochs": 3})
    with pytest.raises(ValueError, match="unknown negative scheme"):
        train_ncf_with_negatives("gmf", {}, 3, 3, (np.array([0]), np.array([0])), scheme="hard")


def test_uniform_negatives_are_drawn_per_positive_fresh_every_epoch(tiny):
    split = make_split(tiny, "holdout")
    users, items = split.train_pairs
    keys = torch.unique(torch.as_tensor(cell_codes(users, items, tiny.n_items)))
    generator = torch.Generator().manual_seed(3)
    first = per_positive_negatives(users, keys, tiny.n_items, 4, generator)
    second = per_positive_negatives(users, keys, tiny.n_items, 4, generator)
    assert len(first[0]) == 4 * len(users) and np.array_equal(first[0], np.repeat(users, 4))  # each positive's own user
    for neg_users, neg_items in (first, second):
        assert not np.isin(cell_codes(neg_users, neg_items, tiny.n_items), keys.numpy()).any()
    assert not np.array_equal(first[1], second[1])  # fresh draws each epoch
    again = per_positive_negatives(users, keys, tiny.n_items, 4, torch.Generator().manual_seed(3))
    assert np.array_equal(first[1], again[1])  # same seed, same draw
    _, log = train_ncf_with_negatives("gmf", {"factors": 4}, tiny.n_users, tiny.n_items, split.train_pairs, scheme="uniform",
                                      negatives_per_positive=2, rounds=2, epochs_per_round=3, batch_size=64, seed=0)
    assert log.replaced.tolist() == [6 * len(users)] * 2
    with pytest.raises(ValueError, match="whole number"):
        train_ncf_with_negatives("gmf", {}, tiny.n_users, tiny.n_items, split.train_pairs, negatives_per_positive=1.5)


def test_schemes_share_initial_weights_and_ocfb_replaces_what_it_should(tiny):
    split = make_split(tiny, "holdout")
    kwargs = dict(negatives_per_positive=2, epochs_per_round=1, batch_size=64, seed=4)
    torch.manual_seed(4)
    _, log = train_ncf_with_negatives("gmf", {"factors": 4}, tiny.n_users, tiny.n_items, split.train_pairs, scheme="ocfb",
                                      rounds=3, theta=1e-9, **kwargs)
    n_negatives = 2 * len(split.train_users)
    assert log.replaced.tolist() == [0, n_negatives, n_negatives]  # a tiny theta: every negative goes
    with pytest.raises(ValueError, match="remove every negative"):
        train_ncf_with_negatives("gmf", {"factors": 4}, tiny.n_users, tiny.n_items, split.train_pairs, scheme="ocfb",
                                 rounds=2, theta=0.0, **kwargs)


def test_the_papers_loop_retrains_from_new_weights_every_term(tiny, monkeypatch):
    import recstudy.sampling.schemes as schemes

    built = []
    original = schemes.build_model
    monkeypatch.setattr(schemes, "build_model", lambda *a, **kw: built.append(a[0]) or original(*a, **kw))
    split = make_split(tiny, "holdout")
    kwargs = dict(negatives_per_positive=1.5, epochs_per_round=1, batch_size=64, seed=2)
    _, paper = train_ncf_with_negatives("gmf", {"factors": 4}, tiny.n_users, tiny.n_items, split.train_pairs,
                                        scheme="ocfb_paper", rounds=4, theta=0.5, **kwargs)
    assert len(built) == 4  # a new model for term 0 and for each of the 3 terms after it
    _, warm = train_ncf_with_negatives("gmf", {"factors": 4}, tiny.n_users, tiny.n_items, split.train_pairs,
                                       scheme="ocfb", rounds=4, theta=0.5, **kwargs)
    assert len(built) == 5  # the comparison's OCF-B continues one model
    assert len(paper) == 4 and paper.replaced.iloc[0] == 0
    assert paper.loss.iloc[0] == pytest.approx(warm.loss.iloc[0])  # term 0 is the same fit
    fitted = fit_method("GMF+OCF-B-15", split, {"factors": 4}, settings={"paper_terms": 2, "paper_epochs_per_term": 1,
                                                                         "ncf_batch_size": 64})
    assert len(fitted.log) == 3  # terms 0..2
    with pytest.raises(ValueError, match="configure OCF-B"):
        fit_method("GMF+uniform", split, {"factors": 4, "theta": 0.7})


def test_tuning_and_comparison_end_to_end_on_tiny_data(tiny):
    datasets = {"tiny": tiny}
    methods = ["MostPop", "ItemKNN", "WMF-ALS", "GMF+uniform", "GMF+OCF-B"]
    settings = {"tiny": {"ncf_rounds": 2, "ncf_epochs_per_round": 2, "ncf_batch_size": 64, "als_iterations": 3}}
    grid, chosen = tune(datasets, "holdout", methods, budget=2, settings=settings)
    assert set(chosen.family) == {"MostPop", "ItemKNN", "WMF-ALS", "GMF", "GMF+OCF-B"}
    for row in chosen.itertuples():
        assert row._5 == grid[(grid.family == row.family)]["NDCG@10"].max()
    # OCF-B's own settings ride on the model's configuration chosen with uniform negatives
    gmf = chosen.set_index("family").config_dict
    assert {k: v for k, v in gmf["GMF+OCF-B"].items() if k not in ("theta", "negatives_per_positive", "rounds")} == gmf["GMF"]
    assert (grid.family == "GMF+OCF-B").sum() == 2 and set(grid.protocol) == {"holdout"}
    configs = {(r.dataset, r.family): r.config_dict for r in chosen.itertuples()}
    results = run_comparison(datasets, ["holdout", "leave-last-out"], methods, [0, 1], configs, settings)
    assert len(results) == 2 * 2 * len(methods)
    again = run_comparison(datasets, ["holdout"], methods, [0], configs, settings)
    first = results[(results.protocol == "holdout") & (results.seed == 0)].reset_index(drop=True)
    pd.testing.assert_series_equal(first["NDCG@10"], again["NDCG@10"])  # seeded: the same numbers again
    # each run is seeded by itself: two worker processes give the same numbers as one, in the same order
    two_workers = run_comparison(datasets, ["holdout"], methods, [0], configs, settings, workers=2)
    pd.testing.assert_frame_equal(two_workers[["method", "NDCG@10", "AUC"]], again[["method", "NDCG@10", "AUC"]])
    assert "AUC" in results and "AUC" not in grid  # validation runs (tuning) read NDCG only and skip AUC
    without_auc = run_comparison(datasets, ["holdout"], methods, [0], configs, settings, auc=False)
    assert "AUC" not in without_auc
    pd.testing.assert_series_equal(without_auc["NDCG@10"], again["NDCG@10"])
    knn = results[results.method == "ItemKNN"]
    assert knn["NDCG@10"].between(0, 1).all() and (knn["NDCG@10"] > 0).any()
    # per-user NDCG rides along; its mean is the run's NDCG
    assert results.per_user.map(lambda u: float(u.mean())).to_numpy() == pytest.approx(results["NDCG@10"].to_numpy(), abs=1e-6)
    tests = paired_tests(results, "NDCG@10", comparisons=[("{model}+OCF-B", "{model}+uniform"), ("{model}+OCF-B", "WMF-ALS")])
    assert list(tests.interval.unique()) == ["bootstrap over users"] and len(tests) == 2 * 2  # 2 protocols x 2 pairs (GMF only)
    assert (tests["diff low"] <= tests.difference).all() and (tests.difference <= tests["diff high"]).all()
    # more seeds for cheap methods, methods left out on a dataset, the benchmark split resampled per seed
    more = run_comparison(datasets, ["ms-recommenders"], ["MostPop", "GMF+uniform"], [0], configs, settings,
                          seeds_by_method={"tiny": {"MostPop": [0, 1, 2]}}, excluded={"tiny": ["GMF+uniform"]}, resample_fixed=True)
    assert list(more.method) == ["MostPop"] * 3 and more["NDCG@10"].nunique() > 1  # the split moves with the seed


def test_top_n_excludes_training_items_and_shows_titles(tiny):
    split = make_split(tiny, "holdout")
    model = fit_method("ItemKNN", split, {"neighbours": None}).model
    items_table = pd.DataFrame({"item": tiny.item_ids, "title": [f"movie {i}" for i in tiny.item_ids]})
    user_id = tiny.user_ids[3]
    top = top_n(model, user_id, 5, items_table, data=tiny, exclude=split.train_pairs)
    seen = set(tiny.item_ids[split.train_items[split.train_users == 3]])
    assert len(top) == 5 and not seen & set(top["item"])
    assert top.title.str.startswith("movie").all() and top.score.is_monotonic_decreasing
    with pytest.raises(ValueError, match="unknown user"):
        top_n(model, -5, 5, items_table, data=tiny)


def test_finished_runs_are_cached_so_a_killed_comparison_resumes(tiny, tmp_path, monkeypatch):
    from recstudy.experiments import methods

    datasets = {"tiny": tiny}
    settings = {"tiny": {"ncf_rounds": 1, "ncf_epochs_per_round": 1, "ncf_batch_size": 64}}
    configs = {("tiny", "MostPop"): {}, ("tiny", "GMF"): GRIDS["GMF"][0]}
    ran = []
    real_run_task = methods.run_task

    def counting(task):
        ran.append((task.method, task.seed))
        if len(ran) == 3 and crash:
            raise KeyboardInterrupt("killed")  # the notebook is killed during its third run
        return real_run_task(task)

    monkeypatch.setattr(methods, "run_task", counting)
    crash = True
    with pytest.raises(KeyboardInterrupt):
        run_comparison(datasets, ["holdout"], ["MostPop", "GMF+uniform"], [0, 1], configs, settings, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pkl"))) == 2 and not list(tmp_path.glob(".*"))  # two whole results, no partial file
    crash, ran[:] = False, []
    resumed = run_comparison(datasets, ["holdout"], ["MostPop", "GMF+uniform"], [0, 1], configs, settings, cache_dir=tmp_path)
    assert len(ran) == 2 and len(resumed) == 4  # only the two runs that had not finished
    ran.clear()
    again = run_comparison(datasets, ["holdout"], ["MostPop", "GMF+uniform"], [0, 1], configs, settings, cache_dir=tmp_path)
    assert ran == []  # nothing changed: nothing runs
    fresh = run_comparison(datasets, ["holdout"], ["MostPop", "GMF+uniform"], [0, 1], configs, settings)
    pd.testing.assert_series_equal(again["NDCG@10"], fresh["NDCG@10"])  # cached results are the computed ones
    pd.testing.assert_series_equal(again.per_user[3], fresh.per_user[3])
    other_seed = run_comparison(datasets, ["holdout"], ["MostPop"], [2], configs, settings, cache_dir=tmp_path)
    assert ran[-1] == ("MostPop", 2) and len(other_seed) == 1  # a task not seen before runs
    other_data = {"tiny": IndexedInteractions.from_frame(pd.DataFrame({
        "user": tiny.users[:-5], "item": tiny.items[:-5], "rating": 1.0, "timestamp": tiny.timestamps[:-5]}))}
    ran.clear()
    run_comparison(other_data, ["holdout"], ["MostPop"], [0], configs, settings, cache_dir=tmp_path)
    assert ran == [("MostPop", 0)]  # other data under the same name: computed again
