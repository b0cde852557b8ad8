"""Hostile input and damaged storage (issue 15): one clear line, nothing lost, nothing leaked.

One regression test (or a few) per item of the issue; the fuzz test over every read and
export command is in tests/test_hostile_fuzz.py.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from tests.support.session_checks import assert_clean_failure, run_cli
from voice_coach.transcripts.store import SessionStore


def _saved_session(answer: str = "I built a pipeline.", name: str = "Jane") -> str:
    """A small saved session; returns its id."""
    writer = SessionStore().create("coffee-chat", name, mode="text", interviewer="Alex")
    writer.append({"type": "stage", "stage": "greeting", "title": "Greeting", "t": 0.0})
    writer.append({"type": "prompt", "stage": "greeting", "kind": "main",
                   "text": "Tell me about yourself.", "t": 0.5})
    writer.append({"type": "answer", "stage": "greeting", "text": answer, "start": 1.0,
                   "end": 3.0})
    writer.end("completed")
    return writer.id


# --- 1. -o never renames over what is not a regular file -------------------------------------


def test_export_to_a_fifo_writes_into_it_and_keeps_it(coach_home: Path, tmp_path: Path) -> None:
    sid = _saved_session()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = run_cli(coach_home, ["export", sid, "-f", "markdown", "-o", str(fifo)])
    reader.join(10)
    assert r.code == 0, r
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert b"I built a pipeline." in got[0]


def test_export_to_a_character_device_keeps_the_device(coach_home: Path,
                                                       tmp_path: Path) -> None:
    sid = _saved_session()
    # A link to /dev/null in a writable folder: the old code renamed a regular file over it.
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    r = run_cli(coach_home, ["export", sid, "-o", str(link)])
    assert r.code == 0, r
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_export_through_a_link_keeps_the_link(coach_home: Path, tmp_path: Path) -> None:
    sid = _saved_session()
    target = tmp_path / "real.md"
    target.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    r = run_cli(coach_home, ["export", sid, "-o", str(link)])
    assert r.code == 0, r
    assert link.is_symlink() and "I built a pipeline." in target.read_text()


def test_export_to_a_socket_is_refused(coach_home: Path, tmp_path: Path) -> None:
    sid = _saved_session()
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        r = run_cli(coach_home, ["export", sid, "-o", str(path)])
        assert_clean_failure(r, 2)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_export_to_a_new_file_is_private(coach_home: Path, tmp_path: Path) -> None:
    sid = _saved_session()
    out = tmp_path / "new.md"
    assert run_cli(coach_home, ["export", sid, "-o", str(out)]).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
