"""Choosing sessions for listings: by scenario, start date, words said, and count."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from voice_coach.errors import UsageError
from voice_coach.transcripts.events import AnswerEvent, CommandEvent, PromptEvent
from voice_coach.transcripts.store import LoadedSession

_LOGGER = logging.getLogger(__name__)

_DAYS_AGO = re.compile(r"^(\d+)\s*d(?:ays?)?$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """Parse ``--since``: YYYY-MM-DD (local midnight), an ISO time, today, yesterday, or Nd."""
    now = now or datetime.now().astimezone()
    raw = text.strip().lower()
    if raw in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if raw == "yesterday" else 0)
        return datetime.combine(day, time(), now.tzinfo)
    match = _DAYS_AGO.match(raw)
    if match:
        try:
            day = now.date() - timedelta(days=int(match.group(1)))
        except (OverflowError, ValueError):  # before year 1: every session is newer
            return datetime(1, 1, 2, tzinfo=now.tzinfo)
        return datetime.combine(day, time(), now.tzinfo)
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), now.tzinfo)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since: cannot read {text!r}; use a date like 2024-05-31, "
                         "an ISO time, 'today', 'yesterday' or '7d'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def started(session: LoadedSession) -> datetime | None:
    """When a session started (aware datetime), or None when its start time is unreadable."""
    try:
        moment = datetime.fromisoformat(session.started_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


def said(session: LoadedSession) -> str:
    """Everything spoken in a session (both sides), one line per turn."""
    return "\n".join(e.text for e in session.typed
                     if isinstance(e, PromptEvent | AnswerEvent | CommandEvent))


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def filter_sessions(
    sessions: Iterable[LoadedSession],
    scenario: str | None = None,
    since: datetime | None = None,
    grep: str | None = None,
    limit: int | None = None,
) -> list[LoadedSession]:
    """The sessions that match every given filter, in the order given, at most ``limit``.

    ``scenario`` matches the scenario id exactly (any case); ``since`` keeps sessions that
    started at or after it; ``grep`` is a case-insensitive phrase searched in what was said.
    """
    needle = _normal(grep) if grep else ""
    wanted = scenario.casefold() if scenario else None
    out: list[LoadedSession] = []
    for session in sessions:
        if limit is not None and len(out) >= limit:
            break
        if wanted is not None and session.scenario.casefold() != wanted:
            continue
        if since is not None:
            moment = started(session)
            if moment is None or moment < since:
                continue
        if needle and needle not in _normal(said(session)):
            continue
        out.append(session)
    return out
