"""Building and training the three NCF models with the study's one training loop.

Every model maps (users, items) index tensors to logits and is trained
pointwise: binary cross-entropy with logits against labels 1 (positive) and
0 (negative), Adam, shuffled index batches over whole tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from recstudy.models.ncf.gmf import GMF
from recstudy.models.ncf.mlp import MLP
from recstudy.models.ncf.neumf import NeuMF
from recstudy.models import get_model, model_family, model_names
from recstudy.utils import as_tensor
from recstudy.training import TrainHistory, fit, index_batches

def build_model(name: str, n_users: int, n_items: int, **config: Any) -> nn.Module:
    """A fresh NCF model ``name`` ("GMF", "MLP" or "NeuMF", any case) with ``config`` passed to its constructor.

    Seed torch (``torch.manual_seed``) before calling for reproducible initial weights.
    """
    if model_family(name) != "NCF":
        raise ValueError(f"{name!r} is not an NCF model: use one of {model_names(family='NCF')}")
    try:
        return get_model(name)(n_users, n_items, **config)
    except TypeError as err:  # an unknown keyword: say which model refused it
        raise ValueError(f"bad configuration for model {name!r}: {err}") from err


def train_pointwise(
    model: nn.Module,
    users: np.ndarray | torch.Tensor,
    items: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 256,
    seed: int = 0,
    device: str | torch.device = "cpu",
    weight_decay: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    validate: Callable[[nn.Module], float] | None = None,
    progress: bool = False,
) -> TrainHistory:
    """Train ``model`` on (user, item, label) rows with binary cross-entropy on its logits.

    The rows live on ``device`` as three tensors; each epoch shuffles them into
    index batches (:func:`recstudy.training.index_batches`) and
    :func:`recstudy.training.fit` runs the Adam steps. Pass ``optimizer`` to
    continue with an existing optimiser state (warm starts); ``validate(model)``
    is passed to ``fit`` (scored after every epoch, higher is better).
    """
    n = len(users)
    if not (len(items) == len(labels) == n):
        raise ValueError(f"users, items and labels differ in length: {n}, {len(items)}, {len(labels)}")
    model.to(device)
    u = as_tensor(users, torch.long, device)
    i = as_tensor(items, torch.long, device)
    y = as_tensor(labels, torch.float32, device)

    def batches(generator: torch.Generator):
        for index in index_batches(n, batch_size, generator, device):
            yield u[index], i[index], y[index]

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        bu, bi, by = batch
        return F.binary_cross_entropy_with_logits(m(bu, bi), by)

    return fit(
        model, batches, loss_fn, epochs=epochs, lr=lr, weight_decay=weight_decay, optimizer=optimizer,
        seed=seed, validate=validate, progress=progress, desc=type(model).__name__,
    )


def use_one_cpu_thread(device: str | torch.device) -> None:
    """On CPU, run torch on one thread: these models are tiny, so each step is dominated by
    per-operation overhead, which extra threads only add to (more so on a shared machine)."""
    if str(device) == "cpu":
        torch.set_num_threads(1)


@torch.no_grad()
def predict_logits(
    model: nn.Module, users: np.ndarray, items: np.ndarray, *, batch_size: int = 65536, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Logits of the pairs (users[j], items[j]) as a float64 array, scored in large batches."""
    model.eval()
    u = as_tensor(users, torch.long, device)
    i = as_tensor(items, torch.long, device)
    out = [model(u[s : s + batch_size], i[s : s + batch_size]) for s in range(0, len(u), batch_size)]
    return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)


def train_neumf_pretrained(
    n_users: int,
    n_items: int,
    users: np.ndarray,
    items: np.ndarray,
    labels: np.ndarray,
    *,
    mf_factors: int,
    layers: tuple[int, ...],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: str | torch.device = "cpu",
    alpha: float = 0.5,
    finetune_lr: float | None = None,
) -> tuple[NeuMF, dict[str, TrainHistory]]:
    """The NCF paper's recipe: train GMF and MLP, build NeuMF from them, fine-tune it.

    The NCF paper fine-tunes with plain SGD; we keep Adam (the one loop) at a
    smaller learning rate (``finetune_lr``, default lr / 10) so the pretrained
    weights are not thrown away in the first steps.
    """
    torch.manual_seed(seed)
    gmf = GMF(n_users, n_items, mf_factors)
    mlp = MLP(n_users, n_items, layers)
    histories = {
        "gmf": train_pointwise(gmf, users, items, labels, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, device=device),
        "mlp": train_pointwise(mlp, users, items, labels, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed + 1, device=device),
    }
    neumf = NeuMF.from_pretrained(gmf, mlp, alpha=alpha)
    histories["neumf"] = train_pointwise(
        neumf, users, items, labels, epochs=epochs, lr=finetune_lr or lr / 10, batch_size=batch_size, seed=seed + 2, device=device
    )
    return neumf, histories
