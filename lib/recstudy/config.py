"""Paths, seeding and device selection: the one place the study sets them."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

# lib/recstudy/config.py -> the repository root, two levels above lib/.
PROJECT_ROOT: Path = Path(os.environ.get("RECSTUDY_ROOT", Path(__file__).resolve().parents[2]))
DATA_DIR: Path = Path(os.environ.get("RECSTUDY_DATA_DIR", PROJECT_ROOT / "data"))
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
PROFILES_DIR: Path = PROJECT_ROOT / "profiles"

DEFAULT_SEED: int = 2022


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (if imported) PyTorch; return a NumPy generator for `seed`.

    Code that needs randomness should take the returned generator (or a
    ``torch.Generator``) explicitly rather than rely on global state.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the data notebooks do not need torch
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def resolve_device(device: str = "auto") -> str:
    """Map "auto" to "cuda" when a GPU is present, else "cpu"; validate anything else."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda[:N]'")
    return device
