"""Classroom use: the exercises' nbgrader metadata, the student copies, and autograding."""

import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tools import classroom

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _exercises(cells):
    start = next(i for i, c in enumerate(cells) if _source(c).lstrip().startswith("## Exercises"))
    return [
        i
        for i in range(start, len(cells))
        if cells[i]["cell_type"] == "markdown" and "_Exercise" in _source(cells[i])
    ]


def _assigned(source):
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _loaded(source):
    tree = ast.parse(source)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _student_code(cell):
    """A code cell's source as a student receives it: answers stubbed, hidden tests gone."""
    source = REGION.sub(STUB + "\n", _source(cell))
    return re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", "", source, flags=re.S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_is_an_answer_cell_and_a_locked_test(path):
    cells = _cells(path)
    ids = [_nbgrader(c)["grade_id"] for c in cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)), f"grade_ids repeat: {ids}"
    for i in _exercises(cells):
        answer, test = cells[i + 1], cells[i + 2]
        meta = _nbgrader(answer)
        assert meta.get("solution") is True and meta.get("grade") is False, (
            f"the cell after exercise cell {i} is not an nbgrader answer cell"
        )
        assert _source(answer).count("### BEGIN SOLUTION") == 1, f"answer cell {i + 1}"
        assert _source(answer).count("### END SOLUTION") == 1, f"answer cell {i + 1}"
        meta = _nbgrader(test)
        assert test["cell_type"] == "code" and meta.get("grade") is True, (
            f"exercise cell {i}: its answer must be followed by an autograded test cell"
        )
        assert meta.get("locked") is True and meta.get("points", 0) > 0, f"test cell {i + 2}"
        assert "### BEGIN HIDDEN TESTS" in _source(test), f"test cell {i + 2}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_autograded_test_passes_on_an_untouched_student_copy(path):
    """Each test cell reads a name that only its answer region defines, so it fails unanswered."""
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    elsewhere = set()
    for cell in code:
        elsewhere |= _assigned(_student_code(cell))
    for i in _exercises(cells):
        answer, test = cells[i + 1], cells[i + 2]
        region = REGION.search(_source(answer)).group(1)
        own = _assigned(region) - elsewhere
        required = re.search(r"for _name in (\[[^\]]*\])", _student_code(test))
        assert required, f"the test after exercise cell {i} does not say which names it needs"
        required = set(ast.literal_eval(required.group(1)))
        assert required & own, (
            f"the test after exercise cell {i} requires none of the names only its answer "
            f"defines ({sorted(own)}): it could pass on an untouched student copy"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_other_cell_needs_an_answer(path):
    """Cells outside the exercises still run in a student copy whose answers are stubs."""
    cells = _cells(path)
    answers = set()
    for cell in cells:
        match = REGION.search(_source(cell))
        if match:
            answers |= _assigned(match.group(1))
    student_defined = set()
    for cell in cells:
        if cell["cell_type"] == "code":
            student_defined |= _assigned(_student_code(cell))
    only_in_answers = answers - student_defined
    first = next(i for i, c in enumerate(cells) if REGION.search(_source(c)))
    for i, cell in enumerate(cells[first:], start=first):
        if cell["cell_type"] != "code" or _nbgrader(cell):
            continue
        needs = (_loaded(_source(cell)) - _assigned(_source(cell))) & only_in_answers
        assert not needs, f"code cell {i} reads {sorted(needs)}, which only an answer defines"


def test_student_source_turns_quick_mode_on_and_relinks():
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    student = classroom.student_source(nb, released={NOTEBOOKS[0].stem})
    setup = next(c for c in student.cells if "import os" in c.source)
    assert classroom.QUICK_LINE in setup.source
    title = student.cells[0].source
    assert f"](../{NOTEBOOKS[0].stem}/{NOTEBOOKS[0].name})" in title  # released: relinked
    assert f"]({NOTEBOOKS[2].name})" not in title and NOTEBOOKS[2].stem not in title
    assert nbformat.read(NOTEBOOKS[1], as_version=4).cells[0].source != title  # source intact


def test_release_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "notes.txt").write_text("a teacher's file", encoding="utf-8")
    with pytest.raises(classroom.ClassroomError, match="did not make"):
        classroom.release(tmp_path, "01")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "a teacher's file"


def test_release_keeps_an_assignment_it_made_unless_asked_to_refresh(tmp_path):
    out = tmp_path / "class"
    classroom.release(out, "01")
    source = out / "source" / NOTEBOOKS[0].stem / NOTEBOOKS[0].name
    source.write_text(source.read_text(encoding="utf-8") + " ", encoding="utf-8")  # an edit
    edited = source.read_text(encoding="utf-8")
    with pytest.raises(classroom.ClassroomError, match="--refresh"):
        classroom.release(out, "01")
    assert source.read_text(encoding="utf-8") == edited
    classroom.release(out, "01", refresh=True)
    assert source.read_text(encoding="utf-8") != edited


def test_release_refuses_an_unknown_notebook(tmp_path):
    with pytest.raises(classroom.ClassroomError, match="no notebook numbered 99"):
        classroom.release(tmp_path / "class", "01,99")


@pytest.mark.parametrize("notebooks", ["", ",", " ", "01,,02", "one"])
def test_release_refuses_an_empty_or_malformed_selection_before_writing(tmp_path, notebooks):
    """Defect 11: "" released all 13 notebooks and "," none (after writing into the folder)."""
    out = tmp_path / "class"
    with pytest.raises(classroom.ClassroomError, match="--notebooks"):
        classroom.release(out, notebooks)
    assert not out.exists()


def test_release_into_a_file_is_a_clear_error(tmp_path, capsys):
    """Defect 14: a raw NotADirectoryError."""
    afile = tmp_path / "class.txt"
    afile.write_text("notes", encoding="utf-8")
    assert classroom.main(["release", str(afile), "--notebooks", "01"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert afile.read_text(encoding="utf-8") == "notes"


def test_a_release_keeps_the_teachers_nbgrader_config(tmp_path):
    """Defect 5: releasing more into an existing class folder rewrote nbgrader_config.py."""
    out = tmp_path / "class"
    classroom.release(out, "01")
    config = out / "nbgrader_config.py"
    edited = config.read_text(encoding="utf-8") + 'c.Exchange.root = "/srv/exchange"\n'
    config.write_text(edited, encoding="utf-8")
    classroom.release(out, "02")
    assert config.read_text(encoding="utf-8") == edited
    assert (out / "release" / NOTEBOOKS[1].stem / NOTEBOOKS[1].name).is_file()


def test_a_failed_generation_names_its_assignment(tmp_path, monkeypatch):
    """nbgrader makes every student copy in one process: a notebook it refuses (here two cells
    with one grade id) is named, and the ones before it are released."""
    clean = classroom.student_source

    def broken(nb, stems):
        nb = clean(nb, stems)
        if nb.cells[0].source.startswith("# 02"):
            graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
            graded[1].metadata.nbgrader.grade_id = graded[0].metadata.nbgrader.grade_id
        return nb

    monkeypatch.setattr(classroom, "student_source", broken)
    out = tmp_path / "class"
    with pytest.raises(classroom.ClassroomError, match=f"generate_assignment {NOTEBOOKS[1].stem}"):
        classroom.release(out, "01,02")
    assert (out / "release" / NOTEBOOKS[0].stem / NOTEBOOKS[0].name).is_file()


def test_the_exercise_table_of_a_folder_without_notebooks_is_an_error(tmp_path, capsys):
    """Defect 11: an empty table."""
    with pytest.raises(classroom.ClassroomError, match="no notebooks"):
        classroom.exercise_table(tmp_path / "missing")


@pytest.mark.slow
def test_release_then_autograde(tmp_path):
    """The whole class cycle: student copies of every notebook, then autograding notebook 03.

    One test, so that the release (nbgrader runs once per notebook) is made once even when
    pytest runs on several workers. Autograding runs notebook 03, the quickest with exercises
    in quick mode, twice.
    """
    out = tmp_path / "class"
    classroom.release(out)
    for path in NOTEBOOKS:
        copy = out / "release" / path.stem / path.name
        nb = nbformat.read(copy, as_version=4)
        nbformat.validate(nb)
        text = copy.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, path.name
        assert text.count("raise NotImplementedError()") == len(_exercises(_cells(path)))
        assert classroom.QUICK_LINE in "".join(c.source for c in nb.cells)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert (out / "nbgrader_config.py").is_file() and (out / "DATA.md").is_file()
    assert (out / "release" / "README.md").is_file()

    from nbgrader.api import Gradebook

    graded = next(p for p in NOTEBOOKS if p.name.startswith("03_"))
    stem = graded.stem
    submissions = {
        "solutions": out / "source" / stem / graded.name,
        "untouched": out / "release" / stem / graded.name,
    }
    for student, notebook in submissions.items():
        target = out / "submitted" / student / stem
        target.mkdir(parents=True)
        shutil.copy(notebook, target / notebook.name)
    result = classroom.run_nbgrader(["autograde", stem, "--force"], out, AEUTILS_QUICK="1")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        solved = gradebook.find_submission(stem, "solutions")
        untouched = gradebook.find_submission(stem, "untouched")
        assert solved.max_score > 0
        assert solved.score == solved.max_score, log
        assert untouched.score == 0, log


def test_teaching_guide_lists_the_exercises_as_they_are():
    guide = (ROOT / "TEACHING.md").read_text(encoding="utf-8")
    start = guide.index(classroom.TABLE_START) + len(classroom.TABLE_START)
    block = guide[start : guide.index(classroom.TABLE_END)].strip()
    assert block == classroom.exercise_table(ROOT), (
        "TEACHING.md's exercise table is stale: paste `python -m tools.classroom table`"
    )
