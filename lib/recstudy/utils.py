"""Small helpers every part of the library uses: arrays to tensors, scores to probabilities."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit


def as_tensor(values: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.long, device: str | torch.device = "cpu") -> torch.Tensor:
    """``values`` as a ``dtype`` tensor on ``device`` (no copy where it already is one)."""
    return torch.as_tensor(values if isinstance(values, torch.Tensor) else np.asarray(values), dtype=dtype).to(device)


def to_probability(logits: np.ndarray) -> np.ndarray:
    """Logits to probabilities by the logistic function (``scipy.special.expit``: no overflow for large |logit|)."""
    return expit(np.asarray(logits, dtype=np.float64))
