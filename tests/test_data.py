"""Unit tests of aeutils.data: where MNIST is found, and every way a file can be wrong."""

import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aeutils import compat, data

# Sums of all values in the real MNIST (see the data README that ships beside CI's copy).
REAL_SUMS = {"x_train": 1567298545, "y_train": 267236, "x_test": 264923200, "y_test": 44434}


def _fake_arrays():
    """Synthetic arrays with MNIST's layout and a plausible ink density (not real MNIST)."""
    rng = np.random.default_rng(0)

    def images(n):
        return np.where(rng.random((n, 28, 28)) < 0.13, 255, 0).astype(np.uint8)

    def labels(n):
        return (np.arange(n) % 10).astype(np.uint8)

    return {
        "x_train": images(data.N_TRAIN),
        "y_train": labels(data.N_TRAIN),
        "x_test": images(data.N_TEST),
        "y_test": labels(data.N_TEST),
    }


@pytest.fixture(scope="module")
def fake_arrays():
    return _fake_arrays()


@pytest.fixture(scope="module")
def fake_file(tmp_path_factory, fake_arrays):
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, **fake_arrays)
    return path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No AEUTILS_DATA_DIR, and a Keras home without any cached file."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def _write(tmp_path, arrays, name="mnist.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


# --- the real file, where this machine has it ------------------------------------------------


def _real_file():
    candidates = []
    if os.environ.get(data.DATA_DIR_ENV):
        candidates.append(Path(os.environ[data.DATA_DIR_ENV]) / "mnist.npz")
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz")
    return next((p for p in candidates if p.is_file()), None)


@pytest.mark.skipif(_real_file() is None, reason="no local copy of MNIST")
def test_real_mnist_is_exactly_mnist():
    raw = data.read_npz(_real_file())
    assert {k: int(v.sum()) for k, v in raw.items()} == REAL_SUMS
    assert raw["y_train"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    (x_train, y_train), (x_test, y_test) = data.load_mnist(_real_file())
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.float32 and x_train.min() == 0.0 and x_train.max() == 1.0
    assert abs(float(x_train.mean()) - 0.130660) < 1e-5
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


# --- where the data comes from ----------------------------------------------------------------


def test_explicit_path_file_or_folder(clean_env, fake_file):
    assert data.find_mnist(fake_file) == fake_file
    assert data.find_mnist(fake_file.parent) == fake_file


def test_explicit_path_wins_over_environment(clean_env, monkeypatch, fake_file, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert data.find_mnist(fake_file) == fake_file


def test_environment_variable_folder(clean_env, monkeypatch, fake_file):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(fake_file.parent))
    assert data.find_mnist() == fake_file


def test_keras_cache_is_used(clean_env, fake_arrays):
    cache = data.keras_cache_path()
    assert cache == clean_env / "keras_home" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    np.savez(cache, **fake_arrays)
    assert data.find_mnist() == cache
    (x_train, _), _ = data.load_mnist(train_limit=3)
    assert x_train.shape == (3, 28, 28)


def test_missing_explicit_path(clean_env, tmp_path):
    with pytest.raises(data.MNISTNotFoundError, match="no such file"):
        data.load_mnist(tmp_path / "nope.npz")


def test_environment_variable_without_file_is_an_error(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(data.MNISTNotFoundError, match=data.DATA_DIR_ENV) as info:
        data.load_mnist()
    assert str(tmp_path / "mnist.npz") in str(info.value)


def test_offline_without_file_says_where_to_put_it(clean_env, monkeypatch):
    import keras

    def no_network():
        raise Exception("URL fetch failure on https://...: None -- [Errno -3] name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(data.MNISTNotFoundError) as info:
        data.load_mnist()
    message = str(info.value)
    assert "could not download" in message
    assert data.DATA_DIR_ENV in message
    assert str(data.keras_cache_path()) in message
    assert isinstance(info.value, FileNotFoundError)


def test_download_result_is_validated(clean_env, monkeypatch, fake_arrays):
    import keras

    bad = dict(fake_arrays, x_test=fake_arrays["x_test"][:5])
    monkeypatch.setattr(
        keras.datasets.mnist,
        "load_data",
        lambda: ((bad["x_train"], bad["y_train"]), (bad["x_test"], bad["y_test"])),
    )
    with pytest.raises(data.MNISTFileError, match="Keras's download"):
        data.load_mnist()


# --- what load_mnist returns --------------------------------------------------------------------


def test_shapes_dtypes_ranges_and_limits(clean_env, fake_file, fake_arrays):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(fake_file, flatten=True, train_limit=100)
    assert x_train.shape == (100, 784) and y_train.shape == (100,)
    assert x_test.shape == (10000, 784) and y_test.shape == (10000,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    np.testing.assert_array_equal(x_train * 255, fake_arrays["x_train"][:100].reshape(100, -1))
    (_, _), (x_test, _) = data.load_mnist(fake_file, test_limit=7)
    assert x_test.shape == (7, 28, 28)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"train_limit": 0}, ValueError),
        ({"train_limit": 60001}, ValueError),
        ({"test_limit": 10001}, ValueError),
        ({"train_limit": 1.5}, TypeError),
        ({"train_limit": True}, TypeError),
        ({"flatten": "yes"}, TypeError),
    ],
)
def test_bad_arguments(clean_env, fake_file, kwargs, error):
    with pytest.raises(error):
        data.load_mnist(fake_file, **kwargs)


# --- corrupt or wrong files ---------------------------------------------------------------------


def test_garbage_file(clean_env, tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"this is not a zip archive" * 100)
    with pytest.raises(data.MNISTFileError, match="not a NumPy .npz") as info:
        data.load_mnist(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"<!DOCTYPE html><html><body>Proxy error</body></html>", "web page"),
        (b"", "empty"),
    ],
)
def test_a_saved_web_page_or_an_empty_file_is_named_as_such(clean_env, tmp_path, content, message):
    path = tmp_path / "mnist.npz"
    path.write_bytes(content)
    with pytest.raises(data.MNISTFileError, match=message):
        data.load_mnist(path)


def test_a_single_npy_array_is_named_as_such(clean_env, tmp_path):
    path = tmp_path / "mnist.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(data.MNISTFileError, match=r"\.npy"):
        data.load_mnist(path)


def test_an_unreadable_file_is_not_called_corrupt(clean_env, tmp_path, fake_file, monkeypatch):
    import builtins

    real_open = builtins.open

    def denied(file, *args, **kwargs):
        if str(file) == str(fake_file):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(data.MNISTFileError, match="permission denied") as info:
        data.read_npz(fake_file)
    assert "delete" not in str(info.value).split("rather than")[0]


def test_a_folder_named_mnist_npz(clean_env, tmp_path):
    folder = tmp_path / "mnist.npz"
    (folder / "mnist.npz").mkdir(parents=True)
    with pytest.raises(data.MNISTFileError, match="is a folder, not a file"):
        data.read_npz(folder / "mnist.npz")


def test_a_broken_deflate_stream_is_named(clean_env, tmp_path, fake_arrays):
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, **{k: v[:10] for k, v in fake_arrays.items()})
    raw = bytearray(path.read_bytes())
    start = raw.index(b"x_train.npy") + 200
    raw[start : start + 400] = bytes(400)  # zero out part of the compressed stream
    path.write_bytes(bytes(raw))
    with pytest.raises(data.MNISTFileError, match=str(path)):
        data.read_npz(path)


def test_empty_path_is_named(clean_env):
    with pytest.raises(data.MNISTNotFoundError, match="path=''"):
        data.load_mnist(path="")


def test_the_download_has_a_timeout(clean_env, monkeypatch):
    import socket

    import keras

    seen = []

    def stalled():
        seen.append(socket.getdefaulttimeout())
        raise TimeoutError("timed out")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", stalled)
    before = socket.getdefaulttimeout()
    with pytest.raises(data.MNISTNotFoundError, match="silent for"):
        data.load_mnist()
    assert seen == [data.DOWNLOAD_TIMEOUT] and socket.getdefaulttimeout() == before


def test_numpy_integers_are_accepted_as_limits(clean_env, fake_file):
    (x_train, _), _ = data.load_mnist(fake_file, train_limit=np.int64(5))
    assert len(x_train) == 5


def test_truncated_file(clean_env, tmp_path, fake_file):
    path = tmp_path / "mnist.npz"
    path.write_bytes(fake_file.read_bytes()[: fake_file.stat().st_size // 2])
    with pytest.raises(data.MNISTFileError, match=str(path)):
        data.load_mnist(path)


def test_zip_with_a_broken_member(clean_env, tmp_path):
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in data.KEYS:
            archive.writestr(f"{key}.npy", b"\x93NUMPY garbage")
    with pytest.raises(data.MNISTFileError, match=str(path)):
        data.load_mnist(path)


def test_pickled_arrays_are_refused(clean_env, tmp_path, fake_arrays):
    arrays = dict(fake_arrays, y_test=np.array([object()] * data.N_TEST, dtype=object))
    path = _write(tmp_path, arrays)
    with pytest.raises(data.MNISTFileError, match="pickle"):
        data.load_mnist(path)


def test_wrong_keys(clean_env, tmp_path, fake_arrays):
    arrays = {("x_tr" if k == "x_train" else k): v for k, v in fake_arrays.items()}
    with pytest.raises(data.MNISTFileError, match=r"lacks the key\(s\) \['x_train'\]"):
        data.load_mnist(_write(tmp_path, arrays))


@pytest.mark.parametrize(
    "key, change, message",
    [
        ("x_train", lambda a: a[:1000], r"x_train has shape \(1000, 28, 28\)"),
        ("x_test", lambda a: a.reshape(10000, 784), r"x_test has shape \(10000, 784\)"),
        ("y_train", lambda a: a[:, None], r"y_train has shape"),
        ("x_train", lambda a: a.astype(np.float32) / 255, "dtype float32, expected uint8"),
        ("y_test", lambda a: a.astype(np.float64), "expected integer labels"),
        ("y_train", lambda a: a + 1, "labels from 1 to 10"),
        ("y_test", lambda a: np.zeros_like(a), "all ten digits"),
    ],
)
def test_wrong_shapes_dtypes_and_labels(clean_env, tmp_path, fake_arrays, key, change, message):
    arrays = dict(fake_arrays, **{key: change(fake_arrays[key])})
    with pytest.raises(data.MNISTFileError, match=message) as info:
        data.load_mnist(_write(tmp_path, arrays))
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("fill", ["random", "zeros"])
def test_data_that_is_not_mnist_is_refused(clean_env, tmp_path, fake_arrays, fill):
    rng = np.random.default_rng(1)
    shape = fake_arrays["x_train"].shape
    if fill == "random":
        fake = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        fake = np.zeros(shape, np.uint8)
    with pytest.raises(data.MNISTFileError, match="does not look like MNIST"):
        data.load_mnist(_write(tmp_path, dict(fake_arrays, x_train=fake)))


# --- things at MNIST's places that are not regular files, and folders that cannot be entered ---


def _without_hanging(call, fifo, timeout=30.0):
    """Run ``call()`` in a thread; if it blocks on ``fifo``, unblock it and fail, never hang."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as err:  # handed back to the test below
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        try:  # opening the write end and closing it gives a blocked reader an end of file
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        thread.join(5)
        pytest.fail(f"the call blocked for {timeout} s on the named pipe {fifo}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def keras_must_not_be_called(monkeypatch):
    """Replace Keras's MNIST loader: a call means a file was handed to Keras (or a download)."""
    import keras

    calls = []

    def load_data(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("keras.datasets.mnist.load_data was called")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", load_data)
    return calls


def test_read_npz_refuses_a_named_pipe_without_opening_it(clean_env, tmp_path):
    fifo = tmp_path / "mnist.npz"
    os.mkfifo(fifo)
    with pytest.raises(data.MNISTFileError, match="named pipe") as info:
        _without_hanging(lambda: data.read_npz(fifo), fifo)
    assert str(fifo) in str(info.value)


@pytest.mark.parametrize("where", ["path", "environment", "keras cache"])
def test_load_mnist_refuses_a_named_pipe_and_never_hands_it_to_keras(
    clean_env, monkeypatch, keras_must_not_be_called, where
):
    if where == "keras cache":
        fifo = data.keras_cache_path()
        fifo.parent.mkdir(parents=True)
    else:
        fifo = clean_env / "data" / "mnist.npz"
        fifo.parent.mkdir()
    os.mkfifo(fifo)
    if where == "environment":
        monkeypatch.setenv(data.DATA_DIR_ENV, str(fifo.parent))
    path = fifo if where == "path" else None
    with pytest.raises(data.MNISTFileError, match="not a regular file") as info:
        _without_hanging(lambda: data.load_mnist(path), fifo)
    assert str(fifo) in str(info.value)
    assert keras_must_not_be_called == []


def test_the_download_refuses_a_named_pipe_where_keras_looks(
    clean_env, monkeypatch, keras_must_not_be_called
):
    # Keras reads KERAS_HOME when it is imported: its cache can differ from keras_cache_path()
    fifo = clean_env / "keras_imported_home" / "datasets" / "mnist.npz"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    monkeypatch.setattr(data, "_keras_target", lambda: fifo)
    assert data.find_mnist() is None
    with pytest.raises(data.MNISTFileError, match="named pipe") as info:
        _without_hanging(data.load_mnist, fifo)
    assert str(fifo) in str(info.value)
    assert keras_must_not_be_called == []


def test_a_data_dir_that_cannot_be_entered_is_named(clean_env, monkeypatch, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    real_stat = os.stat

    def stat(path, *args, **kwargs):  # as for a folder without x permission (tests run as root)
        if isinstance(path, (str, os.PathLike)) and os.fspath(path).startswith(f"{folder}{os.sep}"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(PermissionError, match=data.DATA_DIR_ENV) as info:
        data.load_mnist()
    assert isinstance(info.value, data.MNISTPermissionError)
    assert str(folder) in str(info.value) and "permission denied" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root enters every folder")
def test_a_data_dir_without_permissions_is_named(clean_env, monkeypatch, tmp_path, fake_file):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(fake_file.read_bytes())
    folder.chmod(0)
    try:
        monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
        with pytest.raises(data.MNISTPermissionError, match=data.DATA_DIR_ENV) as info:
            data.load_mnist()
        assert str(folder) in str(info.value)
    finally:
        folder.chmod(0o700)


def test_load_mnist_turns_off_tf_datas_autotuner(monkeypatch, fake_file):
    calls = []
    monkeypatch.setattr(compat, "tf_data_without_autotune", lambda: calls.append(1) or True)
    data.load_mnist(fake_file)
    assert calls == [1]
