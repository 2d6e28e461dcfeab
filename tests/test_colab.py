"""The Colab badges and install cells are generated from pyproject.toml and kept in step."""

import shutil
import sys
import types

import nbformat
import pytest

from aeutils import config
from tools import colab

ROOT = config.repo_root()
NOTEBOOK = "01_undercomplete_autoencoder.ipynb"


def test_the_committed_notebooks_are_in_step():
    assert colab.sync(ROOT, write=False) == [], "run: python -m tools.colab"


@pytest.fixture
def course(tmp_path):
    """A copy of the course's pyproject and one notebook, to configure freely."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / "notebooks" / NOTEBOOK)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _configure(root, url):
    path = root / "pyproject.toml"
    text = path.read_text()
    path.write_text(text.replace('repository = ""', f'repository = "{url}"', 1))


def _cells(root):
    return nbformat.read(root / "notebooks" / NOTEBOOK, as_version=4).cells


def test_a_configured_url_gives_badges_and_an_install_cell(course):
    _configure(course, "https://github.com/someone/ae-course")
    assert colab.sync(course) == [NOTEBOOK]
    assert colab.sync(course) == []  # a second run changes nothing
    link = (
        "https://colab.research.google.com/github/someone/ae-course/blob/main/notebooks/" + NOTEBOOK
    )
    cells = _cells(course)
    assert link in cells[0].source and colab.BADGE in cells[0].source
    (tagged,) = [c for c in cells if colab.CELL_TAG in c.metadata.get("tags", [])]
    assert '%pip install -q "aeutils @ git+https://github.com/someone/ae-course@main"' in (
        tagged.source
    )
    # IPython turns the indented magic into a call, so the cell is valid on Colab
    transform = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    compile(transform.transform_cell(tagged.source), "colab-cell", "exec")
    # and removing the URL again removes the badge
    _configure_back = (
        (course / "pyproject.toml")
        .read_text()
        .replace('repository = "https://github.com/someone/ae-course"', 'repository = ""')
    )
    (course / "pyproject.toml").write_text(_configure_back)
    assert colab.sync(course) == [NOTEBOOK]
    assert colab.BADGE not in _cells(course)[0].source
    assert (
        _cells(course)[0].source == nbformat.read(ROOT / "notebooks" / NOTEBOOK, 4).cells[0].source
    )


def test_a_url_that_is_not_github_is_refused(course):
    _configure(course, "https://example.com/course")
    with pytest.raises(ValueError, match="github.com/OWNER/NAME"):
        colab.sync(course)


def test_without_a_url_the_cell_fails_on_colab_with_instructions(monkeypatch):
    source = colab.cell_source({"repository": "", "branch": "main"})
    exec(compile(source, "colab-cell", "exec"), {})  # not on Colab: nothing happens
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "colab-cell", "exec"), {})  # on Colab with aeutils installed: nothing
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(ModuleNotFoundError, match="pip install"):
        exec(compile(source, "colab-cell", "exec"), {})


def test_a_notebook_without_a_setup_heading_is_named(course, capsys, monkeypatch):
    """Defect 14: a bare StopIteration."""
    path = course / "notebooks" / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if colab.CELL_TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        cell.source = cell.source.replace("## Setup", "## Start")
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match=f"{NOTEBOOK} has no '## Setup'"):
        colab.sync(course, write=False)
    monkeypatch.setattr(colab.config, "repo_root", lambda: course)
    with pytest.raises(SystemExit):
        colab.main(["--check"])
    assert "## Setup" in capsys.readouterr().err


def test_a_killed_rewrite_leaves_the_notebook_whole(course, monkeypatch):
    """Defect 4: notebooks were written with plain writes, so a kill truncated them."""
    _configure(course, "https://github.com/someone/ae-course")
    path = course / "notebooks" / NOTEBOOK
    before = path.read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill between the write and the rename would leave it

    monkeypatch.setattr(colab._files.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        colab.sync(course)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [NOTEBOOK]
