"""Conventions every notebook follows (the notebooks themselves run through nbmake)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
SECTIONS = ["## Setup", "## Checks", "## Summary", "## Exercises"]


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


def test_numbering_has_no_gaps():
    numbers = []
    for path in NOTEBOOKS:
        match = NAME.match(path.name)
        assert match, f"{path.name}: expected NN_snake_case.ipynb"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, len(numbers) + 1)), f"numbers {numbers} have gaps or repeats"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell["outputs"], f"cell {i} has outputs"
            assert cell["execution_count"] is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_anatomy(path):
    cells = _cells(path)
    number = path.name[:2]
    first = _source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith(f"# {number} · "), (
        "the first cell must be the title '# NN · Title'"
    )
    assert re.search(r"^\*[^*].+\*$", first, re.M), "the title cell needs an italic line of scope"
    headings = [
        line.strip()
        for cell in cells
        if cell["cell_type"] == "markdown"
        for line in _source(cell).splitlines()
        if line.startswith("## ")
    ]
    positions = [headings.index(s) if s in headings else -1 for s in SECTIONS]
    assert -1 not in positions, f"missing sections: {[s for s in SECTIONS if s not in headings]}"
    assert positions == sorted(positions), f"sections out of order: {SECTIONS}"
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell must be tagged 'parameters'"
    assert "config.epochs(" in _source(tagged[0])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_backend_is_set_before_keras_is_imported(path):
    code = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    backend = code.find('os.environ.setdefault("KERAS_BACKEND"')
    assert 0 <= backend < code.find("import keras")
    assert "keras.utils.set_random_seed(" in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_cell(path):
    cells = _cells(path)
    start = next(i for i, c in enumerate(cells) if _source(c).lstrip().startswith("## Exercises"))
    exercises = [
        i
        for i in range(start, len(cells))
        if cells[i]["cell_type"] == "markdown" and "_Exercise" in _source(cells[i])
    ]
    assert exercises, "the Exercises section has no '_Exercise …_' cell"
    for i in exercises:
        assert i + 1 < len(cells) and cells[i + 1]["cell_type"] == "code", (
            f"exercise in cell {i} is not followed by a solution cell"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_full_mode_results_are_committed(path):
    stem = path.stem
    result = ROOT / "results" / f"{stem}.json"
    assert result.is_file(), f"run {path.name} in full mode and commit {result.name}"
    record = json.loads(result.read_text(encoding="utf-8"))
    assert record["notebook"] == stem and record["mode"] == "full"
    assert record["metrics"] and all(isinstance(v, float) for v in record["metrics"].values())
    for ref in record["references"].values():
        assert set(ref) == {"value", "source"} and ref["source"]
    assert {"train", "total"} <= set(record["seconds"])
    assert {"python", "tensorflow", "keras", "numpy", "backend", "device"} <= set(
        record["environment"]
    )


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README.md does not link {path.name}"


def test_importing_aeutils_does_not_import_tensorflow():
    code = (
        "import sys, aeutils\n"
        "from aeutils import config, data, metrics, noise, plotting, results\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
