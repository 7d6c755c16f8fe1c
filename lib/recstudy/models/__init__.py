"""The model registry: every model of the study by name, with its family and its library defaults.

``get_model("SASRec")`` returns the class; ``model_defaults("SASRec")`` its default
hyper-parameters (each model class keeps them in its ``defaults`` attribute, one per
model as RecBole keeps one config file per model). Lookups are case-insensitive and
import the model's module only when asked (as RecBole's ``get_model`` does), so the
Paper A code never imports a sequential model, and ``make`` rebuilds only the
notebooks whose imports reach a changed file.

Families: ``NCF`` (Paper A's models, ``recstudy.models.ncf``), ``baseline``
(non-neural and matrix-factorisation baselines, ``recstudy.models.baselines``) and
Paper B's ``RNN``, ``CNN``, ``transformer`` and ``GAN`` (``recstudy.models.sequential``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelEntry:
    name: str
    module: str  # below recstudy.models
    cls: str
    family: str
    sequential: bool  # scores the next item of a sequence (scores(users, inputs)) rather than score_all(users)


_ENTRIES = (
    ModelEntry("GMF", "ncf.gmf", "GMF", "NCF", False),
    ModelEntry("MLP", "ncf.mlp", "MLP", "NCF", False),
    ModelEntry("NeuMF", "ncf.neumf", "NeuMF", "NCF", False),
    ModelEntry("MostPop", "baselines.popularity", "MostPopular", "baseline", False),
    ModelEntry("ItemKNN", "baselines.item_knn", "ItemKNN", "baseline", False),
    ModelEntry("UserCF", "baselines.user_cf", "UserCF", "baseline", False),
    ModelEntry("BPR-MF", "baselines.bpr_mf", "BPRMF", "baseline", False),
    ModelEntry("WMF-ALS", "baselines.wmf_als", "WeightedMF", "baseline", False),
    ModelEntry("MarkovChain", "baselines.markov_chain", "MarkovChain", "baseline", True),
    ModelEntry("GRU4Rec", "sequential.gru4rec", "GRU4Rec", "RNN", True),
    ModelEntry("Caser", "sequential.caser", "Caser", "CNN", True),
    ModelEntry("NextItNet", "sequential.nextitnet", "NextItNet", "CNN", True),
    ModelEntry("SASRec", "sequential.sasrec", "SASRec", "transformer", True),
    ModelEntry("BERT4Rec", "sequential.bert4rec", "BERT4Rec", "transformer", True),
    ModelEntry("SeqGAN", "sequential.seqgan", "SeqGAN", "GAN", True),
    ModelEntry("DREAM", "sequential.dream", "DREAM", "RNN", True),
    ModelEntry("CA-RNN", "sequential.ca_rnn", "CARNN", "RNN", True),
    ModelEntry("HPMN", "sequential.hpmn", "HPMN", "RNN", True),
    ModelEntry("3D-CNN", "sequential.cnn3d", "CNN3D", "CNN", True),
    ModelEntry("IRGAN", "sequential.irgan", "IRGAN", "GAN", True),
    ModelEntry("RecGAN", "sequential.recgan", "RecGAN", "GAN", True),
    ModelEntry("MFGAN", "sequential.mfgan", "MFGAN", "GAN", True),
    ModelEntry("AOS4Rec", "sequential.aos4rec", "AOS4Rec", "GAN", True),
)
REGISTRY: dict[str, ModelEntry] = {e.name: e for e in _ENTRIES}
_BY_LOWER = {name.lower(): entry for name, entry in REGISTRY.items()}


def model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name`` (case-insensitive); an unknown name lists the known ones."""
    entry = _BY_LOWER.get(str(name).lower())
    if entry is None:
        raise ValueError(f"unknown model {name!r}: choose one of {list(REGISTRY)}")
    return entry


def get_model(name: str) -> type:
    """The class of model ``name`` (imported on first use)."""
    entry = model_entry(name)
    return getattr(importlib.import_module(f"recstudy.models.{entry.module}"), entry.cls)


def model_family(name: str) -> str:
    return model_entry(name).family


def model_defaults(name: str) -> dict[str, Any]:
    """A copy of the library's default hyper-parameters of model ``name`` (its class's ``defaults``)."""
    return dict(getattr(get_model(name), "defaults", {}))


def model_names(*, family: str | None = None, sequential: bool | None = None) -> list[str]:
    """Registered names, in registry order, optionally of one family or kind."""
    return [e.name for e in _ENTRIES
            if (family is None or e.family == family) and (sequential is None or e.sequential == sequential)]
