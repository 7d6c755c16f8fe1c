"""The comparison's three evaluation protocols and the validation split carved from training data.

- ``holdout``: per user, a random 20% of the interactions are test (seeded);
- ``leave-last-out``: per user, the latest interaction by timestamp is test;
- ``ms-recommenders``: microsoft/recommenders' MovieLens benchmark split, a stratified
  75/25 split per item with their fixed seed 42 (:func:`recstudy.data.splits.stratified_split_mask`);
  the split does not vary with the run's seed, only the models' randomness does, unless
  ``resample_fixed`` is set: then seed s draws the same stratified split with seed 42 + s
  (seed 0 is the benchmark's own split), so intervals over seeds cover data variation too.
  (``leave-last-out`` has nothing to resample: its data variation is covered by the
  bootstrap over users of :mod:`recstudy.evaluation.significance`.)

Every rating is a positive. A (user, item) pair that occurs more than once counts
once (its first row), so a test pair never also sits in training. The validation
split applies the same rule to the training rows only, so tuning never sees a test
interaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recstudy.data.pairs import cell_codes
from recstudy.data.interactions import NO_TIMESTAMP, IndexedInteractions
from recstudy.data.splits import leave_last_out_mask, per_user_holdout_mask, stratified_split_mask

PROTOCOLS: dict[str, str] = {
    "holdout": "per-user random 80/20 holdout",
    "leave-last-out": "leave the latest interaction of each user out",
    "ms-recommenders": "microsoft/recommenders benchmark: stratified 75/25 per item, seed 42",
}
HOLDOUT_TEST_FRACTION = 0.2
MS_TRAIN_RATIO, MS_SEED, MS_STRATIFY_BY = 0.75, 42, "item"


@dataclass(frozen=True)
class Split:
    """Training and test pairs (0-based user and item indices) of one protocol run."""

    protocol: str
    seed: int
    n_users: int
    n_items: int
    train_users: np.ndarray
    train_items: np.ndarray
    train_timestamps: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    role: str = "test"  # "validation" for a split carved from training data

    @property
    def train_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.train_users, self.train_items

    @property
    def test_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test_users, self.test_items

    def summary(self) -> dict[str, object]:
        return {
            "protocol": self.protocol, "role": self.role, "seed": self.seed, "train": len(self.train_users),
            "test": len(self.test_users), "test users": len(np.unique(self.test_users)),
        }


def _test_mask(protocol: str, users: np.ndarray, items: np.ndarray, timestamps: np.ndarray, seed: int,
               resample_fixed: bool = False) -> np.ndarray:
    if protocol == "holdout":
        return per_user_holdout_mask(users, HOLDOUT_TEST_FRACTION, np.random.default_rng(seed))
    if protocol == "leave-last-out":
        if (timestamps == NO_TIMESTAMP).any():
            raise ValueError("leave-last-out needs a timestamp on every interaction; this data has rows without one")
        return leave_last_out_mask(users, timestamps, n=1)
    if protocol == "ms-recommenders":
        return stratified_split_mask(items if MS_STRATIFY_BY == "item" else users, MS_TRAIN_RATIO,
                                     MS_SEED + seed if resample_fixed else MS_SEED)
    raise ValueError(f"unknown protocol {protocol!r}: use one of {list(PROTOCOLS)}")


def make_split(data: IndexedInteractions, protocol: str, seed: int = 0, *, resample_fixed: bool = False) -> Split:
    """Split the positives of ``data`` under ``protocol`` (seeded by ``seed`` where the protocol draws).

    ``resample_fixed``: the benchmark protocol's split varies with ``seed`` too (seed 42 + seed).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use one of {list(PROTOCOLS)}")
    codes = cell_codes(data.users, data.items, data.n_items)
    _, first = np.unique(codes, return_index=True)
    keep = np.sort(first)  # the first row of each distinct pair, in row order
    users, items, timestamps = data.users[keep], data.items[keep], data.timestamps[keep]
    test = _test_mask(protocol, users, items, timestamps, seed, resample_fixed)
    return Split(
        protocol, seed, data.n_users, data.n_items, users[~test], items[~test], timestamps[~test], users[test], items[test]
    )


def validation_split(split: Split, seed: int | None = None) -> Split:
    """Carve a validation split from ``split``'s training pairs with the same protocol rule.

    The test pairs of ``split`` are not looked at: the result's "test" pairs are
    validation pairs drawn from training, its training pairs the rest.
    """
    seed = split.seed + 7919 if seed is None else seed  # a different draw from the test split's
    users, items, timestamps = split.train_users, split.train_items, split.train_timestamps
    held = _test_mask(split.protocol, users, items, timestamps, seed)
    return replace(
        split, seed=seed, train_users=users[~held], train_items=items[~held], train_timestamps=timestamps[~held],
        test_users=users[held], test_items=items[held], role="validation",
    )


def tuning_overlap(tuning: Split, test: Split) -> dict[str, float]:
    """How much of ``test``'s test pairs the tuning run saw: as validation targets, or as training pairs.

    ``tuning`` is the validation split the configurations were chosen on. A test split drawn
    with another seed than the tuning split's own test split can hold pairs that tuning
    scored (validation targets) or trained on; this measures it (shares of ``test``'s pairs).
    """
    n_items = test.n_items
    codes = cell_codes(test.test_users, test.test_items, n_items)
    validated = np.isin(codes, cell_codes(tuning.test_users, tuning.test_items, n_items))
    trained = np.isin(codes, cell_codes(tuning.train_users, tuning.train_items, n_items))
    return {"test pairs": len(codes), "validation targets in tuning": float(validated.mean()) if len(codes) else 0.0,
            "training pairs in tuning": float(trained.mean()) if len(codes) else 0.0}
