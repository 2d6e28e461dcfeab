"""Seconds per epoch of the course's models on each Keras backend, side by side in one run.

    python -m tools.backends                       # tensorflow, jax, torch if installed
    python -m tools.backends --backends tensorflow,jax --rounds 3
    python -m tools.backends --record              # also results/backends.json and its table

A benchmark, not a test: nothing asserts on a time. Each measurement runs in a fresh Python
process with ``KERAS_BACKEND`` set (a process can hold one backend only) and trains three
models on the same MNIST images: notebook 01's dense 784-32-784 model (batch 256), notebook
04's convolutional model and notebook 05's denoising model (batch 128). It reports the median
time of the epochs after the first, which also pays for tracing and compiling. The backends
take turns within each round, so a machine that slows down mid-run slows all of them alike;
compare the ratios, which travel between machines better than the seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

from aeutils import _files, config, environment

from . import tables

MODELS = ("dense (01)", "conv (04)", "denoising (05)")
BACKENDS = environment.BACKEND_PACKAGES  # backend name -> the package that provides it
_WORKER_MODULE = "tools.bench_worker"  # run as `python -m` in a fresh process per backend


def available() -> list[str]:
    return [b for b, module in BACKENDS.items() if importlib.util.find_spec(module) is not None]


def chosen(parser: argparse.ArgumentParser, names: str) -> list[str]:
    """The backends named in ``names`` ("jax,torch"); a parser error if unknown or missing."""
    backends = list(dict.fromkeys(name.strip() for name in names.split(",")))
    if not all(backends):
        parser.error(f"--backends takes comma-separated names such as jax,torch, got {names!r}")
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; choose from {list(BACKENDS)}")
    missing = [b for b in backends if importlib.util.find_spec(BACKENDS[b]) is None]
    if missing:
        parser.error(f"not installed: {missing} (pip install jax / torch first)")
    return backends


def measure(backend: str, images: int, epochs: int) -> dict:
    """Train the three models in a fresh process on ``backend``; per-epoch seconds per model."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop(config.QUICK_ENV, None)
    run = subprocess.run(
        [sys.executable, "-m", _WORKER_MODULE, str(images), str(epochs)],
        cwd=config.repo_root(),
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"the {backend} run failed:\n{run.stderr[-3000:]}")
    found = json.loads(lines[-1][len("RESULT ") :])
    if found["backend"] != backend:
        raise RuntimeError(f"asked for {backend}, Keras ran {found['backend']}")
    return found


def table(record: dict) -> str:
    backends = list(record["seconds_per_epoch"])
    base = record["seconds_per_epoch"]["tensorflow"] if "tensorflow" in backends else None
    rows = []
    for model in MODELS:
        cells = [model]
        for b in backends:
            s = record["seconds_per_epoch"][b][model]
            ratio = f" ({s / base[model]:.2f}×)" if base and b != "tensorflow" else ""
            cells.append(f"{s:.2f} s{ratio}")
        rows.append(cells)
    env = record["environment"]
    return (
        tables.markdown_table(["model", *backends], rows)
        + "\n\n"
        + f"Seconds per epoch on {record['images']} training images (median of epochs 2–"
        f"{record['epochs']}, {record['rounds']} round(s), backends taking turns), ratios to "
        f"TensorFlow in brackets; {env.get('device', '')}, {record['when']}, Keras "
        f"{record['keras']}, " + ", ".join(f"{k} {v}" for k, v in record["versions"].items()) + "."
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=None, help="comma-separated (default: installed)")
    parser.add_argument("--images", type=int, default=10_000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per model (at least 2)")
    parser.add_argument("--rounds", type=int, default=2, help="turns per backend")
    parser.add_argument(
        "--record", action="store_true", help="write results/backends.json and results/README.md"
    )
    args = parser.parse_args(argv)
    backends = chosen(parser, args.backends) if args.backends is not None else available()
    if args.epochs < 2 or args.rounds < 1 or args.images < 256:
        parser.error("need --epochs >= 2, --rounds >= 1 and --images >= 256")

    samples = {b: {m: [] for m in MODELS} for b in backends}
    keras_version = ""
    for r in range(args.rounds):
        for b in backends:
            start = time.perf_counter()
            found = measure(b, args.images, args.epochs)
            keras_version = found["keras"]
            for m in MODELS:
                samples[b][m].extend(found["epochs"][m][1:])  # the first epoch also compiles
            print(f"round {r + 1}: {b:10s} {time.perf_counter() - start:6.1f} s", flush=True)
    env = {"device": environment.device(backends[0]), "python": sys.version.split()[0]}
    record = {
        "images": args.images,
        "epochs": args.epochs,
        "rounds": args.rounds,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "keras": keras_version,
        "versions": {b: version(BACKENDS[b]) for b in backends},
        "environment": env,
        "seconds_per_epoch": {
            b: {m: statistics.median(samples[b][m]) for m in MODELS} for b in backends
        },
    }
    text = table(record)
    print("\n" + text)
    if args.record:
        root = config.repo_root()
        _files.write_json(root / "results" / tables.BACKENDS_FILE, record)
        tables.update(root)
        print(f"recorded: results/{tables.BACKENDS_FILE} and results/README.md")
    return 0


def version(module: str) -> str:
    """An installed distribution's version, or "?" (for the tables) when it is not installed."""
    return environment.package_version(module) or "?"


if __name__ == "__main__":
    sys.exit(main())
