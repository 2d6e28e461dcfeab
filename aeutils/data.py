"""Loading MNIST: from a file you have, from Keras's cache, or by Keras's download.

Introduced in notebook 01.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import _checks, compat

DATA_DIR_ENV = "AEUTILS_DATA_DIR"
"""Environment variable naming a folder that holds ``mnist.npz`` (for offline use)."""

FILENAME = "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
N_TRAIN, N_TEST = 60_000, 10_000
IMAGE_SHAPE = (28, 28)

# The mean of x_train / 255 over the real MNIST is 0.1307; anything far from it is not MNIST
# (a random array has a mean near 0.5, an all-zero placeholder 0).
_PLAUSIBLE_MEAN = (0.10, 0.16)

DOWNLOAD_TIMEOUT = 60
"""Seconds a stalled connection may stay silent before Keras's download gives up."""


class MNISTNotFoundError(FileNotFoundError):
    """No MNIST file was found and Keras could not download it."""


class MNISTFileError(ValueError):
    """A file was found but it is not a readable, valid MNIST ``mnist.npz``."""


class MNISTPermissionError(PermissionError):
    """A folder on the way to ``mnist.npz`` cannot be entered (permission denied)."""


def _mode(path: Path, where: str) -> int | None:
    """``os.stat(path).st_mode`` (links followed), or None when nothing is there.

    A folder on the way that cannot be entered becomes MNISTPermissionError naming ``where``
    (e.g. the environment variable that pointed there) and the folder.
    """
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as err:
        raise MNISTPermissionError(
            f"{where}, but {str(path)!r} cannot be reached: permission denied, the folder "
            f"{str(path.parent)!r} (or one above it) cannot be entered or read. Give yourself "
            f"access (e.g. chmod u+rx {str(path.parent)!r}) or use another folder."
        ) from err


def _refuse_non_regular(path: Path, mode: int) -> None:
    """Raise MNISTFileError naming ``path`` unless ``mode`` is a regular file's.

    A named pipe (FIFO), a device or a socket is never opened: reading one can block forever
    (a FIFO without a writer) or never end, in NumPy or in Keras's hash check.
    """
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise MNISTFileError(f"{path} is a folder, not a file: it should be MNIST's {FILENAME}.")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    raise MNISTFileError(
        f"{path} is {kind}, not a regular file: it is not read, since reading it could block "
        f"forever. Remove it and put MNIST's {FILENAME} (a regular file) there."
    )


def keras_cache_path() -> Path:
    """Keras's download cache: ``$KERAS_HOME/datasets/mnist.npz``, else ``~/.keras/...``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / FILENAME


def find_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """Return the ``mnist.npz`` that ``load_mnist`` would read, or None if it would download.

    The order: an explicit ``path``; ``$AEUTILS_DATA_DIR/mnist.npz``; Keras's cache.
    An explicit ``path`` or a set ``AEUTILS_DATA_DIR`` that does not hold the file is an
    error (MNISTNotFoundError), not a reason to fall back to something else. Something there
    that is not a regular file (a folder, a named pipe, a device) is MNISTFileError, and a
    folder on the way that cannot be entered is MNISTPermissionError; neither is ever opened
    or handed to Keras.
    """
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
        if not str(path).strip():
            raise MNISTNotFoundError(
                "path='' was given: pass the path of mnist.npz (or of its folder), or leave "
                "path out to use $AEUTILS_DATA_DIR, Keras's cache or Keras's download"
            )
        path = Path(path).expanduser()
        where = f"path={str(path)!r} was given"
        mode = _mode(path, where)
        if mode is not None and stat.S_ISDIR(mode):
            path = path / FILENAME
            mode = _mode(path, where)
        if mode is None:
            raise MNISTNotFoundError(f"path={str(path)!r} was given but there is no such file.")
        _refuse_non_regular(path, mode)
        return path
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        candidate = Path(data_dir).expanduser() / FILENAME
        mode = _mode(candidate, f"{DATA_DIR_ENV} is set to {data_dir!r}")
        if mode is None:
            raise MNISTNotFoundError(
                f"{DATA_DIR_ENV} is set to {data_dir!r}, but {str(candidate)!r} does not exist. "
                f"Put MNIST's {FILENAME} there, or unset {DATA_DIR_ENV} to let Keras download it."
            )
        _refuse_non_regular(candidate, mode)
        return candidate
    cached = keras_cache_path()
    mode = _mode(cached, "Keras's cache is searched")
    if mode is None:
        return None
    _refuse_non_regular(cached, mode)
    return cached


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the four MNIST arrays from an ``.npz`` file (no pickles) and validate them.

    Returns a dict with ``x_train`` (60000, 28, 28), ``y_train`` (60000,), ``x_test``
    (10000, 28, 28), ``y_test`` (10000,), all uint8 as stored. Raises MNISTFileError, naming
    the file, when it cannot be read or its contents are not MNIST.
    """
    path = Path(path)
    _check_readable_npz(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise MNISTFileError(
                    f"{path} is not an MNIST file: it lacks the key(s) {missing} "
                    f"(it has {sorted(npz.files)}; expected {list(KEYS)})."
                )
            arrays = {k: npz[k] for k in KEYS}
    except MNISTFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, zlib.error) as err:
        raise MNISTFileError(
            f"Could not read {path} as a NumPy .npz file ({type(err).__name__}: {err}). "
            "The file is corrupt or truncated: delete it and download it again."
        ) from err
    validate_mnist(arrays, source=str(path))
    return arrays


def _check_readable_npz(path: Path) -> None:
    """Tell apart the ways a file can fail to be an .npz before NumPy tries to read it.

    Only a regular file is opened: a folder, a named pipe (which would block forever) or a
    device is refused from its ``os.stat`` alone.
    """
    denied = (
        f"{path} cannot be read: permission denied. The file itself may be fine; give "
        "yourself read access (e.g. chmod u+r) rather than deleting it."
    )
    try:
        mode = os.stat(path).st_mode
    except PermissionError as err:
        raise MNISTFileError(denied) from err
    except OSError as err:
        raise MNISTFileError(f"{path} cannot be read ({type(err).__name__}: {err}).") from err
    _refuse_non_regular(path, mode)
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except PermissionError as err:
        raise MNISTFileError(denied) from err
    except OSError as err:
        raise MNISTFileError(f"{path} cannot be read ({type(err).__name__}: {err}).") from err
    if head.startswith(b"PK"):
        return  # a zip archive, as an .npz is; np.load checks the rest
    if head.startswith(b"\x93NUMPY"):
        raise MNISTFileError(
            f"{path} is a single NumPy array (.npy), not an .npz archive holding "
            f"{list(KEYS)}: it was saved with np.save instead of np.savez."
        )
    if head.lstrip().startswith(b"<"):  # <!DOCTYPE html>, <html>, <?xml ...>
        raise MNISTFileError(
            f"{path} is a web page, not MNIST: a download saved an HTML page (a proxy's or a "
            "server's error page) under this name. Delete it and download the data again."
        )
    if not head:
        raise MNISTFileError(f"{path} is empty: delete it and download the data again.")
    raise MNISTFileError(
        f"{path} is not a NumPy .npz (zip) file: it starts with {head[:8]!r}. Delete it and "
        "download the data again."
    )


def validate_mnist(arrays: dict, source: str = "the arrays") -> None:
    """Check that ``arrays`` holds the real MNIST layout; raise MNISTFileError saying what is wrong.

    Checks: the four keys; shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,);
    dtype uint8 for the images and an integer dtype for the labels; labels in 0..9 with every
    digit present; a mean pixel intensity in the range of real MNIST (about 0.13 of 255).
    """
    expected = {
        "x_train": (N_TRAIN, *IMAGE_SHAPE),
        "y_train": (N_TRAIN,),
        "x_test": (N_TEST, *IMAGE_SHAPE),
        "y_test": (N_TEST,),
    }
    for key, shape in expected.items():
        if key not in arrays:
            raise MNISTFileError(f"{source}: missing key {key!r} (expected {list(KEYS)}).")
        array = arrays[key]
        if not isinstance(array, np.ndarray):
            raise MNISTFileError(f"{source}: {key} is a {type(array).__name__}, not a NumPy array.")
        if array.shape != shape:
            raise MNISTFileError(f"{source}: {key} has shape {array.shape}, expected {shape}.")
        if key.startswith("x") and array.dtype != np.uint8:
            raise MNISTFileError(
                f"{source}: {key} has dtype {array.dtype}, expected uint8 pixels in 0..255."
            )
        if key.startswith("y"):
            if not np.issubdtype(array.dtype, np.integer):
                raise MNISTFileError(
                    f"{source}: {key} has dtype {array.dtype}, expected integer labels."
                )
            if array.min() < 0 or array.max() > 9:
                raise MNISTFileError(
                    f"{source}: {key} holds labels from {array.min()} to {array.max()}, "
                    "expected 0..9."
                )
            if len(np.unique(array)) != 10:
                raise MNISTFileError(f"{source}: {key} does not contain all ten digits.")
    for key in ("x_train", "x_test"):
        mean = float(arrays[key].mean()) / 255.0
        low, high = _PLAUSIBLE_MEAN
        if not low <= mean <= high:
            raise MNISTFileError(
                f"{source}: {key} does not look like MNIST: its mean intensity is {mean:.3f} "
                f"of full scale, real MNIST's is about 0.13."
            )


def _keras_target() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` will look for its cached file.

    Keras reads ``KERAS_HOME`` once, when it is imported, and falls back to
    ``/tmp/.keras`` when its folder is not writable; ``keras_cache_path`` reads the variable
    now. They differ when ``KERAS_HOME`` changed after ``import keras``.
    """
    try:
        from keras.src.backend.config import keras_home  # private: may move in later versions
    except Exception:  # moved, or Keras itself fails to import (_download then says so)
        return keras_cache_path()
    base = os.path.expanduser(keras_home())
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(base) / "datasets" / FILENAME


def _download() -> dict[str, np.ndarray]:
    """Keras's own download (into its cache); any failure becomes one clear error.

    What Keras finds in its cache it opens for its hash check: anything there that is not a
    regular file (a named pipe would block that check forever) is refused first.
    """
    target = _keras_target()
    mode = _mode(target, "Keras's download looks in its cache")
    if mode is not None:
        _refuse_non_regular(target, mode)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # a stalled proxy must not hang forever
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # URLError, HTTPError, socket and hash errors all land here
        raise MNISTNotFoundError(
            "MNIST is not on this machine and Keras could not download it "
            f"({type(err).__name__}: {err}; a connection silent for {DOWNLOAD_TIMEOUT} s "
            "counts as failed).\n"
            "Without internet, get the file mnist.npz (Keras's layout: x_train, y_train, x_test, "
            "y_test) and either\n"
            f"  * put it at {keras_cache_path()}  (Keras's cache), or\n"
            f"  * put it in a folder and set {DATA_DIR_ENV} to that folder, e.g.\n"
            f"      export {DATA_DIR_ENV}=/path/to/folder   (the file is then "
            f"/path/to/folder/{FILENAME}), or\n"
            "  * pass load_mnist(path='/path/to/mnist.npz')."
        ) from err
    finally:
        socket.setdefaulttimeout(previous)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    validate_mnist(arrays, source=f"Keras's download ({keras_cache_path()})")
    return arrays


def _limit(value, name: str, maximum: int) -> int | None:
    if value is None:
        return None
    value = _checks.integer(value, name, minimum=1)
    if value > maximum:
        raise ValueError(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    flatten: bool = False,
    train_limit: int | None = None,
    test_limit: int | None = None,
):
    """Load MNIST as float32 images in [0, 1] with their uint8 labels.

    Where the data comes from, in this order: ``path`` (a file or a folder holding
    ``mnist.npz``); ``$AEUTILS_DATA_DIR/mnist.npz``; Keras's cache
    (``$KERAS_HOME/datasets/mnist.npz`` or ``~/.keras/datasets/mnist.npz``); else
    ``keras.datasets.mnist.load_data()``, which downloads into that cache.

    Args:
        path: an explicit file (or folder) to read.
        flatten: if True, images are (N, 784) vectors; else (N, 28, 28).
        train_limit: keep only the first ``train_limit`` training images (1..60000); None = all.
        test_limit: keep only the first ``test_limit`` test images (1..10000); None = all.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x float32 in [0, 1] of shape (N, 28, 28) or
        (N, 784); y uint8 digits 0..9 of shape (N,).

    Raises:
        MNISTNotFoundError: no file where one was named, or no file and no download possible.
        MNISTFileError: a file that is corrupt or is not MNIST, or something at one of these
            places that is not a regular file, such as a named pipe (says which and why).
        MNISTPermissionError: a folder on the way to the file cannot be entered (names it,
            and ``AEUTILS_DATA_DIR`` when that variable pointed there).

    When Keras is already imported with the TensorFlow backend, this also calls
    ``compat.tf_data_without_autotune()``, so that training on the arrays it returns does not
    wait for tf.data's autotuner at the end of each epoch (the same numbers, sooner).
    """
    compat.tf_data_without_autotune()
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    train_limit = _limit(train_limit, "train_limit", N_TRAIN)
    test_limit = _limit(test_limit, "test_limit", N_TEST)
    source = find_mnist(path)
    arrays = read_npz(source) if source is not None else _download()

    def prepare(x, y, limit):
        x, y = x[:limit], y[:limit]
        x = x.astype(np.float32) / np.float32(255.0)
        if flatten:
            x = x.reshape(len(x), -1)
        return x, y.astype(np.uint8)

    return (
        prepare(arrays["x_train"], arrays["y_train"], train_limit),
        prepare(arrays["x_test"], arrays["y_test"], test_limit),
    )
