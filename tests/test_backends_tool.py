"""aeutils.tools.backends: the README's table is the recorded benchmark, and bad arguments fail.

The benchmark itself is not run here: it is a measurement, and tests never depend on time.
"""

import json

import pytest

from aeutils import config
from aeutils.tools import backends

ROOT = config.repo_root()


def test_the_readme_table_is_the_recorded_benchmark():
    record = json.loads((ROOT / "results" / "backends.json").read_text(encoding="utf-8"))
    assert set(record["seconds_per_epoch"]) >= {"tensorflow", "jax"}
    for seconds in record["seconds_per_epoch"].values():
        assert set(seconds) == set(backends.MODELS) and min(seconds.values()) > 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{backends.README_START}\n{backends.table(record)}\n{backends.README_END}" in readme


@pytest.mark.parametrize(
    "argv",
    [["--backends", "tensorflow,mxnet"], ["--epochs", "1"], ["--rounds", "0"], ["--images", "10"]],
)
def test_bad_arguments_are_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit):
        backends.main(argv)
    assert "error" in capsys.readouterr().err
