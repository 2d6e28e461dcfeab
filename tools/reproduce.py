"""Run the course headless with papermill and publish what its full runs measure.

    python -m tools.reproduce                 # every notebook, full mode, in order
    python -m tools.reproduce --only 04,05    # some of them
    python -m tools.reproduce --quick         # smoke test (same as AEUTILS_QUICK=1)
    python -m tools.reproduce --jobs 2        # two notebooks at a time
    python -m tools.reproduce --table         # results/*.json -> results/README.md

Each notebook runs in a fresh kernel through papermill, which shows its cells as they run and
records each cell's duration in the executed copy, never in the source.

A full run is the course's record. Its notebooks write their results, figures and executed
copy into ``logs/staging/`` first; only a notebook that ran every cell and passed every check
has them published into ``results/``, ``images/`` and ``executed/`` (each file replaced whole).
A notebook that fails, or a run that is killed, changes nothing that is committed: the failed
copy, with its traceback, goes to ``logs/failed/`` and the message says so. The runner adds
the notebook's wall time and its slowest cells to the results file, then regenerates
``results/README.md``. A quick run writes its copies to ``logs/executed-quick/`` and records
nothing.

With ``--jobs N`` up to N notebooks run at once, longest (by its recorded time) first; the
times are then times while sharing the machine, and the results file says so. Each kernel is
then given its share of the cores (the thread limits of NumPy's BLAS, TensorFlow, XLA and
PyTorch, see ``kernel_environment``), and JAX does not claim the whole GPU's memory at start.

To run one notebook with other parameters, use papermill itself, e.g.
``papermill notebooks/04_convolutional_autoencoder.ipynb out.ipynb -p EPOCHS 5``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from aeutils import _files, config, results

from . import tables

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SLOWEST_CELLS = 3


class NotebookFailed(RuntimeError):
    """A notebook did not run to its end; the message names the notebook, the cell and why."""


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


def _code_cells(nb) -> list:
    """The notebook's own code cells (papermill's injected parameters cell left out)."""
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]


def _first_line(cell) -> str:
    return cell.source.strip().splitlines()[0] if cell.source.strip() else ""


def _failed_cell(executed: Path) -> str:
    """Where the executed copy stopped: "in code cell K of N (`first line`)", K counted among
    the source's code cells, or "before its first cell" when no copy was written."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # no copy was written (e.g. the source is unreadable)
        return "before its first cell"
    code = _code_cells(nb)
    started = [
        (number, cell)
        for number, cell in enumerate(code, start=1)
        if cell.metadata.get("papermill", {}).get("start_time")
    ]
    if started:  # execution stops in the failing cell, so it is the last one started
        number, cell = started[-1]
        return f"in code cell {number} of {len(code)} (`{_first_line(cell)}`)"
    return "in a cell"


def _unfinished(nb) -> str | None:
    """Why a copy papermill returned without an error is still not a pass, or None.

    A cell that ended the kernel's work early (e.g. ``sys.exit(0)``) leaves later cells
    unrun; papermill reports no error for it.
    """
    code = _code_cells(nb)
    for number, cell in enumerate(code, start=1):
        status = cell.metadata.get("papermill", {}).get("status")
        if status != "completed":
            why = "did not complete" if status == "failed" else f"never ran ({status})"
            return f"code cell {number} of {len(code)} (`{_first_line(cell)}`) {why}"
    return None


def slowest_cells(executed: Path, count: int = SLOWEST_CELLS) -> list[dict]:
    """The ``count`` longest code cells of an executed copy, from papermill's durations."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    timed = [
        {
            "cell": number,
            "first_line": _first_line(cell)[:80],
            "seconds": round(float(cell.metadata["papermill"]["duration"]), 1),
        }
        for number, cell in enumerate(_code_cells(nb), start=1)
        if isinstance(cell.metadata.get("papermill", {}).get("duration"), (int, float))
    ]
    return sorted(timed, key=lambda c: c["seconds"], reverse=True)[:count]


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",  # OpenMP: PyTorch's intra-op pool, scikit-learn, OpenCV
    "OPENBLAS_NUM_THREADS",  # NumPy's and SciPy's BLAS
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",  # TensorFlow, read when it starts
    "TF_NUM_INTEROP_THREADS",
    "LOKY_MAX_CPU_COUNT",  # joblib's cores for n_jobs=-1 (notebook 13's threads)
)


def kernel_environment(jobs: int, cores: int | None = None) -> dict[str, str]:
    """The variables that make ``jobs`` kernels at once share ``cores`` instead of each
    starting a thread per core (which oversubscribes the machine ``jobs`` times over).

    Each library gets ``cores // jobs`` threads (at least 1). XLA's CPU backend has no
    thread-count setting, so with one thread per kernel its Eigen pool is switched off. JAX
    would otherwise take 75 % of a GPU's memory in its first kernel, leaving none for the next:
    it allocates as it needs instead. One notebook at a time changes nothing.
    """
    if jobs <= 1:
        return {}
    share = max(1, (cores or os.cpu_count() or 1) // jobs)
    variables = dict.fromkeys(THREAD_VARIABLES, str(share))
    variables["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    if share == 1:
        variables["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return variables


def share_machine(jobs: int, environ=os.environ) -> dict[str, str]:
    """Set ``kernel_environment(jobs)`` in ``environ`` (by default this process's, which the
    kernels it starts inherit); a variable the user has already set is kept. Returns what
    was set."""
    added = {k: v for k, v in kernel_environment(jobs).items() if k not in environ}
    environ.update(added)
    return added


def run_notebook(
    path: Path, out_path: Path, *, timeout: int | None, position: int | None = None
) -> float:
    """Execute ``path`` in a fresh kernel with papermill, writing the executed copy to ``out_path``.

    ``position`` places the notebook's cell progress bar (None: no bar). Returns the wall
    time in seconds. Raises NotebookFailed naming the notebook, the failing code cell and
    the reason (a cell's exception, a timeout, a dead kernel, an unreadable notebook, or a
    cell that stopped the notebook early).
    """
    import nbformat
    import papermill

    from . import polling

    polling.poll_in_slices()  # a missed wake-up costs a second, not the cell's whole timeout

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
        raise NotebookFailed(
            f"{path.name} failed {_failed_cell(out_path)}: {_reason(err, timeout)}"
        ) from err
    unfinished = _unfinished(nbformat.read(out_path, as_version=4))
    if unfinished:
        raise NotebookFailed(f"{path.name} failed: {unfinished}, so later cells never ran")
    return time.perf_counter() - start


class Publisher:
    """Stages a recording run's outputs and publishes those of a notebook that passed.

    The notebooks write into ``staging`` (``AEUTILS_OUTPUT_DIR``): ``results/<stem>.json``
    and ``images/<NN>_*.png``. ``publish`` checks and moves them, and the executed copy,
    into the course folder ``root``; besides these, a run writes only the generated tables
    (``results/README.md``, and ``results/course.json`` after a whole-course run).
    """

    def __init__(self, root: Path, out_dir: Path, jobs: int):
        self.root, self.out_dir, self.jobs = root, out_dir, jobs
        self.staging = root / "logs" / "staging"
        self.failed = root / "logs" / "failed"
        if self.staging.exists():  # what an earlier, killed run left: never published
            shutil.rmtree(self.staging)
        for folder in ("results", "images", "executed"):
            (self.staging / folder).mkdir(parents=True, exist_ok=True)
        for folder in (root / "results", root / "images", out_dir):  # a killed write's leftovers
            for leftover in folder.glob(".[0-9][0-9]_*.tmp") if folder.is_dir() else []:
                leftover.unlink(missing_ok=True)

    def executed(self, path: Path) -> Path:
        return self.staging / "executed" / path.name

    def clear(self, path: Path) -> None:
        """Remove what an earlier (killed) run of this notebook left in the staging folder."""
        (self.staging / "results" / f"{path.stem}.json").unlink(missing_ok=True)
        for image in (self.staging / "images").glob(f"{path.name[:2]}_*.png"):
            image.unlink()
        self.executed(path).unlink(missing_ok=True)

    def keep_failed(self, path: Path) -> str:
        """Move a failed run's executed copy to logs/failed/; say where it went."""
        copy = self.executed(path)
        if not copy.is_file():
            return ""
        self.failed.mkdir(parents=True, exist_ok=True)
        os.replace(copy, self.failed / path.name)
        return f"\n  the executed copy, with the traceback, is {self.failed / path.name}"

    def publish(self, path: Path, seconds: float) -> None:
        """Check the staged outputs of ``path`` and move them into the course.

        Raises NotebookFailed, with nothing published, when the results are missing or name
        another notebook; and when writing fails (a full disk, say), naming what was done.
        """
        record = self._checked(path, seconds)
        done = []
        try:
            self._move(path, record, done)
        except OSError as err:
            raise NotebookFailed(
                f"{path.name} passed, but publishing its outputs failed ({err}); published "
                f"before the failure: {done or 'nothing'}"
            ) from None

    def _checked(self, path: Path, seconds: float) -> dict:
        """The staged record of ``path``, checked, with the runner's times added."""
        staged = self.staging / "results" / f"{path.stem}.json"
        try:
            record = results.validate(_files.read_json(staged, "staged results file"))
        except (OSError, ValueError, TypeError) as err:
            raise NotebookFailed(f"{path.name} recorded no valid results: {err}") from None
        if record["notebook"] != path.stem:
            raise NotebookFailed(
                f"{path.name} recorded its results as notebook {record['notebook']!r}; "
                "results.record must be given the notebook's own name"
            )
        if not isinstance(record.get("environment"), dict):
            raise NotebookFailed(f"{path.name} recorded results without their environment")
        record["seconds"] = {
            "notebook": round(seconds, 1),
            "slowest_cells": slowest_cells(self.executed(path)),
        }
        if self.jobs > 1:
            record["environment"]["notebooks_at_once"] = self.jobs
        return record

    def _move(self, path: Path, record: dict, done: list) -> None:
        """Figures, then the executed copy, then the results (the tables read those) last."""
        for image in sorted((self.staging / "images").glob(f"{path.name[:2]}_*.png")):
            (self.root / "images").mkdir(exist_ok=True)
            os.replace(image, self.root / "images" / image.name)
            done.append(f"images/{image.name}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        copy = self.executed(path)  # --out may be on another file system: copy, then rename
        _files.atomic_write(self.out_dir / path.name, lambda tmp: shutil.copyfile(copy, tmp))
        copy.unlink()
        done.append(str(self.out_dir / path.name))
        results.save(record, self.root / "results")
        (self.staging / "results" / f"{path.stem}.json").unlink()


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
    publisher: Publisher | None = None,
    bars: bool = False,
) -> tuple[dict[str, float], list[str]]:
    """Run ``paths`` in order, up to ``jobs`` at once; stop after a failure unless ``keep_going``.

    Returns ``(times, failures)``: wall seconds per notebook stem, and the failure messages.
    Notebooks already running when one fails are finished; none is started after it. With a
    ``publisher`` (a recording run) each notebook's outputs are staged and published only when
    it passed; without one the executed copies go straight to ``out_dir``.
    """
    times: dict[str, float] = {}
    failures: list[str] = []
    free_slots = list(range(jobs))

    def attempt(path: Path, slot: int) -> tuple[float | None, str | None]:
        position = slot + 1 if bars else None
        if publisher is None:
            out_dir.mkdir(parents=True, exist_ok=True)
            try:
                return run_notebook(
                    path, out_dir / path.name, timeout=timeout, position=position
                ), None
            except NotebookFailed as err:
                copy = out_dir / path.name
                where = (
                    f"\n  the executed copy, with the traceback, is {copy}"
                    if copy.is_file()
                    else ""
                )
                return None, f"{err}{where}"
        publisher.clear(path)
        try:
            seconds = run_notebook(
                path, publisher.executed(path), timeout=timeout, position=position
            )
            publisher.publish(path, seconds)
            return seconds, None
        except NotebookFailed as err:
            return None, f"{err}{publisher.keep_failed(path)}"

    def finished(path: Path, seconds: float | None, error: str | None) -> bool:
        """Report one notebook's outcome; True if the run should stop."""
        if error is not None:
            failures.append(error)
            print(f"FAILED: {error}", file=sys.stderr, flush=True)
            return not keep_going
        times[path.stem] = seconds
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


def check_out_dir(out_dir: Path, root: Path, quick: bool) -> None:
    """Refuse an ``--out`` that is a file, or lies where sources, tests, the published record
    or the staging folder are (a quick run's copies must never replace ``executed/``)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file: name a folder for the executed copies")
    resolved = out_dir.resolve()
    refused = ["notebooks", "tests", "results", "images", "logs/staging", "logs/failed"]
    if quick:
        refused.append("executed")
    for folder in refused:
        if resolved.is_relative_to((root / folder).resolve()):
            raise ValueError(
                f"--out {out_dir} lies inside {folder}/, which this run must not write into "
                "(sources, tests, the published record); choose a folder such as logs/run1"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.reproduce",
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
        "--table", action="store_true", help="only regenerate results/README.md from results/*.json"
    )
    args = parser.parse_args(argv)

    root = config.repo_root()
    if args.table:
        changed = tables.update(root)
        state = "updated" if changed else "already up to date"
        print(f"results/README.md and README.md's times table {state}")
        return 0
    if args.timeout is not None and args.timeout < 1:
        parser.error("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        quick_env = config.is_quick()
    except ValueError as err:
        parser.error(str(err))
    raw_quick = os.environ.get(config.QUICK_ENV, "").strip()
    if args.quick and raw_quick and not quick_env:
        parser.error(f"--quick conflicts with {config.QUICK_ENV}={raw_quick}")
    quick = args.quick or quick_env
    os.environ[config.QUICK_ENV] = "1" if quick else "0"
    os.environ[config.RECORD_ENV] = "0" if quick else "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the kernels' C++ start-up chatter

    default_out = root / "logs" / "executed-quick" if quick else root / "executed"
    out_dir = Path(args.out) if args.out else default_out
    try:
        check_out_dir(out_dir, root, quick)
        selected = tables.select_notebooks(root, args.only)
    except ValueError as err:
        parser.error(str(err))
    if args.jobs > 1:
        selected = _longest_first(selected, root)
        shared = share_machine(args.jobs)
        if shared:
            print("each kernel's share: " + ", ".join(f"{k}={v}" for k, v in shared.items()))
    publisher = None
    if not quick:
        publisher = Publisher(root, out_dir, args.jobs)
        os.environ[config.OUTPUT_ENV] = str(publisher.staging)

    mode = config.mode()
    print(f"{len(selected)} notebook(s), {mode} mode, {args.jobs} at a time", flush=True)
    run_start = time.perf_counter()
    times, failures = run_many(
        selected,
        out_dir,
        jobs=args.jobs,
        timeout=args.timeout,
        keep_going=args.keep_going,
        publisher=publisher,
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
        tables.update(root)
        print("results/README.md updated from results/*.json")
    if failures:
        print(f"\n{len(failures)} notebook(s) failed:", *failures, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
