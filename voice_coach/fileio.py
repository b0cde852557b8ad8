"""Private, atomic file writes: a temporary name in the same folder, fsync, then rename."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

PRIVATE = 0o600
"""Transcripts, audio and exports are personal: readable by their owner only."""
PRIVATE_DIR = 0o700
"""Folders voice-coach makes: usable by their owner only."""


def make_private_dirs(path: Path) -> list[Path]:
    """Make ``path`` and its missing parents 0700 whatever the umask; returns the folders made.

    A folder that already exists is left exactly as it is (never chmod'ed): it may be
    somebody else's, shared (``/tmp``), or the target of a link. Raises OSError.
    """
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not os.path.lexists(p) and p.parent != p:
        missing.append(p)
        p = p.parent
    made: list[Path] = []
    for q in reversed(missing):
        try:
            os.mkdir(q, PRIVATE_DIR)
        except FileExistsError:
            continue  # made meanwhile by somebody else: not ours to change
        # The umask may have taken bits away (umask 0777 leaves d---------): set them exactly.
        os.chmod(q, PRIVATE_DIR)
        made.append(q)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
    return made


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


def write_output(path: Path, data: bytes) -> None:
    """Write a file the user named (``-o``): atomically when it is (or will be) a regular file.

    Only a regular file is ever replaced by a rename. A terminal, ``/dev/stdout``, a pipe or
    another character device, and a symbolic link to a regular file, are written in place
    (the link is kept); a folder, a socket or a block device is refused. Raises OSError.
    """
    path = Path(path)
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        atomic_write(path, data)
        return
    if stat.S_ISREG(link.st_mode):
        atomic_write(path, data)
        return
    try:
        target = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "it is a dangling symbolic link", str(path)) from None
    if stat.S_ISDIR(target.st_mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
    if not (stat.S_ISREG(target.st_mode) or stat.S_ISCHR(target.st_mode)
            or stat.S_ISFIFO(target.st_mode)):
        raise OSError(errno.EINVAL, "not a file, a terminal or a pipe", str(path))
    # O_TRUNC is ignored by terminals and pipes; through a link to a file it empties the file.
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_private(path: Path, text: str, *, make_folder: bool = False) -> None:
    """Write a text file the user named, mode 0600 when created (see :func:`write_output`).

    Raises OSError; a folder at ``path`` is refused with the reason "it is a folder".
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
    if make_folder:
        make_private_dirs(path.parent)
    write_output(path, text.encode("utf-8"))
