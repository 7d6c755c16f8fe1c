"""What every report records about how it was made, and the metrics it hands to tests."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from recstudy.config import PROJECT_ROOT

TRACKED_PACKAGES = ("torch", "numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "papermill", "nbval")
METRICS_FILE_ENV = "RECSTUDY_METRICS_FILE"


def git_commit() -> str:
    """HEAD's commit hash, with "+dirty" when tracked sources differ from it; "unknown" outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no", "--", "lib", "notebooks", "profiles"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance_table(parameters: dict[str, Any], data_checksums: dict[str, str]) -> pd.DataFrame:
    """A two-column table (what, value) of parameters, data checksums, package versions and git commit."""
    rows = [("parameter: " + k, repr(v)) for k, v in parameters.items()]
    rows += [("data sha256: " + k, v) for k, v in data_checksums.items()]
    rows += [("package: " + k, v) for k, v in package_versions().items()]
    rows.append(("git commit", git_commit()))
    return pd.DataFrame(rows, columns=["what", "value"]).set_index("what")


HEADLINE_KEY = "_headline"  # in the metrics JSON: the keys reports/index.html shows for the notebook


def record_metrics(metrics: dict[str, float], digits: int = 4, headline: list[str] | None = None,
                   timings: dict[str, float] | None = None) -> dict[str, float]:
    """Round and print a notebook's key metrics; also write them as JSON when run by the pipeline.

    The printed lines are stable across runs with the same seed, so the final
    cell of a notebook can be checked by nbval; the JSON file (path from the
    environment variable set by :mod:`recstudy.pipeline`) feeds reports/index.html,
    which shows the ``headline`` keys (what the report is about) beside its title.
    ``timings`` (seconds, which differ from run to run) go into the JSON file only, never
    into the printed, checked lines.
    """
    unknown = [key for key in headline or [] if key not in {**metrics, **(timings or {})}]
    if unknown:
        raise ValueError(f"headline key(s) {unknown} are not among the recorded metrics")

    def tidy(value):
        if isinstance(value, (bool, np.bool_, int, np.integer)):  # flags print as 0/1
            return int(value)
        if isinstance(value, (float, np.floating)):
            return round(float(value), digits)
        return value

    rounded = {k: tidy(v) for k, v in sorted(metrics.items())}
    for key, value in rounded.items():
        print(f"{key}: {value}")
    target = os.environ.get(METRICS_FILE_ENV)
    if target:
        with open(target, "w") as handle:
            json.dump({**rounded, **{k: tidy(v) for k, v in sorted((timings or {}).items())},
                       HEADLINE_KEY: list(headline or [])}, handle, indent=1)
    return rounded
