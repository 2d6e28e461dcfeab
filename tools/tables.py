"""The course's generated tables, all written by ``markdown_table``, and ``results/README.md``.

    python -m tools.reproduce --table      # results/*.json -> results/README.md

``results/README.md`` is generated whole from the JSON files beside it: the headline of each
notebook, every metric with the sources of its references, the whole-course run times, the
quick suite on each backend and the backend benchmark. A test fails when it is out of step.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from aeutils import _files, references, results

COMMAND = "python -m tools.reproduce --table"
RESULTS_README = "README.md"
COURSE_FILE = "course.json"
SUITES_FILE = "suites.json"
FULL_SUITES_FILE = "suites_full.json"
BACKENDS_FILE = "backends.json"

HEADLINES = {
    "01_undercomplete_autoencoder": "val_loss",
    "02_sparse_autoencoder": "val_loss",
    "03_deep_autoencoder": "val_loss",
    "04_convolutional_autoencoder": "val_loss",
    "05_denoising_autoencoder": "psnr_denoised",
    "06_variational_autoencoder": "train_neg_elbo_epoch_30",
    "07_contractive_autoencoder": "jacobian_norm_contractive",
    "08_autoencoders_and_pca": "max_subspace_angle_deg",
    "09_what_denoising_learns": "psnr_dae_mask",
    "10_anomaly_detection": "auc_mean",
    "11_super_resolution": "psnr_ae_x2",
    "12_latent_space": "path_digit_share_vae",
    "13_features_from_few_labels": "accuracy_inductive_10_low",
    "14_vq_vae": "recon_test_normalized",
    "15_vae_likelihoods_and_collapse": "iwae_5000_nll",
    "16_sparse_autoencoders": "fvu_topk_32",
}
"""Each notebook's headline metric: the one number the results' first table shows for it."""


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; every generated table of the course is written by this function.

    Cells are strings; a ``|`` inside one is escaped. Raises ValueError when a row's length
    differs from the header's.
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(header)} columns")

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + " --- |" * len(header), *map(line, rows)])


def course_notebooks(root: Path) -> list[Path]:
    """The course's notebooks, in order."""
    return sorted((Path(root) / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def select_notebooks(root: Path, only: str | None = None) -> list[Path]:
    """The course's notebooks, or those numbered in ``only`` ("04,05").

    Raises ValueError for an empty selection, a part that is not a number, or a number no
    notebook has: a typo must not run (or release) every notebook, or none.
    """
    found = course_notebooks(root)
    if only is None:
        return found
    parts = [part.strip() for part in str(only).split(",")]
    if any(not part.isdigit() for part in parts):
        raise ValueError(
            f"notebooks are chosen by comma-separated numbers such as 04,05, got {only!r}"
        )
    wanted = {part.zfill(2) for part in parts}
    unknown = wanted - {p.name[:2] for p in found}
    if unknown:
        raise ValueError(
            f"no notebook numbered {', '.join(sorted(unknown))}; the course has "
            f"{', '.join(p.name[:2] for p in found)}"
        )
    return [p for p in found if p.name[:2] in wanted]


def format_seconds(seconds: float, at_once: int | None = None) -> str:
    """``m:ss``, followed by " (N at once)" when ``at_once`` notebooks shared the machine."""
    minutes, secs = divmod(int(round(seconds)), 60)
    shared = f" ({at_once} at once)" if at_once and at_once > 1 else ""
    return f"{minutes}:{secs:02d}{shared}"


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
    """The results records of the course's notebooks, in order (only notebooks that have one).

    Raises SystemExit naming the file when one is not a valid results record, and when there
    are none at all (the table would otherwise be emptied silently).
    """
    records = []
    for notebook in course_notebooks(root):
        try:
            records.append(results.read(notebook.stem, root))
        except FileNotFoundError:
            continue
        except ValueError as err:  # names the file
            raise SystemExit(str(err)) from None
    if not records:
        raise SystemExit(
            f"no results file for any notebook in {Path(root) / 'results'}: nothing to tabulate"
        )
    return records


def _reference_text(record: dict, metric: str) -> str:
    ref = record.get("references", {}).get(metric)
    if not ref:
        return ""
    digits = ref.get("decimals")
    text = f"{ref['value']:.{digits}f}" if digits is not None else f"{ref['value']:g}"
    if references.is_context(ref):
        return text + " (context: different protocol)"
    if references.reaches(record["metrics"][metric], ref):
        epoch = record.get("reached_at_epoch", {}).get(metric)
        return text + (f" (reached at epoch {epoch})" if epoch else " (reached)")
    return text + " (not reached)"


def _seconds(record: dict) -> str:
    """The notebook's wall time, with how many notebooks shared the machine when not one."""
    seconds = (record.get("seconds") or {}).get("notebook")
    if not _is_number(seconds):
        return ""
    return format_seconds(seconds, record.get("environment", {}).get("notebooks_at_once"))


def headline(record: dict) -> str:
    """The headline metric of ``record``'s notebook (``HEADLINES``); SystemExit if it has none."""
    metric = HEADLINES.get(record["notebook"])
    if metric is None or metric not in record["metrics"]:
        raise SystemExit(
            f"tools/tables.py HEADLINES names no measured metric for {record['notebook']} "
            f"(it has {sorted(record['metrics'])}): add the notebook's headline there"
        )
    return metric


def render_headlines(records: list[dict]) -> str:
    rows = []
    for record in records:
        metric = headline(record)
        rows.append(
            [
                record["notebook"],
                f"`{metric}`",
                _number(record["metrics"][metric]),
                _reference_text(record, metric) or "(none)",
                str(record.get("epochs", "")),
                _seconds(record),
                record.get("environment", {}).get("device", ""),
            ]
        )
    header = ["Notebook", "Headline metric", "Ours", "Published reference", "Epochs", "Time"]
    return markdown_table([*header, "Device"], rows)


def render_metrics(records: list[dict]) -> str:
    rows = []
    for record in records:
        for i, (metric, value) in enumerate(record["metrics"].items()):
            ref = record.get("references", {}).get(metric)
            rows.append(
                [
                    record["notebook"] if i == 0 else "",
                    f"`{metric}`",
                    f"**{_number(value)}**" if ref else _number(value),
                    _reference_text(record, metric),
                    ref["source"] if ref else "",
                ]
            )
    return markdown_table(["Notebook", "Metric", "Ours", "Reference", "Source"], rows)


def _read_optional(path: Path, what: str):
    """The JSON at ``path``, or None when absent; SystemExit naming the file when malformed."""
    if not path.exists():
        return None
    try:
        return _files.read_json(path, what)
    except ValueError as err:
        raise SystemExit(str(err)) from None


def course_runs(root: Path) -> list[dict]:
    path = Path(root) / "results" / COURSE_FILE
    found = _read_optional(path, "whole-course times file")
    if found is None:
        return []
    runs = found.get("runs") if isinstance(found, dict) else None

    def valid(r) -> bool:
        return (
            isinstance(r, dict)
            and {"device", "jobs", "wall_seconds", "notebooks", "date"} <= set(r)
            and _is_number(r["wall_seconds"])
            and isinstance(r["notebooks"], dict)
            and all(_is_number(v) for v in r["notebooks"].values())
        )

    if not isinstance(runs, list) or not all(map(valid, runs)):
        raise SystemExit(
            f"{path} is not a whole-course times file: expected {{'runs': [...]}}, each run "
            "with device, jobs, date, wall_seconds (a number) and notebooks (name -> seconds)"
        )
    return runs


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _render(root: Path, name: str, what: str, render, empty: str) -> str:
    """``render(content)`` of ``results/<name>``, ``empty`` when it is absent; SystemExit
    naming the file when it is malformed (whatever part of it the renderer trips on)."""
    path = Path(root) / "results" / name
    if not path.exists():
        return empty
    found = _read_optional(path, what)
    try:
        if not isinstance(found, dict):
            raise TypeError(f"a JSON object was expected, got {type(found).__name__}")
        return render(found)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise SystemExit(f"{path} is not a valid {what}: {type(err).__name__}: {err}") from None


def render_times(root: Path) -> str:
    runs = course_runs(root)
    if not runs:
        return "No full run of the whole course has been recorded yet."
    course = len(course_notebooks(root))

    def label(r: dict) -> str:
        at_once = "one notebook" if r["jobs"] == 1 else f"{r['jobs']} notebooks"
        text = f"{r['device']}, {at_once} at a time, {r['date'][:10]}"
        if len(r["notebooks"]) < course:
            text += f", {len(r['notebooks'])} of the {course} notebooks"
        return text

    rows = []
    for stem in sorted({stem for r in runs for stem in r["notebooks"]}):
        cells = [stem]
        for r in runs:
            seconds = r["notebooks"].get(stem)
            share = seconds / sum(r["notebooks"].values()) if seconds is not None else None
            cells.append("" if seconds is None else f"{format_seconds(seconds)} ({share:.0%})")
        rows.append(cells)
    rows.append(
        ["**whole course, wall clock**"]
        + [f"**{format_seconds(r['wall_seconds'])}**" for r in runs]
    )
    return markdown_table(["Notebook", *map(label, runs)], rows)


def render_suites(root: Path) -> str:
    from .suites import table

    stems = [p.stem for p in course_notebooks(root)]
    return _render(
        root,
        SUITES_FILE,
        "quick-suite file",
        lambda found: table(found, stems),
        "No quick suite has been recorded yet (`python -m tools.suites --record`).",
    )


def recorded_suite(root: Path) -> dict:
    """The recorded full runs (``results/*.json``) as one suite entry per backend they ran on:
    the full-mode table's column for the backend the course is recorded on."""
    record: dict = {"backends": {}}
    for found in _records(root):
        env = found.get("environment", {})
        backend = env.get("backend")
        seconds = found.get("seconds", {}).get("notebook")
        if backend is None or not _is_number(seconds):
            continue
        entry = record["backends"].setdefault(
            backend,
            {"notebooks": {}, "version": env.get("backend_version"), "device": set(), "when": ""},
        )
        entry["notebooks"][found["notebook"]] = {
            "seconds": seconds,
            "at_once": env.get("notebooks_at_once", 1),
        }
        entry["device"].add(env.get("device", "unknown device"))
        entry["when"] = max(entry["when"], str(found.get("date", ""))[:10])
    for entry in record["backends"].values():
        entry["device"] = ", ".join(sorted(entry["device"]))
        entry["when"] = f"{entry['when']} (the last of the recorded runs)"
    return record


def render_full_suites(root: Path) -> str:
    """Full mode per backend: the recorded runs, then the runs of ``tools.suites --full``."""
    from .suites import table

    stems = [p.stem for p in course_notebooks(root)]

    def combined(found: dict) -> str:
        record = recorded_suite(root)
        for backend, entry in found.get("backends", {}).items():
            record["backends"].setdefault(backend, entry)
        return table(record, stems, "full")

    empty = combined({}) if _records(root) else "No full run has been recorded yet."
    return _render(root, FULL_SUITES_FILE, "full-suite file", combined, empty)


def render_backends(root: Path) -> str:
    from .backends import table

    return _render(
        root,
        BACKENDS_FILE,
        "backend benchmark file",
        table,
        "No backend benchmark has been recorded yet (`python -m tools.backends --record`).",
    )


def render_results_readme(root: Path) -> str:
    """The whole of ``results/README.md``."""
    records = _records(root)
    return "\n".join(
        [
            "# Results of the full-mode runs",
            "",
            f"Generated by `{COMMAND}` from the JSON files beside it; do not edit by hand. A "
            "published reference counts as reached when our run follows its source's protocol "
            "and ours, rounded to the decimals its source printed, is at least as good; a "
            "reference whose protocol differs is marked context and is never reached. Times "
            "are whole notebooks as the runner measured them, one notebook at a time unless "
            "the time says how many ran at once.",
            "",
            "## Headlines",
            "",
            render_headlines(records),
            "",
            "## Every metric",
            "",
            "**Bold** figures have a published reference beside them.",
            "",
            render_metrics(records),
            "",
            "## Whole-course runs, full mode",
            "",
            render_times(root),
            "",
            "## Full mode on each Keras backend",
            "",
            "The recorded runs, and the runs of `python -m tools.suites --full`, which check "
            "the same full-mode claims on another backend without recording its numbers.",
            "",
            render_full_suites(root),
            "",
            "## Quick mode on each Keras backend",
            "",
            render_suites(root),
            "",
            "## Seconds per epoch on each backend",
            "",
            render_backends(root),
            "",
        ]
    )


TIMES_START = "<!-- times:start (generated by python -m tools.reproduce --table) -->"
TIMES_END = "<!-- times:end -->"


def render_learner_times(root: Path) -> str:
    """The README's table of how long each notebook takes: full mode from the recorded runs,
    quick mode from the TensorFlow quick suite, with the machine they ran on."""
    records = {r["notebook"]: r for r in _records(root)}
    suites = _read_optional(Path(root) / "results" / SUITES_FILE, "quick-suite file") or {}
    quick = suites.get("backends", {}).get("tensorflow", {})
    notebooks = course_notebooks(root)
    full_row, quick_row = ["full mode"], ["quick mode"]
    for notebook in notebooks:
        found = quick.get("notebooks", {}).get(notebook.stem, {})
        quick_row.append(format_seconds(found["seconds"]) if "seconds" in found else "–")
        full_row.append(_seconds(records[notebook.stem]) if notebook.stem in records else "–")
    devices = sorted({r["environment"].get("device", "?") for r in records.values()})
    table = markdown_table(["notebook", *(n.stem[:2] for n in notebooks)], [full_row, quick_row])
    return (
        f"{table}\n\nTensorFlow on {', '.join(devices)}, one notebook at a time unless a time "
        "says otherwise: full mode from the recorded runs, quick mode from the quick suite "
        f"({quick.get('when', 'not recorded')}). Other backends: "
        "[results/README.md](results/README.md)."
    )


def readme_with_times(root: Path, readme: str) -> str:
    """``readme`` with the block between ``TIMES_START`` and ``TIMES_END`` regenerated;
    ValueError when the markers are missing."""
    start, end = readme.find(TIMES_START), readme.find(TIMES_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {TIMES_START!r} ... {TIMES_END!r} block")
    block = f"{TIMES_START}\n\n{render_learner_times(root)}\n{TIMES_END}"
    return readme[:start] + block + readme[end + len(TIMES_END) :]


def update(root: Path) -> bool:
    """Rewrite ``results/README.md`` and the README's times from the JSON files; True if
    either changed."""
    results_readme = Path(root) / "results" / RESULTS_README
    changed = _write_if_changed(results_readme, render_results_readme(root))
    readme = Path(root) / "README.md"
    if readme.is_file() and TIMES_START in (old := readme.read_text(encoding="utf-8")):
        changed |= _write_if_changed(readme, readme_with_times(root, old))
    return changed


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds it; True if it was written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    _files.atomic_write_text(path, text)
    return True


def record_course(root: Path, times: dict[str, float], wall: float, jobs: int) -> None:
    """Keep the wall time of a full run of the whole course in ``results/course.json``.

    One entry per device and number of notebooks at a time; a new run replaces the entry
    with the same key. The device is read from the notebooks' own results files.
    """
    devices = set()
    for stem in times:
        try:
            devices.add(results.read(stem, root).get("environment", {}).get("device", "unknown"))
        except (FileNotFoundError, ValueError):
            devices.add("unknown")
    device = ", ".join(sorted(devices))
    runs = [r for r in course_runs(root) if (r["device"], r["jobs"]) != (device, jobs)]
    runs.append(
        {
            "device": device,
            "jobs": jobs,
            "wall_seconds": round(wall, 1),
            "notebooks": {stem: round(seconds, 1) for stem, seconds in sorted(times.items())},
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
    )
    runs.sort(key=lambda r: (r["device"], r["jobs"]))
    _files.write_json(Path(root) / "results" / COURSE_FILE, {"runs": runs})
