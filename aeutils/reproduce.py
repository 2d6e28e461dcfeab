"""Run the course headless and keep the README's results table in step with ``results/``.

    python -m aeutils.reproduce                 # every notebook, full mode, in order
    python -m aeutils.reproduce --only 04,05    # some of them
    python -m aeutils.reproduce --quick         # smoke test (AEUTILS_QUICK=1)
    python -m aeutils.reproduce --table         # results/*.json -> README.md's results table

Each notebook runs in a fresh kernel; its executed copy goes to ``--out`` (default
``executed/``, ignored by git), never over the source. A failing cell stops the run with
the notebook's name and the cell's number, unless ``--keep-going``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
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


def run_notebook(path: Path, out_dir: Path, *, timeout: int | None, progress=None) -> float:
    """Execute ``path`` in a fresh kernel, write the executed copy into ``out_dir``.

    Returns the wall time in seconds. Raises NotebookFailed naming the failing cell (the
    partly executed copy is still written, so the traceback can be read there).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]

    def on_cell_start(cell, cell_index, **_):
        if progress is not None and cell_index in code_cells:
            number = code_cells.index(cell_index) + 1
            elapsed = _format_seconds(time.perf_counter() - start)
            progress.set_postfix_str(
                f"{path.stem}: cell {number}/{len(code_cells)}, {elapsed}", refresh=True
            )

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


def _record_wall_time(stem: str, seconds: float) -> None:
    """Add the whole notebook's wall time to its results file (full mode only)."""
    if config.is_quick():
        return
    try:
        record = results.read(stem)
    except FileNotFoundError:
        return
    record.setdefault("seconds", {})["notebook"] = round(seconds, 2)
    results.save(record)


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

    os.environ[config.QUICK_ENV] = "1" if args.quick else "0"
    out_dir = Path(args.out) if args.out else root / "executed"
    if out_dir.resolve() == (root / "notebooks").resolve():
        parser.error("--out must not be notebooks/: the sources stay without outputs")
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = notebooks(root, args.only)

    from tqdm.auto import tqdm

    failures, times = [], {}
    mode = config.mode()
    with tqdm(selected, desc=f"{mode} mode", unit="notebook") as bar:
        for path in bar:
            try:
                times[path.stem] = run_notebook(path, out_dir, timeout=args.timeout, progress=bar)
            except NotebookFailed as err:
                failures.append(str(err))
                bar.write(f"FAILED: {err}")
                if not args.keep_going:
                    break
                continue
            _record_wall_time(path.stem, times[path.stem])
            bar.write(f"{path.stem}: {_format_seconds(times[path.stem])}")
    total = sum(times.values())
    print(
        f"\n{len(times)} notebook(s) ran in {_format_seconds(total)} ({mode} mode); "
        f"executed copies in {out_dir}"
    )
    for stem, seconds in times.items():
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
