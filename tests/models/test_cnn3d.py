"""3D-CNN: content (titles, genres) and clicks convolved together; causal, padding-neutral, refused without side info."""

import numpy as np
import pandas as pd
import pytest
import torch

from recstudy.data.sequences import build_sequences
from recstudy.data.side_info import ItemSideInfo, MissingSideInfo
from recstudy.experiments.sequential import build_model, train_sequential
from recstudy.models.sequential.cnn3d import ALPHABET, UNKNOWN_CHAR, encode_titles
from recstudy.utils import as_tensor

SMALL = {"dim": 16, "dropout": 0.0, "filters": 8, "char_dim": 8, "title_chars": 12}


def side(titles=None):
    items = pd.DataFrame({"item": np.arange(15), "title": titles or [f"Movie number {i}" for i in range(15)],
                          "year": [str(1980 + i) for i in range(15)],
                          "genres": ["Action|Drama" if i % 2 else "Comedy" for i in range(15)]})
    return ItemSideInfo.from_movielens_items(items)


@pytest.fixture(scope="module")
def data(cycle_table):
    return build_sequences(cycle_table, max_len=8, item_side=side())


def batch(data):
    return tuple(as_tensor(a) for a in (data.train_users, data.train_inputs, data.train_targets))


def test_titles_are_encoded_by_character():
    codes = encode_titles(["Ab", "Café!", "zz~Ω"], 4)
    assert codes.shape == (3, 4)
    assert codes[0].tolist() == [ALPHABET.index("a") + 2, ALPHABET.index("b") + 2, 0, 0]  # lower-cased, zero-padded
    assert codes[1].tolist() == [ALPHABET.index(c) + 2 for c in "cafe"]  # accent stripped, cut to 4
    assert codes[2, 3] == UNKNOWN_CHAR


# One optimizer step lowering the loss (full softmax and sampled) is tested for every registered model in
# tests/models/test_sequential.py.


def test_scores_shape_and_finite(data):
    torch.manual_seed(0)
    model = build_model("3D-CNN", data, **SMALL).eval()
    scores = model.scores(torch.arange(data.n_users), as_tensor(data.test_inputs))
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()


def test_padding_neutral(data):
    torch.manual_seed(0)
    model = build_model("3D-CNN", data, **SMALL).eval()
    history = torch.tensor([3, 7, 2, 9])
    users = torch.tensor([0])
    with torch.no_grad():
        for pads in ((0, 4), (2, 16), (1, 40)):
            few, many = (torch.cat([torch.zeros(p, dtype=torch.long), history])[None] for p in pads)
            torch.testing.assert_close(model.scores(users, few), model.scores(users, many), atol=1e-5, rtol=1e-5)
        # the hidden states of the real positions too, not just the last one
        short = torch.cat([torch.zeros(1, dtype=torch.long), history])[None]
        long = torch.cat([torch.zeros(20, dtype=torch.long), history])[None]
        torch.testing.assert_close(model.encode(users, short)[:, -4:], model.encode(users, long)[:, -4:], atol=1e-5, rtol=1e-5)


def test_causal(data):
    torch.manual_seed(0)
    model = build_model("3D-CNN", data, **SMALL).eval()
    inputs = as_tensor(data.test_inputs)
    users = torch.arange(data.n_users)
    for position in (-1, -3):
        changed = inputs.clone()
        changed[:, position] = (changed[:, position] % data.n_items) + 1
        with torch.no_grad():
            before, after = model.encode(users, inputs), model.encode(users, changed)
        torch.testing.assert_close(before[:, :position], after[:, :position])
        assert not torch.allclose(before[:, position:], after[:, position:])  # the change is seen from there on


def test_scores_change_when_only_a_title_changes(data, cycle_table):
    history = torch.tensor([[0, 0, 0, 2, 5, 9]])
    item = int(history[0, -1]) - 1  # the item index of the last input token
    original_id = int(data.item_ids[item])
    titles = [f"Movie number {i}" for i in range(15)]
    titles[original_id] = "A completely different title"
    other = build_sequences(cycle_table, max_len=8, item_side=side(titles))
    assert np.array_equal(other.item_ids, data.item_ids)
    scores = []
    for d in (data, other):
        torch.manual_seed(0)  # the same weights: only the title buffer differs
        model = build_model("3D-CNN", d, **SMALL).eval()
        with torch.no_grad():
            scores.append(model.scores(torch.tensor([0]), history))
    assert not torch.allclose(scores[0], scores[1], atol=1e-6)
    # and the genres are read too
    torch.manual_seed(0)
    model = build_model("3D-CNN", data, **SMALL).eval()
    with torch.no_grad():
        base = model.scores(torch.tensor([0]), history)
        model.genre_flags[item + 1] = 1 - model.genre_flags[item + 1]
        assert not torch.allclose(base, model.scores(torch.tensor([0]), history), atol=1e-6)


def test_refused_without_side_info(cycle_table):
    plain = build_sequences(cycle_table, max_len=8)
    with pytest.raises(MissingSideInfo, match="3D-CNN needs item side information"):
        build_model("3D-CNN", plain, **SMALL)


def test_bad_dimensions_are_named(data):
    with pytest.raises(ValueError, match="multiple of char_dim"):
        build_model("3D-CNN", data, dim=20, char_dim=8)


def test_trains_end_to_end_through_the_runner(data):
    run = train_sequential("3D-CNN", data, seed=0, device="cpu", epochs=3, patience=None, lr=1e-2, **SMALL)
    assert len(run.history.losses) == 3 and run.history.losses[-1] < run.history.losses[0]
    assert 0.0 <= run.test["NDCG@10"] <= 1.0 and run.model.n_parameters > 0
