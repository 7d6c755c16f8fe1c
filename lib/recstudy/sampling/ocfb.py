"""OCF-B, "One-Class problem Free Boosting" (Song & Song 2022), as Paper A runs it (STUDY.md, Figure 4).

    1  draw n random unobserved pairs as negatives N0; train CF on T + N0
    2  for m = 1..M:
    3      compute the error e_j of every negative
    4      remove the negatives with e_j >= theta
    5      draw as many new random negatives to replace them
    6      retrain CF on T + N_m

Paper A's protocol splits positives plus negatives 70/30 (a plain random split, seeded, as the
paper's supports 592/608 and 903/597 show; ``split="stratified"`` is the class-stratified variant).
The split is drawn once over *slots*: a replacement negative takes the slot (and
so the train/test side) of the negative it replaces, which is what re-splitting
the same-sized array with the same seed would do. Errors are computed for every
negative, test side included, as the paper describes; that is why the paper's
test negatives get easier term by term (see :func:`run_ocfb`'s ``resample``
for the control without resampling).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstudy.utils import to_probability
from recstudy.models.ncf.train import build_model, predict_logits, train_neumf_pretrained, train_pointwise
from recstudy.data.pairs import cell_codes
from recstudy.sampling.negatives import Pairs, negative_count, sample_negatives
from recstudy.evaluation.paper_metrics import paper_test_mask, protocol_metrics

# The smallest error each kind can take: a theta at or below it removes every negative at every term.
ERROR_FLOOR = {"absolute": 0.0, "pseudo_residual": 1.0}
ERRORS = tuple(ERROR_FLOOR)
FIXED_METRICS = ("AUC", "accuracy", "precision_positive", "recall_positive", "precision_negative", "recall_negative")


def negative_errors(probabilities: np.ndarray, error: str = "absolute") -> np.ndarray:
    """The OCF-B error of negatives (label 0) predicted positive with ``probabilities``.

    - "absolute": |y - y_hat| = y_hat.
    - "pseudo_residual": the magnitude of the negative gradient of the binary
      cross-entropy with respect to the prediction, |dL/dy_hat| = 1 / (1 - y_hat)
      for y = 0 (values in [1, inf)). It is monotone in y_hat, so it removes the
      same negatives as "absolute" at theta_abs = 1 - 1 / theta. (With respect to
      the logit the pseudo-residual is y - y_hat, the same as "absolute".)
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    if error == "absolute":
        return p
    if error == "pseudo_residual":
        with np.errstate(divide="ignore"):
            return 1.0 / (1.0 - p)
    raise ValueError(f"unknown OCF-B error {error!r}: use one of {list(ERRORS)}")




def check_theta(theta: float, error: str) -> None:
    """Refuse a theta that no negative can stay below (every negative would be replaced each term)."""
    if error not in ERROR_FLOOR:
        raise ValueError(f"unknown OCF-B error {error!r}: use one of {list(ERROR_FLOOR)}")
    floor = ERROR_FLOOR[error]
    if not np.isfinite(theta) or theta <= floor:
        upper = "1]" if error == "absolute" else "inf)"
        raise ValueError(f"theta={theta!r} would remove every negative: {error} errors are >= {floor:g}, "
                         f"so theta must lie in ({floor:g}, {upper}")


@dataclass
class ResampleStep:
    """One OCF-B step: the new negatives (same slots, same count) and which slots were replaced."""

    users: np.ndarray
    items: np.ndarray
    removed: np.ndarray  # bool per slot: its negative had error >= theta and was replaced
    errors: np.ndarray

    @property
    def n_replaced(self) -> int:
        return int(self.removed.sum())


def ocfb_resample(
    negatives: Pairs,
    probabilities: np.ndarray,
    theta: float,
    *,
    n_users: int,
    n_items: int,
    positives: Pairs,
    rng: np.random.Generator,
    error: str = "absolute",
    exclude: Pairs | None = None,
) -> ResampleStep:
    """Replace every negative whose error is >= ``theta`` by a fresh random unobserved cell.

    Replacements are never a positive, never one of the current negatives (kept
    or removed, so a removed negative is not put straight back), never a cell in
    ``exclude``, and never duplicates. The count of negatives is preserved and
    each replacement takes the removed negative's slot.
    """
    check_theta(theta, error)
    users, items = (np.asarray(a, dtype=np.int64).copy() for a in negatives)
    errors = negative_errors(probabilities, error)
    if errors.shape != users.shape:
        raise ValueError(f"{len(errors)} probabilities for {len(users)} negatives")
    removed = errors >= theta
    k = int(removed.sum())
    if k:
        current = (users, items)
        if exclude is not None:
            current = (np.concatenate([users, exclude[0]]), np.concatenate([items, exclude[1]]))
        new_users, new_items = sample_negatives(n_users, n_items, positives, k, rng, exclude=current)
        users[removed], items[removed] = new_users, new_items
    return ResampleStep(users, items, removed, errors)


@dataclass
class OCFBRun:
    """Everything one OCF-B run records."""

    terms: pd.DataFrame  # one row per term 0..M: loss, replaced, protocol metrics, premise counts, seconds
    losses: pd.DataFrame  # term, epoch, loss, seconds
    test_labels: np.ndarray  # the protocol's test rows at the last term
    test_probabilities: np.ndarray
    negatives: Pairs  # the last term's negatives
    model: torch.nn.Module
    config: dict[str, Any] = field(default_factory=dict)
    heldout_users: pd.DataFrame | None = None  # the last term's per-user held-out ranking metrics (premise runs)


def _train_term(model, name, config, n_users, n_items, users, items, labels, *, pretrain, optimizer, epochs, lr,
                batch_size, weight_decay, seed, device):
    """Train (or, with ``model`` given, continue training) one term's model; returns (model, history, optimizer)."""
    if model is None:
        torch.manual_seed(seed)
        if pretrain:
            model, histories = train_neumf_pretrained(
                n_users, n_items, users, items, labels, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                device=device, **config,
            )
            return model, histories["neumf"], None
        model = build_model(name, n_users, n_items, **config).to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = train_pointwise(
        model, users, items, labels, epochs=epochs, batch_size=batch_size, seed=seed, device=device, optimizer=optimizer
    )
    return model, history, optimizer


def run_ocfb(
    model_name: str,
    model_config: dict[str, Any],
    n_users: int,
    n_items: int,
    positives: Pairs,
    *,
    n_negatives: int | float = 1.0,
    terms: int = 15,
    theta: float = 0.5,
    error: str = "absolute",
    warm_start: bool = False,
    resample: bool = True,
    forbid_removed: bool = False,
    pretrain: bool = False,
    epochs: int = 20,
    lr: float = 1e-3,
    batch_size: int = 256,
    weight_decay: float = 0.0,
    test_fraction: float = 0.3,
    split: str = "random",
    seed: int = 0,
    device: str | torch.device = "cpu",
    heldout: Pairs | None = None,
    rank_heldout: bool = True,
) -> OCFBRun:
    """Run OCF-B for ``terms`` terms under Paper A's protocol and record every term.

    ``positives`` are the training positives T (all of them in the paper's
    protocol, which splits them 70/30 with the negatives: ``split`` "random", the
    paper's, or "stratified" by class, a labelled variant). ``n_negatives`` is a
    count (int) or a ratio of len(T) (float). ``warm_start=False`` retrains each
    term's model from new random weights (the paper's "retrain CF on T + N_m");
    True continues from the previous term's weights and optimiser state.
    ``resample=False`` is the control: the same loop, the same epochs, no
    negative is ever replaced. ``forbid_removed`` keeps every negative removed
    so far from being drawn again. ``pretrain`` (NeuMF only, from-scratch
    terms) builds each term's NeuMF from freshly trained GMF and MLP.

    Per term the run also scores the term's model on the term-0 test rows
    (``fixed_AUC``, ``fixed_precision_positive``, ...): test negatives that
    OCF-B never changed, so a rise there is the model's own.

    ``heldout``: real positives held out of T before any training (the premise
    test). Per term the run then records how many removed negatives are held-out
    positives (``removed_heldout``) beside their base rate among all unobserved
    cells, and, with ``rank_heldout``, full-ranking metrics of the held-out
    positives against every cell not in T, a protocol OCF-B cannot influence.
    """
    check_theta(theta, error)
    if terms < 0:
        raise ValueError(f"terms must be non-negative, got {terms}")
    if pretrain and (model_name.lower() != "neumf" or warm_start):
        raise ValueError("pretrain applies to NeuMF retrained from scratch each term (model_name='neumf', warm_start=False)")
    pos_users, pos_items = (np.asarray(a, dtype=np.int64) for a in positives)
    p = len(pos_users)
    rng = np.random.default_rng(seed)
    n = negative_count(n_negatives, p)
    neg_users, neg_items = sample_negatives(n_users, n_items, (pos_users, pos_items), n, rng)
    labels = np.r_[np.ones(p), np.zeros(n)]
    test = paper_test_mask(labels, test_fraction, seed, split)
    pos_test, neg_test = test[:p], test[p:]

    fixed_test_users = np.r_[pos_users[pos_test], neg_users[neg_test]]
    fixed_test_items = np.r_[pos_items[pos_test], neg_items[neg_test]]
    fixed_test_labels = np.r_[np.ones(pos_test.sum()), np.zeros(neg_test.sum())]

    heldout_codes = None
    if heldout is not None:
        heldout_codes = np.unique(cell_codes(*heldout, n_items))
        if np.isin(heldout_codes, cell_codes(pos_users, pos_items, n_items)).any():
            raise ValueError("heldout pairs overlap the training positives")
        base_share = len(heldout_codes) / (n_users * n_items - len(np.unique(cell_codes(pos_users, pos_items, n_items))))

    removed_so_far: list[np.ndarray] = []
    heldout_users = None
    model, optimizer = None, None
    records, loss_rows = [], []
    for term in range(terms + 1):
        record: dict[str, Any] = {"term": term}
        start = time.perf_counter()
        if term > 0 and resample:
            score_start = time.perf_counter()
            probabilities = to_probability(predict_logits(model, neg_users, neg_items, device=device))
            record["seconds_scoring"] = time.perf_counter() - score_start
            exclude = None
            if forbid_removed and removed_so_far:
                gone = np.concatenate(removed_so_far)
                exclude = (gone // n_items, gone % n_items)
            step = ocfb_resample(
                (neg_users, neg_items), probabilities, theta, n_users=n_users, n_items=n_items,
                positives=(pos_users, pos_items), rng=rng, error=error, exclude=exclude,
            )
            removed_codes = cell_codes(neg_users[step.removed], neg_items[step.removed], n_items)
            if forbid_removed:
                removed_so_far.append(removed_codes)
            record["replaced"] = step.n_replaced
            record["replaced_test_side"] = int(step.removed[neg_test].sum())
            if heldout_codes is not None:
                record["removed_heldout"] = int(np.isin(removed_codes, heldout_codes).sum())
            neg_users, neg_items = step.users, step.items
            record["seconds_resampling"] = time.perf_counter() - start
        else:
            record["replaced"] = 0
            if heldout_codes is not None:
                record["removed_heldout"] = 0
        if heldout_codes is not None:
            record["negatives_heldout"] = int(np.isin(cell_codes(neg_users, neg_items, n_items), heldout_codes).sum())
            record["heldout_base_share"] = base_share

        train_users = np.r_[pos_users[~pos_test], neg_users[~neg_test]]
        train_items = np.r_[pos_items[~pos_test], neg_items[~neg_test]]
        train_labels = np.r_[np.ones((~pos_test).sum()), np.zeros((~neg_test).sum())]
        term_seed = seed * 1000 + term
        if not warm_start:
            model, optimizer = None, None
        train_start = time.perf_counter()
        model, history, optimizer = _train_term(
            model, model_name, model_config, n_users, n_items, train_users, train_items, train_labels,
            pretrain=pretrain, optimizer=optimizer, epochs=epochs, lr=lr, batch_size=batch_size,
            weight_decay=weight_decay, seed=term_seed, device=device,
        )
        record["seconds_training"] = time.perf_counter() - train_start
        record["seconds_per_epoch"] = history.seconds_per_epoch
        record["loss"] = history.losses[-1]
        loss_rows += [
            {"term": term, "epoch": e + 1, "loss": loss, "seconds": s}
            for e, (loss, s) in enumerate(zip(history.losses, history.seconds))
        ]

        test_users = np.r_[pos_users[pos_test], neg_users[neg_test]]
        test_items = np.r_[pos_items[pos_test], neg_items[neg_test]]
        test_labels = np.r_[np.ones(pos_test.sum()), np.zeros(neg_test.sum())]
        test_probabilities = to_probability(predict_logits(model, test_users, test_items, device=device))
        record.update(protocol_metrics(test_labels, test_probabilities))
        # The same model on the term-0 test rows (the first random negatives): a fixed yardstick that
        # separates a better model from easier test negatives.
        fixed_probabilities = to_probability(predict_logits(model, fixed_test_users, fixed_test_items, device=device))
        fixed = protocol_metrics(fixed_test_labels, fixed_probabilities)
        record.update({f"fixed_{k}": fixed[k] for k in FIXED_METRICS})
        if heldout_codes is not None and rank_heldout:
            means, heldout_users = _heldout_ranking(model, n_users, n_items, (pos_users, pos_items), heldout, device)
            record.update(means)
        record["seconds_term"] = time.perf_counter() - start
        records.append(record)

    config = dict(
        model_name=model_name, model_config=model_config, n_negatives=n, terms=terms, theta=theta, error=error,
        warm_start=warm_start, resample=resample, forbid_removed=forbid_removed, pretrain=pretrain, epochs=epochs,
        lr=lr, batch_size=batch_size, split=split, seed=seed,
    )
    return OCFBRun(
        terms=pd.DataFrame(records), losses=pd.DataFrame(loss_rows), test_labels=test_labels,
        test_probabilities=test_probabilities, negatives=(neg_users, neg_items), model=model, config=config,
        heldout_users=heldout_users,
    )


def _heldout_ranking(model, n_users, n_items, train_pairs: Pairs, heldout: Pairs, device) -> tuple[dict[str, float], pd.DataFrame]:
    """Full-ranking HR@10, NDCG@10 and AUC of the held-out positives (items in T excluded): means and per user."""
    from recstudy.evaluation.ranking import full_ranking_metrics

    with torch.no_grad():
        metrics, per_user = full_ranking_metrics(model.score_all, n_users, n_items, train_pairs, heldout, k=10,
                                                 device=device, per_user=True)
    return {f"heldout_{k}": metrics[k] for k in ("HR@10", "NDCG@10", "AUC")}, per_user[["HR@10", "NDCG@10", "AUC"]].reset_index()
