"""One OCF-B step (which negatives go for a threshold, count preserved) and a tiny whole run."""

from __future__ import annotations

import numpy as np
import pytest

from recstudy.data.pairs import cell_codes
from recstudy.sampling.ocfb import check_theta, negative_errors, ocfb_resample, run_ocfb


def _setup():
    positives = (np.array([0, 0, 1, 2]), np.array([0, 1, 2, 3]))
    negatives = (np.array([0, 1, 1, 2, 3]), np.array([2, 0, 3, 0, 3]))
    probabilities = np.array([0.1, 0.5, 0.7, 0.49, 0.95])
    return positives, negatives, probabilities


@pytest.mark.parametrize("theta, removed", [(0.5, [1, 2, 4]), (0.9, [4]), (0.05, [0, 1, 2, 3, 4]), (1.01, [])])
def test_step_removes_exactly_the_negatives_at_or_above_theta(theta, removed):
    positives, negatives, probabilities = _setup()
    step = ocfb_resample(negatives, probabilities, theta, n_users=6, n_items=8, positives=positives, rng=np.random.default_rng(0))
    assert np.flatnonzero(step.removed).tolist() == removed and step.n_replaced == len(removed)
    assert len(step.users) == len(step.items) == 5  # count preserved
    kept = ~step.removed
    assert np.array_equal(step.users[kept], negatives[0][kept]) and np.array_equal(step.items[kept], negatives[1][kept])
    codes = cell_codes(step.users, step.items, 8)
    old = cell_codes(*negatives, 8)
    assert len(np.unique(codes)) == 5
    assert not np.isin(codes, cell_codes(*positives, 8)).any()
    assert not np.isin(codes[step.removed], old).any()  # a removed negative is not put straight back


def test_pseudo_residual_selects_like_absolute_error_at_the_matching_threshold():
    positives, negatives, probabilities = _setup()
    assert np.allclose(negative_errors(probabilities, "pseudo_residual"), 1 / (1 - probabilities))
    a = ocfb_resample(negatives, probabilities, 0.5, n_users=6, n_items=8, positives=positives, rng=np.random.default_rng(0))
    b = ocfb_resample(negatives, probabilities, 2.0, n_users=6, n_items=8, positives=positives, rng=np.random.default_rng(0),
                      error="pseudo_residual")
    assert np.array_equal(a.removed, b.removed)
    with pytest.raises(ValueError, match="unknown OCF-B error"):
        negative_errors(probabilities, "squared")


def test_run_records_every_term_and_the_control_replaces_nothing():
    rng = np.random.default_rng(0)
    codes = rng.choice(40 * 50, size=300, replace=False)
    positives = (codes // 50, codes % 50)
    heldout = (positives[0][:30], positives[1][:30])
    train = (positives[0][30:], positives[1][30:])
    kwargs = dict(n_negatives=1.5, terms=3, epochs=2, lr=0.01, batch_size=128, seed=3, heldout=heldout)
    run = run_ocfb("mlp", {"layers": (4, 2)}, 40, 50, train, **kwargs)
    assert run.terms.term.tolist() == [0, 1, 2, 3]
    assert len(run.negatives[0]) == round(1.5 * 270)
    assert (run.terms.support_weighted == run.terms.support_weighted.iloc[0]).all()
    assert (run.terms.removed_heldout <= run.terms.replaced).all()
    assert {"AUC", "loss", "precision_positive", "recall_negative", "heldout_HR@10"} <= set(run.terms.columns)
    control = run_ocfb("mlp", {"layers": (4, 2)}, 40, 50, train, resample=False, **kwargs)
    assert (control.terms.replaced == 0).all()
    again = run_ocfb("mlp", {"layers": (4, 2)}, 40, 50, train, **kwargs)
    assert np.allclose(run.terms.AUC, again.terms.AUC)  # same seed, same numbers
    with pytest.raises(ValueError, match="pretrain"):
        run_ocfb("mlp", {}, 40, 50, train, pretrain=True)


def test_warm_start_forbid_removed_and_pretrained_neumf_run():
    rng = np.random.default_rng(1)
    codes = rng.choice(20 * 25, size=120, replace=False)
    positives = (codes // 25, codes % 25)
    warm = run_ocfb("gmf", {"factors": 2}, 20, 25, positives, terms=2, epochs=1, batch_size=64, seed=0, warm_start=True,
                    forbid_removed=True, theta=1e-9)  # a tiny theta removes every negative every term
    assert (warm.terms.replaced.iloc[1:] == 120).all()
    assert len(warm.losses) == 3
    neumf = run_ocfb("neumf", {"mf_factors": 2, "layers": (4, 2)}, 20, 25, positives, terms=1, epochs=1,
                     batch_size=64, seed=0, pretrain=True)
    assert neumf.terms.term.tolist() == [0, 1] and np.isfinite(neumf.terms.AUC).all()


@pytest.mark.parametrize("theta, error", [(0.0, "absolute"), (-0.1, "absolute"), (1.0, "pseudo_residual"),
                                          (0.7, "pseudo_residual"), (float("nan"), "absolute")])
def test_a_theta_that_removes_every_negative_is_refused(theta, error):
    negatives, probabilities = (np.array([0, 1]), np.array([2, 3])), np.array([0.1, 0.2])
    with pytest.raises(ValueError, match="would remove every negative"):
        ocfb_resample(negatives, probabilities, theta, n_users=6, n_items=8, positives=(np.array([0]), np.array([0])),
                      rng=np.random.default_rng(0), error=error)
    with pytest.raises(ValueError, match=f"{error} errors are >="):
        run_ocfb("gmf", {"factors": 2}, 6, 8, (np.array([0, 1]), np.array([0, 1])), theta=theta, error=error)
    check_theta(1.5, "pseudo_residual")  # removes the negatives scored above 1/3: allowed
