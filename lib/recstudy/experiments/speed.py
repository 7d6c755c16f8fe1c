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
    "RecGAN": "its timed epoch is adversarial with two recurrent players (a GRU each), several discriminator "
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


def timing_table(speed: pd.DataFrame, models: list[str], reference: str = "SASRec", limit: float = 3.0) -> pd.DataFrame:
    """Each model's median, min and max seconds per epoch over the rounds, its paired ratio to the first model
    and, where ``reference`` was timed, :func:`speed_check` against it (notebook 10 and ``make speed``)."""
    timing = speed.groupby("model")["seconds_per_epoch"].agg(["median", "min", "max"]).loc[models]
    timing[f"ratio to {models[0]}"] = paired_ratio(speed, models[0]).loc[models]
    if reference in models:
        check = speed_check(speed, models, reference, limit)
        timing = timing.join(check.drop(columns=[c for c in check.columns if c in timing.columns]))
    return timing


def main(argv: list[str] | None = None) -> int:
    """``python -m recstudy.experiments.speed``: notebook 10's timing cell on its own, for a quiet machine.

    One epoch of each model over every training transition (``windows="all"``) at its
    reference settings, in interleaved rounds within this process; prints the medians and
    each model's paired ratio to SASRec. ``make speed`` runs it with two threads.
    """
    import argparse

    import torch

    from recstudy.config import resolve_device, seed_everything
    from recstudy.data.datasets import load_dataset
    from recstudy.data.sequences import build_sequences
    from recstudy.data.side_info import item_side_info
    from recstudy.experiments.sequential import available_models, epoch_timings

    parser = argparse.ArgumentParser(prog="python -m recstudy.experiments.speed", description=main.__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", nargs="+", default=["GRU4Rec", "Caser", "NextItNet", "SASRec", "BERT4Rec", "SeqGAN"])
    parser.add_argument("--csv", help="also write every round's timing to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(0)
    table, _ = load_dataset(args.dataset)
    data = build_sequences(table, max_len=args.max_len, windows="all", item_side=item_side_info(args.dataset))
    models, skipped = available_models(args.models, data)
    for name, reason in skipped.items():
        print(f"{name} is skipped: {reason}")
    device = resolve_device(args.device)
    speed = epoch_timings(models, data, {}, repeats=args.repeats, device=device, seed=0)  # every model at its defaults
    timing = timing_table(speed, models)
    print(f"{args.dataset}: {len(data.train_users)} training windows of length {args.max_len}, {args.threads} thread(s), "
          f"device {device}, {args.repeats} interleaved rounds; seconds per epoch:")
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(timing.round(2).to_string())
    if args.csv:
        speed.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
