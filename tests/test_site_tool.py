"""tools.site without a browser: how notebooks, the README and the links become the site's pages.

The built site itself is checked in Chromium by tests/test_site.py.
"""

import json
from pathlib import Path

import pytest

from tools import colab, site

ROOT = Path(__file__).resolve().parent.parent
CONFIGURED = {"repository": "https://github.com/someone/course", "branch": "main"}
UNSET = {"repository": "", "branch": "main"}


def _notebook():
    return {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "# 06 · A title\n\n*Scope.*\n\n"
                f"[![Open in Colab]({colab.BADGE})](https://example.org)\n\n"
                "[course index](../README.md) · next: [07](07_x.ipynb)",
            },
            {"cell_type": "code", "metadata": {"tags": ["colab"]}, "outputs": [], "source": ""},
            {
                "cell_type": "code",
                "metadata": {"jupyter": {"source_hidden": True}},
                "outputs": [],
                "source": "answer = 1",
            },
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": "x = 2"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_a_notebook_page_links_its_source_and_keeps_solutions_collapsed():
    original = _notebook()
    page = site.notebook_page(original, "06_a.ipynb", UNSET)
    title = page["cells"][0]["source"]
    assert title.startswith("# 06 · A title\n\n*Scope.*")
    assert "{download}`Download the source notebook <../_source/06_a.ipynb>`" in title
    assert colab.BADGE not in title and "Colab" not in title  # no repository: no badge
    assert "[course index](../index.md)" in title and "(07_x.ipynb)" in title
    assert page["cells"][1]["metadata"]["tags"] == ["colab", "remove-cell"]
    assert page["cells"][2]["metadata"]["tags"] == ["hide-input"]
    assert page["cells"][3]["metadata"]["tags"] == []
    assert original == _notebook(), "the executed copy's JSON must not change"


def test_the_colab_badge_appears_only_with_a_repository_and_is_a_local_image():
    title = site.notebook_page(_notebook(), "06_a.ipynb", CONFIGURED)["cells"][0]["source"]
    url = colab.badge_url(CONFIGURED, "06_a.ipynb")
    assert f"[![Open in Colab](../_static/colab-badge.svg)]({url})" in title
    assert colab.BADGE not in title  # the site loads no image from another host


def test_the_front_page_points_at_the_site_and_shows_the_headlines():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    results = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    page = site.front_page(readme, results)
    assert "](executed/" not in page
    headlines = page.index("### Headlines")
    assert page.index("## Results") < headlines < page.index("## Quick mode")
    for path in sorted((ROOT / "executed").glob("[0-9][0-9]_*.ipynb")):
        assert f"](notebooks/{path.stem}.ipynb)" in page[headlines:]
    header = page[headlines:].split("\n")[2]
    assert header.count("|") == 5, header  # four columns: narrow enough for the page
    with pytest.raises(ValueError, match="Headlines"):
        site.front_page(readme, "# Results\n")


def test_assemble_takes_every_executed_notebook(tmp_path):
    names = site.assemble(ROOT, tmp_path)
    assert names == sorted(p.name for p in (ROOT / "executed").glob("[0-9][0-9]_*.ipynb"))
    for name in names:
        assert (tmp_path / "notebooks" / name).is_file() and (tmp_path / "_source" / name).is_file()
        json.loads((tmp_path / "notebooks" / name).read_text(encoding="utf-8"))
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert all(f"notebooks/{Path(n).stem}\n" in index for n in names)  # in the contents
    assert (tmp_path / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert 'nb_execution_mode = "off"' in (tmp_path / "conf.py").read_text(encoding="utf-8")
    assert (tmp_path / "images" / "04_reconstructions.png").is_file()  # the README's figure
