"""tools.backends: results/README.md shows the recorded benchmark, and bad arguments fail.

The benchmark itself is not run here: it is a measurement, and tests never depend on time.
"""

import json

import pytest

from aeutils import config
from tools import backends

ROOT = config.repo_root()


def test_the_results_readme_shows_the_recorded_benchmark():
    record = json.loads((ROOT / "results" / "backends.json").read_text(encoding="utf-8"))
    assert set(record["seconds_per_epoch"]) >= {"tensorflow", "jax"}
    for seconds in record["seconds_per_epoch"].values():
        assert set(seconds) == set(backends.MODELS) and min(seconds.values()) > 0
    readme = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert backends.table(record) in readme


@pytest.mark.parametrize(
    "argv",
    [
        ["--backends", "tensorflow,mxnet"],
        ["--backends", ""],  # defect 12: benchmarked every backend
        ["--backends", ","],
        ["--epochs", "1"],
        ["--rounds", "0"],
        ["--images", "10"],
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit):
        backends.main(argv)
    assert "error" in capsys.readouterr().err


def test_the_worker_is_a_module_that_reuses_the_course_code():
    """The worker used to be a program in a string with its own timer, noise and models."""
    from tools import bench_worker

    assert backends._WORKER_MODULE == bench_worker.__name__
    assert {"dense (01)", "conv (04)", "denoising (05)"} == set(backends.MODELS)
