"""Tests of tools.reproduce and tools.tables: selection, execution errors, publishing only what
passed, and the generated results/README.md."""

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from aeutils import config
from tools import reproduce, tables

ROOT = config.repo_root()


def test_results_readme_matches_the_committed_results():
    assert (ROOT / "results" / "README.md").read_text() == tables.render_results_readme(ROOT), (
        "results/README.md is out of date: run `python -m tools.reproduce --table`"
    )


def test_readme_times_match_the_committed_results():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert tables.readme_with_times(ROOT, readme) == readme, (
        "README.md's times table is out of date: run `python -m tools.reproduce --table`"
    )
    for stem in (p.stem for p in tables.course_notebooks(ROOT)):
        assert f"| {stem[:2]} |" in readme


def test_a_readme_without_the_times_markers_is_named():
    with pytest.raises(ValueError, match="times"):
        tables.readme_with_times(ROOT, "# A README without the block\n")


def test_every_notebook_with_results_has_a_headline_it_measured():
    records = tables._records(ROOT)
    assert [r["notebook"] for r in records] == sorted(tables.HEADLINES)
    for record in records:
        assert tables.headline(record) in record["metrics"]


def test_one_row_per_metric_and_one_headline_per_notebook():
    records = tables._records(ROOT)
    expected = sum(len(r["metrics"]) for r in records)
    assert len(tables.render_metrics(records).splitlines()) == 2 + expected
    assert len(tables.render_headlines(records).splitlines()) == 2 + len(records)


def test_markdown_table_checks_its_rows_and_escapes_bars():
    assert tables.markdown_table(["a", "b"], [["1", "x|y"]]).splitlines() == [
        "| a | b |",
        "| --- | --- |",
        "| 1 | x\\|y |",
    ]
    with pytest.raises(ValueError, match="2 columns"):
        tables.markdown_table(["a", "b"], [["1"]])


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
    "reached_at_epoch": {"val_loss": 31},
    "epochs": 50,
    "seconds": {"notebook": 55.0},
    "environment": {"device": "CPU"},
}


def _headlines(root):
    return tables.render_headlines(tables._records(root))


def test_reached_means_rounded_to_the_printed_decimals(tmp_path, monkeypatch):
    monkeypatch.setitem(tables.HEADLINES, "01_a", "val_loss")
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD)})
    assert "0.09 (reached at epoch 31)" in _headlines(root)
    missed = {**RECORD, "metrics": {"val_loss": 0.0951}}
    root = _course(tmp_path / "x", **{"01_a": json.dumps(missed)})
    assert "0.09 (not reached)" in _headlines(root)


def test_a_reference_measured_another_way_is_shown_as_context(tmp_path, monkeypatch):
    monkeypatch.setitem(tables.HEADLINES, "01_a", "val_loss")
    ref = {"value": 0.09, "source": "blog", "decimals": 2, "differs": "other split"}
    context = {**RECORD, "references": {"val_loss": ref}, "reached_at_epoch": {}}
    root = _course(tmp_path, **{"01_a": json.dumps(context)})
    headlines = _headlines(root)
    assert "0.09 (context: different protocol)" in headlines and "reached" not in headlines


def test_a_notebook_without_a_headline_is_named(tmp_path):
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD)})
    with pytest.raises(SystemExit, match="HEADLINES .* 01_a"):
        _headlines(root)


@pytest.mark.parametrize(
    "content",
    [
        b'{"notebook": ',
        b"[]",
        b"null",
        b"\xff\xfe not utf-8",
        json.dumps({**RECORD, "metrics": {"val_loss": "0.09"}}).encode(),
    ],
)
def test_table_names_a_malformed_results_file(tmp_path, content):
    """Defect 14: these gave tracebacks that named no file."""
    root = _course(tmp_path)
    (root / "results" / "01_a.json").write_bytes(content)
    with pytest.raises(SystemExit, match="01_a.json"):
        tables.render_results_readme(root)


@pytest.mark.parametrize("content", [b"[]", b'{"runs": [{"device": "CPU"}]}', b"{"])
def test_table_names_a_malformed_course_file(tmp_path, content, monkeypatch):
    monkeypatch.setitem(tables.HEADLINES, "01_a", "val_loss")
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD)})
    (root / "results" / "course.json").write_bytes(content)
    with pytest.raises(SystemExit, match="course.json"):
        tables.render_results_readme(root)


@pytest.mark.parametrize(
    "name, content",
    [
        ("suites.json", b'{"backends": {"jax": {}}}'),
        ("suites.json", b"[]"),
        ("suites.json", b'{"backends": {"jax": {"notebooks": {"01_a": {}}}}}'),
        ("backends.json", b'{"x": 1}'),
        ("backends.json", b"null"),
        (
            "course.json",
            b'{"runs": [{"device": "CPU", "jobs": 1, "date": "d", '
            b'"wall_seconds": "x", "notebooks": {}}]}',
        ),
    ],
)
def test_table_names_a_malformed_suites_benchmark_or_course_file(
    tmp_path, monkeypatch, name, content
):
    monkeypatch.setitem(tables.HEADLINES, "01_a", "val_loss")
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD)})
    (root / "results" / name).write_bytes(content)
    with pytest.raises(SystemExit, match=name):
        tables.render_results_readme(root)


def test_table_refuses_no_results_at_all(tmp_path):
    with pytest.raises(SystemExit, match="no results file"):
        tables.render_results_readme(_course(tmp_path))


def test_table_ignores_files_of_no_notebook(tmp_path, monkeypatch):
    monkeypatch.setitem(tables.HEADLINES, "01_a", "val_loss")
    root = _course(tmp_path, **{"01_a": json.dumps(RECORD), "01_copy": json.dumps(RECORD)})
    assert len(tables.render_metrics(tables._records(root)).splitlines()) == 2 + 2


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
    everything = tables.select_notebooks(ROOT)
    assert [p.name[:2] for p in everything] == sorted(p.name[:2] for p in everything)
    assert [p.name[:2] for p in tables.select_notebooks(ROOT, "1")] == ["01"]
    with pytest.raises(ValueError, match="99"):
        tables.select_notebooks(ROOT, "01,99")


@pytest.mark.parametrize("only", ["", ",", " ", "01,,02", "a"])
def test_only_must_name_notebooks(only, capsys):
    with pytest.raises(ValueError, match="comma-separated"):
        tables.select_notebooks(ROOT, only)
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", only])
    assert "comma-separated" in capsys.readouterr().err


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
    seconds = reproduce.run_notebook(source, out / source.name, timeout=60)
    assert seconds > 0 and source.read_bytes() == before
    executed = nbformat.read(out / source.name, as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"


def test_a_failing_cell_is_named(tmp_path):
    source = _notebook(tmp_path, "x = 1", "raise ValueError('broken on purpose')", "y = 2")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(reproduce.NotebookFailed) as info:
        reproduce.run_notebook(source, out / source.name, timeout=60)
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
        reproduce.run_notebook(source, tmp_path / source.name, timeout=60)


def test_a_timeout_says_so(tmp_path):
    source = _notebook(tmp_path, "x = 1", "import time; time.sleep(60)")
    with pytest.raises(reproduce.NotebookFailed, match=r"code cell 2 of 2 .*timed out after 2 s"):
        reproduce.run_notebook(source, tmp_path / source.name, timeout=2)


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


def test_out_must_be_a_folder(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", "01", "--out", str(afile)])
    assert "is a file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "inside",
    ["notebooks", "notebooks/run1", "tests/copies", "executed", "results", "logs/staging"],
)
def test_out_must_not_be_where_sources_tests_or_the_record_are(capsys, inside):
    """Defect 12: --out notebooks/run1 was accepted, and pytest then collected the copies; a
    quick run into executed/ would replace the published full-mode copies (defect 2)."""
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", "01", "--out", str(ROOT / inside)])
    assert "lies inside" in capsys.readouterr().err
    assert not (ROOT / "notebooks" / "run1").exists()


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
        record = {"notebook": stem, "metrics": {"a": 1}, "seconds": {"notebook": seconds}}
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
            publisher=kwargs["publisher"],
        )
        return {}, []

    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.setenv(config.RECORD_ENV, "")  # main sets it; monkeypatch restores it after
    monkeypatch.setattr(reproduce, "run_many", fake_run_many)
    assert reproduce.main(["--only", "01", "--out", str(tmp_path)]) == 0
    assert seen == {"quick": "1", "record": "0", "publisher": None}


def test_an_empty_quick_variable_counts_as_unset(monkeypatch, tmp_path):
    """Defect 14: AEUTILS_QUICK= (documented as unset) "conflicted" with --quick."""
    seen = {}
    monkeypatch.setenv(config.QUICK_ENV, "")
    monkeypatch.setenv(config.RECORD_ENV, "")
    monkeypatch.setattr(
        reproduce,
        "run_many",
        lambda *a, **k: seen.update(q=os.environ[config.QUICK_ENV]) or ({}, []),
    )
    assert reproduce.main(["--quick", "--only", "01", "--out", str(tmp_path)]) == 0
    assert seen == {"q": "1"}


def test_a_cell_that_exits_early_is_a_failure(tmp_path):
    """Defect 12: sys.exit(0) in a cell left later cells unrun, and the notebook 'passed'."""
    source = _notebook(tmp_path, "x = 1", "import sys; sys.exit(0)", "assert False")
    with pytest.raises(reproduce.NotebookFailed, match=r"code cell 2 of 3 .* later cells never"):
        reproduce.run_notebook(source, tmp_path / "out.ipynb", timeout=60)


# A recording run: what a notebook writes is staged, and published only when it passed.

RECORD_CELL = """
import json, os, pathlib
staging = pathlib.Path(os.environ["AEUTILS_OUTPUT_DIR"])
(staging / "results").mkdir(exist_ok=True)
(staging / "images").mkdir(exist_ok=True)
record = {{"notebook": {name!r}, "metrics": {{"loss": 0.5}}, "epochs": 1,
          "environment": {{"device": "CPU"}}}}
(staging / "results" / "01_a.json").write_text(json.dumps(record))
(staging / "images" / "01_a_figure.png").write_bytes(b"png")
"""


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with committed results, figure and executed copy of notebook 01_a."""
    root = tmp_path / "course"
    for folder in ("notebooks", "results", "images", "executed"):
        (root / folder).mkdir(parents=True)
    (root / "results" / "01_a.json").write_text('{"committed": true}')
    (root / "results" / "02_b.json").write_text('{"committed": true}')
    (root / "images" / "01_a_figure.png").write_bytes(b"committed")
    (root / "executed" / "01_a.ipynb").write_text("committed")
    publisher = reproduce.Publisher(root, root / "executed", jobs=1)
    monkeypatch.setenv(config.OUTPUT_ENV, str(publisher.staging))
    return root, publisher


def _committed(root):
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in ("results", "images", "executed")
        for p in sorted((root / folder).iterdir())
    }


def test_a_notebook_that_passed_is_published_with_its_times(course):
    root, publisher = course
    source = _named_notebook(root / "notebooks", "01_a.ipynb", RECORD_CELL.format(name="01_a"))
    times, failures = reproduce.run_many([source], root / "executed", publisher=publisher)
    assert not failures and list(times) == ["01_a"]
    record = json.loads((root / "results" / "01_a.json").read_text())
    assert record["metrics"] == {"loss": 0.5} and record["seconds"]["notebook"] > 0
    assert record["seconds"]["slowest_cells"][0]["cell"] == 1
    assert (root / "images" / "01_a_figure.png").read_bytes() == b"png"
    assert nbformat.read(root / "executed" / "01_a.ipynb", as_version=4).cells
    assert not any(p.is_file() for p in publisher.staging.rglob("*"))  # all moved


@pytest.mark.parametrize(
    "cells",
    [
        (RECORD_CELL.format(name="01_a"), "1 / 0"),  # fails after writing its results
        ("x = 1",),  # passes but records nothing
        (RECORD_CELL.format(name="02_b"),),  # defect 1: its record names another notebook
        (RECORD_CELL.format(name="01_a"), "import sys; sys.exit(0)", "y = 2"),
    ],
)
def test_a_failed_full_run_changes_nothing_committed(course, cells):
    """Defects 1 and 2: the published copy, results and figures stay as they were; the failed
    copy goes to logs/failed/."""
    root, publisher = course
    before = _committed(root)
    source = _named_notebook(root / "notebooks", "01_a.ipynb", *cells)
    times, failures = reproduce.run_many([source], root / "executed", publisher=publisher)
    assert not times and len(failures) == 1
    assert _committed(root) == before
    assert "logs/failed/01_a.ipynb" in failures[0] or "recorded" in failures[0]
    assert (root / "logs" / "failed" / "01_a.ipynb").is_file() or "recorded" in failures[0]


def test_two_notebooks_at_a_time_publish_each_its_own_outputs(course):
    """Both stage into one folder; each publishes only its own files, even while the other
    is mid-way through writing a figure (a hidden temporary file in the staging folder)."""
    root, _ = course
    publisher = reproduce.Publisher(root, root / "executed", jobs=2)
    (publisher.staging / "images" / ".02_b_fig.png.half.tmp").write_bytes(b"")
    first = _named_notebook(root / "notebooks", "01_a.ipynb", RECORD_CELL.format(name="01_a"))
    second = _named_notebook(
        root / "notebooks",
        "02_b.ipynb",
        RECORD_CELL.format(name="02_b").replace("01_a", "02_b"),
    )
    times, failures = reproduce.run_many(
        [first, second], root / "executed", jobs=2, publisher=publisher
    )
    assert not failures and sorted(times) == ["01_a", "02_b"]
    for stem in ("01_a", "02_b"):
        record = json.loads((root / "results" / f"{stem}.json").read_text())
        assert record["notebook"] == stem and record["environment"]["notebooks_at_once"] == 2
        assert (root / "images" / f"{stem}_figure.png").read_bytes() == b"png"
        assert (root / "executed" / f"{stem}.ipynb").is_file()


def test_a_failure_while_publishing_is_reported_not_raised(course, monkeypatch):
    root, publisher = course
    source = _named_notebook(root / "notebooks", "01_a.ipynb", RECORD_CELL.format(name="01_a"))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reproduce.results, "save", full_disk)
    times, failures = reproduce.run_many([source], root / "executed", publisher=publisher)
    assert not times and "publishing its outputs failed" in failures[0]
    assert json.loads((root / "results" / "01_a.json").read_text()) == {"committed": True}


def test_a_recording_run_removes_what_a_killed_write_left(tmp_path):
    """Defect 4: an atomic write killed mid-way left results/.NAME.XXXX.tmp behind."""
    (tmp_path / "results").mkdir()
    leftover = tmp_path / "results" / ".01_a.json.k1ll3d.tmp"
    leftover.write_text('{"half')
    reproduce.Publisher(tmp_path, tmp_path / "executed", jobs=1)
    assert not leftover.exists()


def test_an_unreadable_notebook_keeps_the_published_copy(course):
    """Defect 2: an unreadable source deleted its committed executed copy."""
    root, publisher = course
    before = _committed(root)
    broken = root / "notebooks" / "01_a.ipynb"
    broken.write_text("{ not a notebook")
    times, failures = reproduce.run_many([broken], root / "executed", publisher=publisher)
    assert failures[0].startswith("01_a.ipynb failed before its first cell")
    assert _committed(root) == before


def test_a_killed_run_leaves_the_committed_results_alone(course):
    """Defect 3: SIGKILL after a notebook wrote its results left them in results/."""
    root, publisher = course
    before = _committed(root)
    source = _named_notebook(
        root / "notebooks",
        "01_a.ipynb",
        RECORD_CELL.format(name="01_a"),
        "import time; time.sleep(60)",
    )
    script = (
        "import pathlib, sys\n"
        "from tools import reproduce\n"
        f"root = pathlib.Path({str(root)!r})\n"
        "p = reproduce.Publisher(root, root / 'executed', 1)\n"
        f"reproduce.run_many([pathlib.Path({str(source)!r})], root / 'executed', publisher=p)\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, start_new_session=True, env=dict(os.environ)
    )
    staged = publisher.staging / "results" / "01_a.json"
    deadline = time.monotonic() + 60
    while not staged.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert staged.exists(), "the notebook never wrote its staged results"
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    assert _committed(root) == before


def test_one_notebook_at_a_time_changes_no_thread_setting():
    assert reproduce.kernel_environment(1, cores=16) == {}


def test_kernels_run_at_once_share_the_cores():
    shared = reproduce.kernel_environment(4, cores=16)
    assert {shared[k] for k in reproduce.THREAD_VARIABLES} == {"4"}
    assert shared["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert "XLA_FLAGS" not in shared  # XLA keeps its pool when a kernel has several cores
    alone = reproduce.kernel_environment(2, cores=2)
    assert {alone[k] for k in reproduce.THREAD_VARIABLES} == {"1"}
    assert "intra_op_parallelism_threads=1" in alone["XLA_FLAGS"]
    assert reproduce.kernel_environment(4, cores=2)["OMP_NUM_THREADS"] == "1"  # never 0


def test_sharing_keeps_the_thread_settings_a_user_made():
    environ = {"OMP_NUM_THREADS": "3"}
    added = reproduce.share_machine(2, environ)
    assert "OMP_NUM_THREADS" not in added
    assert environ["OMP_NUM_THREADS"] == "3"
    assert environ["OPENBLAS_NUM_THREADS"] == added["OPENBLAS_NUM_THREADS"]
