"""Paper A's protocol metrics against cases computed by hand, and the stratified split."""

from __future__ import annotations

import numpy as np
import pytest

from recstudy.evaluation.paper_metrics import (
    classification_table, paper_test_mask, protocol_metrics, random_test_mask, stratified_test_mask,
)


def test_metrics_match_a_hand_computed_case():
    labels = np.array([0, 0, 0, 1, 1])
    probabilities = np.array([0.2, 0.3, 0.7, 0.9, 0.1])  # predicted 0, 0, 1, 1, 0
    m = protocol_metrics(labels, probabilities)
    assert m["precision_negative"] == pytest.approx(2 / 3) and m["recall_negative"] == pytest.approx(2 / 3)
    assert m["precision_positive"] == pytest.approx(1 / 2) and m["recall_positive"] == pytest.approx(1 / 2)
    assert m["f1_negative"] == pytest.approx(2 / 3) and m["f1_positive"] == pytest.approx(1 / 2)
    assert m["support_negative"] == 3 and m["support_positive"] == 2 and m["support_weighted"] == 5
    assert m["precision_weighted"] == pytest.approx((3 * 2 / 3 + 2 * 1 / 2) / 5)
    assert m["accuracy"] == pytest.approx(3 / 5)
    # AUC: 0.9 beats all three negatives, 0.1 none -> 3 of 6 pairs.
    assert m["AUC"] == pytest.approx(0.5)


def test_threshold_is_inclusive_and_a_never_predicted_class_has_precision_zero():
    labels = np.array([0, 1, 1, 0])
    m = protocol_metrics(labels, np.array([0.5, 0.5, 0.9, 0.6]))  # everything predicted positive
    assert m["precision_negative"] == 0.0 and m["recall_negative"] == 0.0
    assert m["precision_positive"] == pytest.approx(0.5) and m["recall_positive"] == 1.0
    assert m["AUC"] == pytest.approx(0.625)  # (0.5 vs 0.5 tie, 0.5 < 0.6, 0.9 > both) = (0.5 + 0 + 2) / 4
    table = classification_table(labels, np.array([0.1, 0.9, 0.8, 0.2]))
    assert table.loc["positive", "f1"] == 1.0 and table.attrs["accuracy"] == 1.0


def test_stratified_split_keeps_class_shares_and_is_seeded():
    labels = np.r_[np.ones(2000), np.zeros(3000)]
    mask = stratified_test_mask(labels, 0.3, seed=5)
    assert mask.sum() == 1500 and mask[:2000].sum() == 600 and mask[2000:].sum() == 900
    assert np.array_equal(mask, stratified_test_mask(labels, 0.3, seed=5))
    assert not np.array_equal(mask, stratified_test_mask(labels, 0.3, seed=6))
    with pytest.raises(ValueError, match="both classes"):
        stratified_test_mask(np.ones(10))


def test_the_papers_split_is_plain_random_and_the_stratified_one_a_variant():
    labels = np.r_[np.ones(2000), np.zeros(2000)]
    test = paper_test_mask(labels, 0.3, seed=3)
    assert test.sum() == 1200 and np.array_equal(test, random_test_mask(4000, 0.3, seed=3))
    # a random split lets the class supports vary, as the paper's 592/608 do; the stratified one fixes them at 600/600
    supports = {int(labels[paper_test_mask(labels, 0.3, seed=s)].sum()) for s in range(10)}
    assert len(supports) > 1
    assert {int(labels[paper_test_mask(labels, 0.3, seed=s, split="stratified")].sum()) for s in range(10)} == {600}
    with pytest.raises(ValueError, match="unknown split"):
        paper_test_mask(labels, split="by-user")
