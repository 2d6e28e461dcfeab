"""Quick mode vs full mode, and whether a run records its outputs.

Two environment variables steer every notebook:

- ``AEUTILS_QUICK=1`` switches to a smoke-test size (set by ``pytest`` through the root
  ``conftest.py``). Without it a notebook runs in full mode and reproduces the reference
  numbers.
- ``AEUTILS_RECORD=1`` lets a full-mode run write ``results/*.json`` and ``images/*.png``
  (the course's runner, ``python -m tools.reproduce``, sets it). Without it a run shows and
  checks its numbers but writes nothing, so a learner's "Run all" never rewrites the
  committed record.
- ``AEUTILS_OUTPUT_DIR=/some/folder`` sends recorded outputs to ``results/`` and ``images/``
  under that folder instead of the checkout. It is how a recording run works where aeutils was
  installed without a checkout (``pip install`` from a URL or a wheel, as on Colab).

Introduced in notebook 01.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _checks

QUICK_ENV = "AEUTILS_QUICK"
"""Name of the environment variable that turns quick mode on."""

RECORD_ENV = "AEUTILS_RECORD"
"""Name of the environment variable that lets a full-mode run write results and figures."""

OUTPUT_ENV = "AEUTILS_OUTPUT_DIR"
"""Name of the environment variable that chooses where recorded outputs go."""

QUICK_EPOCHS = 2
"""Default number of epochs in quick mode."""

QUICK_TRAIN_LIMIT = 10_000
"""Default number of training images in quick mode (the first of the 60 000)."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def flag(name: str) -> bool:
    """Read the on/off environment variable ``name``: 1/true/yes/on or 0/false/no/off/unset.

    Raises ValueError for any other value, so a typo such as ``AEUTILS_QUICK=ture``
    cannot silently start a 30-minute full run.
    """
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{name} must be one of 1/true/yes/on or 0/false/no/off (or unset), got {raw!r}"
    )


def is_quick() -> bool:
    """Return True when quick mode is on (``AEUTILS_QUICK`` is 1/true/yes/on)."""
    return flag(QUICK_ENV)


def is_recording() -> bool:
    """Return True when this run may write ``results/`` and ``images/``.

    That is a full-mode run with ``AEUTILS_RECORD`` on. Quick runs never record; asking
    for both is refused, because a quick run's numbers are not the course's record.
    """
    record = flag(RECORD_ENV)
    if record and is_quick():
        raise ValueError(
            f"{RECORD_ENV}=1 with {QUICK_ENV}=1: quick runs are smoke tests and never "
            "record results; unset one of them"
        )
    return record


def mode() -> str:
    """Return ``"quick"`` or ``"full"``."""
    return "quick" if is_quick() else "full"


def epochs(full: int, quick: int | None = None) -> int:
    """Number of epochs to train: ``full`` in full mode, a small number in quick mode.

    Args:
        full: epochs of the reference recipe (e.g. 50), a positive int.
        quick: epochs in quick mode; defaults to ``min(full, QUICK_EPOCHS)`` (2).

    Example: ``EPOCHS = config.epochs(50)`` gives 50, or 2 under ``AEUTILS_QUICK=1``.
    """
    full = _checks.integer(full, "full", minimum=1)
    if quick is None:
        quick = min(full, QUICK_EPOCHS)
    quick = _checks.integer(quick, "quick", minimum=1)
    if quick > full:
        raise ValueError(
            f"quick={quick} epochs is more than full={full}: quick mode is the small one"
        )
    return quick if is_quick() else full


def train_limit(quick: int = QUICK_TRAIN_LIMIT) -> int | None:
    """How many training images to use: ``None`` (all 60 000) in full mode, ``quick`` in quick mode.

    Pass the result to ``data.load_mnist(train_limit=...)``.
    """
    quick = _checks.integer(quick, "quick", minimum=1)
    return quick if is_quick() else None


def repo_root() -> Path:
    """The course's root folder (the one holding ``notebooks/``, ``results/`` and ``images/``).

    Found from the location of the ``aeutils`` package, which the course installs in
    editable mode (``-e .`` in requirements.txt). Raises RuntimeError when aeutils was
    installed elsewhere, because then there is no checkout to write results into.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / "notebooks").is_dir():
        raise RuntimeError(
            f"aeutils is installed at {Path(__file__).resolve().parent}, which is not inside a "
            "checkout of the course (no notebooks/ folder beside it). Install it from the "
            "checkout with `python -m pip install -r requirements.txt` (which uses `-e .`), "
            f"or set {OUTPUT_ENV} to a folder for the recorded results and figures."
        )
    return root


def output_root() -> Path:
    """The folder under which a recording run writes ``results/`` and ``images/``.

    ``AEUTILS_OUTPUT_DIR`` when it is set (created if missing; an existing file there is an
    error), else the checkout (``repo_root``, which raises RuntimeError outside one).
    """
    chosen = os.environ.get(OUTPUT_ENV, "").strip()
    if not chosen:
        return repo_root()
    folder = Path(chosen).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{OUTPUT_ENV}={chosen!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def output_dir(kind: str) -> Path | None:
    """Folder for recorded outputs, ``kind`` being ``"results"`` or ``"images"``.

    Returns None unless this run records (see ``is_recording``): quick runs (CI) and plain
    full-mode runs in Jupyter never write into ``results/`` or ``images/``, so they cannot
    change the committed numbers and figures. When it records, the folder is under
    ``output_root()``: the checkout, or ``AEUTILS_OUTPUT_DIR``.
    """
    if kind not in ("results", "images"):
        raise ValueError(f"kind must be 'results' or 'images', got {kind!r}")
    if not is_recording():
        return None
    folder = output_root() / kind
    folder.mkdir(exist_ok=True)
    return folder
