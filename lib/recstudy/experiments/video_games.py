"""SASRec trained and evaluated as its paper does on the authors' Amazon Video Games file (notebook 11).

The paper (Kang & McAuley, ICDM 2018): d = 50, 2 blocks, 1 head, dropout 0.5 on the sparse
Amazon data, max length 50, Adam (lr 0.001, betas 0.9 / 0.98), batch 128, binary
cross-entropy with one sampled negative per position, and the last item ranked against 100
random items the user never saw ("sampled"). Departures are listed in notebook 11.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from recstudy.config import seed_everything
from recstudy.data.sequences import SequenceData
from recstudy.evaluation.sampled import evaluate_sampled, trim_padding
from recstudy.experiments.sequential import build_model, evaluate, window_batches
from recstudy.models.sequential.base import next_item_loss
from recstudy.training import fit

EMBEDDING_INITS = ("xavier", "library")


def grouped_loss(bounds: tuple[int, ...]):
    """``model.loss`` computed on groups of similar length, each without its all-padding columns.

    The model ignores padding, so the loss is the same; short histories (most users here)
    no longer pay for 50 positions, which makes an epoch several times faster.
    """
    def loss(model, batch):
        users, inputs, targets = batch
        lengths = (inputs > 0).sum(1)
        hidden, items, low = [], [], 0
        for high in bounds:
            rows = (lengths > low) & (lengths <= high)
            low = high
            if not rows.any():
                continue
            group = trim_padding(inputs[rows])
            group_targets = targets[rows][:, inputs.shape[1] - group.shape[1]:]
            valid = group_targets > 0
            hidden.append(model.encode(users[rows], group)[valid])
            items.append(group_targets[valid] - 1)
        return next_item_loss(torch.cat(hidden), torch.cat(items), model.output_weights(), model.negatives,
                              model.output_bias())
    return loss


def init_like_authors(model: torch.nn.Module) -> None:
    """Glorot-normal item and position embeddings, as the authors' code (the pad row stays zero).

    With 23.7k items this starts item vectors near 0.009 instead of the study's N(0, 1/d);
    learning is about three times faster in epochs on this file.
    """
    with torch.no_grad():
        torch.nn.init.xavier_normal_(model.item_embedding.weight)
        model.item_embedding.weight[0].zero_()
        torch.nn.init.xavier_normal_(model.position.weight)


def train_paper_sasrec(data: SequenceData, *, negatives: int, epochs: int, patience: int, dim: int, blocks: int,
                       heads: int, dropout: float, max_len: int, lr: float, batch_size: int, n_negatives_eval: int,
                       validation_users: np.ndarray, embedding_init: str = "xavier", block: str = "paper",
                       seed: int = 0, device: str = "cpu") -> dict[str, Any]:
    """Train SASRec with the paper's settings; early stopping on sampled validation NDCG@10; test sampled and full.

    ``block``: "paper" (the paper's equation, pre-LN) or "code" (the authors' code's block layout; see
    :mod:`recstudy.models.sequential.sasrec`).
    """
    if embedding_init not in EMBEDDING_INITS:
        raise ValueError(f"embedding_init must be one of {EMBEDDING_INITS}, got {embedding_init!r}")
    seed_everything(seed)
    model = build_model("SASRec", data, dim=dim, blocks=blocks, heads=heads, dropout=dropout, max_len=max_len,
                        block=block).to(device)
    if embedding_init == "xavier":
        init_like_authors(model)
    model.negatives = negatives
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))

    def validate(m) -> float:
        return evaluate_sampled(m, data, "valid", n_negatives=n_negatives_eval, seed=seed + 1, users=validation_users,
                                device=device)["sampled_NDCG@10"]

    bounds = tuple(b for b in (4, 8, 16) if b < max_len) + (max_len,)
    history = fit(model, window_batches(data, batch_size, device), grouped_loss(bounds), epochs=epochs,
                  optimizer=optimizer, seed=seed, validate=validate, patience=patience, progress=False)
    start = time.perf_counter()
    sampled = evaluate_sampled(model, data, "test", n_negatives=n_negatives_eval, seed=seed, device=device)
    sampled_seconds, start = time.perf_counter() - start, time.perf_counter()
    full = evaluate(model, data, "test", device=device)
    return {"model": model, "history": history, "sampled": sampled, "full": full,
            "sampled_seconds": sampled_seconds, "full_seconds": time.perf_counter() - start}
