"""Every method of the comparison behind one call, and the runner that fits and evaluates them.

A method is fitted on a :class:`recstudy.data.protocols.Split`'s training pairs and
returns a model with ``score_all(users) -> (B, n_items)``, which the one evaluator
:func:`recstudy.evaluation.ranking.full_ranking_metrics` ranks against every item the
user has not interacted with in training.

``settings`` are the per-dataset training budgets (epochs, rounds, batch sizes),
the same for every configuration; ``config`` holds a method's tuned
hyperparameters (see :mod:`recstudy.experiments.tuning`). Paper A's three models appear once
per negative scheme ("GMF+uniform", "GMF+OCF-B", "GMF+popularity", "GMF+OCF-B-15"):

- uniform and popularity negatives share the model's configuration tuned with uniform negatives;
- "+OCF-B" (OCF-B inside the comparison's warm-started rounds) is tuned as a method in its own
  right: its configuration is the model's plus its own ``theta``, ``negatives_per_positive``
  (a ratio of the training positives, drawn over the whole grid) and ``rounds``, which
  override the dataset's ``settings``;
- "+OCF-B-15" is Paper A's own loop (:mod:`recstudy.sampling.schemes`, ``ocfb_paper``):
  ``paper_terms`` terms, each retrained from new random weights for ``paper_epochs_per_term``
  epochs, ``paper_negative_ratio`` x the positives as negatives, ``paper_theta``; the paper's
  settings, not tuned (it uses the model's configuration).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch

from recstudy.experiments.fingerprints import dataset_fingerprint, library_fingerprint, settings_key
from recstudy.models import model_names
from recstudy.models.baselines.bpr_mf import BPRMF, train_bpr
from recstudy.data.interactions import IndexedInteractions
from recstudy.models.baselines.item_knn import ItemKNN
from recstudy.sampling.schemes import NEGATIVE_SCHEMES, train_ncf_with_negatives
from recstudy.models.baselines.popularity import MostPopular
from recstudy.data.protocols import Split, make_split, validation_split
from recstudy.evaluation.ranking import full_ranking_metrics
from recstudy.models.baselines.user_cf import UserCF
from recstudy.models.baselines.wmf_als import WeightedMF

BASELINES: tuple[str, ...] = ("MostPop", "ItemKNN", "UserCF", "BPR-MF", "WMF-ALS")
NCF_MODELS: tuple[str, ...] = tuple(model_names(family="NCF"))
SCHEME_LABELS: dict[str, str] = {"uniform": "uniform", "ocfb": "OCF-B", "popularity": "popularity", "ocfb_paper": "OCF-B-15"}
NCF_METHODS: tuple[str, ...] = tuple(f"{m}+{SCHEME_LABELS[s]}" for m in NCF_MODELS for s in NEGATIVE_SCHEMES)
METHODS: tuple[str, ...] = BASELINES + NCF_METHODS

DEFAULT_SETTINGS: dict[str, Any] = {
    "bpr_epochs": 50, "bpr_batch_size": 4096, "als_iterations": 15,
    "ncf_rounds": 4, "ncf_epochs_per_round": 2, "ncf_batch_size": 4096, "negatives_per_positive": 4, "ocfb_theta": 0.5,
    "paper_terms": 15, "paper_epochs_per_term": 5, "paper_negative_ratio": 1.5, "paper_theta": 0.5,
}
# What an OCF-B configuration may set beside the model's hyperparameters (overriding ``settings``).
OCFB_KEYS: tuple[str, ...] = ("theta", "negatives_per_positive", "rounds")


def tuning_family(method: str) -> str:
    """The name a method is tuned under: "GMF+uniform", "GMF+popularity" and "GMF+OCF-B-15" share "GMF"'s
    tuning; "GMF+OCF-B" is its own family (the model's configuration plus OCF-B's own settings)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {list(METHODS)}")
    return method if method.endswith("+OCF-B") else method.split("+")[0]


def _ncf_parts(method: str) -> tuple[str, str]:
    model, label = method.split("+")
    scheme = {v: k for k, v in SCHEME_LABELS.items()}[label]
    return model, scheme


@dataclass
class FittedMethod:
    model: Any  # anything with score_all(users) -> (B, n_items)
    seconds: float
    seconds_per_epoch: float = float("nan")
    log: Any = None  # per-epoch or per-round record, where the method has one


def fit_method(
    method: str, split: Split, config: dict[str, Any], *, settings: dict[str, Any] | None = None, seed: int = 0,
    device: str = "cpu", validate=None,
) -> FittedMethod:
    """Fit ``method`` with hyperparameters ``config`` on ``split``'s training pairs."""
    tuning_family(method)  # validates the name
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown training setting(s) {sorted(unknown)}: known are {sorted(DEFAULT_SETTINGS)}")
    n_users, n_items, train = split.n_users, split.n_items, split.train_pairs
    start = time.perf_counter()
    per_epoch, log = float("nan"), None
    if method == "MostPop":
        model = MostPopular(n_users, n_items, device=device).fit(*train)
    elif method == "ItemKNN":
        model = ItemKNN(n_users, n_items, device=device, **config).fit(*train)
    elif method == "UserCF":
        model = UserCF(n_users, n_items, device=device, **config).fit(*train)
    elif method == "WMF-ALS":
        model = WeightedMF(n_users, n_items, iterations=settings["als_iterations"], seed=seed, device=device, **config)
        model.fit(*train)
        per_epoch = (time.perf_counter() - start) / settings["als_iterations"]
    elif method == "BPR-MF":
        hyper = dict(config)
        torch.manual_seed(seed)
        model = BPRMF(n_users, n_items, hyper.pop("factors", 64)).to(device)
        log = train_bpr(
            model, *train, epochs=settings["bpr_epochs"], batch_size=settings["bpr_batch_size"], seed=seed,
            validate=validate, **hyper,
        )
        per_epoch = log.seconds_per_epoch
    else:
        model_name, scheme = _ncf_parts(method)
        hyper = dict(config)
        lr, weight_decay = hyper.pop("lr", 1e-3), hyper.pop("weight_decay", 0.0)
        own = {key: hyper.pop(key) for key in OCFB_KEYS if key in hyper}
        if own and scheme != "ocfb":
            raise ValueError(f"{sorted(own)} configure OCF-B; {method} does not take them")
        if scheme == "ocfb_paper":
            ratio, rounds = settings["paper_negative_ratio"], settings["paper_terms"] + 1
            per_round, theta = settings["paper_epochs_per_term"], settings["paper_theta"]
        else:
            ratio = own.get("negatives_per_positive", settings["negatives_per_positive"])
            rounds, per_round = own.get("rounds", settings["ncf_rounds"]), settings["ncf_epochs_per_round"]
            theta = own.get("theta", settings["ocfb_theta"])
        model, log = train_ncf_with_negatives(
            model_name, hyper, n_users, n_items, train, scheme=scheme,
            negatives_per_positive=ratio, rounds=int(rounds),
            epochs_per_round=per_round, theta=theta, lr=lr,
            weight_decay=weight_decay, batch_size=settings["ncf_batch_size"], seed=seed, device=device, validate=validate,
        )
        per_epoch = float(log.seconds_per_epoch.median())
    return FittedMethod(model, time.perf_counter() - start, per_epoch, log)


# --- running many (dataset, protocol, seed, method) tasks, optionally in worker processes ---------

@dataclass(frozen=True)
class Task:
    dataset: str
    protocol: str
    seed: int
    method: str
    config: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    role: str = "test"  # "validation": train on the training part minus validation, score on validation
    k: int = 10
    device: str = "cpu"
    resample_fixed: bool = False  # the benchmark protocol's split varies with the seed (see recstudy.data.protocols)
    auc: bool = True  # full-ranking AUC of a test run (validation runs, read only for NDCG, never compute it)


_DATASETS: dict[str, IndexedInteractions] = {}
_SPLITS: dict[tuple, Split] = {}


def _init_worker(datasets: dict[str, IndexedInteractions], threads: int) -> None:
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    _DATASETS.clear()
    _DATASETS.update(datasets)
    _SPLITS.clear()


def task_split(task: Task) -> Split:
    """The split a task is scored on (cached per process)."""
    key = (task.dataset, task.protocol, task.seed, task.role, task.resample_fixed)
    if key not in _SPLITS:
        split = make_split(_DATASETS[task.dataset], task.protocol, task.seed, resample_fixed=task.resample_fixed)
        _SPLITS[key] = validation_split(split) if task.role == "validation" else split
    return _SPLITS[key]


def run_task(task: Task) -> dict[str, Any]:
    """Fit one method on one split and evaluate it by full ranking; one tidy result row.

    The row also carries the per-user NDCG@k (``per_user``: a Series indexed by user) for
    the paired bootstrap over users (:func:`recstudy.experiments.comparison.paired_tests`).
    """
    split = task_split(task)
    fitted = fit_method(task.method, split, task.config, settings=task.settings, seed=task.seed, device=task.device)
    start = time.perf_counter()
    metrics, per_user = full_ranking_metrics(
        fitted.model.score_all, split.n_users, split.n_items, split.train_pairs, split.test_pairs, k=task.k,
        device=task.device, per_user=True, auc=task.auc and task.role == "test",
    )
    eval_seconds = time.perf_counter() - start
    return {
        "dataset": task.dataset, "protocol": task.protocol, "role": task.role, "seed": task.seed, "method": task.method,
        "config": repr(task.config), **metrics, "fit_seconds": fitted.seconds,
        "seconds_per_epoch": fitted.seconds_per_epoch, "eval_seconds": eval_seconds,
        "per_user": per_user[f"NDCG@{task.k}"].astype("float32"),
    }


# rough relative cost, so the slowest tasks start first and the workers finish together
_COST = {"BPR-MF": 8.0, "MLP": 6.0, "NeuMF": 5.0, "GMF": 3.0, "WMF-ALS": 1.5}
_PAPER_LOOP_COST = 2.0  # the 15-term retrain loop, relative to the same model's other schemes


# The library code a task's result depends on: a change to any of these files invalidates the cached results.
_TASK_CODE = ("experiments/methods.py", "models/ncf", "models/baselines", "sampling", "data", "evaluation/ranking.py",
              "training.py", "utils.py")


def task_cache_path(task: Task, data_fingerprint: str, cache_dir: Path) -> Path:
    """Where ``task``'s result is cached: keyed by every field of the task, the data and the code."""
    key = settings_key(task=dataclasses.asdict(task), data=data_fingerprint, code=library_fingerprint(_TASK_CODE))[:20]
    return Path(cache_dir) / f"{task.dataset.replace('/', '_')[-40:]}-{task.method}-{task.role}-{key}.pkl"


def _store(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(row))
    os.replace(partial, path)  # whole or absent: a run killed while writing leaves no half file


def run_tasks(tasks: list[Task], datasets: dict[str, IndexedInteractions], *, workers: int = 1, threads: int = 1,
              cache_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Run ``tasks`` (in ``workers`` spawned processes of ``threads`` torch threads each, or in this process).

    Each task is seeded by itself, so the results do not depend on ``workers`` or on
    the order tasks finish in; they are returned in the order of ``tasks``. With ``cache_dir``
    each finished task's result is kept there (keyed by the task, the data and the library code
    that computes it, :func:`task_cache_path`) and read back instead of run again, so a killed
    notebook resumes where it stopped and a rebuild with nothing changed runs nothing.
    """
    if workers <= 0 or threads <= 0:
        raise ValueError(f"workers and threads must be positive, got {workers} and {threads}")
    missing = {t.dataset for t in tasks} - set(datasets)
    if missing:
        raise ValueError(f"tasks name dataset(s) {sorted(missing)} that were not given")
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    paths: list[Path | None] = [None] * len(tasks)
    if cache_dir is not None:
        fingerprints = {name: dataset_fingerprint(datasets[name]) for name in {t.dataset for t in tasks}}
        for j, task in enumerate(tasks):
            paths[j] = task_cache_path(task, fingerprints[task.dataset], Path(cache_dir))
            if paths[j].exists():
                results[j] = pickle.loads(paths[j].read_bytes())
    todo = [j for j in range(len(tasks)) if results[j] is None]

    def finished(j: int, row: dict[str, Any]) -> None:
        results[j] = row
        if paths[j] is not None:
            _store(paths[j], row)

    if workers == 1 or len(todo) <= 1:
        saved = torch.get_num_threads()
        _init_worker(datasets, threads)
        try:
            for j in todo:
                finished(j, run_task(tasks[j]))
        finally:
            torch.set_num_threads(saved)
        return results  # type: ignore[return-value]

    def cost(task: Task) -> float:
        return _COST.get(task.method.split("+")[0], 1.0) * (_PAPER_LOOP_COST if task.method.endswith("-15") else 1.0)

    order = sorted(todo, key=lambda j: -cost(tasks[j]))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(datasets, threads)) as pool:
        for j, row in zip(order, pool.map(run_task, [tasks[j] for j in order])):
            finished(j, row)
    return results  # type: ignore[return-value]
