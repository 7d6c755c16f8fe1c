"""The full profile's jobs, as make would run them (a dry run: ``make -n -B`` prints every command, runs none)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from recstudy.models import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@functools.lru_cache
def notebook_runs(target: str, profile: str = "full") -> list[tuple[str, str, list[str] | None, list[str] | None]]:
    """(notebook, output, models or None, seeds or None) of every notebook run make would do for ``target``, in order."""
    # a clean environment: under `make test` the outer make's flags (jobserver, -j) must not reach this one
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(["make", "-n", "-B", f"PROFILE={profile}", target], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env).stdout
    runs = []
    for line in out.splitlines():
        if "recstudy.pipeline execute" in line:
            words = line.split()
            models = re.search(r"--set 'models=\[([^\]]*)\]'", line)
            seeds = re.search(r"--set 'seeds=\[([^\]]*)\]'", line)
            runs.append((words[-2], words[-1], models.group(1).split(",") if models else None,
                         seeds.group(1).split(",") if seeds else None))
    return runs


def test_every_job_runs_an_existing_notebook_on_registered_models():
    runs = notebook_runs("reports/10_sequential_comparison.ipynb")
    jobs = [(nb, out, models, seeds) for nb, out, models, seeds in runs if models is not None]
    assert len(jobs) == 16
    for notebook, output, models, seeds in jobs:
        assert (ROOT / notebook).exists()
        assert set(models) <= set(REGISTRY), models
        share = f"~{'+'.join(seeds)}" if seeds else ""
        assert output == f"reports/runs/{Path(notebook).stem}@{'+'.join(models)}{share}.ipynb"


def test_ablation_job_waits_for_the_models_it_ablates_and_10_for_it():
    assert [run[1] for run in notebook_runs("reports/runs/10_sequential_comparison@Caser+NextItNet.ipynb")] == [
        "reports/runs/07_cnn@Caser.ipynb", "reports/runs/07_cnn@NextItNet.ipynb",
        "reports/runs/10_sequential_comparison@Caser+NextItNet.ipynb"]
    outputs = [run[1] for run in notebook_runs("reports/10_sequential_comparison.ipynb")]
    assert outputs.index("reports/runs/10_sequential_comparison@Caser+NextItNet.ipynb") < \
        outputs.index("reports/10_sequential_comparison.ipynb")


def test_quick_profile_has_no_jobs():
    assert all(run[2] is None for run in notebook_runs("reports/quick/10_sequential_comparison.ipynb", "quick"))


def test_longest_jobs_start_first():
    # make -j2 starts jobs in this order: a long job started last would run alone at the end of the build
    outputs = [run[1] for run in notebook_runs("all")]
    assert outputs[:8] == ["reports/runs/08_gan@AOS4Rec~0+1.ipynb", "reports/runs/08_gan@MFGAN.ipynb",
                           "reports/runs/07_cnn@NextItNet.ipynb", "reports/runs/09_transformers@SASRec.ipynb",
                           "reports/runs/07_cnn@3D-CNN.ipynb", "reports/runs/06_rnn@HPMN.ipynb",
                           "reports/runs/08_gan@AOS4Rec~2+3+4.ipynb", "reports/11_sasrec_video_games.ipynb"]
    assert len(outputs) == len(set(outputs))  # each job once


def test_a_model_split_over_jobs_runs_each_seed_once_and_tunes_once():
    # AOS4Rec's seeds are shared by two jobs; the second waits for the first, which tunes (the budget is spent once)
    jobs = [run for run in notebook_runs("reports/08_gan.ipynb") if run[2] == ["AOS4Rec"]]
    seeds = [int(s) for run in jobs for s in run[3]]
    assert len(jobs) == 2 and sorted(seeds) == yaml.safe_load((ROOT / "profiles/full/08_gan.yaml").read_text())["seeds"]
    assert [run[1] for run in notebook_runs(jobs[1][1])] == [jobs[0][1], jobs[1][1]]
