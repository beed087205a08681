"""Output files: checked before any work starts, written atomically.

`check_output_file(path, flag)` and `check_output_dir(path, flag)` raise one InputError
(exit 2) naming the flag and the path when the output could not be written: the path is a
directory (or a file where a directory is needed), a parent is a file, or the place is
not writable. Commands call them first, so a long run never ends in an unwritable path.

`write_atomic(path, data)` writes a temporary file in the same directory and renames it
over `path` (os.replace): a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from assay.core.errors import InputError


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_creatable_dir(d: Path, flag: str, shown: Path) -> None:
    """`d` is a directory that exists and is writable, or can be created."""
    base = _nearest_existing(d)
    if not base.is_dir():
        raise InputError(f"cannot create {shown}: {base} is a file, not a folder", where=f"{flag} {shown}")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"cannot write to {shown}: {base} is not writable", where=f"{flag} {shown}")


def check_output_file(path: str | Path, flag: str) -> Path:
    """`path` as a Path, once it is known that a file can be written there."""
    p = Path(path).expanduser()
    if str(path).endswith(("/", os.sep)) or p.is_dir():
        raise InputError(f"{p} is a directory; give a file name", where=f"{flag} {p}")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{p} is not writable", where=f"{flag} {p}")
    _check_creatable_dir(p.parent if str(p.parent) else Path("."), flag, p)
    return p


def check_output_dir(path: str | Path, flag: str) -> Path:
    """`path` as a Path, once it is known that it is (or can become) a writable folder."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InputError(f"{p} is a file, not a folder", where=f"{flag} {p}")
    _check_creatable_dir(p, flag, p)
    return p


def write_atomic(path: str | Path, data: str | bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 if mode is None else mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p
