"""Paired epoch ratios and the check against SASRec's epoch."""

from __future__ import annotations

import pandas as pd
import pytest

from recstudy.experiments.speed import COST_REASONS, paired_ratio, speed_check, timing_table
from recstudy.models import REGISTRY


def _speed(times: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "seed": r, "seconds_per_epoch": t} for m, ts in times.items() for r, t in enumerate(ts)])


def test_ratios_pair_by_round_and_take_the_median():
    # The machine is twice as slow in round 1: paired ratios do not see it, ratios of medians would.
    speed = _speed({"SASRec": [1.0, 2.0, 1.0], "Caser": [2.0, 4.0, 2.5], "GRU4Rec": [0.5, 1.0, 0.4]})
    ratio = paired_ratio(speed, "SASRec")
    assert ratio["SASRec"] == 1.0 and ratio["Caser"] == 2.0 and ratio["GRU4Rec"] == 0.5


def test_models_over_the_limit_say_why_or_are_flagged():
    speed = _speed({"SASRec": [1.0, 1.0], "DREAM": [2.9, 3.0], "AOS4Rec": [4.0, 5.0], "Caser": [3.5, 3.5]})
    table = speed_check(speed, ["DREAM", "AOS4Rec", "Caser"])
    assert table["within 3x"].tolist() == [True, False, False]
    assert table.loc["DREAM", "why not"] == ""
    assert table.loc["AOS4Rec", "why not"] == COST_REASONS["AOS4Rec"]
    assert table.loc["Caser", "why not"].startswith("no reason recorded")


def test_timing_table_gives_spread_ratios_and_the_check():
    speed = _speed({"GRU4Rec": [1.0, 3.0, 2.0], "SASRec": [2.0, 4.0, 2.0], "AOS4Rec": [8.0, 16.0, 9.0]})
    table = timing_table(speed, ["GRU4Rec", "SASRec", "AOS4Rec"])
    assert table.index.tolist() == ["GRU4Rec", "SASRec", "AOS4Rec"]
    assert table.loc["GRU4Rec", ["median", "min", "max"]].tolist() == [2.0, 1.0, 3.0]
    assert table.loc["SASRec", "ratio to GRU4Rec"] == pytest.approx(4 / 3)  # median of 2, 4/3, 1
    assert table["within 3x"].tolist() == [True, True, False]
    assert "within 3x" not in timing_table(speed, ["GRU4Rec", "AOS4Rec"]).columns  # no SASRec timed, no check
    sasrec_first = timing_table(speed, ["SASRec", "AOS4Rec"])  # one ratio column serves both
    assert sasrec_first.columns.tolist() == ["median", "min", "max", "ratio to SASRec", "within 3x", "why not"]
    assert sasrec_first["within 3x"].tolist() == [True, False]


def test_missing_reference_is_named():
    with pytest.raises(ValueError, match="no timing of the reference model 'SASRec'"):
        paired_ratio(_speed({"Caser": [1.0]}), "SASRec")


def test_every_reason_names_a_registered_model():
    assert set(COST_REASONS) <= set(REGISTRY)


def test_command_line_times_every_model_in_interleaved_rounds(ml100k, tmp_path, capsys):
    from recstudy.experiments.speed import main

    out = tmp_path / "speed.csv"
    assert main(["--threads", "1", "--repeats", "2", "--max-len", "3", "--models", "GRU4Rec", "SASRec", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 interleaved rounds" in printed and "ratio to SASRec" in printed
    speed = pd.read_csv(out)
    assert sorted(speed.model.unique()) == ["GRU4Rec", "SASRec"] and speed.groupby("model").seed.nunique().eq(2).all()
    assert (speed.seconds_per_epoch > 0).all()
