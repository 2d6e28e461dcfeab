"""tools.suites: results/README.md's per-backend table is the recorded one, and its pieces work.

The suites themselves are not run here (they take most of an hour on three backends); these
tests check the record, the merging, the table and the failure parsing on small inputs.
"""

import json
import os

import pytest

from aeutils import config
from tools import backends, reproduce, suites, tables

ROOT = config.repo_root()


def test_the_results_table_is_the_recorded_one_with_a_row_per_notebook():
    record = json.loads((ROOT / "results" / tables.SUITES_FILE).read_text(encoding="utf-8"))
    assert set(record["backends"]) == set(backends.BACKENDS)
    stems = [p.stem for p in tables.course_notebooks(ROOT)]
    readme = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert suites.table(record, stems) in readme, (
        "results/README.md's suites table is stale: run python -m tools.suites --record"
    )


def test_merge_updates_one_backend_and_keeps_the_other_entries():
    record = {
        "backends": {"jax": {"notebooks": {"01_a": {"seconds": 5.0}, "02_b": {"seconds": 7.0}}}}
    }
    merged = suites.merge(record, "jax", {"02_b": {"failed": "in code cell 3 of 9: boom"}}, "now")
    notebooks = merged["backends"]["jax"]["notebooks"]
    failed = {"failed": "in code cell 3 of 9: boom", "when": "now"}
    assert notebooks == {"01_a": {"seconds": 5.0}, "02_b": failed}
    assert merged["backends"]["jax"]["when"] == "now"
    # a later run of 01_a alone, sharing the machine, dates and marks only 01_a
    suites.merge(merged, "jax", {"01_a": {"seconds": 9.0}}, "later", at_once=2)
    assert notebooks["01_a"] == {"seconds": 9.0, "when": "later", "at_once": 2}
    assert notebooks["02_b"] == failed


def test_two_runs_at_once_keep_each_others_results(monkeypatch, tmp_path):
    (tmp_path / "results").mkdir()
    path = tmp_path / "results" / tables.SUITES_FILE
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    monkeypatch.setattr(tables, "select_notebooks", lambda root, only: [])
    monkeypatch.setattr(tables, "course_notebooks", lambda root: [])
    monkeypatch.setattr(tables, "render_suites", lambda root: "")
    monkeypatch.setattr(tables, "render_full_suites", lambda root: "")
    monkeypatch.setattr(tables, "update", lambda root: None)

    def finished_while_we_ran(backend, paths, out_dir, timeout, full=False, at_once=1):
        other = suites.merge({}, "torch", {"01_a": {"seconds": 4.0}}, "meanwhile")
        path.write_text(json.dumps(other), encoding="utf-8")
        return {"01_a": {"seconds": 3.0}}

    monkeypatch.setattr(suites, "run_backend", finished_while_we_ran)
    assert suites.main(["--backends", "jax", "--record", "--at-once", "2"]) == 0
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["backends"]["torch"]["notebooks"]["01_a"]["seconds"] == 4.0
    assert record["backends"]["jax"]["notebooks"]["01_a"] == {
        "seconds": 3.0,
        "when": record["backends"]["jax"]["when"],
        "at_once": 2,
    }


def test_runs_side_by_side_share_the_cores_and_put_the_environment_back(monkeypatch, tmp_path):
    shares = reproduce.kernel_environment(2)
    for key in shares:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the user's own setting wins
    seen = {}

    def fake_run_many(paths, out_dir, **kwargs):
        seen.update({key: os.environ.get(key) for key in shares})
        return {}, []

    monkeypatch.setattr(reproduce, "run_many", fake_run_many)
    suites.run_backend("torch", [], tmp_path, None, at_once=2)
    assert seen == {**shares, "OMP_NUM_THREADS": "7"}
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert all(key not in os.environ for key in shares if key != "OMP_NUM_THREADS")
    seen.clear()
    suites.run_backend("torch", [], tmp_path, None)  # alone: nothing is limited
    assert all(seen[key] is None for key in shares if key != "OMP_NUM_THREADS")


def test_the_table_shows_passes_failures_and_notebooks_not_run():
    record = {"backends": {}}
    suites.merge(record, "tensorflow", {"01_a": {"seconds": 65.0}, "02_b": {"seconds": 3.0}}, "t")
    suites.merge(record, "torch", {"01_a": {"failed": "in code cell 3 of 9 (`x: y`): boom"}}, "t")
    text = suites.table(record)
    assert "| 01_a | passed, 1:05 | **failed** in code cell 3 of 9 |" in text
    assert "| 02_b | passed, 0:03 | not run |" in text
    assert "tensorflow" in text.splitlines()[0] and "2 of 2 passed" in text
    assert "0 of 2 passed" in text
    # The course's notebooks are the rows: a new one shows "not run", a removed one goes.
    text = suites.table(record, ["01_a", "03_c"])
    assert "| 03_c | not run | not run |" in text and "02_b" not in text
    assert "1 of 2 passed" in text


def test_a_failure_is_recorded_with_its_cell_and_the_environment_is_put_back(monkeypatch, tmp_path):
    def fake_run_many(paths, out_dir, **kwargs):
        assert os.environ["KERAS_BACKEND"] == "jax" and os.environ[config.QUICK_ENV] == "1"
        assert os.environ[config.RECORD_ENV] == "0"
        message = "02_b.ipynb failed in code cell 4 of 7 (`assert x`): AssertionError: 0.3"
        return {"01_a": 12.34}, [message + "\n  the executed copy, with the traceback, is X"]

    monkeypatch.setattr(reproduce, "run_many", fake_run_many)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.delenv(config.QUICK_ENV, raising=False)
    outcome = suites.run_backend("jax", [], tmp_path / "out", None)
    assert outcome == {
        "01_a": {"seconds": 12.3},
        "02_b": {"failed": "in code cell 4 of 7 (`assert x`): AssertionError: 0.3"},
    }
    assert os.environ["KERAS_BACKEND"] == "tensorflow" and config.QUICK_ENV not in os.environ


def test_full_mode_runs_with_its_checks_and_records_nothing(monkeypatch, tmp_path):
    def fake_run_many(paths, out_dir, **kwargs):
        assert os.environ[config.QUICK_ENV] == "0" and os.environ[config.RECORD_ENV] == "0"
        return {"01_a": 300.0}, []

    monkeypatch.setattr(reproduce, "run_many", fake_run_many)
    assert suites.run_backend("torch", [], tmp_path, None, full=True) == {
        "01_a": {"seconds": 300.0}
    }


def test_the_full_mode_table_shows_the_recorded_backend_beside_the_others():
    record = tables.recorded_suite(ROOT)
    stems = [p.stem for p in tables.course_notebooks(ROOT)]
    assert set(record["backends"]["tensorflow"]["notebooks"]) == set(stems)
    readme = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert tables.render_full_suites(ROOT) in readme
    record = {"backends": {"tensorflow": {"notebooks": {"01_a": {"seconds": 9.0, "at_once": 2}}}}}
    record["backends"]["tensorflow"].update(version="2", device="CPU", when="t")
    text = suites.table(record, ["01_a"], "full")
    assert "passed, 0:09 (2 at once)" in text and text.split("\n\n")[1].startswith("Full mode")


@pytest.mark.parametrize(
    "argv",
    [
        ["--backends", "tensorflow,mxnet"],
        ["--backends", "jax", "--only", "99"],
        ["--backends", "jax", "--only", ""],
        ["--backends", ""],
        ["--backends", "jax", "--timeout", "0"],
        ["--backends", "jax", "--at-once", "0"],
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit):
        suites.main(argv)
    assert "error" in capsys.readouterr().err
