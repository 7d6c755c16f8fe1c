"""Layers shared by several models (as RecBole keeps them in ``recbole/model/layers.py``)."""

from __future__ import annotations

import torch


def attention_mask(inputs: torch.Tensor, heads: int, causal: bool) -> torch.Tensor:
    """(B*heads, L, L) boolean mask, True = may not attend: padding keys (and future keys when causal).

    A position may always attend to itself, so no row is fully masked (which would give NaN).
    """
    length = inputs.shape[1]
    blocked = (inputs == 0)[:, None, :].expand(-1, length, -1)
    if causal:
        blocked = blocked | torch.ones(length, length, dtype=torch.bool, device=inputs.device).triu(1)
    blocked = blocked & ~torch.eye(length, dtype=torch.bool, device=inputs.device)
    return blocked.repeat_interleave(heads, dim=0)
