"""The notebook pipeline: profiles, parameter checks, atomic outputs, the index."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from recstudy import pipeline
from recstudy.config import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no numbered notebooks found"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("profile", pipeline.PROFILES)
def test_every_notebook_has_valid_profiles(notebook, profile):
    params = pipeline.load_profile(profile, notebook)
    pipeline.check_parameters(notebook, params)  # one parameters cell; every profile key defined there


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebooks_carry_no_papermill_timestamps(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert "papermill" not in nb.metadata
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)


def make_notebook(path, body, param_line="x = 1"):
    nb = new_notebook(cells=[new_markdown_cell("# Tiny\nA test notebook."), new_code_cell(param_line), new_code_cell(body)])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def profiles(tmp_path, monkeypatch):
    (tmp_path / "quick").mkdir()
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    return tmp_path / "quick"


def test_missing_profile_and_unknown_parameter(tmp_path, profiles):
    nb = make_notebook(tmp_path / "01_tiny.ipynb", "print(x)")
    with pytest.raises(FileNotFoundError, match=r"01_tiny.yaml is missing"):
        pipeline.load_profile("quick", nb)
    (profiles / "01_tiny.yaml").write_text("x: 2\ny: 3\n")
    with pytest.raises(ValueError, match=r"\['y'\] are not defined"):
        pipeline.check_parameters(nb, pipeline.load_profile("quick", nb))


def test_failed_run_leaves_no_output_and_success_writes_all(tmp_path, profiles):
    (profiles / "01_tiny.yaml").write_text("x: 2\n")
    bad = make_notebook(tmp_path / "01_tiny.ipynb", "raise RuntimeError('boom')")
    out = tmp_path / "reports" / "01_tiny.ipynb"
    with pytest.raises(Exception, match="boom"):
        pipeline.execute(bad, out, "quick")
    assert not out.exists() and out.with_suffix(".failed.ipynb").exists()

    make_notebook(bad, "from recstudy.provenance import record_metrics\n"
                       "record_metrics({'x_times_ten': x * 10, 'a_first_key': 0.5}, headline=['x_times_ten'], "
                       "timings={'seconds': 1.23456})")
    pipeline.execute(bad, out, "quick")
    assert out.exists() and not out.with_suffix(".failed.ipynb").exists()
    assert json.loads(out.with_suffix(".metrics.json").read_text()) == {"a_first_key": 0.5, "x_times_ten": 20,
                                                                        "seconds": 1.2346, "_headline": ["x_times_ten"]}
    executed = out.read_text()
    assert "x_times_ten: 20" in executed and "seconds: 1.23" not in executed  # timings are not printed (nbval)
    pipeline.to_html(out, out.with_suffix(".html"))
    index = pipeline.build_index(out.parent, "quick").read_text()
    assert "01_tiny.html" in index and "A test notebook." in index and "x_times_ten = 20" in index
    assert "a_first_key" not in index  # only the headline the notebook chose
    assert not list(out.parent.glob(".*tmp*"))  # no temporary files left behind


def test_headline_keys_are_checked_and_values_read_well():
    from recstudy.provenance import record_metrics

    with pytest.raises(ValueError, match=r"\['nope'\] are not among"):
        record_metrics({"a": 1.0}, headline=["nope"])
    assert pipeline.format_value(12000.0) == "12,000" and pipeline.format_value(3) == "3"
    assert pipeline.format_value(0.123456) == "0.1235" and pipeline.format_value(float("nan")) == "not measured"
    assert pipeline.headline_metrics({"b": 1, "a": 2, "_headline": ["a"]}) == {"a": 2}
    assert pipeline.headline_metrics({"b": 1, "a": 2}) == {"b": 1, "a": 2}  # no headline named: the first keys


def test_set_overrides_the_profile_and_is_checked(tmp_path, profiles):
    (profiles / "01_tiny.yaml").write_text("x: 2\n")
    nb = make_notebook(tmp_path / "01_tiny.ipynb", "print('x is', x)", param_line="x = 1\nmodels = ['a', 'b']")
    assert pipeline.parse_settings(["models=[Caser]", "x=3"]) == {"models": ["Caser"], "x": 3}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        pipeline.parse_settings(["models"])
    out = tmp_path / "runs" / "01_tiny@a.ipynb"
    pipeline.execute(nb, out, "quick", settings={"x": 5})
    assert "x is 5" in out.read_text()
    with pytest.raises(ValueError, match=r"\['z'\] are not defined"):
        pipeline.execute(nb, out, "quick", settings={"z": 1})


def test_a_dataset_goes_to_the_notebooks_parameter_or_the_notebook_is_skipped_with_the_reason(tmp_path, profiles):
    log = tmp_path / "my_log.csv"
    log.write_text("user,item\n" + "".join(f"{u},{i}\n" for u in range(30) for i in range(u % 5, u % 5 + 6)))
    one = make_notebook(tmp_path / "01_one.ipynb", "print(dataset)", param_line="dataset = 'ml-100k'")
    many = make_notebook(tmp_path / "02_many.ipynb", "print(datasets)", param_line="datasets = ['ml-100k']\ncurve_dataset = 'ml-100k'")
    fixed = make_notebook(tmp_path / "03_fixed.ipynb", "print(1)")
    timed = make_notebook(tmp_path / "04_timed.ipynb", "print(dataset)", param_line="dataset = 'ml-100k'")
    nb = nbformat.read(timed, as_version=4)
    nb.metadata["recstudy"] = {"needs": ["timestamps"]}
    nbformat.write(nb, timed)
    assert pipeline.dataset_settings(one, str(log)) == ({"dataset": str(log)}, None)
    assert pipeline.dataset_settings(many, str(log)) == ({"datasets": [str(log)], "curve_dataset": str(log)}, None)
    assert "fixed data set" in pipeline.dataset_settings(fixed, str(log))[1]
    assert "have no timestamp" in pipeline.dataset_settings(timed, str(log))[1]
    for name in ("01_one", "04_timed"):
        (profiles / f"{name}.yaml").write_text("")
    out = tmp_path / "reports" / "my_log"
    pipeline.execute(one, out / "01_one.ipynb", "quick", dataset=str(log))
    assert str(log) in (out / "01_one.ipynb").read_text()
    pipeline.execute(timed, out / "04_timed.ipynb", "quick", dataset=str(log))
    assert "Skipped on" in (out / "04_timed.ipynb").read_text()
    for name in ("01_one", "04_timed"):
        pipeline.to_html(out / f"{name}.ipynb", out / f"{name}.html")
    index = pipeline.build_index(out, "quick").read_text()
    assert "skipped: it orders each user" in index and "01_one.html" in index


def test_a_failed_notebook_ends_in_one_line_naming_it_the_error_and_the_kept_copy(tmp_path, profiles, capsys):
    (profiles / "01_tiny.yaml").write_text("")
    bad = make_notebook(tmp_path / "01_tiny.ipynb", "raise ValueError('column rating: cannot parse \"x\"')")
    out = tmp_path / "reports" / "01_tiny.ipynb"
    assert pipeline.main(["execute", "--profile", "quick", str(bad), str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "01_tiny.ipynb: ValueError: column rating: cannot parse" in err[0]
    assert "01_tiny.failed.ipynb" in err[0] and not out.exists()
    assert pipeline.main(["execute", "--profile", "quick", "--set", "nope=1", str(bad), str(out)]) == 1
    assert "['nope'] are not defined" in capsys.readouterr().err


def test_a_notebook_can_declare_which_parameters_take_the_data(tmp_path):
    nb = make_notebook(tmp_path / "01_paper.ipynb", "print(dataset)", param_line="dataset = 'paper-shaped'\nlarge_dataset = 'ml-100k'")
    notebook = nbformat.read(nb, as_version=4)
    notebook.metadata["recstudy"] = {"on_other_data": {"dataset": "{data}", "large_dataset": ""}}
    nbformat.write(notebook, nb)
    assert pipeline.dataset_settings(nb, "ml-1m") == ({"dataset": "ml-1m", "large_dataset": ""}, None)


def test_other_data_lightens_the_profile_and_fills_in_the_data_name(tmp_path, profiles):
    log = tmp_path / "shop.csv"
    log.write_text("user,item\n" + "".join(f"{u},{i}\n" for u in range(30) for i in range(u % 5, u % 5 + 6)))
    nb = make_notebook(tmp_path / "01_cmp.ipynb", "print('seen', batch, settings)",
                       param_line="datasets = ['ml-100k']\nbatch = 256\nsettings = {}")
    (profiles / "01_cmp.yaml").write_text("batch: 256\n")
    (profiles / "on_other_data").mkdir()
    (profiles / "on_other_data" / "01_cmp.yaml").write_text('batch: 4096\nsettings: {"{data}": {epochs: 2}}\n')
    assert pipeline.other_data_profile("quick", nb, str(log)) == {"batch": 4096, "settings": {str(log): {"epochs": 2}}}
    pipeline.execute(nb, tmp_path / "own.ipynb", "quick", dataset=str(log))
    assert f"seen 4096 {{'{log}': {{'epochs': 2}}}}" in (tmp_path / "own.ipynb").read_text()
    pipeline.execute(nb, tmp_path / "movies.ipynb", "quick")  # its own data: the profile as it is
    assert "seen 256 {}" in (tmp_path / "movies.ipynb").read_text()
    pipeline.execute(nb, tmp_path / "set.ipynb", "quick", dataset=str(log), settings={"batch": 7})  # --set still wins
    assert "seen 7 " in (tmp_path / "set.ipynb").read_text()


@pytest.mark.parametrize("overlay", sorted((PROJECT_ROOT / "profiles").glob("*/on_other_data/*.yaml")), ids=lambda p: p.stem)
def test_every_other_data_profile_names_real_parameters(overlay):
    notebook = PROJECT_ROOT / "notebooks" / f"{overlay.stem}.ipynb"
    pipeline.check_parameters(notebook, pipeline.other_data_profile(overlay.parent.parent.name, notebook, "log.csv"))


def test_a_replay_by_months_is_skipped_on_a_data_set_whose_timestamps_are_an_order():
    settings, reason = pipeline.dataset_settings(PROJECT_ROOT / "notebooks" / "12_evolving.ipynb", "amazon-video")
    assert settings == {} and "line order" in reason


def test_the_title_names_the_data_used(tmp_path, profiles):
    log = tmp_path / "loans.tsv"
    log.write_text("user\titem\n" + "".join(f"{u}\t{i}\n" for u in range(30) for i in range(u % 5, u % 5 + 6)))
    nb = new_notebook(cells=[new_markdown_cell("# 06 · GRU4Rec on MovieLens-100K sequences"), new_code_cell("dataset = 'ml-100k'"),
                             new_markdown_cell("In MovieLens-100K half the ratings tie."), new_code_cell("print(dataset)")])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "06_t.ipynb")
    (profiles / "06_t.yaml").write_text("")
    pipeline.execute(tmp_path / "06_t.ipynb", tmp_path / "out" / "06_t.ipynb", "quick", dataset=str(log))
    out = nbformat.read(tmp_path / "out" / "06_t.ipynb", as_version=4)
    assert out.cells[0].source == "# 06 · GRU4Rec on loans.tsv sequences"
    assert out.cells[3].source == "In MovieLens-100K half the ratings tie."  # explanations keep their source
    assert not list(tmp_path.glob(".*input*")) and nbformat.read(tmp_path / "06_t.ipynb", as_version=4).cells[0].source.endswith("MovieLens-100K sequences")


def test_a_profile_can_leave_a_notebook_out_with_the_reason(tmp_path, profiles):
    nb = make_notebook(tmp_path / "01_slow.ipynb", "raise RuntimeError('must not run')")
    (profiles / "01_slow.yaml").write_text("_skip: the summary does not read it\n")
    pipeline.execute(nb, tmp_path / "out" / "01_slow.ipynb", "quick")
    metrics = json.loads((tmp_path / "out" / "01_slow.metrics.json").read_text())
    assert "the quick profile leaves it out: the summary does not read it" in metrics["_skipped"]


def test_a_notebook_with_nothing_it_can_run_on_the_data_is_reported_as_skipped(tmp_path, profiles):
    nb = make_notebook(tmp_path / "07_side.ipynb", "from recstudy.data.side_info import MissingSideInfo\n"
                       "raise MissingSideInfo('3D-CNN is skipped: it reads item side information')")
    (profiles / "07_side.yaml").write_text("")
    out = tmp_path / "out" / "07_side.ipynb"
    pipeline.execute(nb, out, "quick")
    metrics = json.loads(out.with_suffix(".metrics.json").read_text())
    assert "3D-CNN is skipped: it reads item side information" in metrics["_skipped"]
    assert not out.with_suffix(".failed.ipynb").exists()
    failing = make_notebook(tmp_path / "08_bad.ipynb", "raise ValueError('a real error')")
    (profiles / "08_bad.yaml").write_text("")
    with pytest.raises(Exception, match="a real error"):  # any other error still fails the run
        pipeline.execute(failing, tmp_path / "out" / "08_bad.ipynb", "quick")
