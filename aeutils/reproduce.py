"""Run the course headless and keep the README's results table in step with ``results/``.

    python -m aeutils.reproduce                 # every notebook, full mode, in order
    python -m aeutils.reproduce --only 04,05    # some of them
    python -m aeutils.reproduce --quick         # smoke test (AEUTILS_QUICK=1)
    python -m aeutils.reproduce --jobs 2        # two notebooks at a time
    python -m aeutils.reproduce --table         # results/*.json -> README.md's results table

Each notebook runs in a fresh kernel; its executed copy goes to ``--out`` (default
``executed/``, ignored by git), never over the source. A failing cell stops the run with
the notebook's name and the cell's number, unless ``--keep-going``.

With ``--jobs N`` up to N notebooks run at once, each in its own kernel, the longest (by
the time recorded in its results file) first. On a small CPU this finishes the course
sooner, because one kernel training a small model leaves part of the cores idle; the
times each notebook records are then times while sharing the machine, and its results
file says so (``environment.notebooks_at_once``).
"""

from __future__ import annotations

import argparse
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


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised; the message names the notebook and the cell."""


def notebooks(root: Path, only: str | None = None) -> list[Path]:
    """The course's notebooks in order, optionally only those numbered in ``only`` ("04,05")."""
    found = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = {part.strip().zfill(2) for part in only.split(",") if part.strip()}
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

    ``on_status(text)``, if given, is called as each code cell starts, with the notebook's
    name, the cell's number and the elapsed time. Returns the wall time in seconds. Raises
    NotebookFailed naming the failing cell (the partly executed copy is still written, so
    the traceback can be read there).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]

    def on_cell_start(cell, cell_index, **_):
        if on_status is not None and cell_index in code_cells:
            number = code_cells.index(cell_index) + 1
            elapsed = _format_seconds(time.perf_counter() - start)
            on_status(f"{path.stem}: cell {number}/{len(code_cells)}, {elapsed}")

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


def render_table(root: Path) -> str:
    """The Markdown results table, one row per metric of every ``results/*.json``."""
    lines = [
        "| Notebook | Metric | Ours | Reference | Source of the reference | Epochs | "
        "Train time | Device |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in sorted((root / "results").glob("[0-9][0-9]_*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        env = record.get("environment", {})
        device = env.get("device", "")
        seconds = record.get("seconds", {})
        train = seconds.get("train")
        reached = record.get("time_to_reference", {})
        first = True
        for metric, value in record["metrics"].items():
            ref = record.get("references", {}).get(metric)
            ref_text = f"{ref['value']:g}" if ref else ""
            if metric in reached:
                epoch = reached[metric]["epoch"]
                ref_text += (
                    f" (ours reached it at epoch {epoch}, {reached[metric]['seconds']:.0f} s)"
                    if epoch
                    else " (not reached)"
                )
            lines.append(
                "| "
                + " | ".join(
                    [
                        record["notebook"] if first else "",
                        f"`{metric}`",
                        f"**{_number(value)}**" if ref else _number(value),
                        ref_text,
                        ref["source"].replace("|", "/") if ref else "",
                        str(record.get("epochs", "")) if first else "",
                        f"{train:.0f} s" if first and train is not None else "",
                        device if first else "",
                    ]
                )
                + " |"
            )
            first = False
    return "\n".join(lines)


def update_readme(root: Path) -> bool:
    """Replace the README's results table (between the markers) by ``render_table``.

    Returns True if the README changed. Raises SystemExit if the markers are missing.
    """
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"README.md lacks the markers {TABLE_START!r} and {TABLE_END!r}")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    new = f"{head}{TABLE_START}\n{render_table(root)}\n{TABLE_END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def readme_table(root: Path) -> str:
    """The table currently between the README's markers."""
    text = (root / "README.md").read_text(encoding="utf-8")
    return text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()


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
        help="only update README.md's results table from results/*.json",
    )
    args = parser.parse_args(argv)

    root = config.repo_root()
    if args.table:
        changed = update_readme(root)
        print("README.md results table " + ("updated" if changed else "already up to date"))
        return 0
    if args.timeout is not None and args.timeout < 1:
        parser.error("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    os.environ[config.QUICK_ENV] = "1" if args.quick else "0"
    out_dir = Path(args.out) if args.out else root / "executed"
    if out_dir.resolve() == (root / "notebooks").resolve():
        parser.error("--out must not be notebooks/: the sources stay without outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = notebooks(root, args.only)
    if args.jobs > 1:
        selected = _longest_first(selected, root)

    from tqdm.auto import tqdm

    failures, times = [], {}
    mode = config.mode()
    statuses: dict[str, str] = {}
    lock = threading.Lock()
    run_start = time.perf_counter()
    with tqdm(total=len(selected), desc=f"{mode} mode", unit="notebook") as bar:

        def show(stem: str, text: str | None) -> None:
            with lock:
                if text is None:
                    statuses.pop(stem, None)
                else:
                    statuses[stem] = text
                bar.set_postfix_str(" | ".join(statuses.values()), refresh=True)

        def run(path: Path) -> float:
            try:
                return run_notebook(
                    path,
                    out_dir,
                    timeout=args.timeout,
                    on_status=lambda text: show(path.stem, text),
                )
            finally:
                show(path.stem, None)

        def finished(path: Path, seconds: float | None, error: NotebookFailed | None) -> bool:
            """Record one notebook's outcome; True if the run should stop."""
            bar.update()
            if error is not None:
                failures.append(str(error))
                bar.write(f"FAILED: {error}")
                return not args.keep_going
            times[path.stem] = seconds
            _record_wall_time(path.stem, seconds, args.jobs)
            bar.write(f"{path.stem}: {_format_seconds(seconds)}")
            return False

        if args.jobs == 1:  # in this thread, so that Ctrl-C stops the run at once
            for path in selected:
                try:
                    seconds, error = run(path), None
                except NotebookFailed as err:
                    seconds, error = None, err
                if finished(path, seconds, error):
                    break
        else:
            pending, running, stop = list(selected), {}, False
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                while running or (pending and not stop):
                    while pending and not stop and len(running) < args.jobs:
                        path = pending.pop(0)
                        running[pool.submit(run, path)] = path
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        path = running.pop(future)
                        try:
                            seconds, error = future.result(), None
                        except NotebookFailed as err:
                            seconds, error = None, err
                        stop = finished(path, seconds, error) or stop
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
    if not args.quick and times:
        update_readme(root)
        print("README.md results table updated from results/*.json")
    if failures:
        print(f"\n{len(failures)} notebook(s) failed:", *failures, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
