"""CA-RNN: contexts are read from input times only, causality, padding-neutrality, training end to end."""

import pytest
import torch

from recstudy.experiments.sequential import build_model, train_sequential
from recstudy.models.sequential.ca_rnn import CARNN, input_context, interval_context
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0}
HOUR, DAY = 3600, 86400


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets, data.train_times))


# 6 items over several days: same-second, minutes, hours and days apart (2001-01-01 was a Monday).
START = 978307200
HISTORY = torch.tensor([3, 7, 2, 9, 4, 11])
TIMES = START + torch.tensor([0, 0, 120, 3 * HOUR, DAY + 5 * HOUR, 9 * DAY + 20 * HOUR])


def padded(pads: int, history=HISTORY, times=TIMES):
    zeros = torch.zeros(pads, dtype=torch.long)
    return torch.cat([zeros, history])[None], torch.cat([zeros, times])[None]


def model(**options):
    torch.manual_seed(0)
    return CARNN(20, **{**SMALL, **options}).eval()


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


@pytest.mark.parametrize("predict_context", [True, False])
def test_scores_have_the_catalogue_shape_and_are_finite(data, predict_context):
    torch.manual_seed(0)
    net = build_model("CA-RNN", data, predict_context=predict_context, **SMALL).eval()
    scores = net.scores(torch.arange(data.n_users), as_tensor(data.test_inputs), as_tensor(data.test_times))
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()


def test_context_indices():
    monday_1am = torch.tensor([[START + HOUR]])
    sunday_11pm = torch.tensor([[START + 6 * DAY + 23 * HOUR]])
    assert input_context(monday_1am, 4).item() == 0  # Monday, first quarter of the day
    assert input_context(sunday_11pm, 4).item() == 6 * 4 + 3
    assert input_context(sunday_11pm, 24).item() == 6 * 24 + 23
    gaps = torch.tensor([[0, 0, 30, 90, 2 * HOUR, 2 * DAY, 400 * DAY]]).cumsum(1)
    assert interval_context(gaps).tolist() == [[0, 0, 1, 2, 4, 6, 8]]


@pytest.mark.parametrize("predict_context", [True, False])
def test_hour_of_day_is_used_and_whole_weeks_change_nothing(predict_context):
    net = model(predict_context=predict_context)
    users = torch.tensor([0])
    inputs, times = padded(2)
    with torch.no_grad():
        base = net.scores(users, inputs, times)
        shifted = net.scores(users, inputs, times + 6 * HOUR)  # same intervals, other day parts
        one_moved = times.clone()
        one_moved[0, 4] += 6 * HOUR  # only this input's hour (and its gaps) change
        moved = net.scores(users, inputs, one_moved)
        week = net.scores(users, inputs, times + 7 * DAY)  # same weekdays, hours and intervals
    assert not torch.allclose(base, shifted, atol=1e-4)
    assert not torch.allclose(base, moved, atol=1e-4)
    torch.testing.assert_close(base, week)


def test_input_contexts_alone_change_the_hidden_states():
    # the input contexts alone (no interval changes) move the hidden states
    net = model()
    users = torch.tensor([0])
    inputs, times = padded(0, times=START + torch.arange(6) * 60)  # one item a minute, Monday 00:00
    late = times + 12 * HOUR  # Monday noon: every input context changes, every interval stays
    with torch.no_grad():
        assert not torch.allclose(net.encode(users, inputs, times), net.encode(users, inputs, late), atol=1e-4)


def test_times_of_pads_change_nothing():
    net = model()
    users = torch.tensor([0])
    inputs, times = padded(4)
    noisy = times.clone()
    noisy[0, :4] = torch.tensor([5, START + 17 * HOUR, START - 3 * DAY, 123456789])
    with torch.no_grad():
        torch.testing.assert_close(net.encode(users, inputs, times), net.encode(users, inputs, noisy), atol=0, rtol=0)


@pytest.mark.parametrize("predict_context", [True, False])
def test_scores_do_not_depend_on_the_number_of_left_pads(predict_context):
    net = model(predict_context=predict_context)
    users = torch.tensor([0])
    with torch.no_grad():
        short = net.scores(users, *padded(2))
        long = net.scores(users, *padded(14))
        torch.testing.assert_close(net.encode(users, *padded(2))[:, 2:], net.encode(users, *padded(14))[:, 14:],
                                   atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(short, long, atol=1e-5, rtol=1e-5)


def test_no_position_sees_a_later_input():
    net = model()
    users = torch.tensor([0])
    inputs, times = padded(2)
    with torch.no_grad():
        base = net.encode(users, inputs, times)
        for t in range(3, inputs.shape[1]):
            changed, later = inputs.clone(), times.clone()
            changed[0, t] = 19
            later[0, t:] += 5 * HOUR
            out = net.encode(users, changed, later)
            torch.testing.assert_close(out[:, :t], base[:, :t])
            assert not torch.allclose(out[:, t], base[:, t])


def test_training_runs_end_to_end(data):
    run = train_sequential("CA-RNN", data, seed=0, device="cpu", epochs=3, lr=1e-2, patience=None, dim=16, dropout=0.0)
    assert len(run.history.losses) == 3 and run.history.losses[-1] < run.history.losses[0]
    assert 0.0 <= run.test["NDCG@10"] <= 1.0


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="day_parts"):
        CARNN(10, day_parts=0)
