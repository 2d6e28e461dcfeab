"""Quick mode vs full mode, and where a run may write its outputs.

One environment variable switches every notebook to a smoke-test size:
``AEUTILS_QUICK=1`` (set by ``pytest`` through the root ``conftest.py``).
Without it a notebook runs in full mode and reproduces the reference numbers.

Introduced in notebook 01.
"""

from __future__ import annotations

import os
from pathlib import Path

QUICK_ENV = "AEUTILS_QUICK"
"""Name of the environment variable that turns quick mode on."""

QUICK_EPOCHS = 2
"""Default number of epochs in quick mode."""

QUICK_TRAIN_LIMIT = 10_000
"""Default number of training images in quick mode (the first of the 60 000)."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """Return True when quick mode is on (``AEUTILS_QUICK`` is 1/true/yes/on).

    Raises ValueError for any other value, so a typo such as ``AEUTILS_QUICK=ture``
    cannot silently start a 30-minute full run.
    """
    raw = os.environ.get(QUICK_ENV, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{QUICK_ENV} must be one of 1/true/yes/on or 0/false/no/off (or unset), got {raw!r}"
    )


def mode() -> str:
    """Return ``"quick"`` or ``"full"``."""
    return "quick" if is_quick() else "full"


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def epochs(full: int, quick: int | None = None) -> int:
    """Number of epochs to train: ``full`` in full mode, a small number in quick mode.

    Args:
        full: epochs of the reference recipe (e.g. 50), a positive int.
        quick: epochs in quick mode; defaults to ``min(full, QUICK_EPOCHS)`` (2).

    Example: ``EPOCHS = config.epochs(50)`` gives 50, or 2 under ``AEUTILS_QUICK=1``.
    """
    full = _positive_int(full, "full")
    if quick is None:
        quick = min(full, QUICK_EPOCHS)
    quick = _positive_int(quick, "quick")
    return quick if is_quick() else full


def train_limit(quick: int = QUICK_TRAIN_LIMIT) -> int | None:
    """How many training images to use: ``None`` (all 60 000) in full mode, ``quick`` in quick mode.

    Pass the result to ``data.load_mnist(train_limit=...)``.
    """
    quick = _positive_int(quick, "quick")
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
            "checkout with `python -m pip install -r requirements.txt` (which uses `-e .`)."
        )
    return root


def output_dir(kind: str) -> Path | None:
    """Folder for full-mode outputs, ``kind`` being ``"results"`` or ``"images"``.

    Returns None in quick mode: quick runs (CI) never write into ``results/`` or
    ``images/``, so they cannot change the committed numbers and figures.
    """
    if kind not in ("results", "images"):
        raise ValueError(f"kind must be 'results' or 'images', got {kind!r}")
    if is_quick():
        return None
    folder = repo_root() / kind
    folder.mkdir(exist_ok=True)
    return folder
