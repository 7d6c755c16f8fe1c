"""The study's one training loop, shared by every model.

``fit`` runs epochs of batches that the caller produces as whole tensors (index
batches, no DataLoader over tiny rows), records the mean loss and the seconds of
each epoch, and optionally validates after every epoch with early stopping.
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from tqdm.std import tqdm

Batch = tuple[torch.Tensor, ...]


@dataclass
class TrainHistory:
    """Per-epoch record of one training run."""

    losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    seconds: list[float] = field(default_factory=list)  # training seconds per epoch (validation excluded)
    val_scores: list[float] = field(default_factory=list)  # validate(model) after each epoch, if given
    best_epoch: int | None = None  # 1-based epoch of the best validation score
    best_score: float | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.losses)

    @property
    def seconds_per_epoch(self) -> float:
        """Median training seconds per epoch (the median resists a slow first epoch)."""
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def seconds_to_best(self) -> float | None:
        """Training seconds until the end of the best epoch."""
        return None if self.best_epoch is None else sum(self.seconds[: self.best_epoch])


def index_batches(n: int, batch_size: int, generator: torch.Generator, device: str | torch.device = "cpu") -> list[torch.Tensor]:
    """A random permutation of ``range(n)`` cut into batches of ``batch_size`` indices."""
    if n <= 0 or batch_size <= 0:
        raise ValueError(f"n and batch_size must be positive, got n={n}, batch_size={batch_size}")
    order = torch.randperm(n, generator=generator).to(device)
    return list(torch.split(order, batch_size))


def fit(
    model: torch.nn.Module,
    batches: Callable[[torch.Generator], Iterable[Batch]],
    loss_fn: Callable[[torch.nn.Module, Batch], torch.Tensor] | None = None,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    step_fn: Callable[[torch.nn.Module, Batch], float] | None = None,
    seed: int = 0,
    validate: Callable[[torch.nn.Module], float] | None = None,
    patience: int | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainHistory:
    """Train ``model`` for up to ``epochs`` epochs.

    ``batches(generator)`` is called once per epoch and yields tuples of tensors on
    the model's device. Each batch is used either by ``loss_fn(model, batch)`` (the
    loop runs zero_grad, backward and an Adam step, or ``optimizer`` if given) or by
    ``step_fn(model, batch)``, which updates the model itself and returns its loss
    (for models with several optimisers, such as a GAN). ``validate(model)``
    (higher is better) runs after each epoch in eval mode; with ``patience``,
    training stops after that many epochs without improvement and the best
    weights are restored.
    """
    if (loss_fn is None) == (step_fn is None):
        raise ValueError("give exactly one of loss_fn or step_fn")
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if patience is not None and (validate is None or patience <= 0):
        raise ValueError("patience needs a validate function and must be positive")
    if loss_fn is not None and optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    history = TrainHistory()
    best_state = None
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, file=sys.stderr, leave=False, mininterval=1.0)
    for epoch in bar:
        model.train()
        start = time.perf_counter()
        total, count = 0.0, 0
        for batch in batches(generator):
            if step_fn is not None:
                loss_value = float(step_fn(model, batch))
            else:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model, batch)
                loss.backward()
                optimizer.step()
                loss_value = loss.item()
            total += loss_value
            count += 1
        if count == 0:
            raise ValueError("batches() yielded no batch")
        history.seconds.append(time.perf_counter() - start)
        history.losses.append(total / count)
        postfix = {"loss": f"{history.losses[-1]:.4f}"}
        if validate is not None:
            model.eval()
            with torch.no_grad():
                score = float(validate(model))
            history.val_scores.append(score)
            postfix["val"] = f"{score:.4f}"
            if history.best_score is None or score > history.best_score:
                history.best_score, history.best_epoch = score, epoch
                if patience is not None:
                    best_state = copy.deepcopy(model.state_dict())
            elif patience is not None and epoch - history.best_epoch >= patience:
                history.stopped_early = True
                break
        bar.set_postfix(postfix)
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
