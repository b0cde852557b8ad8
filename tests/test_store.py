"""The transcript store: append-only, private, readable after a crash."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from voice_coach.errors import SessionNotFound, TranscriptError
from voice_coach.transcripts.store import SessionStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_append_and_load(coach_home: Path) -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "Jane", mode="text")
    w.append({"type": "prompt", "stage": "greeting", "kind": "main", "text": "Hi", "t": 0.1})
    w.append({"type": "answer", "stage": "greeting", "text": "Hello", "start": 0.2, "end": 1.0})
    w.end("completed")
    s = store.load("last")
    assert s.id == w.id and s.scenario == "coffee-chat" and s.end_reason == "completed"
    assert [e["type"] for e in s.events] == ["session_start", "prompt", "answer", "session_end"]
    assert s.summary()["answers"] == 1
    assert mode(coach_home) == 0o700
    assert mode(w.folder) == 0o700 and mode(w.folder.parent) == 0o700
    assert mode(w.path) == 0o600


def test_ids_sort_by_time_and_are_unique_within_a_second() -> None:
    store = SessionStore()
    ids = [store.create("coffee-chat", "J").id for _ in range(20)]
    assert len(set(ids)) == 20
    assert store.ids() == sorted(ids)
    assert ids == sorted(ids)


def test_cut_last_line_keeps_complete_events() -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "Jane")
    w.append({"type": "answer", "stage": "greeting", "text": "one", "start": 0, "end": 1})
    w.close()
    with w.path.open("ab") as f:
        f.write(b'{"type":"answer","text":"tw')
    s = store.load(w.id)
    assert [e["type"] for e in s.events] == ["session_start", "answer"]
    assert s.cut_short and s.end_reason == "interrupted"
    assert any("cut short" in warning for warning in s.warnings)


def test_corrupt_transcript_is_one_error() -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "Jane")
    w.close()
    w.path.write_bytes(b"\x00\xff garbage\n")
    with pytest.raises(TranscriptError, match="corrupt"):
        store.load(w.id)


def test_resolve_prefix_last_and_errors() -> None:
    store = SessionStore()
    with pytest.raises(SessionNotFound, match="no saved sessions"):
        store.resolve("last")
    a = store.create("coffee-chat", "A").id
    b = store.create("coffee-chat", "B").id
    assert store.resolve("last") == b
    assert store.resolve(a) == a
    with pytest.raises(SessionNotFound, match="matches 2 sessions"):
        store.resolve(a[:8])
    with pytest.raises(SessionNotFound, match="no session matches"):
        store.resolve("1999")
    for bad in ("../x", "a/b", "..", ""):
        with pytest.raises(SessionNotFound):
            store.resolve(bad)


def test_events_are_one_json_object_a_line() -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "Zoë", mode="text")
    w.append({"type": "answer", "text": "line\nbreak <b>", "start": 0, "end": 1})
    w.end("stopped")
    raw = w.path.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 3
    assert json.loads(raw[1])["text"] == "line\nbreak <b>"


def test_delete_removes_everything() -> None:
    store = SessionStore()
    w = store.create("coffee-chat", "J")
    (w.folder / "answer-001.wav").write_bytes(b"RIFF")
    w.end("completed")
    store.delete(w.id)
    assert not w.folder.exists()
    assert store.ids() == []
