"""Unit tests of aeutils.results: the results-file format."""

import json
import math

import pytest

from aeutils import config, results

GOOD = {
    "metrics": {"val_loss": 0.092, "train_loss": 0.091},
    "references": {"val_loss": {"value": 0.09, "source": "the Keras blog"}},
    "epochs": 50,
    "seconds": {"train": 100.0, "total": 120.0},
}


@pytest.fixture
def full_mode(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    return tmp_path


def test_write_in_full_mode(full_mode):
    record = results.write("01_undercomplete_autoencoder", **GOOD)
    path = full_mode / "results" / "01_undercomplete_autoencoder.json"
    assert json.loads(path.read_text()) == record
    assert record["notebook"] == "01_undercomplete_autoencoder" and record["mode"] == "full"
    assert record["metrics"] == GOOD["metrics"] and record["epochs"] == 50
    assert record["seconds"] == {"train": 100.0, "total": 120.0, "per_epoch": 2.0}
    assert record["references"] == GOOD["references"]
    env = record["environment"]
    assert set(env) == {"python", "tensorflow", "keras", "numpy", "backend", "device"}
    assert env["keras"].startswith("3.") and env["device"]
    assert results.read("01_undercomplete_autoencoder") == record


def test_quick_mode_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    record = results.write("01_undercomplete_autoencoder", **GOOD)
    assert record["mode"] == "quick"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "change, error",
    [
        ({"metrics": {"val_loss": math.nan}}, ValueError),
        ({"metrics": {"val_loss": "0.09"}}, TypeError),
        ({"metrics": {}}, TypeError),
        ({"metrics": {"nested": {"a": 1}}}, TypeError),
        ({"epochs": 0}, ValueError),
        ({"seconds": {"train": 1.0}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09}}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09, "source": " "}}}, ValueError),
    ],
)
def test_bad_records(full_mode, change, error):
    with pytest.raises(error):
        results.write("01_undercomplete_autoencoder", **{**GOOD, **change})
    assert not (full_mode / "results" / "01_undercomplete_autoencoder.json").exists()


@pytest.mark.parametrize("name", ["undercomplete", "1_x", "01_X", "01_x.json", "../01_x"])
def test_bad_notebook_name(full_mode, name):
    with pytest.raises(ValueError, match="notebook"):
        results.write(name, **GOOD)


def test_read_missing(full_mode):
    with pytest.raises(FileNotFoundError, match="full mode"):
        results.read("99_nothing")


def test_time_to_reference_and_curves(full_mode):
    record = results.write(
        "01_undercomplete_autoencoder",
        **GOOD,
        curves={"val_loss": [0.2, 0.1, 0.09, 0.085], "train_loss": [0.3, 0.2, 0.1, 0.09]},
    )
    assert record["curves"]["val_loss"] == [0.2, 0.1, 0.09, 0.085]
    # per_epoch is 100 s / 50 epochs = 2 s; only metrics with a reference get a time
    assert record["time_to_reference"] == {"val_loss": {"epoch": 3, "seconds": 6.0}}
    assert results.time_to_reference([0.2, 0.1], 0.05, 2.0) == {"epoch": None, "seconds": None}
    with pytest.raises(ValueError):
        results.build("01_x", **GOOD, curves={"val_loss": [0.1, math.inf]})
