"""DREAM: baskets from timestamps, order-free pooling, causality, padding-neutrality, training end to end."""

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from recstudy.experiments.sequential import build_model, train_sequential
from recstudy.models.sequential.dream import DREAM, basket_ids, basket_share
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
DAY = 86400


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets, data.train_times))


# One history of 7 items in 4 baskets (same-second groups), spread over two days.
HISTORY = torch.tensor([3, 7, 2, 9, 4, 11, 5])
TIMES = torch.tensor([1000, 1000, 5000, 5000, 5000, DAY + 10, DAY + 20])


def padded(pads: int, history=HISTORY, times=TIMES):
    zeros = torch.zeros(pads, dtype=torch.long)
    return torch.cat([zeros, history])[None], torch.cat([zeros, times])[None]


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


@pytest.mark.parametrize("options", [{}, {"pooling": "mean"}, {"cell": "gru"}, {"basket_seconds": DAY}])
def test_scores_have_the_catalogue_shape_and_are_finite(data, options):
    torch.manual_seed(0)
    model = build_model("DREAM", data, **SMALL, **options).eval()
    scores = model.scores(torch.arange(data.n_users), as_tensor(data.test_inputs), as_tensor(data.test_times))
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()


def test_items_sharing_a_timestamp_form_one_basket():
    inputs, times = padded(2)
    assert basket_ids(inputs, times, 1).tolist() == [[-1, -1, 0, 0, 1, 1, 1, 2, 3]]
    assert basket_ids(inputs, times, DAY).tolist() == [[-1, -1, 0, 0, 0, 0, 0, 1, 1]]
    # pads' timestamps are never read; a real item at time 0 is still a basket of its own
    inputs, times = padded(2, times=torch.tensor([0, 0, 1, 1, 1, 2, 3]))
    times[0, :2] = 12345
    assert basket_ids(inputs, times, 1).tolist() == [[-1, -1, 0, 0, 1, 1, 1, 2, 3]]


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_scores_do_not_depend_on_the_order_within_a_basket(pooling):
    torch.manual_seed(0)
    model = DREAM(20, dim=16, dropout=0.0, pooling=pooling).eval()
    history = torch.tensor([3, 7, 2, 9, 4, 11, 5, 6])
    times = torch.tensor([1, 1, 2, 2, 2, 3, 3, 3])
    users = torch.tensor([0])
    with torch.no_grad():
        base = model.encode(users, history[None], times[None])
        inner = model.encode(users, history[[1, 0, 4, 2, 3, 5, 6, 7]][None], times[None])  # reorder baskets 1 and 2
        last = model.scores(users, history[[0, 1, 2, 3, 4, 7, 5, 6]][None], times[None])  # reorder the last basket
        across = model.scores(users, history[[0, 1, 5, 3, 4, 2, 6, 7]][None], times[None])  # move items between baskets
    torch.testing.assert_close(inner[:, 4:], base[:, 4:], atol=1e-6, rtol=1e-6)  # every position after the reordering
    torch.testing.assert_close(last, model.scores(users, history[None], times[None]), atol=1e-6, rtol=1e-6)
    assert not torch.allclose(across, model.scores(users, history[None], times[None]), atol=1e-4)


def test_last_position_is_the_paper_state_after_all_baskets():
    # reference: pool each complete basket (max), run the sigmoid RNN basket by basket from zero
    torch.manual_seed(0)
    model = DREAM(20, dim=16, dropout=0.0).eval()
    inputs, times = padded(3)
    with torch.no_grad():
        hidden = model.encode(torch.tensor([0]), inputs, times)[0]
        state = torch.zeros(1, 16)
        ends = []
        for members in ([0, 1], [2, 3, 4], [5], [6]):
            pooled = model.item_embedding(HISTORY[members]).max(dim=0).values[None]
            state = model.cell(pooled, state)
            ends.append(state[0])
    for position, expected in zip([1, 4, 5, 6], ends):  # the last item of each basket
        torch.testing.assert_close(hidden[3 + position], expected, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("options", [{}, {"pooling": "mean", "cell": "gru"}, {"basket_seconds": DAY}])
def test_scores_do_not_depend_on_the_number_of_left_pads(options):
    torch.manual_seed(0)
    model = DREAM(20, dim=16, dropout=0.0, **options).eval()
    users = torch.tensor([0])
    with torch.no_grad():
        short = model.scores(users, *padded(1))
        long = model.scores(users, *padded(13))
        hidden_short = model.encode(users, *padded(1))[:, 1:]
        hidden_long = model.encode(users, *padded(13))[:, 13:]
    torch.testing.assert_close(short, long, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hidden_short, hidden_long, atol=1e-5, rtol=1e-5)


def test_no_position_sees_a_later_input(data):
    torch.manual_seed(0)
    model = DREAM(20, dim=16, dropout=0.0).eval()
    users = torch.tensor([0])
    inputs, times = padded(2)
    with torch.no_grad():
        base = model.encode(users, inputs, times)
        for t in range(3, inputs.shape[1]):  # change the item at t (also inside a basket) and its time
            changed, later = inputs.clone(), times.clone()
            changed[0, t] = 19
            later[0, t:] += 7
            out = model.encode(users, changed, later)
            torch.testing.assert_close(out[:, :t], base[:, :t])
            assert not torch.allclose(out[:, t], base[:, t])


def test_training_runs_end_to_end(data):
    run = train_sequential("DREAM", data, seed=0, device="cpu", epochs=3, lr=1e-2, patience=None, dim=16, dropout=0.0)
    assert len(run.history.losses) == 3 and run.history.losses[-1] < run.history.losses[0]
    assert 0.0 <= run.test["NDCG@10"] <= 1.0


def test_basket_share_counts_interactions_in_multi_item_baskets():
    table = pd.DataFrame({"user": [0, 0, 0, 1, 1], "timestamp": [5, 5, 9, 5, DAY + 5]})
    assert basket_share(table, 1) == pytest.approx(2 / 5)
    assert basket_share(table, DAY) == pytest.approx(3 / 5)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="pooling"):
        DREAM(10, pooling="sum")
    with pytest.raises(ValueError, match="cell"):
        DREAM(10, cell="lstm")
    with pytest.raises(ValueError, match="basket_seconds"):
        DREAM(10, basket_seconds=0)
