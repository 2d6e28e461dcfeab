"""Tests of aeutils.tools: notebook selection, execution errors, and the generated tables."""

import json
import os

import nbformat
import pytest

from aeutils import config
from aeutils.tools import reproduce, tables

ROOT = config.repo_root()


def test_readme_tables_match_the_committed_results():
    assert tables.readme_block(ROOT, "results") == tables.render_headlines(ROOT), (
        "README.md's results table is out of date: run `python -m aeutils.tools.reproduce --table`"
    )
    assert (ROOT / "results" / "README.md").read_text() == tables.render_results_readme(ROOT), (
        "results/README.md is out of date: run `python -m aeutils.tools.reproduce --table`"
    )
    assert tables.readme_block(ROOT, "times") == tables.render_times(ROOT), (
        "README.md's times table is out of date: run `python -m aeutils.tools.reproduce --table`"
    )


def test_table_has_a_row_per_metric_and_the_readme_one_per_notebook():
    table = tables.render_table(ROOT).splitlines()
    files = sorted((ROOT / "results").glob("[0-9][0-9]_*.json"))
    expected = sum(len(json.loads(p.read_text())["metrics"]) for p in files)
    assert len(table) == 2 + expected
    assert len(tables.render_headlines(ROOT).splitlines()) == 2 + len(files)


def _course(tmp_path, **files):
    """A tiny course: notebooks/01_a.ipynb, 02_b.ipynb and the given results files."""
    (tmp_path / "notebooks").mkdir(parents=True)
    (tmp_path / "results").mkdir()
    for stem in ("01_a", "02_b"):
        (tmp_path / "notebooks" / f"{stem}.ipynb").write_text("{}")
    for name, text in files.items():
        (tmp_path / "results" / f"{name}.json").write_text(text)
    return tmp_path


RECORD = {
    "notebook": "01_a",
    "metrics": {"val_loss": 0.0916, "other": 2.0},
    "references": {"val_loss": {"value": 0.09, "source": "blog", "decimals": 2}},
    "time_to_reference": {"val_loss": {"epoch": 31, "seconds": 40.0}},
    "epochs": 50,
    "seconds": {"train": 55.0},
    "environment": {"device": "CPU"},
}


def test_reached_means_rounded_to_the_printed_decimals(tmp_path):
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD)})
    assert "0.09 (reached at epoch 31, 40 s)" in tables.render_headlines(root)
    missed = {**RECORD, "metrics": {"val_loss": 0.0951}}
    root = _course(tmp_path / "x", **{"01_a": json.dumps(missed)})
    assert "0.09 (not reached)" in tables.render_headlines(root)


def test_table_refuses_malformed_or_missing_results(tmp_path):
    root = _course(tmp_path / "bad", **{"01_a": '{"notebook": '})
    with pytest.raises(SystemExit, match="01_a.json"):
        tables.render_table(root)
    root = _course(tmp_path / "empty")
    with pytest.raises(SystemExit, match="no results file"):
        tables.render_headlines(root)


def test_table_ignores_files_of_no_notebook(tmp_path):
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD), "01_copy": json.dumps(RECORD)})
    assert len(tables.render_table(root).splitlines()) == 2 + 2


def test_course_runs_are_kept_per_device_and_jobs(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    monkeypatch.setattr(
        tables.results, "read", lambda stem, root=None: {"environment": {"device": "CPU"}}
    )
    tables.record_course(tmp_path, {"01_a": 60.0, "02_b": 180.0}, 240.0, jobs=1)
    tables.record_course(tmp_path, {"01_a": 90.0, "02_b": 200.0}, 210.0, jobs=2)
    tables.record_course(tmp_path, {"01_a": 62.0, "02_b": 178.0}, 240.5, jobs=1)
    runs = json.loads((tmp_path / "results" / "course.json").read_text())["runs"]
    assert [(r["jobs"], r["wall_seconds"]) for r in runs] == [(1, 240.5), (2, 210.0)]
    table = tables.render_times(tmp_path).splitlines()
    today = runs[0]["date"][:10]
    assert table[0] == (
        f"| Notebook | CPU, one notebook at a time, {today} | CPU, 2 notebooks at a time, {today} |"
    )
    assert table[2] == "| 01_a | 1:02 (26%) | 1:30 (31%) |"
    assert table[-1] == "| **whole course, wall clock** | **4:00** | **3:30** |"
    # A notebook added since: each run says it covered only part of today's course.
    (tmp_path / "notebooks").mkdir()
    for stem in ("01_a", "02_b", "03_c"):
        (tmp_path / "notebooks" / f"{stem}.ipynb").write_text("{}")
    header = tables.render_times(tmp_path).splitlines()[0]
    assert header.count(f"{today}, 2 of the 3 notebooks") == 2, header


def test_no_course_run_yet(tmp_path):
    (tmp_path / "results").mkdir()
    assert "No full run" in tables.render_times(tmp_path)


def test_notebook_selection():
    everything = reproduce.notebooks(ROOT)
    assert [p.name[:2] for p in everything] == sorted(p.name[:2] for p in everything)
    assert [p.name[:2] for p in reproduce.notebooks(ROOT, "1")] == ["01"]
    with pytest.raises(SystemExit, match="99"):
        reproduce.notebooks(ROOT, "01,99")


@pytest.mark.parametrize("only", ["", ",", " ", "01,,02", "a"])
def test_only_must_name_notebooks(only):
    with pytest.raises(SystemExit, match="--only"):
        reproduce.notebooks(ROOT, only)


@pytest.mark.parametrize(
    "env, argv, message",
    [
        ("ture", ["--only", "01"], "AEUTILS_QUICK"),
        ("0", ["--quick", "--only", "01"], "conflicts"),
    ],
)
def test_quick_variable_is_respected_and_checked(monkeypatch, capsys, env, argv, message):
    monkeypatch.setenv(config.QUICK_ENV, env)
    with pytest.raises(SystemExit):
        reproduce.main(argv)
    assert message in capsys.readouterr().err


def _named_notebook(folder, name, *sources):
    """A notebook of code cells ``sources`` at ``folder/name``."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir(exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


def _notebook(tmp_path, *sources):
    return _named_notebook(tmp_path / "src", "01_tiny.ipynb", *sources)


def test_run_writes_an_executed_copy_and_leaves_the_source(tmp_path):
    source = _notebook(tmp_path, "x = 6 * 7", "print(x)")
    before = source.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    seconds = reproduce.run_notebook(source, out, timeout=60)
    assert seconds > 0 and source.read_bytes() == before
    executed = nbformat.read(out / source.name, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"


def test_a_failing_cell_is_named(tmp_path):
    source = _notebook(tmp_path, "x = 1", "raise ValueError('broken on purpose')", "y = 2")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(reproduce.NotebookFailed) as info:
        reproduce.run_notebook(source, out, timeout=60)
    message = str(info.value)
    assert message.startswith(
        "01_tiny.ipynb failed in code cell 2 of 3 (`raise ValueError('broken on purpose')`): "
        "ValueError: broken on purpose"
    )
    assert "\x1b[" not in message  # no terminal colour codes
    assert (out / source.name).is_file()


def test_an_expected_error_earlier_does_not_hide_the_real_failure(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_code_cell("raise KeyError('the real one')"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "01_tagged.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(reproduce.NotebookFailed, match=r"code cell 3 of 3 .*the real one"):
        reproduce.run_notebook(source, tmp_path, timeout=60)


def test_a_timeout_says_so(tmp_path):
    source = _notebook(tmp_path, "x = 1", "import time; time.sleep(60)")
    with pytest.raises(reproduce.NotebookFailed, match=r"code cell 2 of 2 .*timed out after 2 s"):
        reproduce.run_notebook(source, tmp_path, timeout=2)


def test_a_dead_kernel_is_reported_and_the_run_goes_on(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    out.mkdir()
    paths = [
        _named_notebook(src, "01_dies.ipynb", "x = 1", "import os; os._exit(1)"),
        _named_notebook(src, "02_ok.ipynb", "y = 2"),
    ]
    times, failures = reproduce.run_many(paths, out, jobs=1, timeout=60, keep_going=True)
    assert list(times) == ["02_ok"]
    assert len(failures) == 1 and failures[0].startswith("01_dies.ipynb failed in code cell 2")
    assert "kernel died" in failures[0]


def test_an_unreadable_notebook_is_named_and_the_run_goes_on(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    out.mkdir()
    src.mkdir()
    broken = src / "01_broken.ipynb"
    broken.write_text("{ not a notebook")
    _named_notebook(out, "01_broken.ipynb", "x = 1", "1 / 0")  # an old executed copy
    paths = [broken, _named_notebook(src, "02_ok.ipynb", "y = 2")]
    times, failures = reproduce.run_many(paths, out, jobs=1, timeout=60, keep_going=True)
    assert list(times) == ["02_ok"]
    assert len(failures) == 1
    assert failures[0].startswith("01_broken.ipynb failed before its first cell")


def test_a_failed_notebook_leaves_its_results_file_as_it_was(tmp_path):
    root, out = tmp_path / "course", tmp_path / "out"
    (root / "results").mkdir(parents=True)
    out.mkdir()
    result = root / "results" / "01_writes.json"
    result.write_text('{"old": true}')
    write_then_fail = f"open({str(result)!r}, 'w').write('new')"
    source = _named_notebook(root / "notebooks", "01_writes.ipynb", write_then_fail, "1 / 0")
    times, failures = reproduce.run_many([source], out, timeout=60, root=root)
    assert not times and len(failures) == 1
    assert result.read_text() == '{"old": true}'


def test_out_must_be_a_folder(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", "01", "--out", str(afile)])
    assert "is a file" in capsys.readouterr().err


def test_out_must_not_be_the_sources(capsys):
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", "01", "--out", str(ROOT / "notebooks")])
    assert "sources" in capsys.readouterr().err


def test_two_at_a_time_stops_starting_notebooks_after_a_failure(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    out.mkdir()
    paths = [
        _named_notebook(src, "01_fails.ipynb", "raise RuntimeError('broken on purpose')"),
        _named_notebook(src, "02_slow.ipynb", "import time; time.sleep(10)", "print('done')"),
        _named_notebook(src, "03_later.ipynb", "print('should not run')"),
    ]
    times, failures = reproduce.run_many(paths, out, jobs=2, timeout=60)
    assert list(times) == ["02_slow"]  # already running when 01 failed, so it finished
    assert len(failures) == 1 and "01_fails.ipynb failed in code cell 1 of 1" in failures[0]
    assert not (out / "03_later.ipynb").exists()


def test_two_at_a_time_with_keep_going_runs_everything(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    out.mkdir()
    paths = [
        _named_notebook(src, "01_fails.ipynb", "raise RuntimeError('broken on purpose')"),
        _named_notebook(src, "02_ok.ipynb", "x = 1"),
        _named_notebook(src, "03_ok.ipynb", "y = 2"),
    ]
    times, failures = reproduce.run_many(paths, out, jobs=2, timeout=60, keep_going=True)
    assert sorted(times) == ["02_ok", "03_ok"] and len(failures) == 1
    assert all((out / p.name).is_file() for p in paths)


def test_longest_first_uses_the_recorded_times(tmp_path):
    (tmp_path / "results").mkdir()
    for stem, seconds in [("01_a", 100), ("02_b", 900), ("03_c", 300)]:
        record = {"seconds": {"notebook": seconds}}
        (tmp_path / "results" / f"{stem}.json").write_text(json.dumps(record))
    paths = [tmp_path / f"{s}.ipynb" for s in ("01_a", "02_b", "03_c", "04_new")]
    ordered = reproduce._longest_first(paths, tmp_path)
    assert [p.stem for p in ordered] == ["04_new", "02_b", "03_c", "01_a"]


def test_jobs_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--jobs", "0"])
    assert "--jobs" in capsys.readouterr().err


def test_quick_variable_alone_means_a_quick_run_that_records_nothing(monkeypatch, tmp_path):
    seen = {}

    def fake_run_many(paths, out_dir, **kwargs):
        seen.update(
            quick=os.environ[config.QUICK_ENV],
            record=os.environ[config.RECORD_ENV],
            root=kwargs["root"],
        )
        return {}, []

    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.setenv(config.RECORD_ENV, "")  # main sets it; monkeypatch restores it after
    monkeypatch.setattr(reproduce, "run_many", fake_run_many)
    assert reproduce.main(["--only", "01", "--out", str(tmp_path)]) == 0
    assert seen == {"quick": "1", "record": "0", "root": None}
