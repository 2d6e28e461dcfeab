"""Unit tests of aeutils.config: quick mode and where outputs may go."""

import numpy as np
import pytest

from aeutils import config


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_quick_on(monkeypatch, value):
    monkeypatch.setenv(config.QUICK_ENV, value)
    assert config.is_quick() and config.mode() == "quick"


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_quick_off(monkeypatch, value):
    monkeypatch.setenv(config.QUICK_ENV, value)
    assert not config.is_quick() and config.mode() == "full"


def test_quick_unset_is_full(monkeypatch):
    monkeypatch.delenv(config.QUICK_ENV, raising=False)
    assert config.mode() == "full"


def test_quick_typo_is_an_error(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "ture")
    with pytest.raises(ValueError, match="AEUTILS_QUICK"):
        config.is_quick()


def test_epochs_and_train_limit(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    assert config.epochs(50) == 50 and config.epochs(50, quick=7) == 50
    assert config.train_limit() is None
    monkeypatch.setenv(config.QUICK_ENV, "1")
    assert config.epochs(50) == 2 and config.epochs(1) == 1 and config.epochs(50, quick=7) == 7
    assert config.train_limit() == config.QUICK_TRAIN_LIMIT and config.train_limit(123) == 123
    assert 1000 <= config.QUICK_TRAIN_LIMIT <= 20000
    assert config.epochs(np.int64(50), quick=np.int64(3)) == 3  # NumPy ints as load_mnist takes


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: config.epochs(0), ValueError),
        (lambda: config.epochs(2.5), TypeError),
        (lambda: config.epochs("50"), TypeError),
        (lambda: config.epochs(50, quick=0), ValueError),
        (lambda: config.epochs(5, quick=10), ValueError),
        (lambda: config.train_limit(-1), ValueError),
        (lambda: config.train_limit(True), TypeError),
    ],
)
def test_bad_arguments(call, error):
    with pytest.raises(error):
        call()


def test_quick_mode_never_gives_an_output_folder(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    assert config.output_dir("results") is None
    assert config.output_dir("images") is None
    monkeypatch.setenv(config.RECORD_ENV, "1")
    with pytest.raises(ValueError, match="never record"):
        config.output_dir("results")


def test_full_mode_writes_only_when_recording(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.delenv(config.OUTPUT_ENV, raising=False)
    assert config.output_dir("results") is None and not (tmp_path / "results").exists()
    monkeypatch.setenv(config.RECORD_ENV, "1")
    assert config.output_dir("results") == tmp_path / "results"
    assert (tmp_path / "results").is_dir()
    with pytest.raises(ValueError, match="kind"):
        config.output_dir("notebooks")
    monkeypatch.setenv(config.RECORD_ENV, "yse")
    with pytest.raises(ValueError, match="AEUTILS_RECORD"):
        config.is_recording()


def test_repo_root_is_the_checkout():
    root = config.repo_root()
    assert (root / "notebooks").is_dir() and (root / "aeutils" / "config.py").is_file()


def test_output_dir_env_sends_recorded_outputs_elsewhere(monkeypatch, tmp_path):
    checkout = tmp_path / "checkout"
    monkeypatch.setattr(config, "repo_root", lambda: checkout)
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.setenv(config.RECORD_ENV, "1")
    monkeypatch.setenv(config.OUTPUT_ENV, str(tmp_path / "mine"))
    assert config.output_dir("images") == tmp_path / "mine" / "images"
    assert (tmp_path / "mine" / "images").is_dir() and not checkout.exists()
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setenv(config.OUTPUT_ENV, str(tmp_path / "a_file"))
    with pytest.raises(ValueError, match="is a file"):
        config.output_dir("results")


def test_outside_a_checkout_only_a_recording_run_needs_a_folder(monkeypatch, tmp_path):
    # aeutils as pip installs it from a wheel: no notebooks/ beside the package
    monkeypatch.setattr(
        config, "__file__", str(tmp_path / "site-packages" / "aeutils" / "config.py")
    )
    monkeypatch.delenv(config.OUTPUT_ENV, raising=False)
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    assert config.output_dir("images") is None  # full mode shows and checks, writes nothing
    monkeypatch.setenv(config.RECORD_ENV, "1")
    with pytest.raises(RuntimeError, match=config.OUTPUT_ENV):
        config.output_dir("images")
    monkeypatch.setenv(config.OUTPUT_ENV, str(tmp_path / "out"))
    assert config.output_dir("results") == tmp_path / "out" / "results"
