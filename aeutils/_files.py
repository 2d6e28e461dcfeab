"""Reading and writing the course's files safely (internal).

Every file aeutils or the tools write goes through ``atomic_write``: a kill or a full disk
mid-write leaves the old file whole. Every file they read goes through ``regular_file`` first,
so a named pipe or a device where a file should be is an error, not a hang.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path


def regular_file(path, what: str = "file") -> Path:
    """Return ``path`` as a Path after checking it is an existing regular file.

    Raises FileNotFoundError when it does not exist and ValueError when it is a folder, a
    named pipe or anything else that is not a plain file (reading a pipe would block).
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except PermissionError as err:
        raise PermissionError(f"{what} {path} cannot be read: {err.strerror}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device?)"
        raise ValueError(f"{what} {path} is {kind}")
    return path


def read_json(path, what: str = "JSON file"):
    """The parsed content of the JSON file ``path``; every failure names the file.

    Raises FileNotFoundError if it is missing, ValueError if it is not a regular file, not
    UTF-8 or not valid JSON.
    """
    path = regular_file(path, what)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text ({err.reason}): restore it with git") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}): restore it with git") from None


def _leftovers(path: Path) -> list[Path]:
    """Temporary files an earlier, killed ``atomic_write`` of ``path`` left behind."""
    return list(path.parent.glob(f".{path.name}.*.tmp"))


def atomic_write(path, write) -> None:
    """Create or replace ``path`` through a temporary file in the same folder and a rename.

    ``write(temporary_path)`` writes the content. A kill or a full disk mid-write leaves the
    old file whole, never a truncated stub; the temporary file a killed write left behind is
    removed by the next write of the same path. The file keeps the permissions it had (a new
    one gets the usual ones, as ``open`` would give it).
    """
    path = Path(path)
    for stale in _leftovers(path):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see ``atomic_write``."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_json(path, value) -> None:
    """Write ``value`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(value, indent=2) + "\n")
