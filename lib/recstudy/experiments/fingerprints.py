"""Checksums that key the study's caches: what a model's code is and what the data a run sees is.

A cache entry (a tuning study, a trained run's results) is reused only when the model's
source, the shared code it builds on, the data and the settings are all unchanged, so a
rebuild never serves a result computed by other code or on other data.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np

from recstudy.data.interactions import IndexedInteractions
from recstudy.data.sequences import SequenceData
from recstudy.models import get_model


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_fingerprint(data: SequenceData) -> str:
    """A checksum of what a sequential run sees of the data: the sequences, tie order and protocol sizes."""
    digest = hashlib.sha256()
    digest.update(json.dumps([data.n_users, data.n_items, data.max_len, data.tie_seed, len(data.train_users)]).encode())
    digest.update(np.array([len(s) for s in data.sequences], dtype=np.int64).tobytes())
    digest.update(np.concatenate(data.sequences).astype(np.int64).tobytes())
    return digest.hexdigest()


def dataset_fingerprint(data: IndexedInteractions) -> str:
    """A checksum of what a comparison run sees of a dataset: its indexed interactions and sizes."""
    digest = hashlib.sha256(f"{data.n_users} {data.n_items}".encode())
    for array in (data.users, data.items, data.ratings, data.timestamps):
        digest.update(array.tobytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def library_fingerprint(parts: tuple[str, ...]) -> str:
    """A checksum of the library's source files under ``parts`` (files or folders, relative to ``lib/recstudy``)."""
    root = Path(__file__).resolve().parents[1]
    files = sorted(f for part in parts for f in ((root / part).rglob("*.py") if (root / part).is_dir() else [root / part]))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def source_fingerprint(*modules: Any) -> str:
    """A checksum of the source files of ``modules`` (modules, classes or functions)."""
    files = sorted({inspect.getsourcefile(m) for m in modules})
    return sha256_hex(b"".join(Path(f).read_bytes() for f in files))


def model_fingerprint(name: str) -> str:
    """A checksum of model ``name``'s source file and every model file it builds on (base, layers, other models).

    RecGAN builds on IRGAN and GRU4Rec, SeqGAN on GRU4Rec: a change to any of them must
    invalidate the cached runs and tuning of the models that import it.
    """
    import sys

    return source_fingerprint(*(sys.modules[m] for m in model_modules(name)))


def model_modules(name: str) -> list[str]:
    """The ``recstudy.models`` modules model ``name``'s module imports, directly or through each other, and itself."""
    import sys

    def module_of(value: Any) -> str | None:
        return value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)

    seen: set[str] = set()
    pending = [get_model(name).__module__]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for value in vars(sys.modules[current]).values():
            module = module_of(value)
            if module and module.startswith("recstudy.models") and module in sys.modules and module not in seen:
                pending.append(module)
    seen.discard("recstudy.models")  # the registry itself: adding a model must not invalidate the others
    return sorted(seen)


def settings_key(**parts: Any) -> str:
    """One checksum of JSON-able ``parts`` (sorted keys, so the order of the arguments does not matter)."""
    return sha256_hex(json.dumps(parts, sort_keys=True, default=str).encode())
