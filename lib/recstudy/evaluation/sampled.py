"""Sampled ranking metrics: the target ranked against a few random items, as the SASRec paper evaluates.

**Sampled, not full ranking.** Each user's target is ranked among ``n_negatives``
items drawn uniformly from the items the user never interacted with (the whole
sequence, target included, is excluded, as the SASRec code excludes the user's items),
and HR@K / NDCG@K are computed on that small list. These numbers exist to be compared
with papers that report them (SASRec: 100 negatives); they are known to mis-rank models
and to overstate accuracy (Krichene & Rendle, "On Sampled Metrics for Item
Recommendation", KDD 2020), so the study always puts full-ranking numbers
(:mod:`recstudy.evaluation.ranking`) beside them, and every name says "sampled".

Details that follow the SASRec code (``evaluate`` in kang205/SASRec ``util.py``):
negatives are drawn with replacement (a user may get the same negative twice);
the target is never among them. Ties between the target and a negative count against
the target (rank = number of negatives scoring at least as high), so a constant
scorer gets 0, not 1. Candidates are drawn for all users at once from ``seed``
(collisions with the user's items are redrawn until none is left), so they do not
depend on the batch size or the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

SAMPLED_LABEL = "sampled"  # the prefix/suffix every reported sampled metric carries


def _history_keys(histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted unique keys row * n_items + item of every row's interacted items and target."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    rows = np.repeat(np.arange(len(histories), dtype=np.int64), lengths)
    items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories]) if lengths.sum() else np.zeros(0, np.int64)
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"history items must lie in [0, {n_items}), got range [{items.min()}, {items.max()}]")
    keys = np.concatenate([rows * n_items + items, np.arange(len(targets), dtype=np.int64) * n_items + targets])
    return np.unique(keys)


def sampled_candidates(targets: np.ndarray, histories: Sequence[np.ndarray], n_items: int, n_negatives: int = 100,
                       seed: int = 0) -> np.ndarray:
    """(n, 1 + n_negatives) item indices: column 0 the target, then negatives the row's user never interacted with.

    ``histories[i]`` holds every item user i interacted with (the target may or may not
    be among them; it is excluded either way). Negatives are uniform over the other
    items, drawn with replacement, all rows at once; collisions are redrawn.
    """
    targets = np.asarray(targets, dtype=np.int64)
    if len(histories) != len(targets):
        raise ValueError(f"need one history per target, got {len(histories)} histories and {len(targets)} targets")
    if n_negatives < 1:
        raise ValueError(f"n_negatives must be positive, got {n_negatives}")
    if len(targets) and (targets.min() < 0 or targets.max() >= n_items):
        raise ValueError(f"targets must lie in [0, {n_items})")
    keys = _history_keys(histories, targets, n_items)
    seen_per_row = np.bincount(keys // n_items, minlength=len(targets))
    if len(targets) and seen_per_row.max() >= n_items:
        row = int(seen_per_row.argmax())
        raise ValueError(f"row {row} interacted with all {n_items} items: no negative can be drawn")
    rng = np.random.default_rng(seed)
    rows = np.arange(len(targets), dtype=np.int64)[:, None]
    negatives = rng.integers(0, n_items, size=(len(targets), n_negatives), dtype=np.int64)
    clash = np.isin(rows * n_items + negatives, keys)
    while clash.any():  # each redraw hits a seen item with probability |history| / n_items
        negatives[clash] = rng.integers(0, n_items, size=int(clash.sum()), dtype=np.int64)
        clash[clash] = np.isin((rows * n_items + negatives)[clash], keys)
    return np.concatenate([targets[:, None], negatives], axis=1)


def rank_metrics(candidate_scores: torch.Tensor | np.ndarray, k: int = 10) -> dict[str, np.ndarray]:
    """Per-row rank of column 0 (the target) among the other columns, and HR@k / NDCG@k from it.

    rank = number of candidates scoring at least as high as the target (0 = first).
    """
    scores = torch.as_tensor(candidate_scores).float()
    target = scores[:, :1]
    rank = (scores[:, 1:] >= target).sum(1)
    rank = torch.where(torch.isnan(target[:, 0]), torch.full_like(rank, scores.shape[1] - 1), rank)
    hit = rank < k
    ndcg = torch.where(hit, 1.0 / torch.log2(rank.float() + 2.0), torch.zeros_like(rank, dtype=torch.float32))
    return {"rank": rank.cpu().numpy(), f"HR@{k}": hit.float().cpu().numpy(), f"NDCG@{k}": ndcg.cpu().numpy()}


@torch.no_grad()
def sampled_metrics(
    score_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    users: np.ndarray,
    targets: np.ndarray,
    histories: Sequence[np.ndarray],
    n_items: int,
    n_negatives: int = 100,
    k: int = 10,
    seed: int = 0,
    *,
    per_user: bool = False,
    batch_size: int = 2048,
    device: str | torch.device = "cpu",
    block_order: np.ndarray | None = None,
) -> dict[str, float] | tuple[dict[str, float], pd.DataFrame]:
    """Sampled HR@k and NDCG@k: each user's target ranked against ``n_negatives`` items the user never interacted with.

    ``score_fn(users, candidates)`` maps user indices (B,) and candidate item indices
    (B, C) to scores (B, C) (see :func:`full_score_fn` to wrap a function that scores
    the whole catalogue). ``users[i]`` has target ``targets[i]`` and interacted with
    ``histories[i]`` (all of the user's items). Returns the means (keys
    ``sampled_HR@k``, ``sampled_NDCG@k``, ``users``, ``n_negatives``) and, with
    ``per_user``, a DataFrame indexed by user with the rank and both metrics.
    ``block_order`` (a permutation of the rows) is the order in which rows are scored in
    blocks of ``batch_size`` (e.g. by history length, so a block can be trimmed); the
    candidates and the result do not depend on it.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    users = np.asarray(users, dtype=np.int64)
    if len(users) != len(targets):
        raise ValueError(f"need one target per user, got {len(users)} users and {len(targets)} targets")
    if len(users) == 0:
        raise ValueError("no users to evaluate")
    candidates = sampled_candidates(targets, histories, n_items, n_negatives, seed)
    order = np.arange(len(users)) if block_order is None else np.asarray(block_order, dtype=np.int64)
    if not np.array_equal(np.sort(order), np.arange(len(users))):
        raise ValueError("block_order must be a permutation of the rows")
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(users), batch_size):
        rows = order[start : start + batch_size]
        block_users = torch.from_numpy(users[rows]).to(device)
        block = torch.from_numpy(candidates[rows]).to(device)
        scores = score_fn(block_users, block)
        if tuple(scores.shape) != tuple(block.shape):
            raise ValueError(f"score_fn returned shape {tuple(scores.shape)}, expected {tuple(block.shape)}")
        for name, value in rank_metrics(scores, k).items():
            parts.setdefault(name, []).append(value)
    table = pd.DataFrame({name: np.concatenate(v) for name, v in parts.items()}, index=pd.Index(users[order], name="user"))
    table = table.iloc[np.argsort(order, kind="stable")]  # back to row order
    means: dict[str, Any] = {f"{SAMPLED_LABEL}_HR@{k}": float(table[f"HR@{k}"].mean()),
                             f"{SAMPLED_LABEL}_NDCG@{k}": float(table[f"NDCG@{k}"].mean()),
                             "users": len(users), "n_negatives": n_negatives}
    table.columns = ["rank" if c == "rank" else f"{SAMPLED_LABEL}_{c}" for c in table.columns]
    return (means, table) if per_user else means


def full_score_fn(score_all: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Adapt ``score_all(users) -> (B, n_items)`` (as :func:`~recstudy.evaluation.ranking.full_ranking_metrics` takes) to candidates."""
    return lambda users, candidates: score_all(users).gather(1, candidates)


def sequence_score_fn(model: Any, inputs: torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Candidate scores of a :class:`~recstudy.models.sequential.base.SequentialRecommender` from its last hidden vector.

    Scores only the candidates (no full-catalogue product), the same values as
    ``model.scores`` at those items. The block's inputs are cut to its longest history
    (the leading all-padding columns dropped): the study's models are padding-neutral,
    so the scores are the same, and a block of short histories costs much less.
    """
    def score(users: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        block = trim_padding(inputs[users.to(inputs.device)])
        hidden = model.encode(users, block)[:, -1]
        weights = model.output_weights()[candidates]
        out = torch.einsum("bd,bcd->bc", hidden, weights)
        bias = model.output_bias()
        return out if bias is None else out + bias[candidates]

    return score


def trim_padding(inputs: torch.Tensor) -> torch.Tensor:
    """Left-padded inputs (B, L) without the leading columns that are padding in every row (at least one column kept)."""
    width = max(int((inputs > 0).sum(1).max()), 1) if len(inputs) else 1
    return inputs[:, inputs.shape[1] - width :]


def evaluate_sampled(model: Any, data: Any, split: str = "test", *, n_negatives: int = 100, k: int = 10, seed: int = 0,
                     per_user: bool = False, device: str = "cpu", users: np.ndarray | None = None
                     ) -> dict[str, float] | tuple[dict[str, float], pd.DataFrame]:
    """Sampled metrics of a sequential model on a :class:`~recstudy.data.sequences.SequenceData` split.

    The input is the history before the split's target (for the test target it
    includes the validation item); the negatives exclude every item of the user's whole
    sequence. ``users`` restricts the evaluation to those user indices (as the SASRec
    code evaluates 10,000 random users of a larger data set). Users are scored in blocks
    of similar history length (which changes nothing but the time). The model is put in
    eval mode for the call.
    """
    raw_inputs = data.inputs(split)
    inputs = torch.as_tensor(raw_inputs, device=device)
    all_users, all_targets = data.target_pairs(split)
    rows = all_users if users is None else np.asarray(users, dtype=np.int64)
    histories = [data.sequences[u] for u in rows]
    order = np.argsort((raw_inputs[rows] > 0).sum(1), kind="stable")
    training = getattr(model, "training", False)
    model.eval()
    try:
        return sampled_metrics(sequence_score_fn(model, inputs), rows, all_targets[rows], histories, data.n_items,
                               n_negatives, k, seed, per_user=per_user, device=device, block_order=order)
    finally:
        model.train(training)
