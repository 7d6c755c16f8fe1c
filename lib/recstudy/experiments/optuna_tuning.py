"""Equal, fair tuning of the sequential models with Optuna, cached so a rebuild does not re-tune.

Every model gets the same number of trials of Optuna's TPE sampler (seeded), scored on
the validation target only (the test target is never scored during tuning), with median
pruning on the per-epoch validation NDCG@10 (or Hyperband). Search spaces live in
:data:`SEARCH_SPACES`, one per model: each contains its reference's defaults and reaches
well beyond them, and :class:`TuningResult.at_edge` lists any chosen value in the outer 5%
of its range, so a space that ends at a winning edge is reported rather than hidden.

Storage: by default a local SQLite file (``<cache_dir>/optuna.db``). Any database URL
Optuna accepts (e.g. ``postgresql://user@host/db``) as ``storage`` spreads the trials of
one study over several machines: start the same call (same ``study_name``) on each; they
share the study through the database (``load_if_exists=True``). That is how a user
outgrows one machine.

Cache: the result is stored as JSON under ``cache_dir`` with a key made of the model's
source files (its module, the shared base and layers), the data's fingerprint, the search
space, the trial budget, the seed and the fixed settings; a second call with the same key
returns the stored result without training.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recstudy.config import DATA_DIR
from recstudy.data.sequences import SequenceData
from recstudy.experiments import sequential as runner
from recstudy.experiments.fingerprints import data_fingerprint, model_fingerprint, settings_key, source_fingerprint

# (kind, low, high, log) for numbers; ("categorical", [ordered choices]) for choices.
# Sources of the defaults the spaces contain: GRU4Rec (Hidasi & Karatzoglou 2018: lr ~1e-3..1e-1, dropout 0-0.5);
# Caser (Tang & Wang 2018: lr 1e-3, dropout 0.5, L = 5, d = 50); NextItNet (Yuan et al. 2019: lr 1e-3, kernel 3);
# SASRec (Kang & McAuley 2018: lr 1e-3, dropout 0.2 dense / 0.5 sparse data, d = 50, 2 blocks);
# BERT4Rec (Sun et al. 2019: lr 1e-4, dropout 0.1, mask probability 0.2 on ML-1M); SeqGAN: this study's model.
_LR = ("float", 1e-4, 3e-2, True)
_DROPOUT = ("float", 0.0, 0.7, False)
_DIM = ("categorical", [32, 64])  # 128 doubled the cost of a trial and a run on this 2-core machine
SEARCH_SPACES: dict[str, dict[str, tuple]] = {
    "GRU4Rec": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM},
    "Caser": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "window": ("int", 2, 10, False)},
    "NextItNet": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "kernel": ("categorical", [2, 3, 5])},
    "SASRec": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "blocks": ("categorical", [1, 2, 3])},
    "BERT4Rec": {"lr": ("float", 3e-5, 1e-2, True), "dropout": _DROPOUT, "dim": _DIM, "mask_prob": ("float", 0.05, 0.5, False)},
    "SeqGAN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "mle_weight": ("float", 0.1, 10.0, True)},
    # The rest of Paper B's Table 2 (see each model's docstring for its paper's settings): DREAM pools a basket by max
    # (the paper's better choice) or mean; CA-RNN's day parts (ours: 4); HPMN's memory layers (authors' code: 3-4);
    # 3D-CNN's filters (ours: 32, the paper's sizes are not public); MFGAN (authors: lr 1e-3, dropout 0.2) and the
    # other adversarial models weigh their MLE anchor like SeqGAN.
    "DREAM": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "pooling": ("categorical", ["max", "mean"])},
    "CA-RNN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "day_parts": ("categorical", [1, 2, 4, 8, 24])},
    "HPMN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "layers": ("int", 2, 5, False)},
    "3D-CNN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "filters": ("categorical", [16, 32, 64])},
    "MFGAN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "mle_weight": ("float", 0.1, 10.0, True)},
    # IRGAN's paper and RecGAN's IRGAN training have no MLE anchor (mle_weight 0), so 0 is in their spaces.
    "IRGAN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "mle_weight": ("categorical", [0.0, 0.1, 0.3, 1.0, 3.0, 10.0])},
    "RecGAN": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "mle_weight": ("categorical", [0.0, 0.1, 0.3, 1.0, 3.0, 10.0])},
    "AOS4Rec": {"lr": _LR, "dropout": _DROPOUT, "dim": _DIM, "mle_weight": ("float", 0.1, 10.0, True)},
}
EDGE_SHARE = 0.05


@dataclass
class TuningResult:
    model: str
    best_params: dict[str, Any]
    best_value: float
    trials: pd.DataFrame  # number, state, value, params_*, duration_s
    at_edge: list[str] = field(default_factory=list)
    from_cache: bool = False
    key: str = ""

    def table(self) -> pd.DataFrame:
        """One row per trial, best first (pruned trials last)."""
        return self.trials.sort_values("value", ascending=False, na_position="last", ignore_index=True)


def at_edge(params: dict[str, Any], space: dict[str, tuple]) -> list[str]:
    """Parameters whose value lies in the outer ``EDGE_SHARE`` of a numeric range (log-aware) or ends a choice list."""
    edges = []
    for key, value in params.items():
        spec = space.get(key)
        if spec is None:
            continue
        if spec[0] == "categorical":
            choices = list(spec[1])
            if len(choices) > 2 and value in (choices[0], choices[-1]):
                edges.append(key)
            continue
        _, low, high, log = spec
        scale = (lambda v: math.log(v)) if log else (lambda v: v)
        position = (scale(value) - scale(low)) / (scale(high) - scale(low))
        if position < EDGE_SHARE or position > 1 - EDGE_SHARE:
            edges.append(key)
    return edges


def _suggest(trial, space: dict[str, tuple]) -> dict[str, Any]:
    params = {}
    for key, spec in space.items():
        if spec[0] == "categorical":
            params[key] = trial.suggest_categorical(key, list(spec[1]))
        elif spec[0] == "int":
            params[key] = trial.suggest_int(key, spec[1], spec[2], log=spec[3])
        else:
            params[key] = trial.suggest_float(key, spec[1], spec[2], log=spec[3])
    return params


def _cache_key(name: str, data: SequenceData, space: dict, n_trials: int, seed: int, pruner: str, fixed: dict) -> str:
    return settings_key(model=name, model_source=model_fingerprint(name), runner=source_fingerprint(runner),
                        data=data_fingerprint(data), space=space, n_trials=n_trials, seed=seed, pruner=pruner, fixed=fixed)


def tune_sequential(name: str, data: SequenceData, *, n_trials: int, space: dict[str, tuple] | None = None, seed: int = 0,
                    storage: str | None = None, study_name: str | None = None, pruner: str = "median",
                    cache_dir: str | Path | None = None, device: str = "auto", **fixed: Any) -> TuningResult:
    """Tune model ``name`` with ``n_trials`` TPE trials on the validation target; cached by model, data and budget."""
    import optuna

    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if pruner not in ("median", "hyperband", "none"):
        raise ValueError(f"pruner must be 'median', 'hyperband' or 'none', got {pruner!r}")
    space = space if space is not None else SEARCH_SPACES[name]
    cache_dir = Path(cache_dir) if cache_dir is not None else DATA_DIR / "tuning"
    key = _cache_key(name, data, space, n_trials, seed, pruner, fixed)
    cached = cache_dir / f"{name}-{key[:16]}.json"
    if cached.exists():
        stored = json.loads(cached.read_text())
        return TuningResult(name, stored["best_params"], stored["best_value"], pd.DataFrame(stored["trials"]),
                            stored["at_edge"], from_cache=True, key=key)
    cache_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    prune = {"median": optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=5),
             "hyperband": optuna.pruners.HyperbandPruner(), "none": optuna.pruners.NopPruner()}[pruner]
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=prune,
        storage=storage or f"sqlite:///{cache_dir / f'optuna-{name}.db'}", study_name=study_name or f"{name}-{key[:16]}",
        load_if_exists=True,
    )

    def objective(trial) -> float:
        params = _suggest(trial, space)

        def report(epoch: int, score: float) -> None:
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        run = runner.train_sequential(name, data, seed=seed, device=device, on_epoch=report, evaluate_test=False,
                                      **{**fixed, **params})
        return float(run.valid["NDCG@10"])

    remaining = n_trials - len([t for t in study.trials if t.state.is_finished()])
    if remaining > 0:
        study.optimize(objective, n_trials=remaining)
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "duration"))
    frame["duration_s"] = frame.pop("duration").dt.total_seconds()
    frame["state"] = frame["state"].astype(str)
    best = study.best_trial
    result = TuningResult(name, dict(best.params), float(best.value), frame, at_edge(best.params, space), key=key)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps({"best_params": result.best_params, "best_value": result.best_value,
                               "trials": json.loads(frame.to_json(orient="records")), "at_edge": result.at_edge},
                              indent=1, default=str))
    tmp.replace(cached)  # a killed run leaves no half-written cache entry
    return result


def tuned_settings(name: str, data: SequenceData, *, n_trials: int, seed: int, epochs: int, patience: int,
                   trial_patience: int | None = None, overrides: dict[str, Any] | None = None, pruner: str = "median",
                   device: str = "auto", cache_dir: str | Path | None = None) -> tuple[TuningResult, dict[str, Any]]:
    """Tune ``name`` with the study's equal budget and return (result, the settings of its final runs).

    ``overrides`` fix settings for tuning and final runs alike; a fixed hyper-parameter is
    taken out of the search space (the quick profile fixes a small ``dim`` this way).
    Trials share the final runs' epoch cap; they stop after ``trial_patience`` epochs
    without improvement (default: ``patience``), a cheaper criterion that is the same for
    every model. Notebooks 06-09 and 10 call this with the same arguments, so they get
    the same settings (and notebook 10 the cached runs).
    """
    overrides = dict(overrides or {})
    space = {k: v for k, v in SEARCH_SPACES[name].items() if k not in overrides}
    trial = {**overrides, "epochs": epochs, "patience": patience if trial_patience is None else trial_patience}
    result = tune_sequential(name, data, n_trials=n_trials, space=space, seed=seed, pruner=pruner, device=device,
                             cache_dir=cache_dir, **trial)
    return result, {**overrides, "epochs": epochs, "patience": patience, **result.best_params}
