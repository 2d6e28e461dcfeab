"""Unit tests of aeutils.results (the record call and its file format), aeutils.references and
aeutils._files (atomic writes, safe reads)."""

import json
import math
import os

import pytest

from aeutils import _files, config, environment, references, results

GOOD = {
    "metrics": {"val_loss": 0.092, "train_loss": 0.091},
    "references": {"val_loss": {"value": 0.09, "source": "the Keras blog"}},
    "epochs": 4,
}


@pytest.fixture
def full_mode(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.setenv(config.RECORD_ENV, "1")
    monkeypatch.delenv(config.OUTPUT_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    return tmp_path


def test_record_in_a_recording_run(full_mode, capsys):
    rec = results.record("01_undercomplete_autoencoder", **GOOD)
    path = full_mode / "results" / "01_undercomplete_autoencoder.json"
    assert json.loads(path.read_text()) == rec
    assert rec["notebook"] == "01_undercomplete_autoencoder" and rec["mode"] == "full"
    assert rec["metrics"] == GOOD["metrics"] and rec["epochs"] == 4
    assert rec["references"] == GOOD["references"] and "seconds" not in rec
    env = rec["environment"]
    assert set(env) == {"python", "keras", "backend", "backend_version", "numpy", "device"}
    assert env["keras"].startswith("3.") and env["device"]
    assert results.read("01_undercomplete_autoencoder") == rec
    shown = capsys.readouterr().out
    assert (
        "recorded as results/01_undercomplete_autoencoder.json" in shown
        and "val_loss: 0.092" in shown
        and "not reached" in shown
    )


def test_quick_mode_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    assert results.record("01_undercomplete_autoencoder", **GOOD)["mode"] == "quick"
    assert not (tmp_path / "results").exists()
    assert "shown only" in capsys.readouterr().out


def test_full_mode_without_recording_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    assert results.record("01_undercomplete_autoencoder", **GOOD)["mode"] == "full"
    assert not (tmp_path / "results").exists()
    assert "never changes results/" in capsys.readouterr().out


def test_the_record_call_takes_no_timings():
    """Lessons carry no bookkeeping: the runner times notebooks and cells."""
    for name in ("seconds", "epoch_seconds"):
        with pytest.raises(TypeError):
            results.build("01_x", **GOOD, **{name: {"train": 1.0, "total": 2.0}})


def test_an_interrupted_write_leaves_the_old_file_whole(full_mode, monkeypatch):
    results.record("01_undercomplete_autoencoder", **GOOD)
    path = full_mode / "results" / "01_undercomplete_autoencoder.json"
    before = path.read_text()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files.os, "replace", full_disk)
    with pytest.raises(OSError, match="space"):
        results.record("01_undercomplete_autoencoder", **{**GOOD, "epochs": 7})
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_killed_write_leaves_no_temporary_file_after_the_next_one(tmp_path):
    """Defect 4: a SIGKILL mid-write leaves `.name.XXXX.tmp`; the next write removes it."""
    path = tmp_path / "01_x.json"
    leftover = tmp_path / ".01_x.json.abc123.tmp"
    leftover.write_text('{"half')
    other = tmp_path / ".02_y.json.abc123.tmp"  # another file's write, maybe running now
    other.write_text("")
    _files.atomic_write_text(path, "{}")
    assert not leftover.exists() and other.exists() and path.read_text() == "{}"


def test_a_rewritten_file_keeps_its_permissions_and_a_new_one_gets_the_usual(tmp_path):
    old = tmp_path / "old.json"
    old.write_text("{}")
    old.chmod(0o640)
    _files.atomic_write_text(old, "[]")
    assert old.read_text() == "[]" and old.stat().st_mode & 0o777 == 0o640
    new = tmp_path / "new.json"
    _files.atomic_write_text(new, "[]")
    reference = tmp_path / "plain.json"
    reference.write_text("[]")
    assert new.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


@pytest.mark.parametrize(
    "content, match",
    [
        (b'{"notebook": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[]", "not a valid results file"),
        (b"null", "not a valid results file"),
        (b'{"notebook": "01_x", "metrics": {"a": "0.1"}}', "not a valid results file"),
        (b'{"notebook": "02_y", "metrics": {"a": 0.1}}', "names notebook '02_y'"),
    ],
)
def test_read_names_a_malformed_file(full_mode, content, match):
    (full_mode / "results").mkdir()
    (full_mode / "results" / "01_x.json").write_bytes(content)
    with pytest.raises(ValueError, match=match) as err:
        results.read("01_x")
    assert "01_x.json" in str(err.value)


def test_read_refuses_a_pipe_instead_of_hanging(full_mode):
    (full_mode / "results").mkdir()
    os.mkfifo(full_mode / "results" / "01_x.json")
    with pytest.raises(ValueError, match="not a regular file"):
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
    assert references.reaches(value, {**reference, "source": "s"}) is expected


@pytest.mark.parametrize("flag", ["no", "yes", 1, 0, None])
def test_reaches_refuses_a_higher_is_better_that_is_not_a_bool(flag):
    """Defect 9: the string "no" used to count as true."""
    with pytest.raises(TypeError, match="higher_is_better"):
        references.reaches(0.5, {"value": 0.9, "source": "s", "higher_is_better": flag})


def test_a_reference_measured_another_way_is_context_and_never_reached():
    ref = {"value": 0.9, "source": "s", "higher_is_better": True, "differs": "other split"}
    assert references.is_context(ref)
    assert not references.is_context({"value": 0.9, "source": "s"})
    with pytest.raises(ValueError, match="other split"):
        references.reaches(0.99, ref)
    assert references.first_epoch_reaching([0.5, 0.95], ref) is None
    assert references.describe(0.99, ref) == "context (different protocol: other split)"
    assert references.describe(0.99, {"value": 0.9, "source": "s"}) == "not reached"


@pytest.mark.parametrize("differs", ["", "  ", 3, None])
def test_differs_must_say_what_differs(differs):
    with pytest.raises(ValueError, match="differs"):
        references.check({"value": 0.9, "source": "s", "differs": differs})


def test_first_epoch_reaching():
    ref = {"value": 0.9, "source": "s", "higher_is_better": True}
    assert references.first_epoch_reaching([0.5, 0.8, 0.95], ref) == 3
    assert references.first_epoch_reaching([0.5, 0.8], ref) is None


@pytest.mark.parametrize(
    "change, error",
    [
        ({"metrics": {"val_loss": math.nan}}, ValueError),
        ({"metrics": {"val_loss": "0.09"}}, TypeError),
        ({"metrics": {}}, TypeError),
        ({"metrics": {"nested": {"a": 1}}}, TypeError),
        ({"epochs": 0}, ValueError),
        ({"references": {"val_loss": {"value": 0.09}}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09, "source": " "}}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09, "source": "s", "x": 1}}}, ValueError),
        ({"references": {"val_loss": {"value": 0.09, "source": "s", "decimals": -1}}}, ValueError),
        (
            {"references": {"val_loss": {"value": 1, "source": "s", "higher_is_better": 1}}},
            TypeError,
        ),
        # defect 9: a reference to a metric that was never measured
        ({"references": {"psnr": {"value": 20, "source": "s"}}}, ValueError),
        # defect 9: a curve longer than the epochs, or logged every second epoch
        ({"curves": {"val_loss": [0.3, 0.2, 0.1, 0.09, 0.08]}}, ValueError),
        ({"curves": {"val_loss": [0.3, 0.1]}}, ValueError),
        ({"curves": {"val_loss": "0.3"}}, TypeError),
        ({"curves": {"val_loss": [0.2, 0.1, 0.09, math.inf]}}, ValueError),
    ],
)
def test_bad_records(full_mode, change, error):
    with pytest.raises(error):
        results.record("01_undercomplete_autoencoder", **{**GOOD, **change})
    assert not (full_mode / "results" / "01_undercomplete_autoencoder.json").exists()


@pytest.mark.parametrize("name", ["undercomplete", "1_x", "01_X", "01_x.json", "../01_x"])
def test_bad_notebook_name(full_mode, name):
    with pytest.raises(ValueError, match="notebook"):
        results.record(name, **GOOD)


def test_save_refuses_a_record_whose_name_is_a_path(full_mode):
    """Defect 1: save() used to write '../../victim' as results/../../victim.json."""
    rec = results.build("01_x", **GOOD)
    rec["notebook"] = "../../victim"
    with pytest.raises(ValueError, match="notebook"):
        results.save(rec, full_mode / "results")
    assert not (full_mode.parent / "victim.json").exists()
    assert not list(full_mode.rglob("*.json"))


def test_read_missing(full_mode):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        results.read("99_nothing")


def test_curves_and_the_epoch_that_reached_a_reference(full_mode):
    rec = results.record(
        "01_undercomplete_autoencoder",
        **GOOD,
        curves={"val_loss": [0.2, 0.1, 0.09, 0.085], "train_loss": [0.3, 0.2, 0.1, 0.09]},
    )
    assert rec["curves"]["val_loss"] == [0.2, 0.1, 0.09, 0.085]
    assert rec["reached_at_epoch"] == {"val_loss": 3}  # only metrics with a reference


def test_the_device_is_asked_of_the_backend_in_use(monkeypatch):
    """The device used to be asked of TensorFlow only, so a JAX or PyTorch GPU run said CPU."""
    asked = []
    monkeypatch.setattr(environment, "_gpus", lambda b: asked.append(b) or ["Fake GPU"])
    assert environment.device("jax") == "GPU: Fake GPU" and asked == ["jax"]
    monkeypatch.setattr(environment, "_gpus", lambda b: [])
    assert environment.device("torch").startswith("CPU: ")


@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            {"model name": "AMD EPYC", "flags": "fpu sse2 avx fma avx2"},
            "AMD EPYC ({n} cores, AVX2)",
        ),
        ({"model name": "Xeon", "flags": "avx avx2 avx512f avx512bw"}, "Xeon ({n} cores, AVX-512)"),
        ({"Features": "fp asimd sve"}, "{machine} ({n} cores, SVE)"),
        ({"model name": "Old CPU", "flags": "fpu sse2"}, "Old CPU ({n} cores)"),
    ],
)
def test_a_cpu_is_recorded_with_its_widest_vector_extension(monkeypatch, fields, expected):
    """Hosts that report the same bare model name ("AMD EPYC") can be different CPUs."""
    monkeypatch.setattr(environment, "_cpuinfo", lambda: fields)
    monkeypatch.setattr(environment.platform, "processor", lambda: "")
    monkeypatch.setattr(environment, "_gpus", lambda b: [])
    machine = environment.platform.machine()
    assert environment.device("torch") == "CPU: " + expected.format(
        n=os.cpu_count(), machine=machine
    )


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
