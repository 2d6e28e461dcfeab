"""Conventions every notebook follows (the notebooks themselves run through nbmake)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aeutils import results

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
        hidden = cells[i + 1]["metadata"].get("jupyter", {}).get("source_hidden")
        assert hidden is True, (
            f"the solution after cell {i} shows its code under the prompt: set its metadata "
            '"jupyter": {"source_hidden": true} (nbmake still runs it)'
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_full_mode_results_are_committed(path):
    stem = path.stem
    result = ROOT / "results" / f"{stem}.json"
    assert result.is_file(), f"run {path.name} in full mode and commit {result.name}"
    record = results.read(stem, ROOT)  # validates the record
    assert record["notebook"] == stem and record["mode"] == "full"
    assert record["metrics"] and all(isinstance(v, float) for v in record["metrics"].values())
    assert record["seconds"]["notebook"] > 0  # added by the runner once the notebook passed
    assert {"python", "keras", "backend", "backend_version", "numpy", "device"} <= set(
        record["environment"]
    )


_BOOKKEEPING = re.compile(
    r"NOTEBOOK_START|perf_counter|\bseconds\s*=\s*\{|epoch_seconds|headline", re.I
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_carry_no_bookkeeping(path):
    """Notebook and cell times come from the runner, the headline metric from tools/tables.py."""
    for i, cell in enumerate(_cells(path)):
        found = _BOOKKEEPING.findall(_source(cell))
        assert not found, f"cell {i} carries bookkeeping: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_call_records_the_measured_numbers(path):
    code = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    assert code.count("results.record(") == 1, "a notebook records its numbers with one call"
    assert f'results.record(\n    "{path.stem}"' in code or f'results.record("{path.stem}"' in code


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README.md does not link {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_links_previous_and_next(path):
    first = _source(_cells(path)[0])
    index = NOTEBOOKS.index(path)
    for neighbour in NOTEBOOKS[max(index - 1, 0) : index + 2]:
        if neighbour != path:
            assert f"]({neighbour.name})" in first, f"the title cell does not link {neighbour.name}"


def test_readme_figures_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\((images/[^)]+)\)", readme)
    assert linked, "README.md shows no figure"
    missing = [path for path in linked if not (ROOT / path).is_file()]
    assert not missing, f"README.md links figures that do not exist: {missing}"


def test_importing_aeutils_does_not_import_tensorflow():
    code = (
        "import sys, aeutils\n"
        "from aeutils import config, data, environment, metrics, noise, plotting, references\n"
        "from aeutils import results\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- Prose must not drift from the runs -------------------------------------------------------
# A figure our own run measures is printed by the code that computes it; markdown speaks about
# it qualitatively. These tests catch a hand-copied figure: a number in a markdown cell that is
# close to one of the notebook's measured metrics (so it reads as one of ours) but is neither a
# published reference (those are literals in the notebook's code, with their source) nor a
# constant of the code. Formulas ($...$) and inline code are skipped; integers (parameter
# counts, epochs, sizes) are not figures of a run and are not looked at.

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.]*\d)(\s?%)?")
_PERCENT = re.compile(r"(?<![\w.])(\d+)(\s?%)")


def _prose_numbers(text):
    """(token, value) pairs: decimals, and percentages as fractions too."""
    text = _INLINE_CODE.sub(" ", _MATH.sub(" ", text))
    found = []
    for match in list(_DECIMAL.finditer(text)) + list(_PERCENT.finditer(text)):
        value = float(match.group(1))
        found.append((match.group(0).strip(), value / 100 if match.group(2) else value))
    return found


def stale_figures(markdown: str, code: str, record: dict) -> list[str]:
    """Numbers in ``markdown`` that look like copies of ``record``'s measured metrics."""
    measured = [abs(v) for v in record.get("metrics", {}).values() if v]
    references = {ref["value"] for ref in record.get("references", {}).values()}
    stale = []
    for token, value in _prose_numbers(markdown):
        number = token.rstrip("% ").strip()
        if number in code or value in references or float(number) in references:
            continue
        if any(abs(value - m) <= 0.3 * m for m in measured):
            stale.append(token)
    return stale


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_quotes_no_measured_figure(path):
    cells = _cells(path)
    result = ROOT / "results" / f"{path.stem}.json"
    record = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            stale = stale_figures(_source(cell), code, record)
            assert not stale, (
                f"markdown cell {i} quotes {stale}, close to figures this notebook measures: "
                "print them from the code that computes them instead"
            )


def test_the_stale_figure_check_catches_a_hand_copied_run():
    # Notebook 02's caveat once quoted a 100-epoch run after the notebook moved to 50 epochs.
    old_cell = (
        "In our full run (100 epochs) the mean activation fell more than six-fold, from 8.3 to "
        "1.3, while the share of silent activations rose only from 0.4 % to 3.7 %. Ours (1.26 "
        "and 8.31) are close to the translation's. The blog reports 3.33 and 7.30, $\\lambda = "
        "1.5$, 32 units, 50 epochs."
    )
    record = {
        "metrics": {
            "mean_activation": 1.676,
            "mean_activation_unregularized": 8.956,
            "zero_fraction": 0.0464,
            "zero_fraction_unregularized": 0.0038,
        },
        "references": {"mean_activation": {"value": 3.33, "source": "blog"}},
    }
    code = 'references = {"mean_activation_unregularized": {"value": 7.30}}'
    assert stale_figures(old_cell, code, record) == ["8.3", "1.3", "0.4 %", "3.7 %", "1.26", "8.31"]


# Hand-typed timings go stale as machines and versions change; the generated blocks of the
# README (between <!-- ...:start --> and <!-- ...:end --> markers) are the place for them.
_TIMING = re.compile(
    r"(?<![\w.])\d+(?:[.,–-]\d+)?\s?(?:s|sec|seconds|min|minutes|h|hours)\b|(?<![\w.])\d+\s?%"
    r"|(?<![\w:])\d+:\d\d(?![\w:])"
)
_GENERATED = re.compile(r"<!-- (\w+):start.*?<!-- \1:end -->", re.S)


@pytest.mark.parametrize(
    "name", ["README.md", "pyproject.toml", "requirements.txt", "requirements-dev.txt"]
)
def test_no_hand_typed_timings(name):
    text = _GENERATED.sub(" ", (ROOT / name).read_text(encoding="utf-8"))
    assert not _TIMING.findall(text), (
        f"{name} quotes timings {_TIMING.findall(text)} outside a generated block"
    )


_TEXTS = ["README.md", "TEACHING.md", "requirements.txt", "pyproject.toml", *map(str, NOTEBOOKS)]


@pytest.mark.parametrize("name", _TEXTS, ids=lambda n: Path(n).name)
def test_no_forward_references_to_missing_notebooks(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    existing = {p.name[:2] for p in NOTEBOOKS}
    named = set(re.findall(r"\b[Nn]otebooks? (\d\d)\b", text))
    named |= set(re.findall(r"\b(\d\d)_[a-z]+(?:_[a-z]+)*\.ipynb", text))
    assert named <= existing, f"{name} refers to notebooks {sorted(named - existing)}"
    assert not re.search(r"later notebooks?|notebooks? to come|upcoming notebook", text), (
        f"{name} promises a notebook that does not exist yet"
    )


# --- The README and the two installs ----------------------------------------------------------


def _requirements(name):
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_the_learners_install_has_no_maintainers_tools():
    learner = _requirements("requirements.txt")
    names = {re.split(r"[\[~=<> ]", line)[0].lower() for line in learner}
    tools = {"papermill", "nbgrader", "nbmake", "pytest", "pytest-xdist", "ruff", "jax"}
    assert not names & tools, sorted(names & tools)
    assert learner[-1] == "-e ."  # aeutils alone, no extras
    dev = _requirements("requirements-dev.txt")
    assert dev[0] == "-r requirements.txt"
    dev_names = {re.split(r"[\[~=<> ]", line)[0].lower() for line in dev[1:]}
    assert tools <= dev_names, sorted(tools - dev_names)


def test_the_readme_is_short_and_starts_with_install_and_test():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; keep it under 150"
    head = "\n".join(lines[:40])
    assert "pip install -r requirements.txt" in head and "jupyter lab" in head
    assert "pip install -r requirements-dev.txt" in head and "\npytest" in head


def test_the_python_versions_are_stated_once_and_agree():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    low, high = re.search(r'requires-python = ">=3\.(\d+),<3\.(\d+)"', pyproject).groups()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.findall(r"Python 3\.(\d+)[–-]3\.(\d+)", readme)
    assert stated == [(low, str(int(high) - 1))], stated
    assert f'target-version = "py3{low}"' in pyproject
    for name in ("requirements.txt", "requirements-dev.txt", "TEACHING.md", ".ci/run"):
        assert not re.search(r"Python 3\.\d+", (ROOT / name).read_text(encoding="utf-8")), name
