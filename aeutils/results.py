"""The results files: ``results/<notebook>.json``, written by each notebook's full run.

Format (later tooling and the README read it)::

    {"notebook": "01_undercomplete_autoencoder", "mode": "full",
     "metrics": {"val_loss": 0.0921, "train_loss": 0.0915},
     "references": {"val_loss": {"value": 0.09, "source": "...", "decimals": 2}},
     "epochs": 50,
     "seconds": {"train": 120.5, "total": 140.2, "per_epoch": 2.41},
     "time_to_reference": {"val_loss": {"epoch": 31, "seconds": 74.71}},
     "curves": {"val_loss": [0.19, 0.15, ...]},
     "environment": {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1",
                     "numpy": "2.4.6", "backend": "tensorflow", "device": "..."},
     "date": "2026-11-22T06:30:00+00:00"}

A reference may also say ``"decimals"`` (how many its source printed, so 0.10 keeps two)
and ``"higher_is_better"`` (for PSNR, accuracy, AUC; default False). ``reaches`` judges
ours against it.

Introduced in notebook 01.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import tempfile
from pathlib import Path

from . import _checks, config

_NOTEBOOK = re.compile(r"^\d\d_[a-z0-9_]+$")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device() -> str:
    """The device Keras trains on: a GPU's name, else the CPU model and its core count."""
    gpus = []
    try:
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(gpu)
            gpus.append(details.get("device_name", gpu.name))
    except ImportError:
        pass
    if gpus:
        return "GPU: " + ", ".join(gpus)
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def environment() -> dict:
    """Versions of Python, TensorFlow, Keras and NumPy, the Keras backend and the device."""
    import keras
    import numpy

    try:
        import tensorflow as tf

        tf_version = tf.__version__
    except ImportError:
        tf_version = None
    return {
        "python": platform.python_version(),
        "tensorflow": tf_version,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "backend": keras.backend.backend(),
        "device": device(),
    }


def _metric_map(values: dict, name: str) -> dict:
    if not isinstance(values, dict) or not values:
        raise TypeError(f"{name} must be a non-empty dict of metric name -> number")
    out = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name} keys must be non-empty strings, got {key!r}")
        out[key] = _checks.real_number(value, f"{name}[{key!r}]")
    return out


def reaches(value: float, reference: dict) -> bool:
    """Whether ``value`` reaches a published ``reference`` (a references-entry dict).

    The source printed its figure to ``reference["decimals"]`` decimals (if given), so ours
    counts as reaching it when ours, rounded the same way, is at least as good: for the blog's
    "about 0.09", any loss below 0.095. Lower is better unless ``higher_is_better`` is true.
    The README's table and the notebooks' checks both use this one criterion.
    """
    value = _checks.real_number(value, "value")
    target = _checks.real_number(reference["value"], "reference value")
    decimals = reference.get("decimals")
    if decimals is not None:
        value = round(value, _checks.integer(decimals, "decimals", minimum=0))
    if reference.get("higher_is_better", False):
        return value >= target
    return value <= target


def time_to_reference(curve, reference: dict, epoch_seconds) -> dict:
    """First epoch (1-based) at which ``curve`` reached ``reference`` (see ``reaches``).

    ``reference`` is a references entry (``{"value": ..., "decimals": ..., ...}``);
    ``epoch_seconds`` holds the time of each epoch. Returns ``{"epoch": e, "seconds":
    training time up to the end of epoch e}``, or both None when the curve never got there.
    """
    for epoch, value in enumerate(curve, start=1):
        if reaches(value, reference):
            return {"epoch": epoch, "seconds": round(sum(epoch_seconds[:epoch]), 2)}
    return {"epoch": None, "seconds": None}


_REFERENCE_KEYS = {"value", "source", "decimals", "higher_is_better"}


def _reference(key: str, ref) -> dict:
    if not isinstance(ref, dict) or not {"value", "source"} <= set(ref) <= _REFERENCE_KEYS:
        raise ValueError(
            f"references[{key!r}] must be {{'value': number, 'source': str}} with optional "
            f"'decimals' and 'higher_is_better', got {ref!r}"
        )
    if not isinstance(ref["source"], str) or not ref["source"].strip():
        raise ValueError(f"references[{key!r}]['source'] must name where the figure is from")
    out = {
        "value": _checks.real_number(ref["value"], f"references[{key!r}]"),
        "source": ref["source"],
    }
    if "decimals" in ref:
        out["decimals"] = _checks.integer(
            ref["decimals"], f"references[{key!r}]['decimals']", minimum=0
        )
    if "higher_is_better" in ref:
        if not isinstance(ref["higher_is_better"], bool):
            raise TypeError(f"references[{key!r}]['higher_is_better'] must be True or False")
        out["higher_is_better"] = ref["higher_is_better"]
    return out


def build(
    notebook: str,
    *,
    metrics: dict,
    epochs: int,
    seconds: dict,
    references: dict | None = None,
    curves: dict | None = None,
    epoch_seconds=None,
) -> dict:
    """Build (and validate) the results record of a run without writing it.

    Args:
        notebook: the notebook's stem, e.g. ``"01_undercomplete_autoencoder"``.
        metrics: flat map of metric name -> finite number (what this run measured).
        epochs: epochs trained (the main model's).
        seconds: ``{"train": s, "total": s}``; ``per_epoch`` is added as train / epochs.
        references: map of metric name -> ``{"value": number, "source": "where it is from"}``
            for figures published elsewhere that ours is compared with; optional keys
            ``"decimals"`` (int) and ``"higher_is_better"`` (bool), see ``reaches``.
        curves: map of metric name -> its per-epoch values (e.g. ``history.history["val_loss"]``).
            Stored; for a metric that also has a reference, the epoch and training time at
            which its curve first reached the reference go to ``time_to_reference``.
        epoch_seconds: the measured seconds of each of the main model's epochs
            (``callbacks.EpochTimer().seconds``); without it every epoch counts as the
            average one (train / epochs).
    """
    if not isinstance(notebook, str) or not _NOTEBOOK.match(notebook):
        raise ValueError(
            f"notebook must be a notebook's file stem like '01_undercomplete_autoencoder', "
            f"got {notebook!r}"
        )
    metrics = _metric_map(metrics, "metrics")
    epochs = _checks.integer(epochs, "epochs", minimum=1)
    seconds = _metric_map(seconds, "seconds")
    for key in ("train", "total"):
        if key not in seconds:
            raise ValueError(f"seconds needs a {key!r} entry, got {sorted(seconds)}")
    seconds["per_epoch"] = seconds["train"] / epochs
    refs = {key: _reference(key, ref) for key, ref in (references or {}).items()}
    curves = {
        key: [_checks.real_number(v, f"curves[{key!r}]") for v in values]
        for key, values in (curves or {}).items()
    }
    if epoch_seconds is None:  # not measured: every epoch counts as the average one
        epoch_seconds = [seconds["per_epoch"]] * epochs
    epoch_seconds = [_checks.real_number(v, "epoch_seconds", minimum=0.0) for v in epoch_seconds]
    if len(epoch_seconds) != epochs:
        raise ValueError(f"epoch_seconds has {len(epoch_seconds)} entries for {epochs} epochs")
    reached = {
        key: time_to_reference(curves[key], refs[key], epoch_seconds)
        for key in refs
        if key in curves
    }
    return {
        "notebook": notebook,
        "mode": config.mode(),
        "metrics": metrics,
        "references": refs,
        "epochs": epochs,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "time_to_reference": reached,
        "curves": curves,
        "environment": environment(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write(notebook: str, **kwargs) -> dict:
    """Build the record (see ``build``); when the run records, write ``results/<notebook>.json``.

    A run records only in full mode with ``AEUTILS_RECORD=1`` (``python -m aeutils.tools.reproduce``
    sets it); otherwise the record is returned and shown but nothing is written, so neither
    CI nor a learner's "Run all" can change the committed numbers. Prints which it was.
    Returns the record.
    """
    record = build(notebook, **kwargs)
    if config.output_dir("results") is not None:
        path = save(record)
        print(f"recorded: {path}")
    else:
        print(
            f"not recorded ({config.mode()} mode, {config.RECORD_ENV} unset): results/ and "
            "images/ are unchanged; "
            f"`python -m aeutils.tools.reproduce --only {notebook[:2]}` records."
        )
    return record


def atomic_write(path, write) -> None:
    """Create or replace ``path`` through a temporary file in the same folder and a rename.

    ``write(temporary_path)`` writes the content. A kill or a full disk mid-write leaves the
    old file whole, never a truncated stub. The file keeps the permissions it had (a new one
    gets the usual ones, as ``open`` would give it).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see ``atomic_write``."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def save(record: dict) -> Path:
    """Write ``record`` to ``results/<record["notebook"]>.json`` (indented JSON, atomically)."""
    folder = config.output_root() / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{record['notebook']}.json"
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path


def read(notebook: str, root=None) -> dict:
    """Read the committed ``results/<notebook>.json`` (raises FileNotFoundError if absent).

    ``root`` is the course folder (default: this checkout). A file that is not valid JSON
    raises ValueError naming the file.
    """
    path = Path(root or config.repo_root()) / "results" / f"{notebook}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebook {notebook} in full mode")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}): restore it with git") from err
