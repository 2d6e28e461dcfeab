"""The built site (python -m tools.site) in a real browser: headless Chromium through Playwright.

The site in build/site/ is served over http on a free local port; every page is loaded once,
with every request to another host refused and recorded, and the checks below read what that
visit saw. Skipped, with the reason, when the site is not built, or Playwright or Chromium
(Debian's package `chromium`; set CHROMIUM to use another binary) is missing; CI sets
REQUIRE_SITE=1, which turns those skips into failures. A screenshot of notebook 06's page is
written to build/site-screenshots/ for a person to look at (its top, a section with maths,
one with a figure and the exercises with their collapsed solutions).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-screenshots"
SHOT_SECTIONS = ["from-autoencoder-to-generative-model", "the-decoded-manifold", "exercises"]
REQUIRED = os.environ.get("REQUIRE_SITE", "") not in ("", "0")
# One xdist worker runs this whole module (pytest's --dist loadgroup), so one browser crawls.
pytestmark = pytest.mark.xdist_group("site")


def _unavailable(reason: str, module: bool = False):
    if REQUIRED:
        pytest.fail(f"REQUIRE_SITE is set, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


try:
    import pytest_playwright  # noqa: F401
except ImportError:
    _unavailable("pytest-playwright is not installed (pip install -r requirements-dev.txt)", True)


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at the system's Chromium."""
    executable = _chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set CHROMIUM)")
    return {**browser_type_launch_args, "executable_path": executable, "args": ["--no-sandbox"]}


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        _unavailable(f"the site is not built ({SITE} has no index.html): python -m tools.site")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a page closed while the browser was still reading; the browser reports it

    handler = functools.partial(Quiet, directory=str(SITE))
    httpd = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _pages() -> list[str]:
    return sorted(
        str(p.relative_to(SITE))
        for p in SITE.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
        and p.name not in ("genindex.html", "search.html")
    )


_READ_PAGE = """() => {
  const text = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
    return copy.textContent;
  };
  const article = document.querySelector('article') || document.body;
  const maths = [...document.querySelectorAll('.math')];
  return {
    title: document.title,
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth})),
    maths: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent)
                    .slice(0, 5),
    containers: document.querySelectorAll('mjx-container').length,
    raw: ['$$', '\\\\(', '\\\\['].filter(d => text(article).includes(d)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    hidden_inputs: document.querySelectorAll('.tag_hide-input details.hide').length,
    open_hidden: document.querySelectorAll('.tag_hide-input details.hide[open]').length,
  };
}"""


@pytest.fixture(scope="module")
def crawl(server, browser):
    """Load every page once; return {page: what the browser saw}."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = {}
    for name in _pages():
        problems = []
        page = context.new_page()

        def refuse_other_hosts(route, problems=problems):
            if route.request.url.startswith(server):
                route.continue_()
            else:
                problems.append(f"request to another host: {route.request.url}")
                route.abort()

        page.route("**/*", refuse_other_hosts)
        page.on(
            "console",
            lambda m, p=problems: m.type == "error" and p.append(f"console error: {m.text}"),
        )
        page.on("pageerror", lambda e, p=problems: p.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r, p=problems: p.append(f"failed request: {r.url} ({r.failure})"),
        )
        page.on(
            "response",
            lambda r, p=problems: r.status >= 400 and p.append(f"HTTP {r.status}: {r.url}"),
        )
        page.goto(server + name, wait_until="load")
        page.evaluate("() => window.MathJax?.startup?.promise")
        page.wait_for_load_state("networkidle")
        seen[name] = {**page.evaluate(_READ_PAGE), "problems": problems}
        if name.startswith("notebooks/06_"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "06_variational_autoencoder.png"))
            for section in SHOT_SECTIONS:
                page.evaluate("id => document.getElementById(id).scrollIntoView()", section)
                page.screenshot(path=str(SHOTS / f"06_{section}.png"))
        page.close()
    context.close()
    return seen


def test_every_notebook_and_front_page_is_built():
    if not (SITE / "index.html").is_file():
        _unavailable("the site is not built: python -m tools.site")
    pages = set(_pages())
    executed = {f"notebooks/{p.stem}.html" for p in (ROOT / "executed").glob("[0-9][0-9]_*.ipynb")}
    assert executed and executed <= pages, sorted(executed - pages)
    assert {"index.html", "TEACHING.html", "results/README.html"} <= pages


def test_pages_load_without_console_errors_or_failed_requests(crawl):
    problems = {name: seen["problems"] for name, seen in crawl.items() if seen["problems"]}
    assert not problems, problems


def test_every_image_is_drawn(crawl):
    broken = {n: [i["src"] for i in s["images"] if i["width"] == 0] for n, s in crawl.items()}
    assert not {n: b for n, b in broken.items() if b}
    assert any(s["images"] for n, s in crawl.items() if n.startswith("notebooks/06_"))


def test_every_equation_is_typeset_by_the_bundled_mathjax(crawl):
    assert sum(s["maths"] for s in crawl.values()) > 50, "the notebooks' maths is missing"
    untypeset = {n: s["untypeset"] for n, s in crawl.items() if s["untypeset"]}
    assert not untypeset, untypeset
    raw = {n: s["raw"] for n, s in crawl.items() if s["raw"]}
    assert not raw, f"TeX delimiters left in the text: {raw}"
    assert all(s["containers"] >= s["maths"] for s in crawl.values())


def test_every_internal_link_resolves(crawl, server):
    targets = {}
    for name, seen in crawl.items():
        for link in seen["links"]:
            if link.startswith(server):
                targets.setdefault(link, name)
    broken = []
    for link, name in sorted(targets.items()):
        url, _, fragment = link.partition("#")
        try:
            with urllib.request.urlopen(url) as response:
                status = response.status
        except urllib.error.HTTPError as err:
            status = err.code
        if status != 200:
            broken.append(f"{name}: {link} -> {status}")
            continue
        page = urllib.parse.unquote(url[len(server) :].split("?")[0]) or "index.html"
        fragment = urllib.parse.unquote(fragment)
        if fragment and page in crawl and fragment not in crawl[page]["ids"]:
            broken.append(f"{name}: {link} -> no element with id {fragment!r}")
    assert len(targets) > 50
    assert not broken, broken


def test_notebook_pages_have_title_source_link_and_collapsed_solutions(crawl):
    for name, seen in crawl.items():
        if not name.startswith("notebooks/"):
            continue
        stem = Path(name).stem
        assert seen["title"].startswith(stem[:2] + " · "), (name, seen["title"])
        assert any(link.endswith(f"/{stem}.ipynb") for link in seen["links"]), name
        assert seen["hidden_inputs"] >= 1 and seen["open_hidden"] == 0, name


def test_the_front_page_shows_the_notebooks_and_the_headline_results(crawl, server):
    links = crawl["index.html"]["links"]
    for path in (ROOT / "executed").glob("[0-9][0-9]_*.ipynb"):
        assert f"{server}notebooks/{path.stem}.html" in links, path.name
    assert "headlines" in crawl["index.html"]["ids"]


def test_search_finds_the_contractive_autoencoder(server, browser):
    page = browser.new_page()
    page.goto(server + "search.html?q=contractive")
    page.wait_for_function(
        "() => document.querySelector('p.search-summary')?.textContent.startsWith('Search finish')"
    )
    hits = page.eval_on_selector_all("ul.search li a", "links => links.map(a => a.href)")
    page.close()
    assert f"{server}notebooks/07_contractive_autoencoder.html" in hits, hits
