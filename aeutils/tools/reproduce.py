"""Run the course headless with papermill, and keep the README's tables in step with results/.

    python -m aeutils.tools.reproduce                 # every notebook, full mode, in order
    python -m aeutils.tools.reproduce --only 04,05    # some of them
    python -m aeutils.tools.reproduce --quick         # smoke test (same as AEUTILS_QUICK=1)
    python -m aeutils.tools.reproduce --jobs 2        # two notebooks at a time
    python -m aeutils.tools.reproduce --table         # results/*.json -> the generated tables

Each notebook runs in a fresh kernel through papermill, which shows each notebook's cells
as they run and writes the executed copy to ``--out``, never over the source; a failing copy
keeps its outputs up to the failure. A full run sets AEUTILS_RECORD=1, so the notebooks write
results/*.json and images/, and its executed copies go to ``executed/``, which is committed so
that readers see every output and figure on GitHub without running anything; the README's
tables are then regenerated. A quick run's copies go to ``logs/executed-quick/`` (ignored), so
a smoke test never replaces the published full-mode copies. A failure is reported as
"NN_name failed in code cell K of N: reason" and stops the run unless ``--keep-going``; a
failed notebook's results file is put back as it was, so its numbers never reach the tables.

With ``--jobs N`` up to N notebooks run at once, each in its own kernel, the longest (by
the time recorded in its results file) first. On a small CPU this finishes the course
sooner, because one kernel alone does not keep every core busy; the times each notebook
records are then times while sharing the machine, and its results file says so
(``environment.notebooks_at_once``).

To run one notebook with other parameters, use papermill itself, e.g.
``papermill notebooks/04_convolutional_autoencoder.ipynb out.ipynb -p EPOCHS 5``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from .. import config, results
from . import tables

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookFailed(RuntimeError):
    """A notebook did not run to its end; the message names the notebook, the cell and why."""


def notebooks(root: Path, only: str | None = None) -> list[Path]:
    """The course's notebooks in order, optionally only those numbered in ``only`` ("04,05")."""
    found = tables.course_notebooks(root)
    if only is not None:
        parts = [part.strip() for part in only.split(",")]
        if not only.strip() or any(not part.isdigit() for part in parts):
            raise SystemExit(
                f"--only takes comma-separated notebook numbers such as 04,05, got {only!r}"
            )
        wanted = {part.zfill(2) for part in parts}
        unknown = wanted - {p.name[:2] for p in found}
        if unknown:
            raise SystemExit(
                f"--only names notebooks that do not exist: {sorted(unknown)} "
                f"(there are {[p.name[:2] for p in found]})"
            )
        found = [p for p in found if p.name[:2] in wanted]
    return found


def _reason(err: BaseException, timeout: int | None) -> str:
    """One line saying why a notebook stopped, without colour codes."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        text = f"{err.ename}: {err.evalue}"
    elif isinstance(err, CellTimeoutError):
        text = f"timed out after {timeout} s (--timeout)"
    elif isinstance(err, DeadKernelError):
        text = "the kernel died (killed for memory, or crashed)"
    else:
        text = f"{type(err).__name__}: {err}"
    text = _ANSI.sub("", text).strip().splitlines()
    return text[0] if text else type(err).__name__


def _failed_cell(executed: Path) -> str:
    """Where the executed copy stopped: "in code cell K of N (`first line`)", K counted among
    the source's code cells, or "before its first cell" when no copy was written."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # no copy was written (e.g. the source is unreadable)
        return "before its first cell"
    code = [
        c
        for c in nb.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    started = [
        (number, cell)
        for number, cell in enumerate(code, start=1)
        if cell.metadata.get("papermill", {}).get("start_time")
    ]
    if started:  # execution stops in the failing cell, so it is the last one started
        number, cell = started[-1]
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        return f"in code cell {number} of {len(code)} (`{first}`)"
    return "in a cell"


def run_notebook(
    path: Path, out_dir: Path, *, timeout: int | None, position: int | None = None
) -> float:
    """Execute ``path`` in a fresh kernel with papermill; the executed copy goes to ``out_dir``.

    ``position`` places the notebook's cell progress bar (None: no bar). Returns the wall
    time in seconds. Raises NotebookFailed naming the notebook, the failing code cell and
    the reason (a cell's exception, a timeout, a dead kernel, an unreadable notebook).
    """
    import papermill

    out_path = out_dir / path.name
    out_path.unlink(missing_ok=True)  # a copy from an earlier run must not be read as this one's
    bar = (
        {"desc": path.stem, "position": position, "leave": False} if position is not None else False
    )
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(out_path),
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=bar,
            execution_timeout=timeout,
        )
    except Exception as err:
        copy = (
            f"\n  the executed copy, with the traceback, is {out_path}" if out_path.exists() else ""
        )
        raise NotebookFailed(
            f"{path.name} failed {_failed_cell(out_path)}: {_reason(err, timeout)}{copy}"
        ) from err
    return time.perf_counter() - start


def _record_wall_time(stem: str, seconds: float, jobs: int = 1) -> None:
    """Add the whole notebook's wall time to its results file (recording runs only).

    With ``jobs`` > 1 the file also says how many notebooks shared the machine.
    """
    if not config.is_recording():
        return
    try:
        record = results.read(stem)
    except FileNotFoundError:
        return
    record.setdefault("seconds", {})["notebook"] = round(seconds, 2)
    environment = record.setdefault("environment", {})
    if jobs > 1:
        environment["notebooks_at_once"] = jobs
    else:
        environment.pop("notebooks_at_once", None)
    results.save(record)


def _longest_first(paths: list[Path], root: Path) -> list[Path]:
    """``paths`` ordered by the whole-notebook time in their results files, longest first.

    Notebooks without a recorded time keep their order and go first: they may be long.
    """

    def recorded(path: Path) -> float:
        try:
            return float(results.read(path.stem, root)["seconds"]["notebook"])
        except (OSError, ValueError, KeyError, TypeError):
            return float("inf")

    return sorted(paths, key=recorded, reverse=True)


def run_many(
    paths: list[Path],
    out_dir: Path,
    *,
    jobs: int = 1,
    timeout: int | None = None,
    keep_going: bool = False,
    root: Path | None = None,
    bars: bool = False,
) -> tuple[dict[str, float], list[str]]:
    """Run ``paths`` in order, up to ``jobs`` at once; stop after a failure unless ``keep_going``.

    Returns ``(times, failures)``: wall seconds per notebook stem, and the failure messages.
    Notebooks already running when one fails are finished; none is started after it. A
    failed notebook's ``root/results/<stem>.json`` is restored to what it was before (or
    removed if it did not exist). ``bars`` shows one cell progress bar per running notebook.
    """
    times: dict[str, float] = {}
    failures: list[str] = []
    free_slots = list(range(jobs))

    def attempt(path: Path, slot: int) -> tuple[float | None, str | None]:
        result = root / "results" / f"{path.stem}.json" if root is not None else None
        before = result.read_bytes() if result is not None and result.is_file() else None
        try:
            return run_notebook(
                path, out_dir, timeout=timeout, position=slot + 1 if bars else None
            ), None
        except NotebookFailed as err:
            if result is not None and before is not None:
                results.atomic_write_text(result, before.decode("utf-8"))
            elif result is not None:
                result.unlink(missing_ok=True)
            return None, str(err)

    def finished(path: Path, seconds: float | None, error: str | None) -> bool:
        """Record one notebook's outcome; True if the run should stop."""
        if error is not None:
            failures.append(error)
            print(f"FAILED: {error}", file=sys.stderr, flush=True)
            return not keep_going
        times[path.stem] = seconds
        _record_wall_time(path.stem, seconds, jobs)
        print(f"{path.stem}: {tables.format_seconds(seconds)}", flush=True)
        return False

    if jobs == 1:  # in this thread, so that Ctrl-C stops the run at once
        for path in paths:
            if finished(path, *attempt(path, 0)):
                break
        return times, failures

    pending, running, stop = list(paths), {}, False
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while running or (pending and not stop):
            while pending and not stop and free_slots:
                path, slot = pending.pop(0), free_slots.pop(0)
                running[pool.submit(attempt, path, slot)] = (path, slot)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                path, slot = running.pop(future)
                free_slots.append(slot)
                stop = finished(path, *future.result()) or stop
    return times, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aeutils.tools.reproduce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 04,05")
    parser.add_argument("--quick", action="store_true", help="quick mode (AEUTILS_QUICK=1)")
    parser.add_argument(
        "--timeout", type=int, default=None, help="seconds allowed per cell (default: no limit)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for executed copies (full mode: executed/; quick: logs/executed-quick/)",
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="run the remaining notebooks after a failure"
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks to run at once (default: 1)")
    parser.add_argument(
        "--table",
        action="store_true",
        help="only regenerate results/README.md and README.md's tables from results/*.json",
    )
    args = parser.parse_args(argv)

    root = config.repo_root()
    if args.table:
        changed = tables.update_readme(root)
        print("README.md tables " + ("updated" if changed else "already up to date"))
        return 0
    if args.timeout is not None and args.timeout < 1:
        parser.error("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        quick_env = config.is_quick()
    except ValueError as err:
        parser.error(str(err))
    if args.quick and os.environ.get(config.QUICK_ENV) is not None and not quick_env:
        parser.error(f"--quick conflicts with {config.QUICK_ENV}={os.environ[config.QUICK_ENV]}")
    quick = args.quick or quick_env
    os.environ[config.QUICK_ENV] = "1" if quick else "0"
    # A full run of this tool is the course's record: it writes results/, images/, README.
    os.environ[config.RECORD_ENV] = "0" if quick else "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the kernels' C++ start-up chatter

    default_out = root / "logs" / "executed-quick" if quick else root / "executed"
    out_dir = Path(args.out) if args.out else default_out
    if out_dir.exists() and not out_dir.is_dir():
        parser.error(f"--out {out_dir} is a file: name a folder for the executed copies")
    if out_dir.resolve() == (root / "notebooks").resolve():
        parser.error("--out must not be notebooks/: the sources stay without outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = notebooks(root, args.only)
    if args.jobs > 1:
        selected = _longest_first(selected, root)

    mode = config.mode()
    print(f"{len(selected)} notebook(s), {mode} mode, {args.jobs} at a time", flush=True)
    run_start = time.perf_counter()
    times, failures = run_many(
        selected,
        out_dir,
        jobs=args.jobs,
        timeout=args.timeout,
        keep_going=args.keep_going,
        root=None if quick else root,
        bars=sys.stderr.isatty(),
    )
    wall = time.perf_counter() - run_start
    total = sum(times.values())
    print(
        f"\n{len(times)} of {len(selected)} notebook(s) ran in {tables.format_seconds(wall)} "
        f"({mode} mode, {args.jobs} at a time); executed copies in {out_dir}"
    )
    for stem in sorted(times):
        seconds = times[stem]
        print(
            f"  {stem:40s} {tables.format_seconds(seconds):>7s}  {seconds / max(total, 1e-9):6.1%}"
        )
    if not quick and times:
        if not args.only and not failures:
            tables.record_course(root, times, wall, args.jobs)
        tables.update_readme(root)
        print("results/README.md and README.md's tables updated from results/*.json")
    if failures:
        print(f"\n{len(failures)} notebook(s) failed:", *failures, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
