"""Which library files a notebook imports, as a make fragment: the notebook's real prerequisites.

    python3 lib/recstudy/builddeps.py notebooks/01_gmf.ipynb   # prints "$(REPORTS)/01_gmf.ipynb: lib/recstudy/..."

Standard library only, so the Makefile can run it before the virtual environment exists.
The notebook's code cells are parsed for ``import recstudy...`` / ``from recstudy... import``
(anywhere, also inside functions), and the imports of the library files they reach are
followed transitively (absolute and relative imports; a module brings its packages'
``__init__.py`` files). Strings handed to ``importlib`` are not followed on purpose: the
model registry imports a model only when asked, and the runners import the model
families they train, so editing one sequential model rebuilds only the notebooks whose
imports reach it.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parent.parent  # the folder that holds the recstudy package
PACKAGE = "recstudy"


def module_file(module: str, lib: Path = LIB) -> Path | None:
    """The .py file of a dotted module name (a package's __init__.py), or None if it is not in the library."""
    base = lib.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_packages(module: str, lib: Path) -> set[Path]:
    """The module's file and the __init__.py of every package above it."""
    parts = module.split(".")
    files = {module_file(".".join(parts[:i]), lib) for i in range(1, len(parts) + 1)}
    return {f for f in files if f is not None}


def imported_modules(source: str, current: str | None = None) -> set[str]:
    """Dotted names of the recstudy modules (and candidate submodules) that ``source`` imports.

    ``current`` is the dotted name of the module the source belongs to, for relative imports
    (``pkg.__init__`` for a package's ``__init__.py``).
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".")  # a package's __init__ comes as "pkg.__init__", so level 1 is pkg
                anchor = parts[: len(parts) - node.level]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import submodule`
    return found


def closure(start: set[str], lib: Path = LIB) -> set[Path]:
    """Every library file reached from the modules ``start`` by following imports."""
    files: set[Path] = set()
    todo = list(start)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(module, lib)
        if path is None:
            continue  # a name imported from a module, not a module
        new = _with_packages(module, lib) - files
        files |= new
        for f in new:
            name = ".".join(f.relative_to(lib).with_suffix("").parts)
            if name.endswith(".__init__"):
                name = name[: -len(".__init__")]
            # relative imports in a package's __init__ are relative to the package itself
            current = name + ".__init__" if f.name == "__init__.py" else name
            todo.extend(imported_modules(f.read_text(encoding="utf-8"), current) - seen)
    return files


def notebook_imports(notebook: Path) -> set[str]:
    """recstudy modules imported by the code cells of ``notebook`` (cells that do not parse are skipped)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    found: set[str] = set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            found |= imported_modules(code)
        except SyntaxError:
            continue
    return found


def notebook_dependencies(notebook: Path, lib: Path = LIB) -> list[Path]:
    """Sorted library files the notebook's imports reach."""
    return sorted(closure(notebook_imports(notebook), lib))


def make_fragment(notebook: Path, lib: Path = LIB, root: Path | None = None) -> str:
    """``$(REPORTS)/<name>.ipynb: <files>`` with paths relative to ``root`` (the repository).

    The Makefile's one-model runs of the notebook (``$(MODEL_RUN_TARGETS)`` under
    ``$(REPORTS)/runs/<name>@<model>``) depend on the same files.
    """
    root = root or lib.parent
    files = " ".join(str(p.relative_to(root)) for p in notebook_dependencies(notebook, lib))
    name = notebook.stem
    return f"$(REPORTS)/{name}.ipynb $(filter $(REPORTS)/runs/{name}@%,$(MODEL_RUN_TARGETS)): {files}\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: builddeps.py NOTEBOOK.ipynb", file=sys.stderr)
        return 2
    sys.stdout.write(make_fragment(Path(argv[0]).resolve()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
