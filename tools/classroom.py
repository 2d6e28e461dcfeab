"""Student copies of the course notebooks for a class, made with nbgrader.

    python -m tools.classroom release OUTDIR                  # every notebook
    python -m tools.classroom release OUTDIR --notebooks 01,04

sets up an nbgrader course folder in OUTDIR (``nbgrader_config.py``, ``source/<assignment>/``
with one assignment per notebook, a data note) and runs ``nbgrader generate_assignment`` for
each (all in one process), so that ``OUTDIR/release/<assignment>/`` holds the student copies:
every exercise's solution replaced by ``# YOUR CODE HERE`` / ``raise NotImplementedError()``,
hidden tests removed, the discussion of each answer removed, outputs cleared, quick mode on by
default (with one line that says how to switch to full mode) and the links between notebooks
pointing at the other assignments. The course notebooks themselves are not changed.

The notebooks carry the nbgrader metadata (answer cells and locked, autograded test cells);
see TEACHING.md for collecting and grading. Introduced with the classroom guide, TEACHING.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from aeutils import _files, config

from . import tables

MARKER = ".aeutils-classroom"
"""File that marks a folder this command made, so it may be refreshed but nothing else is."""

QUICK_LINE = (
    'os.environ.setdefault("AEUTILS_QUICK", "1")  # quick mode for class: '
    "delete this line and restart the kernel for full mode"
)
"""Inserted into each student copy's Setup cell, right after ``import os``."""

_LINK = re.compile(r"\[([^\]]+)\]\((\d\d_[a-z0-9_]+)\.ipynb\)")

CONFIG = """\
# nbgrader configuration of a class made by `python -m tools.classroom release`.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = "."
# Autograding runs every notebook in quick mode; give each cell time for a slow machine.
c.ExecutePreprocessor.timeout = 1800
"""

DATA_NOTE = """\
# Data for the notebooks

The notebooks load MNIST with `aeutils.data.load_mnist()`, which looks for `mnist.npz`
(Keras's layout) in `$AEUTILS_DATA_DIR`, then in Keras's cache (`~/.keras/datasets/`), and
otherwise downloads it with Keras. On machines without internet, put `mnist.npz` in a folder
and set `AEUTILS_DATA_DIR` to that folder before starting Jupyter (and before `nbgrader
autograde`). Students also need the course's helper package: `pip install -r requirements.txt`
in a checkout of the course installs it with everything else.
"""


class ClassroomError(RuntimeError):
    """A release that cannot be made (an unknown notebook, a folder that is not ours, ...)."""


def _select(root: Path, notebooks: str | None) -> list[Path]:
    """The notebooks to release: all for None, else those numbered in ``notebooks``."""
    try:
        return tables.select_notebooks(root, notebooks)
    except ValueError as err:
        raise ClassroomError(f"--notebooks: {err}") from None


def student_source(nb: nbformat.NotebookNode, released=None) -> nbformat.NotebookNode:
    """The notebook as nbgrader's source for a class: quick mode on, links between assignments.

    A link to another course notebook points at that notebook's assignment folder when it is
    among ``released`` (notebook stems; default: all), and becomes plain text otherwise; the
    course index becomes the class index, ``release/README.md``. Also removes the discussion
    of each exercise's answer (the markdown between a locked test cell and the next exercise),
    which would give the answer away. Returns a new notebook.
    """
    nb = nbformat.from_dict(nb)
    setup = next((c for c in nb.cells if c.cell_type == "code" and "import os" in c.source), None)
    if setup is None:
        raise ClassroomError("no Setup cell with `import os` to put the quick-mode line into")
    setup.source = setup.source.replace("import os\n", f"import os\n\n{QUICK_LINE}\n", 1)
    after_test = False
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _relink(cell.source, released)
            if after_test:
                cell.source = _drop_discussion(cell.source)
                if not cell.source:
                    continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        after_test = bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
        if cell.cell_type == "markdown":
            after_test = False
        kept.append(cell)
    nb.cells = kept
    return nb


def _relink(text: str, released) -> str:
    def link(match):
        stem = match.group(2)
        if released is None or stem in released:
            return f"[{match.group(1)}](../{stem}/{stem}.ipynb)"
        return match.group(1)

    return _LINK.sub(link, text)


def _drop_discussion(text: str) -> str:
    """Keep a markdown cell only from its next exercise prompt or heading on."""
    match = re.search(r"^(_Exercise|#{1,6} )", text, re.M)
    return text[match.start() :] if match else ""


def run_nbgrader(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the class folder ``cwd`` with this Python; output captured.

    ``env`` adds environment variables, e.g. ``AEUTILS_QUICK="1"`` for autograding.
    """
    return _python(["-m", "nbgrader", *args], cwd, env)


# `nbgrader generate_assignment ID --force` for every ID in one process: nbgrader's start-up
# (about 3 s, its imports) is paid once, not once per notebook. Each assignment gets a new app,
# which reads nbgrader_config.py as the command does; a failure names its assignment.
_GENERATE = """\
import sys
from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp
for assignment in sys.argv[1:]:
    try:
        app = GenerateAssignmentApp()
        app.initialize([assignment, "--force"])
        app.start()
    except SystemExit as stop:
        if stop.code:
            print(f"failed: {assignment}", file=sys.stderr)
            raise
    except BaseException:
        print(f"failed: {assignment}", file=sys.stderr)
        raise
"""


def generate_assignments(assignments: list[str], cwd) -> subprocess.CompletedProcess:
    """``nbgrader generate_assignment ID --force`` for each of ``assignments``, in one process."""
    return _python(["-c", _GENERATE, *assignments], cwd, {})


def _python(args: list[str], cwd, env: dict) -> subprocess.CompletedProcess:
    """This Python with ``args`` in ``cwd``, output captured. The interpreter's own bin folder
    goes first on PATH, because nbgrader calls ``alembic`` (its database migrations) as a
    command, which a virtualenv not activated would not find."""
    full_env = dict(os.environ, **env)
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=full_env, capture_output=True, text=True
    )


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ClassroomError(f"{out} is a file: name a folder for the class")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ClassroomError(
            f"{out} exists and holds files this command did not make; choose an empty or new "
            "folder (nothing in it is overwritten)"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by python -m tools.classroom release\n", encoding="utf-8")


def release(
    out, notebooks: str | None = None, course_id: str = "autoencoders", refresh: bool = False
) -> list[Path]:
    """Make the class folder ``out`` and its student copies; returns the released notebooks.

    ``out`` must be new, empty, or a class folder this command made. An assignment already in
    it is refused unless ``refresh`` is true, because its source may hold a teacher's edits;
    with ``refresh`` its source and student copy are made again from the course notebook.
    """
    try:
        root = config.repo_root()
    except RuntimeError as err:  # installed outside a checkout: no notebooks to release
        raise ClassroomError(str(err)) from err
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise ClassroomError(f"{out} is a file: name a folder for the class")
    selected = _select(root, notebooks)
    existing = [p.stem for p in selected if (out / "source" / p.stem).exists()]
    if existing and not refresh:
        raise ClassroomError(
            f"{out} already has the assignment(s) {', '.join(existing)}, whose sources may hold "
            "your edits; pass --refresh to make them again from the course notebooks"
        )
    _prepare(out)
    nbgrader_config = out / "nbgrader_config.py"
    if nbgrader_config.exists():  # the teacher's, possibly edited: never rewritten
        print(f"kept {nbgrader_config} as it is")
    else:
        _files.atomic_write_text(nbgrader_config, CONFIG.format(course_id=course_id))
    _files.atomic_write_text(out / "DATA.md", DATA_NOTE)
    stems = {p.stem for p in selected}
    for path in selected:
        source = out / "source" / path.stem
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        nb = student_source(nbformat.read(path, as_version=4), stems)
        nbformat.write(nb, source / path.name)
    result = generate_assignments([p.stem for p in selected], out)
    released = [out / "release" / p.stem / p.name for p in selected]
    missing = [target.parent.name for target in released if not target.is_file()]
    if result.returncode != 0 or missing:
        failed = re.search(r"^failed: (\S+)$", result.stderr, re.M)
        name = failed.group(1) if failed else ", ".join(missing) or "?"
        raise ClassroomError(
            f"nbgrader generate_assignment {name} failed:\n{result.stdout}{result.stderr}"
        )
    for target in released:
        print(f"released {target.relative_to(out)}")
    index = ["# Assignments", ""]
    for folder in sorted(p for p in (out / "release").iterdir() if p.is_dir()):
        index += [f"- [{folder.name}]({folder.name}/{folder.name}.ipynb)"]
    index += ["", DATA_NOTE.replace("# Data for the notebooks", "## Data")]
    _files.atomic_write_text(out / "release" / "README.md", "\n".join(index))
    return released


TABLE_START = "<!-- exercises:start (python -m tools.classroom table) -->"
TABLE_END = "<!-- exercises:end -->"


def exercise_table(root: Path | None = None) -> str:
    """The Markdown table of the gradable exercises: notebook, exercise, points, names."""
    root = Path(root) if root else config.repo_root()
    paths = tables.course_notebooks(root)
    if not paths:
        raise ClassroomError(f"{root} has no notebooks/NN_*.ipynb: is it the course's folder?")
    rows = []
    total = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade") or cell.cell_type != "code":
                continue
            number = meta["grade_id"].split("_")[1]
            found = re.search(r"for _name in \[([^\]]*)\]", cell.source)
            names = [n.strip().strip('"') for n in found.group(1).split(",")] if found else []
            defines = ", ".join(f"`{n}`" for n in names)
            rows.append([path.stem, number, str(meta["points"]), defines])
            total += meta["points"]
    rows.append(["**all**", "", f"**{total}**", ""])
    return tables.markdown_table(["Notebook", "Exercise", "Points", "The answer defines"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.classroom", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("release", help="make an nbgrader class folder with student copies")
    make.add_argument("out", help="the class folder to create (new or empty, or made by this)")
    make.add_argument("--notebooks", help="comma-separated numbers, e.g. 01,04 (default: all)")
    make.add_argument("--course-id", default="autoencoders", help="nbgrader's course id")
    make.add_argument(
        "--refresh",
        action="store_true",
        help="make assignments already in OUT again (edits to their sources are lost)",
    )
    commands.add_parser("table", help="print the table of gradable exercises (TEACHING.md)")
    args = parser.parse_args(argv)
    try:
        if args.command == "table":
            print(exercise_table())
            return 0
        released = release(args.out, args.notebooks, args.course_id, args.refresh)
    except ClassroomError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(released)} assignment(s) in {Path(args.out).resolve() / 'release'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
