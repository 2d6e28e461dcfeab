"""Root pytest configuration: quick mode for every notebook that `pytest` executes.

nbmake starts each notebook's kernel with this process's environment, so setting the
variable here (at the repository root, where pytest loads it for `notebooks/` too) reaches
the kernels. Run `AEUTILS_QUICK=0 pytest notebooks/` to execute them in full mode instead.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("AEUTILS_QUICK", "1")
# The kernels import tests/made_up_answers.py, which probes each exercise's autograded test
# with made-up answers (nbmake's post_cell_execute metadata on those cells).
_TESTS = str(Path(__file__).resolve().parent / "tests")
_PATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ["PYTHONPATH"] = os.pathsep.join([_TESTS, *(p for p in _PATH if p != _TESTS)])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out

# With xdist's workers (`-n 2`, the default), several kernels run at once. Each gets its share of
# the cores (thread limits for BLAS, TensorFlow and XLA), as `python -m tools.reproduce --jobs N`
# gives its kernels, instead of each starting a thread per core; a variable already set is kept.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    from tools.reproduce import share_machine

    share_machine(_WORKERS)

# The notebook clients (nbmake's, in this process or its workers) poll in slices of a second, so
# that a message whose wake-up signal was missed is found a second later instead of at the end
# of the cell's five-minute timeout, or never (tools/polling.py).
from tools.polling import poll_in_slices  # noqa: E402

poll_in_slices()


def _quick_seconds() -> dict[str, float]:
    """Each notebook's recorded quick-mode time on TensorFlow (results/suites.json), by stem."""
    from aeutils import _files
    from tools.tables import SUITES_FILE

    path = Path(__file__).resolve().parent / "results" / SUITES_FILE
    try:
        record = _files.read_json(path, "quick-suite file")
        notebooks = record["backends"]["tensorflow"]["notebooks"]
        return {stem: float(entry["seconds"]) for stem, entry in notebooks.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no record: the notebooks keep their order


def pytest_collection_modifyitems(config, items):
    """Longest first, so that two workers finish together: the tests marked `slow`, then the
    notebooks by their recorded quick-mode time, then the rest in their order. xdist hands out
    the work in this order, one item at a time, so the short unit tests fill the end."""
    seconds = _quick_seconds()

    def rank(item):
        if item.get_closest_marker("slow"):
            return (0, 0.0)
        if item.path.suffix == ".ipynb":
            return (1, -seconds.get(item.path.stem, 60.0))
        return (2, 0.0)

    items.sort(key=rank)  # stable: equal ranks keep their collected order


def pytest_runtest_setup(item):
    """Fail a test marked xdist_group whose group xdist's --dist loadgroup has silently lost
    (pytest 9.2 with xdist 3.8, pytest-xdist issue 1386): tests/test_site.py would then crawl the
    site once on each worker instead of once."""
    if (
        getattr(item.config.option, "loadgroup", False)  # xdist sets it in its workers
        and item.get_closest_marker("xdist_group")
        and "@" not in item.nodeid
    ):
        pytest.fail(
            "--dist loadgroup lost this test's xdist_group: this pytest and pytest-xdist do not "
            "work together (pytest-xdist issue 1386); install requirements-dev.txt's pytest",
            pytrace=False,
        )
