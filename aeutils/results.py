"""A notebook's measured numbers: the one call that records them, and their file format.

At the end of its checks each notebook calls ``results.record(...)`` once. In Jupyter that
shows the numbers and writes nothing; in the course's reference runs (the maintainers' runner
sets ``AEUTILS_RECORD=1``) it also writes ``results/<notebook>.json``::

    {"notebook": "01_undercomplete_autoencoder", "mode": "full", "epochs": 50,
     "metrics": {"val_loss": 0.0921, "train_loss": 0.0915},
     "references": {"val_loss": {"value": 0.09, "source": "...", "decimals": 2}},
     "reached_at_epoch": {"val_loss": 31},
     "curves": {"val_loss": [0.19, 0.15, ...]},
     "environment": {"python": "3.11.7", "keras": "3.15.1", "backend": "tensorflow", ...},
     "date": "2026-11-22T06:30:00+00:00"}

The runner adds how long the notebook and its slowest cells took (``"seconds"``) once the
notebook has passed. References are judged by ``references.reaches``.

Introduced in notebook 01.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from . import _checks, _files, config, environment
from . import references as _references

NOTEBOOK = re.compile(r"^\d\d_[a-z0-9_]+$")
"""A notebook's file stem, e.g. ``01_undercomplete_autoencoder``."""


def check_notebook(notebook) -> str:
    """Return ``notebook`` after checking it is a notebook's stem (never a path)."""
    if not isinstance(notebook, str) or not NOTEBOOK.match(notebook):
        raise ValueError(
            "notebook must be a notebook's file stem like '01_undercomplete_autoencoder' "
            f"(two digits, an underscore, lower-case letters, digits and underscores), got "
            f"{notebook!r}"
        )
    return notebook


def _number_map(values, name: str) -> dict:
    if not isinstance(values, dict) or not values:
        raise TypeError(f"{name} must be a non-empty dict of name -> number, got {values!r}")
    out = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name} keys must be non-empty strings, got {key!r}")
        out[key] = _checks.real_number(value, f"{name}[{key!r}]")
    return out


def build(
    notebook: str,
    *,
    metrics: dict,
    epochs: int,
    references: dict | None = None,
    curves: dict | None = None,
) -> dict:
    """The record of a run (see the module's docstring), validated, without writing it.

    Args:
        notebook: the notebook's stem, e.g. ``"01_undercomplete_autoencoder"``.
        metrics: flat map of metric name -> finite number (what this run measured).
        epochs: epochs the notebook's main model trained.
        references: metric name -> a published figure it is compared with (see
            ``aeutils.references``); every such metric must be in ``metrics``.
        curves: metric name -> one value per epoch of the main model (exactly ``epochs``
            values, e.g. ``history.history["val_loss"]``). For a curve whose metric has a
            reference, the first epoch that reached it goes to ``reached_at_epoch``.
    """
    notebook = check_notebook(notebook)
    metrics = _number_map(metrics, "metrics")
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    refs = {}
    for key, ref in (references or {}).items():
        if key not in metrics:
            raise ValueError(
                f"references[{key!r}] is for a metric that was not measured: metrics has "
                f"{sorted(metrics)}"
            )
        refs[key] = _references.check(ref, f"references[{key!r}]")
    if curves is not None and not isinstance(curves, dict):
        raise TypeError(f"curves must be a dict of name -> per-epoch values, got {curves!r}")
    checked_curves = {}
    for key, values in (curves or {}).items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(f"curves[{key!r}] must be a list of numbers, got {values!r}")
        if len(values) != epochs:
            raise ValueError(
                f"curves[{key!r}] has {len(values)} values for {epochs} epochs: a curve holds "
                "one value per epoch of the main model"
            )
        checked_curves[key] = [_checks.real_number(v, f"curves[{key!r}]") for v in values]
    reached = {
        key: _references.first_epoch_reaching(checked_curves[key], refs[key])
        for key in refs
        if key in checked_curves
    }
    return {
        "notebook": notebook,
        "mode": config.mode(),
        "epochs": epochs,
        "metrics": metrics,
        "references": refs,
        "reached_at_epoch": reached,
        "curves": checked_curves,
        "environment": environment.environment(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _show(record: dict) -> str:
    lines = []
    for key, value in record["metrics"].items():
        line = f"  {key}: {value:.6g}"
        ref = record["references"].get(key)
        if ref is not None:
            line += f"  (published: {ref['value']:g}, {_references.describe(value, ref)})"
        lines.append(line)
    return "\n".join(lines)


def record(notebook: str, **kwargs) -> dict:
    """Show a run's measured numbers and, in a recording run, write them; returns the record.

    Takes the arguments of ``build``. Writes ``results/<notebook>.json`` only when the run
    records (full mode with ``AEUTILS_RECORD=1``, which the course's runner sets), so neither
    CI nor a learner's "Run all" can change the committed numbers.
    """
    rec = build(notebook, **kwargs)
    folder = config.output_dir("results")
    if folder is not None:
        save(rec, folder)
        where = f"recorded as results/{notebook}.json"
    else:
        where = "shown only: a run in Jupyter or in quick mode never changes results/"
    print(f"{notebook}, {rec['mode']} mode, {rec['epochs']} epochs; {where}\n{_show(rec)}")
    return rec


def validate(rec) -> dict:
    """Check that ``rec`` is a results record as ``build`` makes it; return it.

    The checks a file from disk must pass before it is trusted: its notebook name, its
    metrics (finite numbers), its references (each for a measured metric) and its curves.
    Raises ValueError/TypeError saying what is wrong.
    """
    if not isinstance(rec, dict):
        raise TypeError(f"a results record must be a JSON object, got {type(rec).__name__}")
    check_notebook(rec.get("notebook"))
    metrics = _number_map(rec.get("metrics"), "metrics")
    for key, ref in (rec.get("references") or {}).items():
        if key not in metrics:
            raise ValueError(f"references[{key!r}] is for a metric that is not in metrics")
        _references.check(ref, f"references[{key!r}]")
    for key, values in (rec.get("curves") or {}).items():
        if not isinstance(values, list):
            raise TypeError(f"curves[{key!r}] must be a list of numbers")
        for v in values:
            _checks.real_number(v, f"curves[{key!r}]")
    return rec


def save(rec: dict, folder) -> Path:
    """Write the validated ``rec`` to ``folder/<notebook>.json`` atomically; return the path."""
    rec = validate(rec)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rec['notebook']}.json"
    _files.write_json(path, rec)
    return path


def read(notebook: str, root=None) -> dict:
    """The committed ``results/<notebook>.json`` of the course at ``root`` (default: checkout).

    Raises FileNotFoundError if it is absent and ValueError naming the file if it is not a
    valid results record (or names another notebook).
    """
    notebook = check_notebook(notebook)
    path = Path(root or config.repo_root()) / "results" / f"{notebook}.json"
    rec = _files.read_json(path, "results file")
    try:
        validate(rec)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} is not a valid results file: {err}") from None
    if rec["notebook"] != notebook:
        raise ValueError(f"{path} names notebook {rec['notebook']!r}, not {notebook!r}")
    return rec
