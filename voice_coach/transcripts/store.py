"""Sessions on disk: ``sessions/<id>/transcript.jsonl`` appended and fsynced turn by turn."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from voice_coach import __version__, config
from voice_coach.audio.format import Pcm, write_wav
from voice_coach.errors import SessionNotFound, StorageError, TranscriptError
from voice_coach.textsafe import valid_unicode
from voice_coach.transcripts.events import (
    AnswerEvent,
    Event,
    PromptEvent,
    SessionEnd,
    SessionStart,
    audio_path,
    parse_events,
    parse_line,
)

_LOGGER = logging.getLogger(__name__)

TRANSCRIPT = "transcript.jsonl"
DIR_MODE = 0o700
FILE_MODE = 0o600
_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{3}(?:-[0-9]+)?$")
_SAFE_PREFIX = re.compile(r"^[0-9A-Za-z-]+$")


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and missing parents 0700; an existing folder is never chmod'ed.

    Privacy does not depend on the parents: every session folder is 0700 and every file 0600,
    so a shared home such as ``/tmp`` (1777) is used as it is and stays as it is.
    """
    from voice_coach.fileio import make_private_dirs

    try:
        make_private_dirs(path)
    except OSError as exc:
        raise StorageError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def is_plain_name(name: str) -> bool:
    """True for a file name that stays inside its folder (no separators, no ``..``, not hidden)."""
    return (bool(name) and name == os.path.basename(name) and "\\" not in name
            and not name.startswith(".") and "\x00" not in name)


def now_iso() -> str:
    """The current time, ISO 8601 with the UTC offset."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _storage_error(path: Path, exc: OSError, started: bool = True) -> StorageError:
    # EFBIG (a file-size limit) and EDQUOT (a quota) are a full disk to the user.
    saved = "; earlier turns are saved" if started else "; the session did not start"
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return StorageError(f"the disk is full: cannot write {path}{saved}")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(f"cannot write {path}: {exc.strerror}{saved}")
    return StorageError(f"cannot write {path}: {exc.strerror or exc}")


def _line(event: Mapping[str, Any]) -> bytes:
    """One event as one line of compact JSON."""
    # A lone surrogate (an undecodable byte from a terminal or argv) cannot be UTF-8: it is
    # stored as U+FFFD rather than losing the whole event.
    text = valid_unicode(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return (text + "\n").encode()


class SessionWriter:
    """Appends events to one session's transcript; every append is on disk when it returns."""

    def __init__(self, folder: Path, clock: Callable[[], float] | None = None,
                 first: Mapping[str, Any] | None = None) -> None:
        self.folder = folder
        self.id = folder.name
        self.path = folder / TRANSCRIPT
        self._clock = clock or time.monotonic
        self._t0 = self._clock()
        self._closed = False
        try:
            if first is not None and not self.path.exists():
                # The transcript appears with its first event already in it: a crash right
                # after the folder was made leaves no empty, unreadable session behind.
                from voice_coach.fileio import atomic_write

                atomic_write(self.path, _line(first), FILE_MODE)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        except OSError as exc:
            raise _storage_error(self.path, exc, started=False) from None
        self._fd = fd
        try:
            # Held while the session records (released by close, or by the kernel when the
            # process dies): `sessions` shows the session as live and `delete` refuses it.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            _LOGGER.warning("cannot mark %s as live: %s", self.path, exc)

    def elapsed(self) -> float:
        """Seconds since the session started (the timeline of every event)."""
        return round(self._clock() - self._t0, 3)

    def append(self, event: Mapping[str, Any]) -> None:
        """Write one event as one JSON line and fsync it."""
        if self._closed:
            raise StorageError(f"session {self.id} is already closed")
        line = _line(event)
        written = 0
        try:
            size = os.fstat(self._fd).st_size
            while written < len(line):
                written += os.write(self._fd, line[written:])
            os.fsync(self._fd)
        except OSError as exc:
            if written:
                self._drop_partial_line(size)
            raise _storage_error(self.path, exc) from None

    def _drop_partial_line(self, size: int) -> None:
        """Cut a half-written line (full disk) so a later append cannot glue onto it."""
        try:
            os.ftruncate(self._fd, size)
        except OSError as exc:
            _LOGGER.warning("could not remove a half-written line from %s: %s", self.path, exc)

    def audio_path(self, name: str) -> Path:
        """Where to save one audio file of this session (a plain file name in the folder)."""
        if not is_plain_name(name):
            raise StorageError(f"refusing the audio file name {name!r}")
        return self.folder / name

    def write_audio(self, name: str, samples: Pcm) -> None:
        """Save a WAV in the session folder atomically; a failure is a StorageError."""
        path = self.audio_path(name)
        try:
            write_wav(path, samples, mode=FILE_MODE)
        except OSError as exc:
            raise _storage_error(path, exc) from None

    def end(self, reason: str, **extra: Any) -> None:
        """Record how the session ended and close the file (safe to call twice)."""
        if self._closed:
            return
        try:
            self.append({"type": "session_end", "reason": reason, "ended_at": now_iso(),
                         "t": self.elapsed(), **extra})
        finally:
            self.close()

    def close(self) -> None:
        """Close the file without writing an end event."""
        if not self._closed:
            self._closed = True
            os.close(self._fd)


@dataclass
class LoadedSession:
    """A session read back from disk."""

    id: str
    folder: Path
    events: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    live: bool = False
    """True while a voice-coach process is still recording this session."""

    @cached_property
    def typed(self) -> list[Event]:
        """The events, parsed (same order and indices as ``events``)."""
        return parse_events(self.events)

    @cached_property
    def start(self) -> dict[str, Any]:
        """The session_start event's fields (empty when missing)."""
        return next((e.to_dict() for e in self.typed if isinstance(e, SessionStart)), {})

    @cached_property
    def end(self) -> dict[str, Any] | None:
        """The session_end event's fields, or None when the session was cut short."""
        return next((e.to_dict() for e in reversed(self.typed) if isinstance(e, SessionEnd)),
                    None)

    @property
    def cut_short(self) -> bool:
        """True when the session has no end event (a crash or a kill)."""
        return self.end is None

    @property
    def end_reason(self) -> str:
        """How the session ended; with no end event: recording (live) or interrupted."""
        end = self.end
        if end:
            return str(end.get("reason", "interrupted"))
        return "recording" if self.live else "interrupted"

    @property
    def scenario(self) -> str:
        """The scenario id."""
        return str(self.start.get("scenario", "?"))

    @property
    def started_at(self) -> str:
        """ISO start time."""
        return str(self.start.get("started_at", ""))

    def audio_file(self, event: AnswerEvent | PromptEvent) -> Path | None:
        """The WAV an event names, or None when absent, outside the folder, or missing."""
        path = audio_path(self.folder, event.audio)
        return path if path is not None and path.is_file() else None

    def answers(self) -> list[AnswerEvent]:
        """The answer events, in order."""
        return [e for e in self.typed if isinstance(e, AnswerEvent)]

    def summary(self) -> dict[str, Any]:
        """A short description for listings."""
        return {
            "id": self.id,
            "scenario": self.scenario,
            "name": self.start.get("name", ""),
            "mode": self.start.get("mode", ""),
            "started_at": self.started_at,
            "end_reason": self.end_reason,
            "answers": len(self.answers()),
            "cut_short": self.cut_short,
            "path": str(self.folder),
        }


MAX_TRANSCRIPT_BYTES = 16 << 20
"""A transcript is a few hundred kB for an hour; more is not read (memory stays bounded)."""


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _has_transcript(folder: Path) -> bool:
    """True when the folder holds a transcript, or cannot be looked into (load says why)."""
    try:
        os.lstat(folder / TRANSCRIPT)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def read_bounded(path: Path, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a regular file (never a link, a FIFO or a device).

    Returns the bytes and whether that was the whole file; problems are TranscriptErrors.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: voice-coach
        # never makes links, and one to /dev/zero would never end.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TranscriptError(f"{path} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TranscriptError(f"{path} is a symbolic link (refused)") from None
        raise TranscriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TranscriptError(f"{path} is not a regular file (refused)")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise TranscriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return data[:limit], len(data) <= limit


def parse_transcript(lines: list[bytes], source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse JSONL lines, keeping every complete event; a cut or corrupt line is a warning."""
    events: list[dict[str, Any]] = []
    warnings: list[str] = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        last = n == len(lines)
        try:
            event = parse_line(raw)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            if last and not raw.endswith(b"\n"):
                warnings.append(f"{source}: the last line was cut short (a crash?); "
                                f"kept {len(events)} complete events")
            else:
                warnings.append(f"{source}:{n}: skipped an unreadable line")
            continue
        events.append(event)
    return events, warnings


def _open_up(folder: Path) -> None:
    """Make a session folder and its sub-folders 0700 again (not following links)."""
    if folder.is_symlink():
        return
    os.chmod(folder, DIR_MODE)
    for root, dirs, _ in os.walk(folder):
        for d in dirs:
            path = Path(root) / d
            if not path.is_symlink():
                os.chmod(path, DIR_MODE)


class SessionStore:
    """All sessions under one home folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else config.sessions_dir()

    def create(self, scenario: str, name: str, clock: Callable[[], float] | None = None,
               **meta: Any) -> SessionWriter:
        """Make a new session folder with a time-sorted unique id and write session_start.

        ``clock`` (seconds) drives the session timeline; the wall clock by default.
        """
        ensure_private_dir(self.root)
        owner = self.root.stat().st_uid
        if owner != os.geteuid():
            # Somebody else's folder (made in a shared home before us): they could move or
            # swap our sessions. Refuse rather than record into it.
            raise StorageError(f"{self.root} belongs to another user; set VOICE_COACH_HOME "
                               "to a folder of yours")
        now = datetime.now(UTC)
        base = now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond // 1000:03d}"
        for n in range(1, 1000):
            sid = base if n == 1 else f"{base}-{n}"
            folder = self.root / sid
            try:
                os.mkdir(folder, DIR_MODE)
                os.chmod(folder, DIR_MODE)  # exactly 0700, whatever the umask
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise _storage_error(folder, exc, started=False) from None
        else:  # pragma: no cover - a thousand sessions in one millisecond
            raise StorageError("cannot allocate a session id")
        try:
            return SessionWriter(folder, clock, first={
                "type": "session_start", "id": sid, "scenario": scenario, "name": name,
                "started_at": now.astimezone().isoformat(timespec="seconds"),
                "versions": {"voice_coach": __version__, "python": sys.version.split()[0]},
                **meta,
            })
        except StorageError:
            # Nothing was said yet: leave no empty session folder behind.
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def ids(self) -> list[str]:
        """Session ids, oldest first."""
        if not self.root.is_dir():
            return []
        # A folder without a transcript is an id reserved by a session that died before its
        # first event was on disk: nothing was said, nothing to list.
        try:
            entries = list(self.root.iterdir())
        except OSError as exc:
            raise StorageError(f"cannot list {self.root}: {exc.strerror or exc}") from None
        return sorted(p.name for p in entries
                      if _ID_RE.match(p.name) and _is_dir(p) and _has_transcript(p))

    def resolve(self, ref: str) -> str:
        """Turn ``last``, a full id or a unique prefix into an id."""
        if not ref or not _SAFE_PREFIX.match(ref) or ".." in ref:
            raise SessionNotFound(f"'{ref}' is not a session id")
        ids = self.ids()
        if ref == "last":
            if not ids:
                raise SessionNotFound("there are no saved sessions yet")
            return ids[-1]
        if ref in ids:
            return ref
        matches = [i for i in ids if i.startswith(ref)]
        if not matches:
            raise SessionNotFound(f"no session matches '{ref}' (see: voice-coach sessions)")
        if len(matches) > 1:
            shown = ", ".join(matches[:4]) + (", ..." if len(matches) > 4 else "")
            raise SessionNotFound(f"'{ref}' matches {len(matches)} sessions: {shown}")
        return matches[0]

    def load(self, ref: str) -> LoadedSession:
        """Read one session; complete lines are kept even when the last one was cut."""
        sid = self.resolve(ref)
        folder = self.root / sid
        path = folder / TRANSCRIPT
        data, complete = read_bounded(path, MAX_TRANSCRIPT_BYTES)
        lines = data.splitlines(keepends=True)
        if not complete:
            # keep the complete lines of the first part; the cut line would only be noise
            lines = [line for line in lines if line.endswith(b"\n")]
        events, warnings = parse_transcript(lines, str(path))
        if not complete:
            warnings.append(f"{path}: larger than {MAX_TRANSCRIPT_BYTES >> 20} MB; "
                            "only the first part was read")
        if not events:
            raise TranscriptError(f"{path}: no readable events (the transcript is corrupt)")
        for w in warnings:
            _LOGGER.warning(w)
        return LoadedSession(sid, folder, events, warnings, live=self.is_live(sid))

    def is_live(self, sid: str) -> bool:
        """True while a voice-coach process holds the session's lock (it is recording)."""
        try:
            fd = os.open(self.root / sid / TRANSCRIPT,
                         os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)  # also drops the shared lock just taken
        return False

    def sessions(self) -> Iterator[LoadedSession]:
        """Every readable session, newest first; unreadable ones are logged and skipped."""
        for sid in reversed(self.ids()):
            try:
                yield self.load(sid)
            except (TranscriptError, SessionNotFound) as exc:
                _LOGGER.warning("skipping session %s: %s", sid, exc)

    def delete(self, ref: str) -> str:
        """Remove a session folder and everything in it."""
        sid = self.resolve(ref)
        folder = self.root / sid
        try:
            try:
                shutil.rmtree(folder)
            except PermissionError:
                # A folder voice-coach made (its name is a session id), closed by a chmod:
                # open it up again, then remove it.
                _open_up(folder)
                shutil.rmtree(folder)
        except OSError as exc:
            raise StorageError(f"cannot delete session {sid}: {exc.strerror or exc}") from None
        return sid
