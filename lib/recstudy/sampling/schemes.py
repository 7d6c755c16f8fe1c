"""GMF / MLP / NeuMF trained on training positives with one of three negative schemes.

The comparison needs Paper A's models trained on a protocol's training positives only
(no 70/30 split inside, unlike :func:`recstudy.sampling.ocfb.run_ocfb`, which reproduces
the paper's own protocol). Training runs ``rounds`` rounds of ``epochs_per_round``
epochs, continuing the same weights and optimiser. The schemes:

- ``uniform``: the NCF recipe (He et al., WWW 2017, ``get_train_instances`` in the
  authors' code): for every training positive (u, i), ``negatives_per_positive`` items
  drawn uniformly among the items u has no training positive with, drawn afresh every
  epoch;
- ``ocfb``: Paper A's OCF-B with its "n random unobserved pairs": ``negatives_per_positive``
  x (number of positives) cells drawn uniformly over the whole unobserved user x item
  grid; before every round after the first, the negatives the model scores at or above
  ``theta`` are replaced by fresh draws (:func:`recstudy.sampling.ocfb.ocfb_resample`),
  the others kept;
- ``popularity``: grid-wide draws as for ``ocfb`` but with item weights count ** 0.75,
  all redrawn before every round;
- ``ocfb_paper``: Paper A's own loop (STUDY.md, Figure 4): grid-wide negatives as for
  ``ocfb``, and before every round ("term") after the first the negatives scored at or
  above ``theta`` are replaced, then the model is **retrained from new random weights**
  (and a new optimiser) on T + N_m: ``rounds`` = terms + 1 (term 0 is the first fit).

With the same seed every scheme starts from the same initial weights.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from recstudy.data.pairs import cell_codes
from recstudy.models.ncf.train import build_model, predict_logits, train_pointwise
from recstudy.sampling.negatives import popularity_weights, sample_negatives, sample_unobserved_items
from recstudy.sampling.ocfb import ocfb_resample
from recstudy.utils import to_probability

NEGATIVE_SCHEMES: tuple[str, ...] = ("uniform", "ocfb", "popularity", "ocfb_paper")


def per_positive_negatives(pos_users: np.ndarray, positive_keys: torch.Tensor, n_items: int, per_positive: int,
                           generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``per_positive`` negatives for every positive, each an item its user has no positive with (He et al.'s draw)."""
    users = torch.as_tensor(np.repeat(pos_users, per_positive))
    items = sample_unobserved_items(users, positive_keys, n_items, generator)
    return users.numpy(), items.numpy()


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
    """Train a fresh ``model_name`` model; returns it and one row per round (loss, negatives replaced, seconds).

    ``validate(model)`` (e.g. NDCG@10 on a validation split), if given, is recorded after every round.
    """
    if scheme not in NEGATIVE_SCHEMES:
        raise ValueError(f"unknown negative scheme {scheme!r}: use one of {list(NEGATIVE_SCHEMES)}")
    if rounds <= 0 or epochs_per_round <= 0:
        raise ValueError(f"rounds and epochs_per_round must be positive, got {rounds} and {epochs_per_round}")
    if negatives_per_positive <= 0:
        raise ValueError(f"negatives_per_positive must be positive, got {negatives_per_positive}")
    if scheme == "uniform" and float(negatives_per_positive) != int(negatives_per_positive):
        raise ValueError(f"the uniform scheme draws a whole number of negatives per positive, got {negatives_per_positive}")
    pos_users, pos_items = (np.asarray(a, dtype=np.int64) for a in positives)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    positive_keys = torch.unique(torch.as_tensor(cell_codes(pos_users, pos_items, n_items)))  # sorted
    weights = popularity_weights(pos_items, n_items) if scheme == "popularity" else None

    def draw_over_grid() -> tuple[np.ndarray, np.ndarray]:
        return sample_negatives(n_users, n_items, (pos_users, pos_items), float(negatives_per_positive), rng,
                                item_weights=weights)

    torch.manual_seed(seed)
    model = build_model(model_name, n_users, n_items, **model_config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    negatives = None if scheme == "uniform" else draw_over_grid()
    rows = []
    for round_index in range(rounds):
        replaced = 0
        if round_index > 0 and scheme in ("ocfb", "ocfb_paper"):
            probabilities = to_probability(predict_logits(model, *negatives, device=device))
            step = ocfb_resample(negatives, probabilities, theta, n_users=n_users, n_items=n_items,
                                 positives=(pos_users, pos_items), rng=rng)
            negatives, replaced = (step.users, step.items), step.n_replaced
            if scheme == "ocfb_paper":  # the paper's "retrain CF on T + N_m": new random weights, new optimiser
                torch.manual_seed(seed * 1000 + round_index)
                model = build_model(model_name, n_users, n_items, **model_config).to(device)
                optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        elif round_index > 0 and scheme == "popularity":
            negatives = draw_over_grid()
            replaced = len(negatives[0])
        losses, seconds = [], []
        for epoch in range(epochs_per_round):
            if scheme == "uniform":  # fresh negatives for every epoch
                negatives = per_positive_negatives(pos_users, positive_keys, n_items, int(negatives_per_positive), generator)
                replaced += len(negatives[0])
            users, items = np.r_[pos_users, negatives[0]], np.r_[pos_items, negatives[1]]
            labels = np.r_[np.ones(len(pos_users)), np.zeros(len(negatives[0]))]
            history = train_pointwise(model, users, items, labels, epochs=1, batch_size=batch_size,
                                      seed=seed * 1000 + round_index * epochs_per_round + epoch, device=device,
                                      optimizer=optimizer)
            losses.append(history.losses[-1])
            seconds.append(sum(history.seconds))
        rows.append({"round": round_index, "replaced": replaced, "loss": losses[-1],
                     "seconds_per_epoch": float(np.median(seconds)), "seconds": float(np.sum(seconds))})
        if validate is not None:
            model.eval()
            with torch.no_grad():
                rows[-1]["validation"] = float(validate(model))
    model.eval()
    log = pd.DataFrame(rows)
    log.attrs["epochs_per_round"] = epochs_per_round
    return model, log
