"""Notebook pipeline used by the Makefile: execute with a profile, export HTML, build the index.

Every command writes to a hidden temporary file and renames it into place only
when it has fully succeeded, so a run killed midway never leaves an output that
make would take as done. A notebook that fails is kept as ``NAME.failed.ipynb``
for inspection.

    python -m recstudy.pipeline execute --profile quick notebooks/00_data.ipynb reports/quick/00_data.ipynb
    python -m recstudy.pipeline refresh --profile quick notebooks/00_data.ipynb
    python -m recstudy.pipeline html reports/00_data.ipynb reports/00_data.html
    python -m recstudy.pipeline index reports
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import yaml

from recstudy.config import PROFILES_DIR
from recstudy.provenance import HEADLINE_KEY, METRICS_FILE_ENV, git_commit

# Exceptions a notebook raises to say it does not apply to the data (e.g. every model it was asked for needs item
# side information the log lacks): the run is written as a skipped report with the message, not as a failure.
NOT_APPLICABLE = ("MissingSideInfo",)
SKIP_KEY = "_skip"  # in a profile: the reason this profile does not run the notebook
SKIPPED_KEY = "_skipped"  # in a metrics file: why the notebook was not run on this data set

PROFILES = ("full", "quick", "cross")  # cross: the cheaper settings of the cross-domain check (make cross-domain PROFILE=cross)


def _tmp(path: Path, suffix: str = "") -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}{suffix}")


def load_profile(profile: str, notebook: Path) -> dict[str, Any]:
    """Parameters for ``notebook`` from ``profiles/<profile>/<notebook stem>.yaml``."""
    path = PROFILES_DIR / profile / f"{Path(notebook).stem}.yaml"
    if not path.is_file():
        known = sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir()) if PROFILES_DIR.is_dir() else []
        raise FileNotFoundError(f"no parameters for {Path(notebook).name} in profile {profile!r}: {path} is missing (profiles: {known})")
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path}: expected a mapping of parameter names to values, got {type(params).__name__}")
    return params


def other_data_profile(profile: str, notebook: Path, dataset: str) -> dict[str, Any]:
    """Parameters that ``profiles/<profile>/on_other_data/<notebook stem>.yaml`` changes when the notebook runs on ``dataset``.

    A profile is sized for its own data (the quick profile of 01-04 for the 2,000-pair
    paper-shaped set); on a log fifty times larger the same settings would take far
    longer, so this file lightens them. ``"{data}"``, as a key or a value anywhere in
    it, stands for the data set (04 keys its training settings by data set name).
    """
    path = PROFILES_DIR / profile / "on_other_data" / f"{Path(notebook).stem}.yaml"
    if not path.is_file():
        return {}
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path}: expected a mapping of parameter names to values, got {type(params).__name__}")

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {fill(k): fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return dataset if value == "{data}" else value

    return fill(params)


def check_parameters(notebook: Path, params: dict[str, Any]) -> None:
    """Refuse parameters the notebook's `parameters` cell does not define (a typo would be silently ignored)."""
    names = parameter_names(notebook)
    unknown = [k for k in params if k not in names and k != SKIP_KEY]
    if unknown:
        raise ValueError(f"{notebook}: parameter(s) {unknown} are not defined in its parameters cell (its parameters: {', '.join(names)})")


def _strip_volatile_metadata(path: Path) -> None:
    """Drop papermill's timestamps and durations so committed notebooks do not churn."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def parameter_names(notebook: Path) -> list[str]:
    """The names the notebook's `parameters` cell assigns."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{notebook}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    return [line.split("=")[0].strip() for line in cells[0].source.splitlines()
            if "=" in line and line.split("=")[0].strip().isidentifier()]


def dataset_settings(notebook: Path, dataset: str) -> tuple[dict[str, Any], str | None]:
    """(parameters that point ``notebook`` at ``dataset``, None) or ({}, why it does not apply).

    A notebook takes a data set through its ``dataset`` (one) or ``datasets`` (a list)
    parameter, and any ``*_dataset`` parameter (a section's data, e.g. ``recommend_dataset``)
    is pointed at it too; a notebook without ``dataset`` or ``datasets`` studies a fixed data set.
    A notebook may instead declare the mapping in its metadata ``recstudy.on_other_data``
    (``"{data}"`` stands for the data set), e.g. to skip a second run on MovieLens. A notebook whose metadata
    ``recstudy.needs`` lists ``timestamps`` needs a log with a timestamp on every row; one that lists
    ``clock_time`` also needs those timestamps to be dates, not only an order.
    """
    from recstudy.data.datasets import load_dataset

    names = parameter_names(notebook)
    declared = nbformat.read(notebook, as_version=4).metadata.get("recstudy", {})
    if "on_other_data" in declared:  # the notebook says itself which parameters take the data, e.g. {"large_dataset": ""}
        def fill(value: Any) -> Any:
            if isinstance(value, list):
                return [fill(v) for v in value]
            return dataset if value == "{data}" else value
        settings: dict[str, Any] = {name: fill(value) for name, value in declared["on_other_data"].items()}
    elif "dataset" in names:
        settings = {"dataset": dataset}
    elif "datasets" in names:
        settings = {"datasets": [dataset]}
    else:
        return {}, "this notebook studies one fixed data set (it has no dataset parameter)"
    if "on_other_data" not in declared:
        settings.update({name: dataset for name in names if name.endswith("_dataset")})
    needs = declared.get("needs", [])
    if "clock_time" in needs:
        from recstudy.data.datasets import ORDER_ONLY_DATASETS

        if dataset in ORDER_ONLY_DATASETS:
            return {}, (f"it replays the log period by period, and {dataset}'s timestamps are each user's line order "
                        "(the file has no dates), so there are no weeks or months to replay")
    if "timestamps" in needs:
        table, _ = load_dataset(dataset)
        missing = int((table["timestamp"] < 0).sum())
        if missing:
            return {}, f"it orders each user's interactions in time, and {missing:,} of the log's {len(table):,} rows have no timestamp"
    return settings, None


def retitled(notebook: Path, dataset: str) -> Any:
    """``notebook`` with its title cell (the first markdown cell) naming ``dataset`` wherever it names MovieLens-100K.

    The title and its summary state the data a report is about; the explanations further
    down that cite MovieLens facts stay as written (they say where a design choice came from).
    """
    from recstudy.data.datasets import display_name

    nb = nbformat.read(notebook, as_version=4)
    title = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if title is not None:
        title.source = title.source.replace("MovieLens-100K", display_name(dataset))
    return nb


def write_skipped(notebook: Path, output: Path, dataset: str, reason: str) -> None:
    """A short executed notebook (and metrics file) saying that ``notebook`` does not apply to ``dataset``, and why."""
    from nbformat.v4 import new_markdown_cell, new_notebook

    source = nbformat.read(notebook, as_version=4)
    title = next((c.source for c in source.cells if c.cell_type == "markdown"), f"# {notebook.stem}")
    nb = new_notebook(cells=[new_markdown_cell(title),
                             new_markdown_cell(f"**Skipped on `{dataset}`**: {reason}.")], metadata=source.metadata)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp, metrics_tmp = _tmp(output, ".ipynb"), _tmp(output, ".json")
    nbformat.write(nb, tmp)
    metrics_tmp.write_text(json.dumps({SKIPPED_KEY: reason, HEADLINE_KEY: []}))
    os.replace(metrics_tmp, output.with_suffix(".metrics.json"))
    os.replace(tmp, output)


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs (VALUE in YAML, e.g. ``models=[Caser]``) as a parameter mapping."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"--set expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = yaml.safe_load(value)
    return out


def execute(notebook: Path, output: Path, profile: str, *, in_place: bool = False,
            settings: dict[str, Any] | None = None, dataset: str | None = None) -> None:
    """Run ``notebook`` with papermill and the profile's parameters, writing ``output`` atomically.

    ``in_place`` (for the stored notebooks nbval checks) strips papermill's
    timestamps and writes no metrics file beside the notebook. ``settings`` override
    the profile's parameters (the Makefile runs one model of a family notebook this way).
    ``dataset`` (a named data set or a log's path) replaces the notebook's data; a
    notebook that cannot run on it is written as a short "skipped" report with the reason.
    """
    import papermill

    params = load_profile(profile, notebook)
    if dataset is not None:
        for_dataset, reason = dataset_settings(notebook, dataset)
        if reason is not None:
            write_skipped(notebook, output, dataset, reason)
            return
        params.update(other_data_profile(profile, notebook, dataset))
        params.update(settings or {})
        params.update(for_dataset)
    else:
        params.update(settings or {})
    if SKIP_KEY in params:  # a profile that leaves this notebook out says why
        write_skipped(notebook, output, dataset or "this data set", f"the {profile} profile leaves it out: {params[SKIP_KEY]}")
        return
    check_parameters(notebook, params)
    output.parent.mkdir(parents=True, exist_ok=True)
    for stale in output.parent.glob(f".{output.name}.tmp*"):  # left by a run that was killed
        stale.unlink()
    tmp, metrics_tmp = _tmp(output, ".ipynb"), _tmp(output, ".json")
    if in_place:
        os.environ.pop(METRICS_FILE_ENV, None)
    else:
        os.environ[METRICS_FILE_ENV] = str(metrics_tmp.resolve())
    source = notebook
    if dataset is not None:  # the title names the data actually used
        source = _tmp(notebook.parent / output.name, ".input.ipynb")
        nbformat.write(retitled(notebook, dataset), source)
    try:
        papermill.execute_notebook(
            str(source), str(tmp), parameters=params, cwd=str(notebook.parent),
            progress_bar=sys.stderr.isatty(), report_mode=False,
        )
    except BaseException as error:
        metrics_tmp.unlink(missing_ok=True)
        if getattr(error, "ename", None) in NOT_APPLICABLE:  # the notebook found nothing it can run on this data
            tmp.unlink(missing_ok=True)
            write_skipped(notebook, output, dataset or "this data set", " ".join(str(error.evalue).split()))
            return
        if tmp.exists():
            os.replace(tmp, output.with_suffix(".failed.ipynb"))
        raise
    finally:
        if source != notebook:
            source.unlink(missing_ok=True)
    if in_place:
        _strip_volatile_metadata(tmp)
    if metrics_tmp.exists():
        os.replace(metrics_tmp, output.with_suffix(".metrics.json"))
    output.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    os.replace(tmp, output)


def to_html(notebook: Path, output: Path) -> None:
    """Export an executed notebook to HTML with the code hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4), resources={"metadata": {"name": notebook.stem}})
    tmp = _tmp(output)
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, output)


def notebook_summary(notebook: Path) -> tuple[str, str]:
    """Title (first markdown heading) and one-line summary (the paragraph after it) of a notebook."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
        title = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), notebook.stem)
        summary = next((line for line in lines if not line.startswith("#")), "")
        return title, summary
    return notebook.stem, ""


def format_value(value: Any) -> str:
    """A metric for people: integers as integers, floats to 4 significant digits, missing as "not measured"."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "not measured"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "not measured"
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def headline_metrics(metrics: dict[str, Any], fallback: int = 4) -> dict[str, Any]:
    """The metrics a notebook named as its headline (``record_metrics(..., headline=...)``), else its first few."""
    keys = metrics.get(HEADLINE_KEY) or [k for k in metrics if k != HEADLINE_KEY][:fallback]
    return {k: metrics[k] for k in keys if k in metrics}


def build_index(reports_dir: Path, profile: str, dataset: str | None = None) -> Path:
    """Write ``reports_dir/index.html`` linking every NN_*.html report with its summary and key metrics.

    ``dataset``: the data set every report was run on (``make DATA=...``), named in the page.
    """
    rows = []
    for report in sorted(reports_dir.glob("[0-9][0-9]_*.html")):
        executed = report.with_suffix(".ipynb")
        title, summary = notebook_summary(executed) if executed.exists() else (report.stem, "")
        metrics_path = report.with_suffix(".metrics.json")
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        shown = ("skipped: " + html.escape(metrics[SKIPPED_KEY]) if SKIPPED_KEY in metrics else
                 "<br>".join(f"{html.escape(k)} = {html.escape(format_value(v))}" for k, v in headline_metrics(metrics).items()))
        rows.append(
            f"<tr><td><a href='{html.escape(report.name)}'>{html.escape(report.stem)}</a></td>"
            f"<td><b>{html.escape(title)}</b><br>{html.escape(summary)}</td><td class='m'>{shown}</td></tr>"
        )
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Recommender-systems study: reports</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}td{{padding:.4em;vertical-align:top;border-bottom:1px solid #ddd}}
.m{{font-family:monospace;font-size:85%}}</style></head><body>
<h1>Reproducible recommender-systems study: reports{html.escape(f" on {dataset}") if dataset else ""}</h1>
<p>{f"Every notebook that applies was run on <code>{html.escape(dataset)}</code> instead of its own data; those that cannot run on it say why. " if dataset else ""}Profile <b>{html.escape(profile)}</b>, built {stamp} from commit <code>{html.escape(git_commit())}</code>.
Each report records its own parameters, data checksum and package versions.</p>
<table><tr><th>report</th><th>what it shows</th><th>headline</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""
    out = reports_dir / "index.html"
    tmp = _tmp(out)
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recstudy.pipeline", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("execute", help="run a notebook with a profile's parameters")
    p.add_argument("--profile", default="full")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter of the profile (YAML value); may be repeated")
    p.add_argument("--dataset", default=None, help="run on this named data set or log file instead")
    p.add_argument("notebook", type=Path)
    p.add_argument("output", type=Path)
    p = sub.add_parser("refresh", help="re-execute a notebook in place (stored outputs for nbval)")
    p.add_argument("--profile", default="quick")
    p.add_argument("notebook", type=Path)
    p = sub.add_parser("html", help="export an executed notebook to HTML, code hidden")
    p.add_argument("notebook", type=Path)
    p.add_argument("output", type=Path)
    p = sub.add_parser("index", help="write index.html for a reports folder")
    p.add_argument("reports_dir", type=Path)
    p.add_argument("--profile", default="full")
    p.add_argument("--dataset", default=None, help="the data set the reports were run on")
    args = parser.parse_args(argv)
    try:
        if args.command == "execute":
            execute(args.notebook, args.output, args.profile, settings=parse_settings(args.set), dataset=args.dataset)
        elif args.command == "refresh":
            execute(args.notebook, args.notebook, args.profile, in_place=True)
        elif args.command == "html":
            to_html(args.notebook, args.output)
        else:
            build_index(args.reports_dir, args.profile, args.dataset)
    except Exception as error:  # one line for make's log, not a traceback wall
        print(f"error: {failure_line(args, error)}", file=sys.stderr)
        return 1
    return 0


def failure_line(args: argparse.Namespace, error: BaseException) -> str:
    """What failed, why (the notebook's own exception when a cell raised) and where the failed copy is kept."""
    name, message = type(error).__name__, str(error)
    if hasattr(error, "ename") and hasattr(error, "evalue"):  # papermill's PapermillExecutionError: a cell raised
        name, message = error.ename, error.evalue
    message = " ".join(message.split())
    where = getattr(args, "notebook", None) or getattr(args, "reports_dir", "")
    line = f"{where}: {name}: {message}"
    output = getattr(args, "output", None) if args.command == "execute" else (args.notebook if args.command == "refresh" else None)
    if output is not None and Path(output).with_suffix(".failed.ipynb").exists():
        line += f" (the failed run is kept as {Path(output).with_suffix('.failed.ipynb')})"
    return line


if __name__ == "__main__":
    raise SystemExit(main())
