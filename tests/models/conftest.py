"""The tiny next-item data most model tests share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstudy.data.sequences import build_sequences


@pytest.fixture(scope="session")
def cycle_table() -> pd.DataFrame:
    """12 users walking a cycle of 15 items from different starting points: a clear next-item pattern."""
    rng = np.random.default_rng(0)
    rows = [(u, int((start + t) % 15), 1.0, t) for u in range(12) for start in [rng.integers(15)] for t in range(14)]
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


@pytest.fixture(scope="module")
def data(cycle_table):
    """The cycle as sequences of at most 8 inputs (a test module that needs side information overrides this)."""
    return build_sequences(cycle_table, max_len=8)
