"""Time-ordered user sequences and the leave-one-out protocol of the sequential study.

Each user's interactions are put in time order. Ties (the same timestamp: in
MovieLens-100K 51% of consecutive ratings share a second, and the canonical table
lists them by ascending item id) are put in a seeded random order (``tie_seed``).
Why: an order by item id is a storage convention, not behaviour, yet it decides
which item of a same-second group becomes the test target, and models profit from
it unequally (the Markov chain's NDCG@10 moves from 0.07 to 0.12 between ascending
and descending ids); a random order is what an unbiased logger would record, and
several tie seeds give the spread that the convention would otherwise hide. Each
user's test target is flagged ``test_tied`` when it shares its timestamp with the
item before it (the final same-second group has more than one item, so which of
them is "last" is arbitrary); reports show tied and untied users separately.
``tie_seed=None`` keeps the table's row order (for a log whose rows are already in
the true order, e.g. without timestamps). Leave-one-out:

- test target: the last item; its input is everything before it;
- validation target: the second-to-last item; its input is everything before it;
- training: the sequence without the last two items, every position predicting
  the next one.

Inputs are left-padded to ``max_len`` with 0; items are stored shifted by one
(item index ``i`` is token ``i + 1``) so that 0 can be the padding token. The
ranking excludes every item already in the user's input sequence (the whole
history before the target, not only the last ``max_len`` items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recstudy.data.interactions import IndexedInteractions

PAD: int = 0
MIN_SEQUENCE_LENGTH: int = 3  # one training item, one validation target, one test target


def time_ordered_sequences(table: pd.DataFrame, tie_seed: int | None = None
                           ) -> tuple[list[np.ndarray], IndexedInteractions, list[np.ndarray]]:
    """Each user's item indices in time order, the indexing used, and each sequence's timestamps.

    Same-timestamp items of a user are put in a random order drawn from ``tie_seed``;
    with ``tie_seed=None`` they keep the table's row order.
    """
    indexed = IndexedInteractions.from_frame(table)
    tie_break = (np.arange(len(indexed.users)) if tie_seed is None
                 else np.random.default_rng(tie_seed).permutation(len(indexed.users)))
    # lexsort sorts by the last key first: user, then timestamp, then the tie-break key.
    order = np.lexsort((tie_break, indexed.timestamps, indexed.users))
    users, items, times = indexed.users[order], indexed.items[order], indexed.timestamps[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])[1:]
    return np.split(items, starts), indexed, np.split(times, starts)


def left_pad(sequences: list[np.ndarray], max_len: int) -> np.ndarray:
    """The last ``max_len`` tokens of each sequence, left-padded with PAD, as an (n, max_len) int64 array."""
    out = np.full((len(sequences), max_len), PAD, dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = seq[-max_len:]
        if len(tail):
            out[row, max_len - len(tail):] = tail
    return out


def training_windows(sequences: list[np.ndarray], max_len: int, windows: str = "all") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, input, target) windows for next-item training over every position at once.

    Token sequence t of a user gives input t[:-1] and target t[1:]. With
    ``windows="last"`` only the last ``max_len`` positions of each user are kept
    (one row per user, as in SASRec); with ``windows="all"`` a long history is cut
    from its end into consecutive chunks of ``max_len`` targets, so every
    transition is trained on exactly once per epoch.
    """
    if windows not in ("all", "last"):
        raise ValueError(f"windows must be 'all' or 'last', got {windows!r}")
    users, inputs, targets = [], [], []
    for user, seq in enumerate(sequences):
        if len(seq) < 2:
            continue
        end = len(seq)
        while end >= 2:
            chunk = seq[max(0, end - max_len - 1):end]
            users.append(user)
            inputs.append(chunk[:-1])
            targets.append(chunk[1:])
            if windows == "last":
                break
            end -= max_len
    return np.asarray(users, dtype=np.int64), left_pad(inputs, max_len), left_pad(targets, max_len)


@dataclass
class SequenceData:
    """Leave-one-out sequences of every user, ready for training and full-ranking evaluation."""

    n_users: int
    n_items: int
    max_len: int
    user_ids: np.ndarray  # original id of each user index
    item_ids: np.ndarray  # original id of each item index
    sequences: list[np.ndarray]  # full time-ordered item indices per user
    train_users: np.ndarray  # (W,) user of each training window
    train_inputs: np.ndarray  # (W, max_len) tokens (item index + 1), left-padded
    train_targets: np.ndarray  # (W, max_len)
    valid_inputs: np.ndarray  # (n_users, max_len) tokens before the validation target
    test_inputs: np.ndarray  # (n_users, max_len) tokens before the test target
    test_tied: np.ndarray | None = None  # (n_users,) bool: the test target shares its timestamp with the item before it
    valid_tied: np.ndarray | None = None  # (n_users,) bool: the same for the validation target
    tie_seed: int | None = None  # the seed of the order within same-timestamp groups (None: row order)
    # Timestamp of every input token (0 under a pad), for the models that read time (``uses_time``):
    train_times: np.ndarray | None = None  # (W, max_len) aligned with train_inputs
    valid_times: np.ndarray | None = None  # (n_users, max_len) aligned with valid_inputs
    test_times: np.ndarray | None = None  # (n_users, max_len) aligned with test_inputs
    # Item side information aligned with item indices (recstudy.data.side_info.ItemSideInfo), or None
    # when the data set has none: the models that need it then refuse to be built.
    item_side: Any = None

    @property
    def history_lengths(self) -> np.ndarray:
        """Number of items before the test target, per user."""
        return np.array([len(s) - 1 for s in self.sequences])

    def target_pairs(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(user index, item index) of each user's validation or test target."""
        offset = {"valid": 2, "test": 1}.get(split)
        if offset is None:
            raise ValueError(f"split must be 'valid' or 'test', got {split!r}")
        return np.arange(self.n_users), np.array([s[-offset] for s in self.sequences])

    def excluded_pairs(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(user, item) pairs of every item in the input history before the split's target."""
        offset = {"valid": 2, "test": 1}.get(split)
        if offset is None:
            raise ValueError(f"split must be 'valid' or 'test', got {split!r}")
        users = np.concatenate([np.full(len(s) - offset, u) for u, s in enumerate(self.sequences)])
        items = np.concatenate([s[:-offset] for s in self.sequences])
        return users.astype(np.int64), items.astype(np.int64)

    def training_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(user, item) of every item in the training histories (each sequence without its last two items)."""
        histories = [s[:-2] for s in self.sequences]
        users = np.concatenate([np.full(len(h), u) for u, h in enumerate(histories)]).astype(np.int64)
        return users, np.concatenate(histories).astype(np.int64)

    def training_transitions(self) -> tuple[np.ndarray, np.ndarray]:
        """(previous token, next item index) of every transition in the training histories."""
        histories = [s[:-2] for s in self.sequences]
        return np.concatenate([h[:-1] for h in histories]) + 1, np.concatenate([h[1:] for h in histories])

    def inputs(self, split: str) -> np.ndarray:
        if split not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', got {split!r}")
        return self.valid_inputs if split == "valid" else self.test_inputs

    def input_times(self, split: str) -> np.ndarray:
        """(n_users, max_len) timestamps of the tokens of :meth:`inputs` (0 under pads)."""
        if split not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', got {split!r}")
        times = self.valid_times if split == "valid" else self.test_times
        if times is None:
            raise ValueError("these sequences were built without timestamps")
        return times

    def summary(self) -> pd.DataFrame:
        lengths = np.array([len(s) for s in self.sequences])
        rows = {
            "users": self.n_users, "items": self.n_items, "interactions": int(lengths.sum()),
            "max input length": self.max_len, "training windows": len(self.train_users),
            "training transitions": int((self.train_targets > 0).sum()),
            "median sequence length": float(np.median(lengths)), "shortest sequence": int(lengths.min()),
            "longest sequence": int(lengths.max()),
        }
        return pd.DataFrame({"value": rows})


def build_sequences(table: pd.DataFrame, *, max_len: int = 50, windows: str = "all", tie_seed: int | None = 0,
                    item_side: Any = None) -> SequenceData:
    """Leave-one-out sequence data from a canonical table (see :mod:`recstudy.data.interactions`).

    ``item_side`` (an :class:`~recstudy.data.side_info.ItemSideInfo` keyed by original item
    id, or None) is aligned with the item indices and kept for the models that read it.

    Users with fewer than 3 interactions cannot give a training item, a validation
    and a test target, and are dropped before indexing.
    """
    if max_len < 2:
        raise ValueError(f"max_len must be at least 2, got {max_len}")
    counts = table.groupby("user")["item"].transform("size")
    kept = table[counts >= MIN_SEQUENCE_LENGTH]
    if kept.empty:
        raise ValueError(f"no user has at least {MIN_SEQUENCE_LENGTH} interactions; leave-one-out needs train, validation and test items")
    sequences, indexed, times = time_ordered_sequences(kept, tie_seed)
    tokens = [s + 1 for s in sequences]
    train_users, train_inputs, train_targets = training_windows([t[:-2] for t in tokens], max_len, windows)
    # The same windows over the timestamps (same lengths, so the same cuts): the time of each input token.
    _, train_times, _ = training_windows([t[:-2] for t in times], max_len, windows)
    return SequenceData(
        n_users=indexed.n_users, n_items=indexed.n_items, max_len=max_len,
        user_ids=indexed.user_ids, item_ids=indexed.item_ids, sequences=sequences,
        train_users=train_users, train_inputs=train_inputs, train_targets=train_targets,
        valid_inputs=left_pad([t[:-2] for t in tokens], max_len),
        test_inputs=left_pad([t[:-1] for t in tokens], max_len),
        test_tied=np.array([t[-1] == t[-2] for t in times]), valid_tied=np.array([t[-2] == t[-3] for t in times]),
        tie_seed=tie_seed,
        train_times=train_times, valid_times=left_pad([t[:-2] for t in times], max_len),
        test_times=left_pad([t[:-1] for t in times], max_len),
        item_side=None if item_side is None else item_side.aligned(indexed.item_ids),
    )

