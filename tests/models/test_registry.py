"""The one model registry: names, families, defaults, and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from recstudy.models import REGISTRY, get_model, model_defaults, model_family, model_names


def test_every_entry_resolves_to_its_class_with_defaults():
    for name, entry in REGISTRY.items():
        cls = get_model(name)
        assert cls.__name__ == entry.cls
        assert isinstance(model_defaults(name), dict)
    assert get_model("mlp") is get_model("MLP")  # case-insensitive
    assert model_family("SASRec") == "transformer" and model_family("GRU4Rec") == "RNN"
    assert model_names(family="NCF") == ["GMF", "MLP", "NeuMF"]


def test_defaults_are_copies():
    model_defaults("SASRec")["lr"] = -1.0
    assert model_defaults("SASRec")["lr"] > 0


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'LSTM'.*SASRec"):
        get_model("LSTM")


def test_paper_a_code_never_imports_a_sequential_model():
    code = ("import sys, recstudy.experiments.methods, recstudy.experiments.ocfb_runs, recstudy.models;"
            "recstudy.models.get_model('NeuMF');"
            "print(sorted(m for m in sys.modules if m.startswith('recstudy.models.sequential')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
