"""Filtering saved sessions: scenario, since, grep, limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voice_coach.errors import UsageError
from voice_coach.transcripts.query import filter_sessions, parse_since
from voice_coach.transcripts.store import LoadedSession, SessionStore


def _session(sid: str, scenario: str, started: str, said: list[str]) -> LoadedSession:
    events = [{"type": "session_start", "id": sid, "scenario": scenario, "started_at": started}]
    events += [{"type": "answer", "text": t, "start": 0, "end": 1} for t in said]
    return LoadedSession(sid, SessionStore().root / sid, events)


SESSIONS = [
    _session("c", "coffee-chat", "2024-06-03T10:00:00+02:00", ["I like  KAFKA streams"]),
    _session("b", "networking-event", "2024-06-02T09:00:00+00:00", ["Hello there"]),
    _session("a", "coffee-chat", "2024-05-30T23:30:00+00:00", ["nothing much"]),
]


def ids(found: list[LoadedSession]) -> list[str]:
    return [s.id for s in found]


def test_no_filters_keep_everything_in_order() -> None:
    assert ids(filter_sessions(SESSIONS)) == ["c", "b", "a"]


def test_filters_combine() -> None:
    assert ids(filter_sessions(SESSIONS, scenario="Coffee-Chat")) == ["c", "a"]
    assert ids(filter_sessions(SESSIONS, grep="kafka")) == ["c"]
    assert ids(filter_sessions(SESSIONS, grep="like kafka")) == ["c"]
    assert ids(filter_sessions(SESSIONS, grep="zebra")) == []
    since = datetime(2024, 6, 1, tzinfo=UTC)
    assert ids(filter_sessions(SESSIONS, since=since)) == ["c", "b"]
    assert ids(filter_sessions(SESSIONS, scenario="coffee-chat", since=since)) == ["c"]
    assert ids(filter_sessions(SESSIONS, limit=2)) == ["c", "b"]
    assert ids(filter_sessions(SESSIONS, scenario="coffee-chat", limit=1)) == ["c"]


def test_grep_searches_the_interviewer_too_and_stops_early() -> None:
    s = _session("d", "x", "2024-06-03T10:00:00+00:00", [])
    s.events.append({"type": "prompt", "text": "Tell me about Rust", "t": 0})
    assert ids(filter_sessions([s], grep="rust")) == ["d"]

    def endless():  # type: ignore[no-untyped-def]
        while True:
            yield s

    assert len(filter_sessions(endless(), limit=3)) == 3


def test_parse_since() -> None:
    now = datetime(2024, 6, 3, 15, 0, tzinfo=UTC)
    assert parse_since("2024-06-01", now) == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_since("today", now) == datetime(2024, 6, 3, tzinfo=UTC)
    assert parse_since("yesterday", now) == datetime(2024, 6, 2, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2024, 5, 27, tzinfo=UTC)
    assert parse_since("2024-06-01T12:00:00+02:00", now).hour == 12
    with pytest.raises(UsageError, match="--since"):
        parse_since("last tuesday", now)
