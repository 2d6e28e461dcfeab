"""The generated tables: results/*.json -> results/README.md and the README's blocks.

    python -m aeutils.tools.reproduce --table

The README keeps one headline row per notebook and the whole-course times between marker
comments; results/README.md holds every metric with the sources of the references. A test
fails when either is out of step with the JSON files.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from .. import results

COMMAND = "python -m aeutils.tools.reproduce --table"
TABLE_START = f"<!-- results:start ({COMMAND}) -->"
TABLE_END = "<!-- results:end -->"
TIMES_START = f"<!-- times:start ({COMMAND}) -->"
TIMES_END = "<!-- times:end -->"
COURSE_FILE = "course.json"


def course_notebooks(root: Path) -> list[Path]:
    """The course's notebooks, in order."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


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
    for notebook in course_notebooks(root):
        try:
            record = results.read(notebook.stem, root)
        except FileNotFoundError:
            continue
        except ValueError as err:  # names the file
            raise SystemExit(str(err)) from err
        if not isinstance(record.get("metrics"), dict) or not record["metrics"]:
            path = root / "results" / f"{notebook.stem}.json"
            raise SystemExit(f"{path} is not a valid results file: it has no 'metrics'")
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
        f"Generated by `{COMMAND}` from the JSON files beside it; do "
        "not edit by hand. **Bold** figures have a published reference beside them, labelled "
        "with its source. A reference counts as reached when ours, rounded to the decimals its "
        "source printed, is at least as good.\n\n" + render_table(root) + "\n"
    )


def _course_runs(root: Path) -> list[dict]:
    path = root / "results" / COURSE_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["runs"]


def record_course(root: Path, times: dict[str, float], wall: float, jobs: int) -> None:
    """Keep the wall time of a full run of the whole course in ``results/course.json``.

    One entry per device and number of notebooks at a time; a new run replaces the entry
    with the same key. The device is read from the notebooks' own results files.
    """
    devices = set()
    for stem in times:
        try:
            devices.add(results.read(stem, root).get("environment", {}).get("device", "unknown"))
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
    """The Markdown table of whole-course full runs from ``results/course.json``.

    Each column names the run's device, notebooks at a time and date, and how many of the
    course's notebooks it covered when that is fewer than the course has now.
    """
    runs = _course_runs(root)
    if not runs:
        return "No full run of the whole course has been recorded yet."
    course = len(course_notebooks(root))

    def label(r: dict) -> str:
        at_once = "one notebook" if r["jobs"] == 1 else f"{r['jobs']} notebooks"
        text = f"{r['device']}, {at_once} at a time, {r['date'][:10]}"
        if len(r["notebooks"]) < course:  # recorded before the course had all its notebooks
            text += f", {len(r['notebooks'])} of the {course} notebooks"
        return text

    labels = [label(r) for r in runs]
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
                cells.append(f"{format_seconds(seconds)} ({share:.0%})")
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    lines.append(
        "| **whole course, wall clock** | "
        + " | ".join(f"**{format_seconds(r['wall_seconds'])}**" for r in runs)
        + " |"
    )
    return "\n".join(lines)


_BLOCKS = {  # README section -> (start marker, end marker, renderer)
    "results": (TABLE_START, TABLE_END, render_headlines),
    "times": (TIMES_START, TIMES_END, render_times),
}


def replace_block(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` replaced by ``body``.

    Raises ValueError naming the markers when either is missing. The README's generated blocks
    (results, times, backends, Colab badges) are all written through this.
    """
    if start not in text or end not in text.split(start, 1)[1]:
        raise ValueError(f"README.md lacks the markers {start!r} and {end!r}")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def write_readme_block(root: Path, start: str, end: str, body: str) -> None:
    """Put ``body`` between the markers ``start`` and ``end`` of ``root``'s README.md.

    Raises SystemExit naming the markers when either is missing.
    """
    readme = root / "README.md"
    try:
        updated = replace_block(readme.read_text(encoding="utf-8"), start, end, body)
    except ValueError as err:
        raise SystemExit(str(err)) from err
    results.atomic_write_text(readme, updated)


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
        try:
            text = replace_block(text, start, end, render(root))
        except ValueError as err:
            raise SystemExit(str(err)) from err
    if text != original:
        results.atomic_write_text(readme, text)
    return text != original


def readme_block(root: Path, name: str = "results") -> str:
    """What the README currently has between the markers of block ``name``."""
    start, end, _ = _BLOCKS[name]
    text = (root / "README.md").read_text(encoding="utf-8")
    return text.split(start, 1)[1].split(end, 1)[0].strip()
