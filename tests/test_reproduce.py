"""Tests of aeutils.reproduce: notebook selection, execution errors, and the README table."""

import json

import nbformat
import pytest

from aeutils import config, reproduce

ROOT = config.repo_root()


def test_readme_table_matches_the_committed_results():
    assert reproduce.readme_table(ROOT) == reproduce.render_table(ROOT), (
        "README.md's results table is out of date: run `python -m aeutils.reproduce --table`"
    )


def test_table_has_a_row_per_metric():
    table = reproduce.render_table(ROOT).splitlines()
    expected = sum(
        len(json.loads(p.read_text())["metrics"]) for p in (ROOT / "results").glob("*.json")
    )
    assert len(table) == 2 + expected


def test_notebook_selection():
    everything = reproduce.notebooks(ROOT)
    assert [p.name[:2] for p in everything] == sorted(p.name[:2] for p in everything)
    assert [p.name[:2] for p in reproduce.notebooks(ROOT, "1")] == ["01"]
    with pytest.raises(SystemExit, match="99"):
        reproduce.notebooks(ROOT, "01,99")


def _notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "src" / "01_tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


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
    with pytest.raises(
        reproduce.NotebookFailed, match=r"01_tiny.ipynb failed in cell 1 \(code cell 2 of 3\)"
    ) as info:
        reproduce.run_notebook(source, out, timeout=60)
    assert "broken on purpose" in str(info.value)
    assert (out / source.name).is_file()


def test_out_must_not_be_the_sources(capsys):
    with pytest.raises(SystemExit):
        reproduce.main(["--quick", "--only", "01", "--out", str(ROOT / "notebooks")])
    assert "sources" in capsys.readouterr().err
