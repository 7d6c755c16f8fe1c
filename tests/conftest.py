from __future__ import annotations

import pandas as pd
import pytest

from recstudy.movielens import load_movielens_100k


@pytest.fixture(scope="session")
def ml100k() -> pd.DataFrame:
    """The verified MovieLens-100K ratings (``make test`` fetches them first)."""
    return load_movielens_100k()
