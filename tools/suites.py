"""Run every notebook on each Keras backend, and record which pass and how long.

    python -m tools.suites --backends torch             # one backend, all notebooks, quick mode
    python -m tools.suites --backends jax,torch --record
    python -m tools.suites --backends torch --only 06 --record   # update one row
    python -m tools.suites --full --backends jax --only 04 --record   # full mode

Each notebook runs in a fresh kernel (papermill, through ``tools.reproduce``) with
``KERAS_BACKEND`` and ``AEUTILS_QUICK=1`` set, one notebook at a time and one backend after
the other, so that no run shares the machine with another. A quick run checks what each
notebook teaches with its quick-mode thresholds, so "passed" means every assertion held on
that backend. ``--record`` merges the outcome into ``results/suites.json`` (a notebook not
run keeps its earlier entry) and regenerates ``results/README.md``; the executed copies go to
``logs/executed-quick/<backend>/`` (ignored). A wall time is a measurement of one machine at
one moment, never a test: the table says which machine and when.

Two runs side by side (say ``--backends jax`` and ``--backends torch`` in two shells) each
pass ``--at-once 2``, so that the table marks their times as shared and each kernel gets its
share of the cores (the thread limits of ``tools.reproduce --jobs``: without them each
library starts a thread per core in each run, and PyTorch's above all spin against each other
until a step takes many times longer); each reads the file again just before writing it, so
neither loses the other's rows. Each notebook's entry in the file carries the date of its own run.

``--full`` runs full mode instead, with its full-mode checks, and records nothing into the
course's results (those come from the recording runs of ``tools.reproduce``, on TensorFlow):
the outcome goes to ``results/suites_full.json`` and the copies to
``logs/executed-full/<backend>/``. The full-mode table shows TensorFlow from the recorded
results beside the backends run this way.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from aeutils import _files, config, environment

from . import reproduce, tables
from .backends import BACKENDS, chosen, version


def run_backend(
    backend: str,
    paths: list[Path],
    out_dir: Path,
    timeout: int | None,
    full: bool = False,
    at_once: int = 1,
) -> dict:
    """Run ``paths`` on ``backend``, in quick mode or (``full``) full mode without recording;
    each stem -> {"seconds"} or {"failed"}. With ``at_once`` > 1 the kernels get their share
    of the cores (``reproduce.share_machine``), unless the caller set those variables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("KERAS_BACKEND", config.QUICK_ENV, config.RECORD_ENV)}
    quick = "0" if full else "1"
    saved.update(dict.fromkeys(reproduce.share_machine(at_once)))  # removed again afterwards
    os.environ.update({"KERAS_BACKEND": backend, config.QUICK_ENV: quick, config.RECORD_ENV: "0"})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        times, failures = reproduce.run_many(
            paths, out_dir, timeout=timeout, keep_going=True, bars=sys.stderr.isatty()
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    outcome = {stem: {"seconds": round(seconds, 1)} for stem, seconds in times.items()}
    for message in failures:
        stem = message.split(".ipynb", 1)[0]
        reason = re.sub(r"^\S+\.ipynb failed:? ", "", message.split("\n", 1)[0])
        outcome[stem] = {"failed": reason}
    return outcome


def merge(record: dict, backend: str, outcome: dict, when: str, at_once: int = 1) -> dict:
    """``record`` with ``backend``'s notebooks updated from ``outcome`` (others kept).

    Each updated notebook carries its own ``when`` (the backend's ``when`` is its latest run),
    and ``at_once`` when more than one run shared the machine.
    """
    entry = record.setdefault("backends", {}).setdefault(backend, {"notebooks": {}})
    shared = {"at_once": at_once} if at_once > 1 else {}
    entry["notebooks"].update({stem: {**v, "when": when, **shared} for stem, v in outcome.items()})
    entry["notebooks"] = dict(sorted(entry["notebooks"].items()))
    entry["version"] = version(BACKENDS[backend])
    entry["when"] = when
    entry["device"] = environment.device(backend)
    entry["keras"] = version("keras")
    return record


def table(record: dict, stems: list[str] | None = None, mode: str = "quick") -> str:
    """The suite table of ``mode``: one row per notebook, one column per backend.

    ``stems`` are the rows (the course's notebooks: one never run on a backend shows "not
    run" there); by default, every notebook in the record.
    """
    backends = [b for b in BACKENDS if b in record.get("backends", {})]
    if stems is None:
        stems = sorted({s for b in backends for s in record["backends"][b]["notebooks"]})
    rows = []
    for stem in stems:
        cells = [stem]
        for b in backends:
            found = record["backends"][b]["notebooks"].get(stem)
            if found is None:
                cells.append("not run")
            elif "failed" in found:
                cell = re.search(r"code cell \d+ of \d+", found["failed"])
                cells.append("**failed**" + (f" in {cell.group(0)}" if cell else ""))
            else:
                seconds = tables.format_seconds(found["seconds"], found.get("at_once"))
                cells.append(f"passed, {seconds}")
        rows.append(cells)
    passed = {
        b: sum("seconds" in record["backends"][b]["notebooks"].get(s, {}) for s in stems)
        for b in backends
    }
    return (
        tables.markdown_table(["notebook", *backends], rows)
        + f"\n\n{mode.capitalize()} mode, one notebook at a time unless a cell says otherwise; "
        + "wall time of each whole notebook. "
        + "; ".join(
            f"{b} {record['backends'][b]['version']}: {passed[b]} of {len(stems)} passed, "
            f"finished {record['backends'][b]['when']}, {record['backends'][b]['device']}"
            for b in backends
        )
        + "."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.suites",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backends", required=True, help="comma-separated, e.g. jax,torch")
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 06,07")
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    parser.add_argument(
        "--full", action="store_true", help="full mode (without recording results) instead"
    )
    parser.add_argument(
        "--at-once",
        type=int,
        default=1,
        help="how many runs share the machine (yours included): each kernel gets that share "
        "of the cores' threads, and the table marks the times as shared",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write results/suites.json (--full: suites_full.json) and results/README.md",
    )
    args = parser.parse_args(argv)
    backends = chosen(parser, args.backends)
    if args.timeout is not None and args.timeout < 1:
        parser.error("--timeout must be a positive number of seconds")
    if args.at_once < 1:
        parser.error("--at-once must be 1 or more")
    root = config.repo_root()
    try:
        paths = tables.select_notebooks(root, args.only)
    except ValueError as err:
        parser.error(str(err))
    mode = "full" if args.full else "quick"
    path = root / "results" / (tables.FULL_SUITES_FILE if args.full else tables.SUITES_FILE)
    tables.render_suites(root)  # a malformed file is named before an hour of runs
    tables.render_full_suites(root)
    record = _files.read_json(path, f"{mode}-suite file") if path.exists() else {}
    any_failed, done = False, []
    for backend in backends:
        print(f"{backend}: {len(paths)} notebook(s), {mode} mode", flush=True)
        out_dir = root / "logs" / f"executed-{mode}" / backend
        outcome = run_backend(backend, paths, out_dir, args.timeout, args.full, args.at_once)
        any_failed |= any("failed" in v for v in outcome.values())
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        done.append((backend, outcome, when))
    if args.record and path.exists():  # read again: a run beside this one may have written it
        record = _files.read_json(path, f"{mode}-suite file")
    for backend, outcome, when in done:
        record = merge(record, backend, outcome, when, args.at_once)
    text = table(record, [p.stem for p in tables.course_notebooks(root)], mode)
    print("\n" + text)
    if args.record:
        _files.write_json(path, record)
        tables.update(root)
        print(f"recorded: results/{path.name} and results/README.md")
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
