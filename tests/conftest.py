from __future__ import annotations

import pandas as pd
import pytest
import torch

from recstudy.data.movielens import load_movielens_100k


@pytest.fixture(scope="session")
def ml100k() -> pd.DataFrame:
    """The verified MovieLens-100K ratings (``make test`` fetches them first)."""
    return load_movielens_100k()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The test models are tiny: one thread is fastest (per-op overhead dominates), and results do not
    depend on the machine's core count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
