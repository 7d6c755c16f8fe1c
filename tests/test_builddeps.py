"""The Makefile's prerequisites: the library files a notebook's imports reach, and only those."""

from __future__ import annotations

import json
from pathlib import Path

from recstudy.builddeps import LIB, make_fragment, notebook_dependencies

ROOT = LIB.parent


def _notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": []} for s in sources]
    cells.insert(0, {"cell_type": "markdown", "source": "# title", "metadata": {}})
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}))
    return path


def _tree(lib: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = lib / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_closure_follows_absolute_relative_and_package_imports(tmp_path):
    lib = tmp_path / "lib"
    _tree(lib, {
        "recstudy/__init__.py": "",
        "recstudy/a/__init__.py": "from .b import thing\n",
        "recstudy/a/b.py": "def f():\n    from recstudy.c import d\n",
        "recstudy/c/__init__.py": "",
        "recstudy/c/d.py": "import importlib\nimportlib.import_module('recstudy.e')\n",
        "recstudy/e.py": "",  # only named in a string: not followed
        "recstudy/unused.py": "",
    })
    nb = _notebook(tmp_path / "01_x.ipynb", "%matplotlib inline\nfrom recstudy.a import b\n", "this is not python (",
                   "!ls\nimport numpy")
    names = {p.relative_to(lib).as_posix() for p in notebook_dependencies(nb, lib)}
    assert names == {"recstudy/__init__.py", "recstudy/a/__init__.py", "recstudy/a/b.py",
                     "recstudy/c/__init__.py", "recstudy/c/d.py"}
    assert make_fragment(nb, lib, tmp_path).startswith(
        "$(REPORTS)/01_x.ipynb $(filter $(REPORTS)/runs/01_x@%,$(MODEL_RUN_TARGETS)): lib/recstudy/__init__.py ")


def test_paper_a_notebooks_do_not_depend_on_sequential_models():
    for name in ("00_data", "01_gmf", "02_mlp", "03_neumf", "04_comparison"):
        deps = [p.relative_to(ROOT).as_posix() for p in notebook_dependencies(ROOT / "notebooks" / f"{name}.ipynb")]
        assert deps, name
        assert not [d for d in deps if d.startswith("lib/recstudy/models/sequential/")], name
    gmf = {p.relative_to(ROOT).as_posix() for p in notebook_dependencies(ROOT / "notebooks" / "01_gmf.ipynb")}
    assert "lib/recstudy/models/ncf/gmf.py" in gmf and "lib/recstudy/sampling/ocfb.py" in gmf


def test_the_sequential_comparison_depends_on_every_sequential_model():
    deps = {p.relative_to(ROOT).as_posix() for p in notebook_dependencies(ROOT / "notebooks" / "10_sequential_comparison.ipynb")}
    for model in ("gru4rec", "caser", "nextitnet", "sasrec", "bert4rec", "seqgan"):
        assert f"lib/recstudy/models/sequential/{model}.py" in deps
    assert not [d for d in deps if d.startswith("lib/recstudy/models/ncf/")]
