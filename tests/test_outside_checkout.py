"""aeutils installed without a checkout, as on Colab: a notebook alone in an empty folder runs.

The wheel is built from a copy of this checkout's packaging, learner's package and tools (it
must hold only the learner's package) and installed with ``pip --target`` into a folder of its
own that goes first on ``PYTHONPATH``, so the notebook imports that copy (not the editable
install, and with no ``notebooks/`` beside it); TensorFlow and the other dependencies come
from the current environment, which spares CI a second TensorFlow install. The notebook then
runs in quick mode, and in full mode up to its first figure with recording on and
``AEUTILS_OUTPUT_DIR`` set, to check that the outputs land in the chosen folder.
"""

import ast
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from aeutils import config

ROOT = config.repo_root()
NOTEBOOK = "01_undercomplete_autoencoder.ipynb"


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so that setuptools' build/ folder stays out of the checkout
    for package in ("aeutils", "tools"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (work / "dist").glob("aeutils-*.whl")
    site = work / "site"
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return site, wheel


def test_the_wheel_holds_only_the_learners_package(wheel_site):
    _, wheel = wheel_site
    names = zipfile.ZipFile(wheel).namelist()
    packaged = sorted(
        {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    )
    assert packaged == ["aeutils"], names
    modules = {n for n in names if n.startswith("aeutils/") and n.endswith(".py")}
    expected = {f"aeutils/{p.name}" for p in (ROOT / "aeutils").glob("*.py")}
    assert modules == expected, sorted(modules ^ expected)


def test_aeutils_imports_nothing_from_the_tools():
    """One direction: the tools import aeutils, aeutils never imports the tools."""
    for path in sorted((ROOT / "aeutils").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            else:
                continue
            # any dotted part named "tools" (relative dots stripped); "functools" is not "tools"
            assert not [n for n in names if "tools" in n.lstrip(".").split(".")], (
                path.name,
                names,
            )


def _env(site, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEUTILS_")}
    if "AEUTILS_DATA_DIR" in os.environ:  # the data the rest of the suite uses
        env["AEUTILS_DATA_DIR"] = os.environ["AEUTILS_DATA_DIR"]
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def test_the_wheel_is_what_gets_imported_and_it_has_no_checkout(wheel_site, tmp_path):
    site, _ = wheel_site
    probe = (
        "from aeutils import config\n"
        "print(config.__file__)\n"
        "try:\n    config.repo_root()\nexcept RuntimeError as e:\n    print('no checkout:', e)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=_env(site),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(site)), run.stdout
    assert "no checkout:" in run.stdout and config.OUTPUT_ENV in run.stdout, run.stdout


@pytest.mark.slow
def test_a_notebook_alone_in_an_empty_folder_runs_in_quick_mode(wheel_site, tmp_path):
    pytest.importorskip("papermill")
    folder = tmp_path / "empty"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, folder / NOTEBOOK)
    run = subprocess.run(
        [sys.executable, "-m", "papermill", NOTEBOOK, "out.ipynb", "--cwd", str(folder)],
        cwd=folder,
        env=_env(wheel_site[0], AEUTILS_QUICK="1", TF_CPP_MIN_LOG_LEVEL="2"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert sorted(p.name for p in folder.iterdir()) == [NOTEBOOK, "out.ipynb"]


def test_recording_outside_a_checkout_writes_to_the_chosen_folder(wheel_site, tmp_path):
    script = (
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from aeutils import plotting, results\n"
        "fig, ax = plt.subplots(); ax.plot([0, 1])\n"
        "print(plotting.save_fig('00_probe', fig))\n"
        "results.record('00_probe', metrics={'m': 1.0}, epochs=1)\n"
    )
    out = tmp_path / "outputs"
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_env(wheel_site[0], AEUTILS_QUICK="0", AEUTILS_RECORD="1", AEUTILS_OUTPUT_DIR=str(out)),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (out / "images" / "00_probe.png").is_file(), run.stdout
    assert (out / "results" / "00_probe.json").is_file(), run.stdout
    assert not (ROOT / "results" / "00_probe.json").exists()
