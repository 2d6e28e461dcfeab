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
    monkeypatch.setenv(config.RECORD_ENV, "1")
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


def test_quick_mode_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    record = results.write("01_undercomplete_autoencoder", **GOOD)
    assert record["mode"] == "quick"
    assert not (tmp_path / "results").exists()
    assert "not recorded" in capsys.readouterr().out


def test_full_mode_without_recording_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    assert results.write("01_undercomplete_autoencoder", **GOOD)["mode"] == "full"
    assert not (tmp_path / "results").exists()
    assert "aeutils.tools.reproduce --only 01" in capsys.readouterr().out


def test_an_interrupted_write_leaves_the_old_file_whole(full_mode, monkeypatch):
    results.write("01_undercomplete_autoencoder", **GOOD)
    path = full_mode / "results" / "01_undercomplete_autoencoder.json"
    before = path.read_text()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results.os, "replace", full_disk)
    with pytest.raises(OSError, match="space"):
        results.write("01_undercomplete_autoencoder", **{**GOOD, "epochs": 7})
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_rewritten_file_keeps_its_permissions_and_a_new_one_gets_the_usual(tmp_path):
    old = tmp_path / "old.json"
    old.write_text("{}")
    old.chmod(0o640)
    results.atomic_write_text(old, "[]")
    assert old.read_text() == "[]" and old.stat().st_mode & 0o777 == 0o640
    new = tmp_path / "new.json"
    results.atomic_write_text(new, "[]")
    reference = tmp_path / "plain.json"
    reference.write_text("[]")
    assert new.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_read_names_a_malformed_file(full_mode):
    (full_mode / "results").mkdir()
    (full_mode / "results" / "01_x.json").write_text('{"notebook": ')
    with pytest.raises(ValueError, match="01_x.json"):
        results.read("01_x")


@pytest.mark.parametrize(
    "value, reference, expected",
    [
        (0.0916, {"value": 0.09, "decimals": 2}, True),  # "about 0.09": rounds to 0.09
        (0.0951, {"value": 0.09, "decimals": 2}, False),
        (0.0916, {"value": 0.09}, False),  # no decimals given: compared exactly
        (0.0832, {"value": 0.08, "decimals": 2}, True),
        (0.0942, {"value": 0.094, "decimals": 3}, True),
        (0.0946, {"value": 0.094, "decimals": 3}, False),
        (20.1, {"value": 20.0, "higher_is_better": True}, True),
        (19.9, {"value": 20.0, "higher_is_better": True}, False),
    ],
)
def test_reaches(value, reference, expected):
    assert results.reaches(value, {**reference, "source": "s"}) is expected


def test_time_to_reference_higher_is_better():
    ref = {"value": 0.9, "source": "s", "higher_is_better": True}
    assert results.time_to_reference([0.5, 0.8, 0.95], ref, [2.0] * 3) == {
        "epoch": 3,
        "seconds": 6.0,
    }


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
        ({"references": {"val_loss": {"value": 0.09, "source": "s", "x": 1}}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09, "source": "s", "decimals": -1}}}, ValueError),
        (
            {"references": {"val_loss": {"value": 1, "source": "s", "higher_is_better": 1}}},
            TypeError,
        ),
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
    never = results.time_to_reference([0.2, 0.1], {"value": 0.05, "source": "s"}, [2.0, 2.0])
    assert never == {"epoch": None, "seconds": None}
    with pytest.raises(ValueError):
        results.build("01_x", **GOOD, curves={"val_loss": [0.1, math.inf]})


def test_measured_epoch_times_give_the_time_to_reference(full_mode):
    record = results.build(
        "01_x",
        **{**GOOD, "epochs": 3},
        curves={"val_loss": [0.2, 0.1, 0.09]},
        epoch_seconds=[10.0, 1.0, 1.0],
    )
    assert record["time_to_reference"] == {"val_loss": {"epoch": 3, "seconds": 12.0}}
    with pytest.raises(ValueError, match="epoch_seconds"):
        results.build("01_x", **GOOD, epoch_seconds=[1.0, 2.0])


def test_epoch_timer_measures_each_epoch():
    import keras
    import numpy as np

    from aeutils import callbacks

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    timer = callbacks.EpochTimer()
    model.fit(np.zeros((8, 3)), np.zeros((8, 1)), epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and all(s > 0 for s in timer.seconds)
    assert timer.total == pytest.approx(sum(timer.seconds))
