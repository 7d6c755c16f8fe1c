"""Training and evaluating the sequential recommenders on top of the shared trainer and metrics.

- :func:`train_sequential` builds a model by name and trains it with
  :func:`recstudy.training.fit` over the training windows of a
  :class:`~recstudy.data.sequences.SequenceData` (full-softmax cross-entropy unless
  ``negatives > 0``), early-stopping on validation NDCG@10. The GAN is first
  pre-trained by MLE, then trained adversarially through ``fit(step_fn=...)``.
- :func:`evaluate` ranks all items for each user's validation or test target with
  :func:`recstudy.evaluation.ranking.full_ranking_metrics`, excluding the items in the
  user's input history.
- :func:`run_seeds` returns tidy DataFrames for the notebooks and caches each run (see its ``cache_dir``);
  tuning is :mod:`recstudy.experiments.optuna_tuning`.
"""

from __future__ import annotations

import inspect
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from recstudy.config import resolve_device, seed_everything
from recstudy.data.sequences import SequenceData
from recstudy.evaluation.ranking import full_ranking_metrics
from recstudy.models import get_model, model_defaults, model_family, model_names
from recstudy.models import sequential as _sequential_models  # noqa: F401  (make: this runner depends on every sequential model)
from recstudy.models.baselines.markov_chain import MarkovChain
from recstudy.models.baselines.popularity import MostPopular
from recstudy.models.sequential.base import SequentialRecommender
from recstudy.data.side_info import require_side_info
from recstudy.training import TrainHistory, fit, index_batches
from recstudy.utils import as_tensor

# The sequential models and the two next-item baselines, by registry name.
MODELS: tuple[str, ...] = tuple(n for n in model_names(sequential=True) if n != "MarkovChain")
BASELINES: tuple[str, ...] = ("MostPop", "MarkovChain")
TRAINING_KEYS = ("epochs", "lr", "batch_size", "weight_decay", "negatives", "patience", "adversarial_epochs", "valid_users")
# How every sequential model is trained unless a notebook says otherwise; each model's own
# hyper-parameters and learning rate are its class's ``defaults`` (see recstudy.models).
# Convergence, not a budget: training stops when validation NDCG@10 has not improved for
# ``patience`` epochs (the best weights are kept); ``epochs`` is a cap that a run should not
# reach, and a run that does is flagged as not converged. ``valid_users`` (None: all) caps the users whose
# validation target drives early stopping, a fixed random subset, as the SASRec authors' code does above 10,000
# users; the reported validation and test metrics always cover every user.
COMMON_TRAINING: dict[str, Any] = {"epochs": 200, "batch_size": 128, "weight_decay": 0.0, "negatives": 0, "patience": 10,
                                   "adversarial_epochs": 3, "valid_users": None}
VALIDATION_SUBSET_SEED = 0  # the same validation users for every model and seed


def _check_sequential(name: str) -> None:
    if name not in MODELS:
        raise ValueError(f"unknown sequential model {name!r}: choose one of {list(MODELS)}")


def settings_for(name: str, **overrides: Any) -> dict[str, Any]:
    """The default training settings and hyper-parameters of model ``name``, updated by ``overrides``."""
    _check_sequential(name)
    return {**COMMON_TRAINING, **model_defaults(name), **overrides}


def build_model(name: str, data: SequenceData, **hparams: Any) -> SequentialRecommender:
    """A fresh model ``name`` sized for ``data``; ``hparams`` are the model's constructor arguments."""
    _check_sequential(name)
    cls = get_model(name)
    parameters = inspect.signature(cls).parameters
    if "max_len" in parameters:  # models with position embeddings
        hparams.setdefault("max_len", data.max_len)
    if "item_side" in parameters:  # models that read titles, genres, years: refused on data without them
        hparams["item_side"] = require_side_info(data.item_side, name)
    return cls(data.n_items, n_users=data.n_users, **hparams)


def available_models(names: list[str], data: SequenceData) -> tuple[list[str], dict[str, str]]:
    """The models of ``names`` that can run on ``data``, and for each one that cannot, why.

    A model that reads item side information (titles, genres, years) cannot run on a log
    that has none; it is skipped with the reason, never fed invented features.
    """
    kept, skipped = [], {}
    for name in names:
        needs_side = name in MODELS and "item_side" in inspect.signature(get_model(name)).parameters
        if needs_side and data.item_side is None:
            skipped[name] = "it reads item side information (titles, genres, years), which this data set does not have"
        else:
            kept.append(name)
    return kept, skipped


def fit_baseline(name: str, data: SequenceData, device: str = "cpu") -> MostPopular | MarkovChain:
    """A next-item baseline fitted on the same training histories the neural models see."""
    if name == "MostPop":
        return MostPopular(data.n_users, data.n_items, device=device).fit(*data.training_pairs())
    if name == "MarkovChain":
        return MarkovChain(data.n_users, data.n_items, device=device).fit(data)
    raise ValueError(f"unknown next-item baseline {name!r}: choose one of {list(BASELINES)}")


def evaluate(model: Any, data: SequenceData, split: str = "test", *, k: int = 10, per_user: bool = False,
             device: str = "cpu", keep_last: int | None = None, auc: bool = True, users: np.ndarray | None = None) -> Any:
    """Full-ranking metrics of ``model`` for every user's validation or test target.

    Items already in the user's history before the target are excluded from the
    ranking. ``keep_last=n`` shows the model only the last n items of each input
    (the rest padded), to measure how much it uses the farther past. With
    ``per_user`` the result is (means, per-user DataFrame), as from
    :func:`~recstudy.evaluation.ranking.full_ranking_metrics`; ``auc=False`` skips AUC (early stopping);
    ``users`` scores only those users' targets.
    """
    inputs = as_tensor(data.inputs(split), device=device)
    times = as_tensor(data.input_times(split), device=device) if _uses_time(model) else None
    if keep_last is not None:
        if not 1 <= keep_last <= data.max_len:
            raise ValueError(f"keep_last must be between 1 and max_len={data.max_len}, got {keep_last}")
        inputs = inputs.clone()
        inputs[:, : data.max_len - keep_last] = 0
        if times is not None:
            times = times.clone()
            times[:, : data.max_len - keep_last] = 0
    training = getattr(model, "training", False)
    if isinstance(model, torch.nn.Module):
        model.eval()
    try:
        with torch.no_grad():
            return full_ranking_metrics(
                lambda users: _scores(model, users, inputs, times),
                data.n_users, data.n_items, data.excluded_pairs(split), _targets_of(data, split, users),
                k=k, device=device, per_user=per_user, auc=auc,
            )
    finally:
        if isinstance(model, torch.nn.Module):
            model.train(training)


def _targets_of(data: SequenceData, split: str, users: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    target_users, target_items = data.target_pairs(split)
    if users is None:
        return target_users, target_items
    keep = np.isin(target_users, users)
    return target_users[keep], target_items[keep]


def validation_users(data: SequenceData, cap: int | None) -> np.ndarray | None:
    """A fixed random subset of ``cap`` users (None when ``cap`` is None or covers every user)."""
    if cap is None or cap >= data.n_users:
        return None
    if cap < 1:
        raise ValueError(f"valid_users must be at least 1, got {cap}")
    return np.sort(np.random.default_rng(VALIDATION_SUBSET_SEED).choice(data.n_users, int(cap), replace=False))


def _uses_time(model: Any) -> bool:
    return bool(getattr(model, "uses_time", False))


def _scores(model: Any, users: torch.Tensor, inputs: torch.Tensor, times: torch.Tensor | None) -> torch.Tensor:
    """``model.scores`` of ``users``' rows of ``inputs`` (and of ``times`` for a model that reads time)."""
    rows = users.to(inputs.device)
    return model.scores(users, inputs[rows]) if times is None else model.scores(users, inputs[rows], times[rows])


def top_k_items(model: Any, data: SequenceData, split: str = "test", *, k: int = 10, device: str = "cpu") -> np.ndarray:
    """(n_users, k) item indices each user would be shown: best scores first, items of the input history removed."""
    inputs = as_tensor(data.inputs(split), device=device)
    times = as_tensor(data.input_times(split), device=device) if _uses_time(model) else None
    ex_users, ex_items = data.excluded_pairs(split)
    with torch.no_grad():
        scores = _scores(model, torch.arange(data.n_users, device=device), inputs, times).float().clone()
    scores[torch.as_tensor(ex_users, device=device), torch.as_tensor(ex_items, device=device)] = float("-inf")
    return scores.topk(k, dim=1).indices.cpu().numpy()


def window_batches(data: SequenceData, batch_size: int, device: str, *, times: bool = False
                   ) -> Callable[[torch.Generator], Any]:
    """The ``batches`` callable for :func:`fit`: shuffled (user, input, target[, input times]) windows, on the device."""
    arrays = [data.train_users, data.train_inputs, data.train_targets] + ([data.train_times] if times else [])
    if times and data.train_times is None:
        raise ValueError("these sequences were built without timestamps")
    tensors = [as_tensor(a, device=device) for a in arrays]

    def batches(generator: torch.Generator):
        for index in index_batches(len(tensors[0]), batch_size, generator, device):
            yield tuple(t[index] for t in tensors)

    return batches


@dataclass
class SequentialRun:
    """One trained model: its histories (MLE, and adversarial for the GAN) and test metrics."""

    name: str
    seed: int
    model: Any
    history: TrainHistory | None
    adversarial_history: TrainHistory | None = None
    test: dict[str, Any] = field(default_factory=dict)
    valid: dict[str, Any] = field(default_factory=dict)
    family: str = ""  # the registry family of the model trained (kept when a variant relabels ``name``)

    def __post_init__(self) -> None:
        self.family = self.family or model_family(self.name)

    def curves(self) -> pd.DataFrame:
        """One row per epoch: phase, loss, validation NDCG@10, epoch seconds, cumulative seconds."""
        frames = []
        for phase, h in (("mle", self.history), ("adversarial", self.adversarial_history)):
            if h is None or not h.losses:
                continue
            n = len(h.losses)
            frames.append(pd.DataFrame({"phase": phase, "loss": h.losses, "valid_NDCG@10": list(h.val_scores)[:n] + [np.nan] * (n - len(h.val_scores)),
                                        "seconds": list(h.seconds)[:n]}))
        if not frames:
            return pd.DataFrame(columns=["model", "seed", "epoch", "phase", "loss", "valid_NDCG@10", "seconds", "elapsed"])
        curves = pd.concat(frames, ignore_index=True)
        curves.insert(0, "epoch", np.arange(1, len(curves) + 1))
        curves.insert(0, "seed", self.seed)
        curves.insert(0, "model", self.name)
        curves["elapsed"] = curves["seconds"].cumsum()
        return curves

    def gan_log(self) -> pd.DataFrame:
        """Per adversarial epoch: mean generator / discriminator losses, D accuracy and reward (GAN only)."""
        log = getattr(self.model, "adversarial_log", None)
        if not log or self.adversarial_history is None:
            return pd.DataFrame()
        steps = pd.DataFrame(log)
        epochs = len(self.adversarial_history.losses)
        steps["adversarial_epoch"] = np.repeat(np.arange(1, epochs + 1), int(np.ceil(len(steps) / epochs)))[: len(steps)]
        out = steps.groupby("adversarial_epoch").mean().reset_index()
        out.insert(0, "seed", self.seed)
        return out

    def summary(self) -> dict[str, Any]:
        curves = self.curves()
        best = int(curves["valid_NDCG@10"].fillna(-1).to_numpy().argmax()) if len(curves) else -1
        main = self.adversarial_history or self.history
        return {
            "model": self.name, "family": self.family, "seed": self.seed,
            **{f"test_{m}": self.test.get(m, np.nan) for m in ("HR@10", "NDCG@10", "MRR@10")},
            "valid_NDCG@10": self.valid.get("NDCG@10", np.nan),
            "parameters": int(getattr(self.model, "n_parameters", 0)),
            "seconds_per_epoch": main.seconds_per_epoch if main is not None else 0.0,
            "epochs_run": len(curves), "best_epoch": best + 1 if best >= 0 else 0,
            # converged: early stopping ended the (MLE) training before its epoch cap; baselines are not trained
            "converged": bool(self.history.stopped_early) if self.history is not None else np.nan,
            "seconds_to_best": float(curves["elapsed"].iloc[best]) if best >= 0 else 0.0,
            "total_seconds": float(curves["elapsed"].iloc[-1]) if len(curves) else 0.0,
        }


def train_sequential(name: str, data: SequenceData, *, seed: int = 0, device: str = "auto", progress: bool = False,
                     on_epoch: Callable[[int, float], None] | None = None, evaluate_test: bool = True,
                     **settings: Any) -> SequentialRun:
    """Train model ``name`` (or fit baseline ``name``) with ``settings_for(name, **settings)``; evaluate it.

    ``on_epoch(epoch, validation NDCG@10)`` is called after every epoch (a tuner prunes
    through it by raising); with ``evaluate_test=False`` the test target is never scored.
    """
    device = resolve_device(device)
    if name in BASELINES:
        model = fit_baseline(name, data, device=device)
        return SequentialRun(name, seed, model, None, test=evaluate(model, data, "test", device=device) if evaluate_test else {},
                             valid=evaluate(model, data, "valid", device=device))
    config = settings_for(name, **settings)
    training = {k: config.pop(k) for k in TRAINING_KEYS}
    if training["negatives"] < 0 or training["epochs"] < 1 or training["batch_size"] < 1:
        raise ValueError(f"need negatives >= 0, epochs >= 1 and batch_size >= 1, got {training}")
    lr = training["lr"]
    seed_everything(seed)
    model = build_model(name, data, **config).to(device)
    model.negatives = int(training["negatives"])
    batches = window_batches(data, int(training["batch_size"]), device, times=_uses_time(model))

    epochs_seen = 0
    stopping_users = validation_users(data, training["valid_users"])

    def validate(m: Any) -> float:
        nonlocal epochs_seen
        score = float(evaluate(m, data, "valid", device=device, auc=False, users=stopping_users)["NDCG@10"])
        epochs_seen += 1
        if on_epoch is not None:
            on_epoch(epochs_seen, score)
        return score

    history = fit(model, batches, lambda m, b: m.loss(b), epochs=int(training["epochs"]), lr=lr,
                  weight_decay=training["weight_decay"], seed=seed, validate=validate, patience=training["patience"],
                  progress=progress, desc=f"{name} seed {seed}")
    adversarial = None
    if hasattr(model, "adversarial_step") and training["adversarial_epochs"] > 0:
        model.g_lr = model.d_lr = lr
        adversarial = fit(model, batches, step_fn=lambda m, b: m.adversarial_step(b), epochs=int(training["adversarial_epochs"]),
                          seed=seed + 1, validate=validate, patience=training["patience"], progress=progress,
                          desc=f"{name} adversarial seed {seed}")
    test = evaluate(model, data, "test", device=device) if evaluate_test else {}
    return SequentialRun(name, seed, model, history, adversarial, test=test, valid=evaluate(model, data, "valid", device=device))


@dataclass
class SeedResults:
    """Tidy results of :func:`run_seeds`."""

    runs: pd.DataFrame  # one row per (model, seed): test metrics, parameters, timing
    curves: pd.DataFrame  # one row per (model, seed, epoch)
    gan_log: pd.DataFrame  # one row per (adversarial model, seed, adversarial epoch)
    per_user: pd.DataFrame  # one row per (model, seed, user): test metrics and history length

    @classmethod
    def combine(cls, *parts: "SeedResults") -> "SeedResults":
        """One result from several (e.g. the models over five seeds and their ablations over three)."""
        def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
            frames = [f for f in frames if len(f)]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return cls(*(stack([getattr(p, name) for p in parts]) for name in ("runs", "curves", "gan_log", "per_user")))

    @property
    def converged_fraction(self) -> float:
        """Share of the trained (non-baseline) runs that early stopping ended before their epoch cap."""
        trained = self.runs["converged"].dropna()
        return float(trained.astype(bool).mean()) if len(trained) else float("nan")

    def table(self) -> pd.DataFrame:
        """Mean and standard deviation over seeds per model, sorted by mean test NDCG@10."""
        metrics = ["test_HR@10", "test_NDCG@10", "test_MRR@10", "valid_NDCG@10", "parameters", "seconds_per_epoch",
                   "best_epoch", "seconds_to_best"] + [c for c in self.runs.columns if c.startswith("test_NDCG@10_last")]
        metrics += [c for c in ("test_NDCG@10_tied", "test_NDCG@10_untied", "test_NDCG@10_tie_sd", "test_NDCG@10_tie_min",
                                "test_NDCG@10_tie_max") if c in self.runs.columns]
        grouped = self.runs.groupby(["model", "family"])[metrics]
        table = grouped.mean().join(grouped.std(ddof=1).fillna(0.0), rsuffix="_std")
        table["seeds"] = self.runs.groupby(["model", "family"]).size()
        table["converged"] = self.runs.groupby(["model", "family"])["converged"].apply(
            lambda v: f"{int(v.sum())}/{len(v)}" if v.notna().all() else "")
        return table.sort_values("test_NDCG@10", ascending=False)


def tied_untied_metrics(per_user: pd.DataFrame, data: SequenceData) -> dict[str, float]:
    """Test NDCG@10 and HR@10 over the users whose test target is tied with the item before it, and the others.

    ``per_user`` is the per-user frame of :func:`evaluate` (index: user). A tied target's
    place in its same-second group was decided by the tie order, not by the user.
    """
    if data.test_tied is None:
        return {}
    tied = pd.Series(data.test_tied, name="tied").reindex(per_user.index).fillna(False).astype(bool)
    out = {}
    for metric in ("NDCG@10", "HR@10"):
        out[f"test_{metric}_tied"] = float(per_user.loc[tied, metric].mean()) if tied.any() else np.nan
        out[f"test_{metric}_untied"] = float(per_user.loc[~tied, metric].mean()) if (~tied).any() else np.nan
    return out


def tie_order_data(table: pd.DataFrame, data: SequenceData, n_orders: int) -> list[SequenceData]:
    """``data`` rebuilt from ``table`` with ``n_orders`` other random orders of same-second items (tie seeds 1..n)."""
    from recstudy.data.sequences import build_sequences

    base = data.tie_seed or 0
    windows = "all"  # the training windows are not used: only the test inputs and targets are read
    others = [build_sequences(table, max_len=data.max_len, windows=windows, tie_seed=base + k) for k in range(1, n_orders + 1)]
    for other in others:
        if not (np.array_equal(other.item_ids, data.item_ids) and np.array_equal(other.user_ids, data.user_ids)):
            raise ValueError("the tie-order variants index users or items differently from the data they vary")
    return others


def tie_order_spread(model: Any, data: SequenceData, tie_orders: list[SequenceData], device: str = "cpu",
                     test_ndcg: float | None = None) -> dict[str, float]:
    """Test NDCG@10 of one trained model over the tie order it was trained with and ``tie_orders``.

    Same-second items have no true order, so which of them is the test target and how the
    history before it reads is a convention. Re-scoring the same trained model under other
    random orders shows how much its number owes to the convention (standard deviation,
    minimum and maximum over the orders).
    """
    scores = [float(evaluate(model, data, "test", device=device, auc=False)["NDCG@10"]) if test_ndcg is None else float(test_ndcg)]
    scores += [float(evaluate(model, other, "test", device=device, auc=False)["NDCG@10"]) for other in tie_orders]
    return {"test_NDCG@10_tie_orders": len(scores), "test_NDCG@10_tie_sd": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
            "test_NDCG@10_tie_min": min(scores), "test_NDCG@10_tie_max": max(scores)}


def _one_run(label: str, model_name: str, data: SequenceData, seed: int, settings: dict[str, Any], device: str,
             progress: bool, keep_last: int | None, tie_orders: list[SequenceData] | None = None) -> dict[str, Any]:
    """Train (or fit) one model for one seed and score its test target once: summary, curves, GAN log, per-user rows."""
    run = train_sequential(model_name, data, seed=seed, device=device, progress=progress, evaluate_test=False, **settings)
    run.name = label
    run.test, users = evaluate(run.model, data, "test", device=resolve_device(device), per_user=True)
    summary = {**run.summary(), **tied_untied_metrics(users, data)}
    if tie_orders:
        summary.update(tie_order_spread(run.model, data, tie_orders, resolve_device(device), run.test["NDCG@10"]))
    if keep_last is not None:
        summary[f"test_NDCG@10_last_{keep_last}"] = evaluate(run.model, data, "test", device=resolve_device(device),
                                                             keep_last=keep_last, auc=False)["NDCG@10"]
    users = users.reset_index()
    users["history_length"] = np.asarray(data.history_lengths)[users["user"].to_numpy()]
    users.insert(0, "seed", seed)
    users.insert(0, "model", label)
    return {"summary": summary, "curves": run.curves(), "gan_log": run.gan_log(), "per_user": users}


def run_cache_key(model_name: str, data: SequenceData, seed: int, settings: dict[str, Any], keep_last: int | None,
                  device: str, tie_orders: list[SequenceData] | None = None) -> str:
    """What a cached run depends on: the model's code, the runner's code, the data, its settings, seed and device."""
    from recstudy.evaluation import ranking
    from recstudy.experiments.fingerprints import data_fingerprint, model_fingerprint, settings_key, source_fingerprint
    from recstudy import training

    return settings_key(model=model_name, model_source=model_fingerprint(model_name),
                        runner=source_fingerprint(sys.modules[__name__], training, ranking), data=data_fingerprint(data),
                        seed=seed, settings=settings, keep_last=keep_last, device=resolve_device(device),
                        torch=torch.__version__, tie_orders=[data_fingerprint(d) for d in tie_orders or []])


def _cached_run(cache_dir: Path | None, label: str, model_name: str, data: SequenceData, seed: int,
                settings: dict[str, Any], device: str, progress: bool, keep_last: int | None,
                tie_orders: list[SequenceData] | None) -> dict[str, Any]:
    """:func:`_one_run`, stored under ``cache_dir`` (JSON) and read back when nothing it depends on changed."""
    if cache_dir is None:
        return _one_run(label, model_name, data, seed, settings, device, progress, keep_last, tie_orders)
    key = run_cache_key(model_name, data, seed, settings, keep_last, device, tie_orders)
    path = Path(cache_dir) / f"{model_name}-seed{seed}-{key[:16]}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        frames = {part: pd.read_json(io.StringIO(stored[part]), orient="split") for part in ("curves", "gan_log", "per_user")}
        for frame in frames.values():
            if "model" in frame.columns:
                frame["model"] = label
        return {"summary": {**stored["summary"], "model": label}, **frames}
    result = _one_run(label, model_name, data, seed, settings, device, progress, keep_last, tie_orders)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"summary": result["summary"],
                               **{part: result[part].to_json(orient="split", index=False, double_precision=15)
                                  for part in ("curves", "gan_log", "per_user")}}, default=float))
    tmp.replace(path)  # a killed run leaves no half-written entry
    return result


def run_seeds(names: list[str], data: SequenceData, seeds: list[int], *, settings: dict[str, dict[str, Any]] | None = None,
              device: str = "auto", progress: bool = False, keep_last: int | None = None,
              cache_dir: str | Path | None = None, tie_orders: list[SequenceData] | None = None) -> SeedResults:
    """Train and evaluate every model in ``names`` once per seed; baselines are deterministic and run once.

    A name may also be a label of ``settings`` whose ``"model"`` entry names the
    model (a variant, e.g. a shallower NextItNet). With ``keep_last=n`` each run is
    also tested on only the last n input items (column ``test_NDCG@10_last_n``).
    With ``cache_dir`` every run is stored there and reused by any later call with the
    same model code, data, settings, seed and device (notebook 10 thus reuses the runs of
    notebooks 06-09 instead of training them again); without it nothing is stored.
    ``tie_orders`` (from :func:`tie_order_data`) re-scores every trained run under other
    orders of same-second items (columns ``test_NDCG@10_tie_sd``, ``_tie_min``, ``_tie_max``).
    """
    settings = settings or {}
    model_of = {n: settings.get(n, {}).get("model", n) for n in names}
    unknown = [n for n, m in model_of.items() if m not in MODELS and m not in BASELINES]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}: choose from {list(MODELS) + list(BASELINES)}")
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    runs, curves, gan, per_user = [], [], [], []
    for name in names:
        model_settings = {k: v for k, v in settings.get(name, {}).items() if k != "model"}
        for seed in seeds[:1] if model_of[name] in BASELINES else seeds:
            result = _cached_run(None if cache_dir is None else Path(cache_dir), name, model_of[name], data, seed,
                                 model_settings, device, progress, keep_last, tie_orders)
            runs.append(result["summary"])
            curves.append(result["curves"])
            log = result["gan_log"]
            gan.append(log.drop(columns="model", errors="ignore").assign(model=name) if len(log) else log)
            per_user.append(result["per_user"])
    return SeedResults(pd.DataFrame(runs), pd.concat(curves, ignore_index=True),
                       pd.concat(gan, ignore_index=True) if any(len(g) for g in gan) else pd.DataFrame(),
                       pd.concat(per_user, ignore_index=True))


def epoch_timings(names: list[str], data: SequenceData, settings: dict[str, dict[str, Any]], *, repeats: int = 3,
                  device: str = "auto", seed: int = 0) -> pd.DataFrame:
    """Seconds of one training epoch of every model, measured in interleaved rounds within one process.

    Speed claims are ratios; measured in separate runs (or notebooks) they also compare
    whatever else the machine was doing at the time. Here each round times one epoch of
    every model back to back, in an order rotated each round, so a ratio within a round
    sees the same machine; ``repeats`` rounds give the spread. One row per (model, round);
    the column ``seed`` holds the round, so the rows pair like seeds. The GAN's epoch is
    an adversarial epoch (its MLE epochs cost what its generator's do).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    device = resolve_device(device)
    prepared = {}
    for name in names:
        model_name = settings.get(name, {}).get("model", name)
        config = settings_for(model_name, **{k: v for k, v in settings.get(name, {}).items() if k != "model"})
        training = {k: config.pop(k) for k in TRAINING_KEYS}
        seed_everything(seed)
        model = build_model(model_name, data, **config).to(device)
        model.negatives = int(training["negatives"])
        step = (lambda m, b: m.adversarial_step(b)) if hasattr(model, "adversarial_step") else None
        prepared[name] = (model, window_batches(data, int(training["batch_size"]), device, times=_uses_time(model)),
                          training["lr"], step)
    rows = []
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            model, batches, lr, step = prepared[name]
            history = fit(model, batches, None if step else (lambda m, b: m.loss(b)), step_fn=step, epochs=1, lr=lr,
                          seed=seed + round_, progress=False)
            rows.append({"model": name, "seed": round_, "seconds_per_epoch": history.seconds[0]})
    return pd.DataFrame(rows)
