"""Full-ranking evaluation: every user's held-out items ranked against all items not seen in training.

One vectorised implementation for the whole study. Users are scored in batches
(``score_fn`` returns a dense block of scores, typically a matrix product), items
the user has in training are masked out, and the metrics come from ``topk`` and
a sort of each row, never from per-user Python loops.

Definitions (K = ``k``; rel(u) = the user's test items; ranks are 1-based among
the items not in the user's training set):

- HR@K: 1 if any test item is in the top K;
- Precision@K: hits in the top K / K;  Recall@K: hits in the top K / |rel(u)|;
- NDCG@K: DCG of the top K (gain 1 per hit, discount 1/log2(rank + 1)) divided by
  the DCG of an ideal ranking of min(|rel(u)|, K) hits;
- MAP@K: sum over hits in the top K of Precision@rank, divided by min(|rel(u)|, K);
- MRR@K: 1 / rank of the first hit in the top K, 0 if none;
- AUC: the share of (test item, negative) pairs ranked correctly, ties counting
  one half, where negatives are all items in neither the user's training nor test set.

Each is averaged over the users with at least one test item (AUC over those with
at least one negative too). Sampled metrics are not computed here on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from recstudy.data.pairs import check_pairs

Pairs = tuple[np.ndarray, np.ndarray]


def _csr(pairs: Pairs, n_users: int, n_items: int, name: str) -> sp.csr_matrix:
    users, items = check_pairs(*pairs, n_users, n_items, name=name, allow_empty=True)
    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items))
    matrix.data[:] = 1.0  # duplicates count once
    return matrix


def _block_cells(matrix: sp.csr_matrix, rows: np.ndarray, device: str | torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(row within the block, column) of every stored cell of ``matrix``'s ``rows``: a block's few thousand
    cells, where a dense (block x n_items) mask would be tens of millions of booleans to build and read."""
    sub = matrix[rows]
    block_rows = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    return torch.from_numpy(block_rows).to(device), torch.from_numpy(sub.indices.astype(np.int64)).to(device)


def _mask(buffer: torch.Tensor, rows: int, cells: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The first ``rows`` rows of ``buffer`` (bool), True at ``cells`` only."""
    mask = buffer[:rows].zero_()
    mask[cells] = True
    return mask


# Up to this many test items per user, one comparison pass per item is cheaper than sorting every row
# (measured on a 1024 x 23,698 block, one thread: 1.0 s with one test item, 1.5 s with four, 3.1 s sorted).
COMPARE_WIDTH = 8


def _negatives_below_and_tied(scores: torch.Tensor, negatives: torch.Tensor, test_scores: torch.Tensor
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, width) counts of each user's negatives scoring strictly below, and equal to, each test score.

    A test score of -inf (an item masked out as seen) beats and ties nothing. Few test items per user
    (the sequential protocols: one) are compared directly; many are looked up in the sorted negatives.
    """
    finite = torch.isfinite(test_scores)
    if test_scores.shape[1] <= COMPARE_WIDTH:
        neg_scores = scores.masked_fill(~negatives, float("nan"))  # NaN compares false: non-negatives never count
        columns = range(test_scores.shape[1])  # int32 sums: a third faster than bool's default int64
        below = torch.stack([(neg_scores < test_scores[:, j : j + 1]).sum(1, dtype=torch.int32) for j in columns], 1)
        ties = torch.stack([(neg_scores == test_scores[:, j : j + 1]).sum(1, dtype=torch.int32) for j in columns], 1)
        return below.float(), ties.float() * finite
    neg_scores = scores.masked_fill(~negatives, float("-inf")).sort(dim=1).values
    upper = torch.searchsorted(neg_scores, test_scores, right=True)
    lower = torch.searchsorted(neg_scores, test_scores, right=False)
    n_fillers = (scores.shape[1] - negatives.sum(1)).unsqueeze(1)  # the -inf placeholders sort first
    below = (lower - n_fillers).clamp(min=0).float()
    return below, (upper - lower).float() * finite


def ranking_metrics_from_scores(
    scores: torch.Tensor, test_mask: torch.Tensor, n_rel: torch.Tensor, k: int, *, train_mask: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Per-user metrics for one block of users: ``scores`` (B, n_items) with the users' training items already
    at -inf, ``test_mask`` (B, n_items) their test items, ``n_rel`` (B,) how many.

    AUC only with ``train_mask`` (B, n_items): it costs four fifths of the block on a large catalogue (one pass
    over every negative), and early stopping, which reads only NDCG, does not need it.
    """
    n_items = scores.shape[1]
    k = min(k, n_items)
    top = scores.topk(k, dim=1).indices
    hits = test_mask.gather(1, top) & torch.isfinite(scores.gather(1, top))
    hits_f = hits.float()
    positions = torch.arange(1, k + 1, device=scores.device, dtype=torch.float32)
    discounts = 1.0 / torch.log2(positions + 1.0)
    ideal = torch.cumsum(discounts, 0)  # ideal DCG with 1..k hits
    n_ideal = n_rel.clamp(min=1, max=k)
    n_hits = hits_f.sum(1)
    first_hit = torch.where(hits.any(1), hits_f.argmax(1).float() + 1.0, torch.full_like(n_hits, float("inf")))
    precision_at_rank = torch.cumsum(hits_f, 1) / positions
    metrics = {
        "HR": hits.any(1).float(),
        "Precision": n_hits / k,
        "Recall": n_hits / n_rel.clamp(min=1),
        "NDCG": (hits_f * discounts).sum(1) / ideal[n_ideal - 1],
        "MAP": (precision_at_rank * hits_f).sum(1) / n_ideal,
        "MRR": 1.0 / first_hit,
    }
    if train_mask is None:
        return metrics
    # AUC with ties as one half: for each test item, count the negatives scoring below and equal.
    # Only test items are looked up, gathered into a padded (B, max |rel(u)|) block.
    negatives = ~train_mask & ~test_mask
    n_neg = negatives.sum(1, dtype=torch.int32)
    width = max(int(n_rel.max()), 1)
    test_items = test_mask.float().topk(width, dim=1).indices  # the test items first, then padding
    valid = torch.arange(width, device=scores.device) < n_rel.unsqueeze(1)
    test_scores = scores.gather(1, test_items).contiguous()
    below, ties = _negatives_below_and_tied(scores, negatives, test_scores)
    pair_wins = ((below + 0.5 * ties) * valid).sum(1)
    pairs = (n_rel * n_neg).clamp(min=1)
    metrics["AUC"] = torch.where(n_neg > 0, pair_wins / pairs, torch.full_like(pair_wins, float("nan")))
    return metrics


@torch.no_grad()
def full_ranking_metrics(
    score_fn: Callable[[torch.Tensor], torch.Tensor],
    n_users: int,
    n_items: int,
    train_pairs: Pairs,
    test_pairs: Pairs,
    *,
    k: int = 10,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
    per_user: bool = False,
    auc: bool = True,
) -> dict[str, float] | tuple[dict[str, float], pd.DataFrame]:
    """Mean full-ranking metrics (HR, NDCG, Recall, Precision, MAP, MRR @k; AUC unless ``auc=False``) over users with test items.

    ``score_fn(users)`` maps a LongTensor of user indices (B,) to scores (B, n_items).
    ``train_pairs`` are excluded from each user's ranking; ``test_pairs`` are the
    held-out items. With ``per_user`` a DataFrame of per-user values is returned too.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    train = _csr(train_pairs, n_users, n_items, "train_pairs")
    test = _csr(test_pairs, n_users, n_items, "test_pairs")
    test_counts = np.diff(test.indptr)
    users = np.flatnonzero(test_counts > 0)
    if len(users) == 0:
        raise ValueError("test_pairs hold no user with a test item")
    # Blocks of users with similar numbers of test items: AUC pads each block to its widest user, and a block
    # of users with few test items takes the cheap comparison path (the table is put back in user order).
    users = users[np.argsort(test_counts[users], kind="stable")]
    parts: dict[str, list[torch.Tensor]] = {}
    # Every block is copied into (and masked in) the same buffers: fresh (block x n_items) tensors per block
    # cost more in page faults than the work on them. The copy also keeps the masking out of a model's own
    # tensors (score_fn may return a view of one).
    rows = min(batch_size, len(users))
    score_buffer = torch.empty((rows, n_items), dtype=torch.float32, device=device)
    test_buffer = torch.empty((rows, n_items), dtype=torch.bool, device=device)
    train_buffer = torch.empty((rows, n_items), dtype=torch.bool, device=device) if auc else None
    for start in range(0, len(users), batch_size):
        block = users[start : start + batch_size]
        raw = score_fn(torch.from_numpy(block).to(device))
        if tuple(raw.shape) != (len(block), n_items):
            raise ValueError(f"score_fn returned shape {tuple(raw.shape)}, expected {(len(block), n_items)}")
        scores = score_buffer[: len(block)].copy_(raw)
        train_cells = _block_cells(train, block, device)
        scores[train_cells] = float("-inf")
        values = ranking_metrics_from_scores(
            scores, _mask(test_buffer, len(block), _block_cells(test, block, device)),
            torch.from_numpy(test_counts[block].astype(np.int32)).to(device), k,
            train_mask=None if train_buffer is None else _mask(train_buffer, len(block), train_cells),
        )
        for name, value in values.items():
            parts.setdefault(name, []).append(value.cpu())
    table = pd.DataFrame({name: torch.cat(v).numpy() for name, v in parts.items()}, index=pd.Index(users, name="user"))
    table = table.sort_index()
    table.columns = [c if c == "AUC" else f"{c}@{k}" for c in table.columns]
    means = {name: float(np.nanmean(table[name])) for name in table.columns}
    means["users"] = len(users)
    return (means, table) if per_user else means
