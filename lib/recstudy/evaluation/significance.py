"""Paired comparisons with intervals and effect sizes, and verdicts that can come out either way.

Two models compared on the same users (and, where they have them, the same seeds) are
compared *paired*: per user, the difference of their scores. Two intervals are offered:

- :func:`paired_bootstrap`: resample users with replacement (the same resample for both
  models), the percentile interval of the mean difference; it covers the variation of
  the user population, which a fixed split otherwise hides;
- :func:`paired_seeds`: the t interval of the mean per-seed difference; it covers the
  optimisation noise.

:func:`decide` turns an interval into a verdict with a stated equivalence margin:
"higher" or "lower" when the interval excludes zero, "equivalent" when it lies inside
(-margin, +margin) (two one-sided tests at the same level), else "undecided". Without a
margin "no difference" is never claimed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based ``level`` confidence interval of the mean (zero width for one value or no spread)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class PairedDifference:
    """Mean of a - b with its interval, the effect size and the verdict under a margin."""

    mean_a: float
    mean_b: float
    difference: float  # mean of a - b
    low: float
    high: float
    effect_size: float  # mean difference / standard deviation of the differences (Cohen's d_z)
    n: int  # users (bootstrap) or seeds (t interval)
    method: str
    margin: float
    verdict: str  # "higher", "lower", "equivalent" or "undecided": a relative to b

    def as_dict(self) -> dict:
        return asdict(self)


def decide(low: float, high: float, margin: float) -> str:
    """Verdict of "a relative to b" from the interval of a - b and the equivalence margin (>= 0)."""
    if margin < 0:
        raise ValueError(f"the equivalence margin must be >= 0, got {margin}")
    if not (np.isfinite(low) and np.isfinite(high)):
        return "undecided"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    if -margin < low and high < margin:
        return "equivalent"
    return "undecided"


def _effect_size(diff: np.ndarray) -> float:
    sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
    if sd == 0:
        return 0.0 if diff.mean() == 0 else float(np.sign(diff.mean()) * np.inf)
    return float(diff.mean() / sd)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"paired values must be non-empty 1-D arrays of equal length, got shapes {a.shape} and {b.shape}")
    return a, b


def bootstrap_means(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of ``values``, drawn in blocks to bound memory for many users."""
    rng = np.random.default_rng(seed)
    return np.concatenate([values[rng.integers(0, len(values), size=(min(256, n_boot - s), len(values)))].mean(axis=1)
                           for s in range(0, n_boot, 256)])


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, margin: float = 0.0, level: float = 0.95, n_boot: int = 2000,
                     seed: int = 0) -> PairedDifference:
    """Bootstrap over users of the mean of ``a - b`` (a[j], b[j]: the same user's scores under two models)."""
    a, b = _pair(a, b)
    diff = a - b
    means = bootstrap_means(diff, n_boot, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return PairedDifference(float(a.mean()), float(b.mean()), float(diff.mean()), float(low), float(high),
                            _effect_size(diff), len(diff), f"paired bootstrap over users ({n_boot} resamples)", margin,
                            decide(float(low), float(high), margin))


def paired_seeds(a: np.ndarray, b: np.ndarray, *, margin: float = 0.0, level: float = 0.95) -> PairedDifference:
    """t interval of the mean per-seed difference ``a - b`` (a[s], b[s]: the two models' results with seed s)."""
    a, b = _pair(a, b)
    diff = a - b
    mean, low, high = confidence_interval(diff, level)
    if len(diff) < 2:
        low, high = -np.inf, np.inf  # one seed says nothing about seed-to-seed variation
    return PairedDifference(float(a.mean()), float(b.mean()), mean, float(low), float(high), _effect_size(diff),
                            len(diff), "paired t over seeds", margin, decide(float(low), float(high), margin))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN and are not counted)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, j in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[j]))
        adjusted[j] = running
    return adjusted
