"""Private, atomic file writes: a temporary name in the same folder, fsync, then rename."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

PRIVATE = 0o600
"""Transcripts, audio and exports are personal: readable by their owner only."""


def atomic_write(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the whole new one, never half.

    A crash leaves at most a ``.NAME.*.part`` file, never a truncated ``NAME``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE) -> None:
    """``atomic_write`` for UTF-8 text (line endings kept as given)."""
    atomic_write(path, text.encode("utf-8"), mode)


def write_private(path: Path, text: str, *, make_folder: bool = False) -> None:
    """Write a text file atomically with mode 0600 (its folder made first when asked).

    Raises OSError; a folder at ``path`` is refused with the reason "it is a folder".
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
