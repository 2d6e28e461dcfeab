"""Run the course headless and keep the README's results table in step with ``results/``.

    python -m aeutils.reproduce                 # every notebook, full mode, in order
    python -m aeutils.reproduce --only 04,05    # some of them
    python -m aeutils.reproduce --quick         # smoke test (AEUTILS_QUICK=1)
    python -m aeutils.reproduce --jobs 2        # two notebooks at a time
    python -m aeutils.reproduce --table         # results/*.json -> README.md's tables

Each notebook runs in a fresh kernel; its executed copy goes to ``--out`` (default
``executed/``, ignored by git), never over the source. A failing cell stops the run with
the notebook's name and the cell's number, unless ``--keep-going``.

With ``--jobs N`` up to N notebooks run at once, each in its own kernel, the longest (by
the time recorded in its results file) first. On a small CPU this finishes the course
sooner, because one kernel alone does not keep every core busy; the times each notebook
records are then times while sharing the machine, and its results file says so
(``environment.notebooks_at_once``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from . import config, results

TABLE_START = "<!-- results:start (python -m aeutils.reproduce --table) -->"
TABLE_END = "<!-- results:end -->"
TIMES_START = "<!-- times:start (python -m aeutils.reproduce --table) -->"
TIMES_END = "<!-- times:end -->"
COURSE_FILE = "course.json"


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised; the message names the notebook and the cell."""


def notebooks(root: Path, only: str | None = None) -> list[Path]:
    """The course's notebooks in order, optionally only those numbered in ``only`` ("04,05")."""
    found = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
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


def _format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def run_notebook(path: Path, out_dir: Path, *, timeout: int | None, on_status=None) -> float:
    """Execute ``path`` in a fresh kernel, write the executed copy into ``out_dir``.

    ``on_status(text)``, if given, is called as each code cell starts, with text such as
    "cell 3/14". Returns the wall time in seconds. Raises NotebookFailed naming the failing
    cell (the partly executed copy is still written, so the traceback can be read there).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]

    def on_cell_start(cell, cell_index, **_):
        if on_status is not None and cell_index in code_cells:
            on_status(f"cell {code_cells.index(cell_index) + 1}/{len(code_cells)}")

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
    )
    out_path = out_dir / path.name
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        failed = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        nbformat.write(nb, out_path)
        where = (
            f"cell {failed} (code cell {code_cells.index(failed) + 1} of {len(code_cells)})"
            if failed is not None
            else "a cell"
        )
        first_line = nb.cells[failed].source.splitlines()[0] if failed is not None else ""
        summary = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise NotebookFailed(
            f"{path.name} failed in {where} (`{first_line}`): {summary}\n"
            f"The executed copy with the full traceback is {out_path}"
        ) from err
    nbformat.write(nb, out_path)
    return time.perf_counter() - start


def _record_wall_time(stem: str, seconds: float, jobs: int = 1) -> None:
    """Add the whole notebook's wall time to its results file (full mode only).

    With ``jobs`` > 1 the file also says how many notebooks shared the machine.
    """
    if config.is_quick():
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
            record = json.loads((root / "results" / f"{path.stem}.json").read_text("utf-8"))
            return float(record["seconds"]["notebook"])
        except (OSError, ValueError, KeyError, TypeError):
            return float("inf")

    return sorted(paths, key=recorded, reverse=True)


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    if 0 < abs(value) < 1e-3:
        return f"{value:.2g}"
    if abs(value) >= 100:
        return f"{value:.2f}"
    if abs(value) >= 1:
        return f"{value:.3f}".rstrip("0")
    return f"{value:.4f}"


def _records(root: Path) -> list[dict]:
    """The results records of the course's notebooks, in order (only notebooks that exist).

    Raises SystemExit naming the file when one is not valid JSON or lacks its metrics, and
    when there are none at all (the tables would otherwise be emptied silently).
    """
    records = []
    for notebook in notebooks(root):
        path = root / "results" / f"{notebook.stem}.json"
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record.get("metrics"), dict) or not record["metrics"]:
                raise ValueError("it has no 'metrics'")
        except ValueError as err:  # JSONDecodeError is a ValueError
            raise SystemExit(f"{path} is not a valid results file: {err}") from err
        records.append(record)
    if not records:
        raise SystemExit(
            f"no results file for any notebook in {root / 'results'}: nothing to tabulate "
            "(the README's tables are left as they are)"
        )
    return records


def _reference_text(record: dict, metric: str) -> str:
    ref = record.get("references", {}).get(metric)
    if not ref:
        return ""
    value = record["metrics"][metric]
    digits = ref.get("decimals")
    text = f"{ref['value']:.{digits}f}" if digits is not None else f"{ref['value']:g}"
    if results.reaches(value, ref):
        reached = record.get("time_to_reference", {}).get(metric, {})
        if reached.get("epoch"):
            text += f" (reached at epoch {reached['epoch']}, {reached['seconds']:.0f} s)"
        else:
            text += " (reached)"
    else:
        text += " (not reached)"
    return text


def render_table(root: Path) -> str:
    """The Markdown table of every metric of every notebook's results file."""
    lines = [
        "| Notebook | Metric | Ours | Reference | Source of the reference | Epochs | "
        "Train time | Device |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for record in _records(root):
        train = record.get("seconds", {}).get("train")
        first = True
        for metric, value in record["metrics"].items():
            ref = record.get("references", {}).get(metric)
            lines.append(
                "| "
                + " | ".join(
                    [
                        record["notebook"] if first else "",
                        f"`{metric}`",
                        f"**{_number(value)}**" if ref else _number(value),
                        _reference_text(record, metric),
                        ref["source"].replace("|", "/") if ref else "",
                        str(record.get("epochs", "")) if first else "",
                        f"{train:.0f} s" if first and train is not None else "",
                        record.get("environment", {}).get("device", "") if first else "",
                    ]
                )
                + " |"
            )
            first = False
    return "\n".join(lines)


def render_headlines(root: Path) -> str:
    """One row per notebook: its headline metric (the first with a reference, else the first)."""
    lines = [
        "| Notebook | Headline metric | Ours | Published reference | Epochs | Device |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for record in _records(root):
        refs = record.get("references", {})
        metric = next((m for m in record["metrics"] if m in refs), next(iter(record["metrics"])))
        lines.append(
            f"| {record['notebook']} | `{metric}` | {_number(record['metrics'][metric])} | "
            f"{_reference_text(record, metric) or '(none)'} | {record.get('epochs', '')} | "
            f"{record.get('environment', {}).get('device', '')} |"
        )
    return "\n".join(lines)


RESULTS_README = "README.md"
"""The generated file in results/ that holds the full per-metric table."""


def render_results_readme(root: Path) -> str:
    """The whole of ``results/README.md``: every metric, with the sources of the references."""
    return (
        "# Results of the full-mode runs\n\n"
        "Generated by `python -m aeutils.reproduce --table` from the JSON files beside it; do "
        "not edit by hand. **Bold** figures have a published reference beside them, labelled "
        "with its source. A reference counts as reached when ours, rounded to the decimals its "
        "source printed, is at least as good.\n\n" + render_table(root) + "\n"
    )


def _course_runs(root: Path) -> list[dict]:
    path = root / "results" / COURSE_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["runs"]


def _record_course(root: Path, times: dict[str, float], wall: float, jobs: int) -> None:
    """Keep the wall time of a full run of the whole course in ``results/course.json``.

    One entry per device and number of notebooks at a time; a new run replaces the entry
    with the same key. The device is read from the notebooks' own results files.
    """
    devices = set()
    for stem in times:
        try:
            devices.add(results.read(stem).get("environment", {}).get("device", "unknown"))
        except FileNotFoundError:
            devices.add("unknown")
    device = ", ".join(sorted(devices))
    runs = [r for r in _course_runs(root) if (r["device"], r["jobs"]) != (device, jobs)]
    runs.append(
        {
            "device": device,
            "jobs": jobs,
            "wall_seconds": round(wall, 1),
            "notebooks": {stem: round(seconds, 1) for stem, seconds in sorted(times.items())},
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    runs.sort(key=lambda r: (r["device"], r["jobs"]))
    path = root / "results" / COURSE_FILE
    results.atomic_write_text(path, json.dumps({"runs": runs}, indent=2) + "\n")


def render_times(root: Path) -> str:
    """The Markdown table of whole-course full runs from ``results/course.json``."""
    runs = _course_runs(root)
    if not runs:
        return "No full run of the whole course has been recorded yet."
    labels = [
        f"{r['device']}, {'one notebook' if r['jobs'] == 1 else str(r['jobs']) + ' notebooks'}"
        " at a time"
        for r in runs
    ]
    lines = [
        "| Notebook | " + " | ".join(labels) + " |",
        "| --- |" + " --- |" * len(runs),
    ]
    stems = sorted({stem for r in runs for stem in r["notebooks"]})
    for stem in stems:
        cells = []
        for r in runs:
            seconds = r["notebooks"].get(stem)
            if seconds is None:  # not in that run
                cells.append("")
            else:
                share = seconds / sum(r["notebooks"].values())
                cells.append(f"{_format_seconds(seconds)} ({share:.0%})")
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    lines.append(
        "| **whole course, wall clock** | "
        + " | ".join(f"**{_format_seconds(r['wall_seconds'])}**" for r in runs)
        + " |"
    )
    return "\n".join(lines)


_BLOCKS = {  # README section -> (start marker, end marker, renderer)
    "results": (TABLE_START, TABLE_END, render_headlines),
    "times": (TIMES_START, TIMES_END, render_times),
}


def update_readme(root: Path) -> bool:
    """Replace the README's results and times tables (between their markers).

    Also rewrites the generated ``results/README.md``. Returns True if the README changed.
    Raises SystemExit if a pair of markers is missing or a results file is malformed.
    """
    full_table = root / "results" / RESULTS_README
    text = render_results_readme(root)
    if not full_table.is_file() or full_table.read_text(encoding="utf-8") != text:
        results.atomic_write_text(full_table, text)
    readme = root / "README.md"
    text = original = readme.read_text(encoding="utf-8")
    for start, end, render in _BLOCKS.values():
        if start not in text or end not in text:
            raise SystemExit(f"README.md lacks the markers {start!r} and {end!r}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{render(root)}\n{end}{tail}"
    if text != original:
        results.atomic_write_text(readme, text)
    return text != original


def readme_block(root: Path, name: str = "results") -> str:
    """What the README currently has between the markers of block ``name``."""
    start, end, _ = _BLOCKS[name]
    text = (root / "README.md").read_text(encoding="utf-8")
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def run_many(
    paths: list[Path],
    out_dir: Path,
    *,
    jobs: int = 1,
    timeout: int | None = None,
    keep_going: bool = False,
    bar=None,
) -> tuple[dict[str, float], list[str]]:
    """Run ``paths`` in order, up to ``jobs`` at once; stop after a failure unless ``keep_going``.

    Returns ``(times, failures)``: wall seconds per notebook stem, and the failure messages.
    Notebooks already running when one fails are finished; none is started after it. In
    full mode each finished notebook's time goes into its results file. ``bar`` (a tqdm bar
    over the notebooks) shows each running notebook's cell and elapsed time.
    """
    times: dict[str, float] = {}
    failures: list[str] = []
    statuses: dict[str, list] = {}  # stem -> [start time, "cell k/n"]
    lock = threading.Lock()
    write = bar.write if bar is not None else print
    done_event = threading.Event()

    def show(stem: str | None = None, cell: str | None = None, *, remove: bool = False) -> None:
        """Update one notebook's status (or none: just redraw) and redraw the bar."""
        with lock:
            if remove:
                statuses.pop(stem, None)
            elif stem is not None:
                statuses.setdefault(stem, [time.perf_counter(), ""])[1] = cell
            if bar is not None:
                now = time.perf_counter()
                bar.set_postfix_str(
                    " | ".join(
                        f"{name}: {where}, {_format_seconds(now - begun)}"
                        for name, (begun, where) in statuses.items()
                    ),
                    refresh=True,
                )

    def tick() -> None:  # keeps the elapsed times moving during long cells
        while not done_event.wait(2.0):
            show()

    def run(path: Path) -> float:
        show(path.stem, "starting")
        try:
            return run_notebook(
                path, out_dir, timeout=timeout, on_status=lambda cell: show(path.stem, cell)
            )
        finally:
            show(path.stem, remove=True)

    def attempt(path: Path) -> tuple[float | None, NotebookFailed | None]:
        try:
            return run(path), None
        except NotebookFailed as err:
            return None, err

    def finished(path: Path, seconds: float | None, error: NotebookFailed | None) -> bool:
        """Record one notebook's outcome; True if the run should stop."""
        if bar is not None:
            bar.update()
        if error is not None:
            failures.append(str(error))
            write(f"FAILED: {error}")
            return not keep_going
        times[path.stem] = seconds
        _record_wall_time(path.stem, seconds, jobs)
        write(f"{path.stem}: {_format_seconds(seconds)}")
        return False

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        if jobs == 1:  # in this thread, so that Ctrl-C stops the run at once
            for path in paths:
                if finished(path, *attempt(path)):
                    break
            return times, failures

        pending, running, stop = list(paths), {}, False
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            while running or (pending and not stop):
                while pending and not stop and len(running) < jobs:
                    path = pending.pop(0)
                    running[pool.submit(attempt, path)] = path
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    stop = finished(running.pop(future), *future.result()) or stop
        return times, failures
    finally:
        done_event.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aeutils.reproduce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 04,05")
    parser.add_argument("--quick", action="store_true", help="quick mode (AEUTILS_QUICK=1)")
    parser.add_argument(
        "--timeout", type=int, default=None, help="seconds allowed per cell (default: no limit)"
    )
    parser.add_argument("--out", default=None, help="folder for executed copies (executed/)")
    parser.add_argument(
        "--keep-going", action="store_true", help="run the remaining notebooks after a failure"
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks to run at once (default: 1)")
    parser.add_argument(
        "--table",
        action="store_true",
        help="only update README.md's results and times tables from results/*.json",
    )
    args = parser.parse_args(argv)

    root = config.repo_root()
    if args.table:
        changed = update_readme(root)
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
    out_dir = Path(args.out) if args.out else root / "executed"
    if out_dir.resolve() == (root / "notebooks").resolve():
        parser.error("--out must not be notebooks/: the sources stay without outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = notebooks(root, args.only)
    if args.jobs > 1:
        selected = _longest_first(selected, root)

    from tqdm.auto import tqdm

    mode = config.mode()
    run_start = time.perf_counter()
    with tqdm(total=len(selected), desc=f"{mode} mode", unit="notebook") as bar:
        times, failures = run_many(
            selected,
            out_dir,
            jobs=args.jobs,
            timeout=args.timeout,
            keep_going=args.keep_going,
            bar=bar,
        )
    wall = time.perf_counter() - run_start
    total = sum(times.values())
    at_once = f", {args.jobs} at a time" if args.jobs > 1 else ""
    print(
        f"\n{len(times)} notebook(s) ran in {_format_seconds(wall)} ({mode} mode{at_once}); "
        f"executed copies in {out_dir}"
    )
    for stem in sorted(times):
        seconds = times[stem]
        print(f"  {stem:40s} {_format_seconds(seconds):>7s}  {seconds / max(total, 1e-9):6.1%}")
    if not quick and times:
        if not args.only and not failures:
            _record_course(root, times, wall, args.jobs)
        update_readme(root)
        print("README.md results and times tables updated from results/*.json")
    if failures:
        print(f"\n{len(failures)} notebook(s) failed:", *failures, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
