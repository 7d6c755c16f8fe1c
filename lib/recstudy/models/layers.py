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


def right_aligned_positions(inputs: torch.Tensor, max_len: int) -> torch.Tensor:
    """Position indices (L,) of a left-padded input of length L <= max_len, counted so the last is max_len - 1.

    The last item gets the same position embedding whatever the input's length, so a
    shorter input (fewer pads) gives the same result as a longer, more padded one.
    """
    length = inputs.shape[1]
    if length > max_len:
        raise ValueError(f"input length {length} exceeds the model's max_len {max_len}")
    return torch.arange(max_len - length, max_len, device=inputs.device)


def sample_categorical(probs: torch.Tensor, draws: int = 1, generator: torch.Generator | None = None,
                       rows: torch.Tensor | None = None) -> torch.Tensor:
    """(N, draws) indices drawn with replacement from each row of ``probs`` (N, n), rows not necessarily normalised.

    With ``rows`` (R,), draw r comes from row ``rows[r]`` of ``probs`` (U, n) and the result is (R, draws):
    several positions of one user share that user's distribution (IRGAN) without copying it.

    Inverse-CDF sampling: one cumulative sum per row, then a binary search per draw. On a CPU it
    is several times faster than ``torch.multinomial`` over a catalogue of 1,682 items (the GAN
    draws one item per position of every batch, several times per step), with the same law:
    P(index = i) = probs[i] / sum(probs). Items with probability zero are never drawn.
    """
    cdf = probs.cumsum(dim=1)
    if rows is not None:
        cdf = cdf[rows]
    total = cdf[:, -1:]
    uniform = torch.rand(cdf.shape[0], draws, device=probs.device, dtype=cdf.dtype, generator=generator) * total
    return torch.searchsorted(cdf, uniform, right=True).clamp_(max=probs.shape[1] - 1)
