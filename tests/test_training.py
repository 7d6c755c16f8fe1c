"""The one training loop."""

from __future__ import annotations

import pytest
import torch

from recstudy.training import fit, index_batches

# --- trainer -----------------------------------------------------------------------

def linear_problem():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=gen)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
    model = torch.nn.Linear(4, 1)

    def batches(generator):
        for idx in index_batches(len(x), 32, generator):
            yield x[idx], y[idx]

    def loss_fn(m, batch):
        return torch.nn.functional.mse_loss(m(batch[0]).squeeze(1), batch[1])

    return model, batches, loss_fn


def test_fit_lowers_the_loss_and_is_reproducible():
    torch.manual_seed(0)
    model, batches, loss_fn = linear_problem()
    history = fit(model, batches, loss_fn, epochs=20, lr=0.05, progress=False)
    assert history.losses[-1] < 0.1 * history.losses[0]
    assert len(history.seconds) == 20 and history.seconds_per_epoch > 0
    torch.manual_seed(0)
    again, batches2, loss_fn2 = linear_problem()
    assert fit(again, batches2, loss_fn2, epochs=20, lr=0.05, progress=False).losses == history.losses


def test_early_stopping_restores_the_best_weights():
    model, batches, loss_fn = linear_problem()
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.1, 0.0])
    snapshots = []

    def validate(m):
        snapshots.append(m.weight.detach().clone())
        return next(scores)

    history = fit(model, batches, loss_fn, epochs=6, lr=0.05, validate=validate, patience=2, progress=False)
    assert history.stopped_early and history.best_epoch == 2 and history.epochs == 4
    assert torch.equal(model.weight, snapshots[1])


def test_fit_refuses_impossible_settings():
    model, batches, loss_fn = linear_problem()
    with pytest.raises(ValueError, match="exactly one"):
        fit(model, batches, epochs=1)
    with pytest.raises(ValueError, match="epochs must be positive"):
        fit(model, batches, loss_fn, epochs=0)
    with pytest.raises(ValueError, match="patience needs"):
        fit(model, batches, loss_fn, epochs=1, patience=2)

