"""Figures the notebooks share: reconstructions, loss curves, and saving into ``images/``.

Importing this module sets the course's figure style once (``STYLE``: constrained layout,
a light grid, readable font sizes), so notebooks do not repeat ``tight_layout()`` or
``grid(alpha=0.3)`` in every cell.

Introduced in notebook 01.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from . import _checks, _files, config

STYLE = {
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
    "savefig.dpi": 150,
}
"""The course's matplotlib settings, applied when this module is imported."""

plt.rcParams.update(STYLE)


def reconstructions(
    originals,
    reconstructed,
    n: int = 10,
    *,
    title: str | None = None,
    labels=("original", "reconstruction"),
):
    """The Keras blog's figure: ``n`` originals on the top row, their reconstructions below.

    Args:
        originals: images in [0, 1], shape (N, 784), (N, 28, 28) or (N, 28, 28, 1).
        reconstructed: the same shape as ``originals``.
        n: how many of the first images to show, 1..N.
        title: optional figure title.
        labels: the two row labels, a list or tuple of two strings.

    Returns:
        the matplotlib Figure (two rows of ``n`` grey images, axes off).
    """
    originals = _checks.as_images(originals, "originals")
    reconstructed = _checks.as_images(reconstructed, "reconstructed")
    if originals.shape != reconstructed.shape:
        raise ValueError(
            f"originals {originals.shape} and reconstructed {reconstructed.shape} differ in shape"
        )
    n = _checks.integer(n, "n", minimum=1)
    if n > len(originals):
        raise ValueError(f"n={n} but only {len(originals)} images were given")
    return image_rows([originals[:n], reconstructed[:n]], labels=labels, title=title)


def image_rows(rows, *, labels=None, title: str | None = None, size: float = 1.0):
    """Several rows of images, one row per array, e.g. noisy / denoised / clean.

    Args:
        rows: a list of arrays, each (n, 784), (n, 28, 28) or (n, 28, 28, 1), in [0, 1],
            all with the same n.
        labels: optional list (or tuple) of row labels, one string per row.
        title: optional figure title.
        size: inches per image, a finite number > 0.

    Returns:
        the matplotlib Figure.
    """
    if not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError("rows must be a non-empty list of image arrays")
    rows = [_checks.as_images(r, f"rows[{i}]") for i, r in enumerate(rows)]
    n = len(rows[0])
    if any(len(r) != n for r in rows):
        raise ValueError(f"every row needs the same number of images, got {[len(r) for r in rows]}")
    if labels is not None and (
        not isinstance(labels, (list, tuple)) or not all(isinstance(t, str) for t in labels)
    ):
        raise TypeError(f"labels must be a list of strings, one per row, got {labels!r}")
    if labels is not None and len(labels) != len(rows):
        raise ValueError(f"{len(labels)} labels for {len(rows)} rows")
    size = _checks.real_number(size, "size")
    if size <= 0:
        raise ValueError(f"size must be > 0 (inches per image), got {size}")
    fig, axes = plt.subplots(
        len(rows), n, figsize=(size * n, size * len(rows) + 0.4), squeeze=False
    )
    for i, row in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(row[j], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        if labels is not None:
            axes[i, 0].set_ylabel(labels[i], rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def loss_curves(
    history,
    *,
    title: str | None = None,
    reference: float | None = None,
    reference_label: str = "reference",
):
    """Loss per epoch, from a Keras ``History`` or any dict of per-epoch lists.

    Each key ``k`` is drawn as a solid line labelled "training k"; a matching ``val_k`` is
    drawn dashed in the same colour, labelled "validation k". A ``val_k`` without a ``k``
    is drawn dashed on its own. Values must be finite numbers (a string such as ``"0.3"``
    is refused). ``reference`` adds a dotted horizontal line, e.g. a published loss.

    Returns:
        the matplotlib Figure.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise TypeError(
            "history must be a keras.callbacks.History (what fit() returns) or a non-empty "
            f"dict of per-epoch values, got {type(history).__name__}"
        )
    for key, values in logs.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"history[{key!r}] must be a non-empty list of per-epoch values")
        for v in values:
            if v is None:
                continue  # refused below, with NaN and infinite values
            if isinstance(v, (str, bytes)):
                raise TypeError(
                    f"history[{key!r}] holds the string {v!r}: per-epoch values must be "
                    "numbers (a string would be drawn as a category); convert them with float()"
                )
            try:
                float(v)
            except (TypeError, ValueError) as err:
                raise TypeError(
                    f"history[{key!r}] must hold numbers, got {type(v).__name__} {v!r}"
                ) from err
        if any(v is None or not np.isfinite(float(v)) for v in values):
            raise ValueError(
                f"history[{key!r}] has a NaN, infinite or None value: the training diverged "
                "or a metric was not logged; there is no curve to draw"
            )
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, values in logs.items():
        epochs = range(1, len(values) + 1)
        if not key.startswith("val_"):
            line = ax.plot(epochs, values, label=f"training {key}")[0]
            if f"val_{key}" in logs:
                val = logs[f"val_{key}"]
                ax.plot(
                    range(1, len(val) + 1),
                    val,
                    "--",
                    color=line.get_color(),
                    label=f"validation {key}",
                )
        elif key[4:] not in logs:
            ax.plot(epochs, values, "--", label=f"validation {key[4:]}")
    if reference is not None:
        reference = _checks.real_number(reference, "reference")
        ax.axhline(reference, color="grey", linewidth=1, linestyle=":", label=reference_label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    if len(ax.get_lines()) > 4:  # a long legend would cover the curves: put it beside them
        fig.set_size_inches(8.5, 4)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend()
    return fig


_NAME = re.compile(r"^\d\d_[A-Za-z0-9_.-]+$")


def save_fig(name: str, fig) -> Path | None:
    """Write ``fig`` to ``images/<name>.png`` when the run records (see ``config.is_recording``).

    Arguments are checked first, in every mode, so a mistake fails in CI's quick run rather
    than after a full run's training. Without recording nothing is written and None is
    returned, so neither CI nor a learner's run changes the committed figures. ``name`` is a
    plain file name without extension that starts with the notebook's number, e.g.
    ``"01_reconstructions"`` (the runner publishes a notebook's figures by that prefix);
    ``fig`` is the matplotlib Figure to save (required: an implicit "current figure" can be an
    empty one).

    Returns:
        the Path written, or None when the run does not record.
    """
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".png"):
        raise ValueError(
            "name must be a plain file name without extension that starts with the notebook's "
            f"number, e.g. '01_reconstructions' (letters, digits, _ . -), got {name!r}"
        )
    if not isinstance(fig, plt.Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not fig.axes:
        raise ValueError(f"the figure for {name!r} has nothing drawn on it")
    folder = config.output_dir("images")
    if folder is None:
        return None
    path = folder / f"{name}.png"
    _files.atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))
    return path
