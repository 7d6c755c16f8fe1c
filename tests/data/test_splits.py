"""Train/test masks."""

from __future__ import annotations

import numpy as np
import pytest

from recstudy.data.splits import leave_last_out_mask, per_user_holdout_mask

# --- splits --------------------------------------------------------------------------

def test_per_user_holdout_fraction_and_determinism():
    users = np.repeat(np.arange(5), [1, 2, 5, 10, 20])
    mask = per_user_holdout_mask(users, 0.2, np.random.default_rng(3))
    held = np.bincount(users[mask], minlength=5)
    assert held.tolist() == [0, 0, 1, 2, 4]  # round(0.2 n), always leaving one for training
    again = per_user_holdout_mask(users, 0.2, np.random.default_rng(3))
    assert np.array_equal(mask, again)
    with pytest.raises(ValueError, match="test_fraction"):
        per_user_holdout_mask(users, 1.0, np.random.default_rng(0))


def test_leave_last_out_picks_latest_with_stable_ties():
    users = np.array([0, 0, 0, 1, 1, 2])
    stamps = np.array([5, 9, 9, 3, 1, 7])
    mask = leave_last_out_mask(users, stamps)
    # user 0: two rows at time 9, the later row (index 2) wins; user 2 has one row and keeps it
    assert mask.tolist() == [False, False, True, True, False, False]
    assert leave_last_out_mask(users, stamps, n=2).tolist() == [False, True, True, True, False, False]
