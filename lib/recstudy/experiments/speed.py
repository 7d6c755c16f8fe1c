"""Training speed of the sequential models as paired ratios, and the check of each against a reference model.

:func:`recstudy.experiments.sequential.epoch_timings` times one epoch of every model in
interleaved rounds; a ratio is formed within each round (the same machine state) and
the median over rounds is reported. Paper B's Table 2 systems are held to an epoch within
``limit`` times SASRec's; a model over it is listed with the reason its design costs more
(:data:`COST_REASONS`), or flagged as unexplained.
"""

from __future__ import annotations

import pandas as pd

# Why a model's epoch costs a multiple of a SASRec epoch by design (each model file's docstring has the details).
COST_REASONS: dict[str, str] = {
    "SeqGAN": "its timed epoch is adversarial: per batch, several discriminator updates (each re-reading the prefix "
              "with a GRU) and a policy-gradient step of the generator over the full softmax",
    "IRGAN": "its timed epoch is adversarial: per batch, several discriminator updates on items drawn from the "
             "generator's full softmax and an importance-sampled policy-gradient step of the generator",
    "RecGAN": "its timed epoch is adversarial with two recurrent players (a packed GRU each), several discriminator "
              "updates and a policy-gradient step per batch",
    "MFGAN": "its timed epoch is adversarial: one self-attention discriminator per factor (four), each updated on "
             "the generator's draws, then a policy-gradient step of the SASRec generator",
    "AOS4Rec": "every position decodes k following items (k full-softmax passes), and its adversarial step rolls "
               "out k-item continuations for the Wasserstein critic",
    "3D-CNN": "each forward pass builds every item's content image (id code, genres, title characters) and "
              "convolves a (sequence x content) input at every position",
    "HPMN": "several GRU memory layers and an attention read-out over them at every position",
    "DREAM": "a recurrent loop over the baskets plus a segmented scan that pools the partial basket of every position",
    "CA-RNN": "its recurrence is a loop over the window's positions with a context-specific transition matrix at "
              "each step, where GRU4Rec runs one fused GRU kernel",
}


def paired_ratio(speed: pd.DataFrame, reference: str) -> pd.Series:
    """Median over rounds of each model's seconds per epoch divided by ``reference``'s in the same round.

    ``speed`` has the columns model, seed (the round) and seconds_per_epoch, as
    :func:`~recstudy.experiments.sequential.epoch_timings` returns.
    """
    wide = speed.pivot(index="seed", columns="model", values="seconds_per_epoch")
    if reference not in wide.columns:
        raise ValueError(f"no timing of the reference model {reference!r}; timed: {', '.join(wide.columns)}")
    return wide.div(wide[reference], axis=0).median()


def speed_check(speed: pd.DataFrame, models: list[str], reference: str = "SASRec", limit: float = 3.0) -> pd.DataFrame:
    """Each model's paired epoch ratio to ``reference``, whether it is within ``limit``, and why not where it is not."""
    ratio = paired_ratio(speed, reference).loc[models]
    within = ratio <= limit
    why = [("" if ok else COST_REASONS.get(model, "no reason recorded: a slowdown to look into"))
           for model, ok in within.items()]
    return pd.DataFrame({f"ratio to {reference}": ratio, f"within {limit:g}x": within, "why not": why}, index=ratio.index)
