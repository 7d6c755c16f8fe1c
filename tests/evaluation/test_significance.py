"""Paired intervals and verdicts: each verdict is reachable, and the intervals cover what they should."""

from __future__ import annotations

import numpy as np
import pytest

from recstudy.evaluation.significance import confidence_interval, decide, paired_bootstrap, paired_seeds


def test_every_verdict_is_reachable():
    assert decide(0.01, 0.02, 0.005) == "higher"
    assert decide(-0.02, -0.01, 0.005) == "lower"
    assert decide(-0.001, 0.002, 0.005) == "equivalent"
    assert decide(-0.01, 0.02, 0.005) == "undecided"
    assert decide(-0.001, 0.002, 0.0) == "undecided"  # no margin: no claim of equivalence
    assert decide(np.nan, 0.1, 0.01) == "undecided"
    with pytest.raises(ValueError):
        decide(0, 1, -1)


def test_bootstrap_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(0)
    base = rng.random(2000)
    better = paired_bootstrap(base + 0.05 + rng.normal(0, 0.05, 2000), base, margin=0.01)
    assert better.verdict == "higher" and better.low > 0 and better.effect_size > 0.5
    same = paired_bootstrap(base + rng.normal(0, 0.01, 2000), base, margin=0.01)
    assert same.verdict == "equivalent" and same.low < 0 < same.high
    assert paired_bootstrap(base, base + 0.1, margin=0.01).verdict == "lower"


def test_bootstrap_interval_covers_the_truth_about_95_percent():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        diff = rng.normal(0.1, 1.0, 300)
        result = paired_bootstrap(diff, np.zeros(300), n_boot=400, seed=trial)
        covered += result.low <= 0.1 <= result.high
    assert 0.88 <= covered / 200 <= 0.99


def test_seed_pairing_and_shapes():
    r = paired_seeds(np.array([0.30, 0.31, 0.32]), np.array([0.28, 0.29, 0.30]), margin=0.005)
    assert r.difference == pytest.approx(0.02) and r.verdict == "higher" and r.n == 3
    assert paired_seeds(np.array([0.3]), np.array([0.2])).verdict == "undecided"  # one seed: no interval
    with pytest.raises(ValueError):
        paired_bootstrap(np.zeros(3), np.zeros(4))
    mean, low, high = confidence_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and low < 2.0 < high
