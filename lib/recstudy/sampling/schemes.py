"""GMF / MLP / NeuMF trained on training positives with one of three negative schemes.

The comparison needs Paper A's models trained on a protocol's training positives
only (no 70/30 split inside, unlike :func:`recstudy.sampling.ocfb.run_ocfb`, which
reproduces the paper's own protocol). Training runs in ``rounds`` rounds of
``epochs_per_round`` epochs, continuing the same weights and optimiser; before
every round after the first the negatives change by the scheme:

- ``uniform``: all negatives are redrawn uniformly among unobserved cells (the
  usual NCF recipe of fresh negatives);
- ``ocfb``: OCF-B's step (:func:`recstudy.sampling.ocfb.ocfb_resample`): only the negatives
  the model scores at or above ``theta`` are replaced by fresh uniform draws, the
  others are kept;
- ``popularity``: all negatives are redrawn with item weights count ** 0.75.

With the same seed, ``uniform`` and ``ocfb`` start from the same weights and the same
first negatives and see the same first round, so they differ only in which
negatives are replaced: a paired comparison.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from recstudy.utils import to_probability
from recstudy.models.ncf.train import build_model, predict_logits, train_pointwise
from recstudy.sampling.negatives import popularity_weights, sample_negatives
from recstudy.sampling.ocfb import ocfb_resample

NEGATIVE_SCHEMES: tuple[str, ...] = ("uniform", "ocfb", "popularity")


def train_ncf_with_negatives(
    model_name: str,
    model_config: dict[str, Any],
    n_users: int,
    n_items: int,
    positives: tuple[np.ndarray, np.ndarray],
    *,
    scheme: str = "uniform",
    negatives_per_positive: float = 4.0,
    rounds: int = 5,
    epochs_per_round: int = 2,
    theta: float = 0.5,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 4096,
    seed: int = 0,
    device: str = "cpu",
    validate: Callable[[torch.nn.Module], float] | None = None,
) -> tuple[torch.nn.Module, pd.DataFrame]:
    """Train a fresh ``model_name`` model; returns it and one row per round (loss, replaced negatives, seconds).

    ``validate(model)`` (e.g. NDCG@10 on a validation split), if given, is recorded after every round.
    """
    if scheme not in NEGATIVE_SCHEMES:
        raise ValueError(f"unknown negative scheme {scheme!r}: use one of {list(NEGATIVE_SCHEMES)}")
    if rounds <= 0 or epochs_per_round <= 0:
        raise ValueError(f"rounds and epochs_per_round must be positive, got {rounds} and {epochs_per_round}")
    if negatives_per_positive <= 0:
        raise ValueError(f"negatives_per_positive must be positive, got {negatives_per_positive}")
    pos_users, pos_items = (np.asarray(a, dtype=np.int64) for a in positives)
    rng = np.random.default_rng(seed)
    weights = popularity_weights(pos_items, n_items) if scheme == "popularity" else None
    ratio = float(negatives_per_positive)

    def draw() -> tuple[np.ndarray, np.ndarray]:
        return sample_negatives(n_users, n_items, (pos_users, pos_items), ratio, rng, item_weights=weights)

    torch.manual_seed(seed)
    model = build_model(model_name, n_users, n_items, **model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    neg_users, neg_items = draw()
    rows = []
    for round_index in range(rounds):
        replaced = 0
        if round_index > 0:
            if scheme == "ocfb":
                probabilities = to_probability(predict_logits(model, neg_users, neg_items, device=device))
                step = ocfb_resample(
                    (neg_users, neg_items), probabilities, theta, n_users=n_users, n_items=n_items,
                    positives=(pos_users, pos_items), rng=rng,
                )
                neg_users, neg_items, replaced = step.users, step.items, step.n_replaced
            else:
                neg_users, neg_items = draw()
                replaced = len(neg_users)
        users = np.r_[pos_users, neg_users]
        items = np.r_[pos_items, neg_items]
        labels = np.r_[np.ones(len(pos_users)), np.zeros(len(neg_users))]
        history = train_pointwise(
            model, users, items, labels, epochs=epochs_per_round, batch_size=batch_size, seed=seed * 1000 + round_index,
            device=device, optimizer=optimizer,
        )
        rows.append({
            "round": round_index, "replaced": replaced, "loss": history.losses[-1],
            "seconds_per_epoch": history.seconds_per_epoch, "seconds": sum(history.seconds),
        })
        if validate is not None:
            model.eval()
            with torch.no_grad():
                rows[-1]["validation"] = float(validate(model))
    model.eval()
    return model, pd.DataFrame(rows)
