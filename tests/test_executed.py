"""The published executed copies (executed/) match their sources and stay within budget.

A full run of ``python -m tools.reproduce`` writes them; when a notebook's code changes,
its copy is stale until the next full run of that notebook, and these tests say which.
"""

import re

import nbformat
import pytest

from aeutils import config
from tools import tables

ROOT = config.repo_root()
SOURCES = tables.course_notebooks(ROOT)
BUDGET_BYTES = 10 * 1024 * 1024  # all the executed copies together


def _code(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_the_executed_copy_runs_the_same_code_in_full_mode(source):
    path = ROOT / "executed" / source.name
    if not path.is_file():  # a notebook before its first full run: the README must not link it
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert f"(executed/{source.name})" not in readme, "the README links a missing copy"
        pytest.skip(f"no executed copy yet: reproduce --only {source.name[:2]} publishes it")
    executed = nbformat.read(path, as_version=4)
    assert _code(executed) == _code(nbformat.read(source, as_version=4)), (
        f"executed/{source.name} is stale: python -m tools.reproduce --only {source.name[:2]}"
    )
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], "the copy holds an error"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert re.search(r"backend \w+, full mode", text), "the copy is not from a full-mode run"
    assert any("image/png" in o.get("data", {}) for o in outputs), "the copy shows no figure"


def test_the_executed_copies_fit_the_size_budget():
    sizes = {p.name: p.stat().st_size for p in (ROOT / "executed").glob("*.ipynb")}
    assert sum(sizes.values()) <= BUDGET_BYTES, sorted(sizes.items(), key=lambda kv: -kv[1])


def test_no_executed_copy_without_a_source():
    names = {p.name for p in SOURCES}
    assert not [p.name for p in (ROOT / "executed").glob("*.ipynb") if p.name not in names]


def test_the_readme_links_every_executed_copy():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    copies = [p for p in SOURCES if (ROOT / "executed" / p.name).is_file()]
    missing = [p.name for p in copies if f"(executed/{p.name})" not in readme]
    assert not missing, missing
