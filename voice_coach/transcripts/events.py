"""Typed transcript events: what a session's ``transcript.jsonl`` holds, parsed in one place.

Every reader (store, exports, replay, feedback, queries) gets these instead of raw dicts.
Parsing is tolerant: a field of the wrong type reads as missing, an unknown event type is
kept as :class:`OtherEvent`, and every field not named here survives in ``extra`` so that
``from_dict(d).to_dict() == d`` for the events voice-coach writes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

from voice_coach.interview.stages import Stage

_LOGGER = logging.getLogger(__name__)


MAX_NUMBER = 1e12
"""Larger stored numbers are absurd (a session is hours, not millennia): read as missing."""
MAX_DEPTH = 32
"""Deeper JSON is not an event voice-coach wrote (its own go 3 levels deep)."""


def num(value: Any) -> float | None:
    """A stored number as float; None for anything else (bools, strings, inf, nan, absurd)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except OverflowError:  # a 500-digit integer
        return None
    return out if math.isfinite(out) and abs(out) <= MAX_NUMBER else None


def _parse_int(text: str) -> int | None:
    # A huge integer would overflow float() wherever it is used: read it as missing.
    return int(text) if len(text.lstrip("-")) <= 13 else None


def _parse_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) and abs(value) <= MAX_NUMBER else None


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, depth + 1) for v in item]
    return deepest


def parse_line(raw: bytes) -> dict[str, Any]:
    """One transcript line as an event dict; ValueError when it is not a sane event.

    The one tolerant place where stored JSON becomes Python: numbers that are not finite or
    are absurd (``1e400``, ``NaN``, 500 digits) read as null, deep nesting is refused.
    """
    try:
        event = json.loads(raw.decode("utf-8"), parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=lambda _: None)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ValueError("not an event object")
    if _depth(event) > MAX_DEPTH:
        raise ValueError("nested too deeply")
    return event


def parse_stage(value: Any) -> Stage | None:
    """A stored stage key as a Stage; None when missing or unknown (e.g. the briefing)."""
    try:
        return Stage(value) if isinstance(value, str) else None
    except ValueError:
        return None


def is_outside(name: str) -> bool:
    """True for an audio path that would leave the session folder (absolute, or with ``..``)."""
    candidate = Path(name)
    return candidate.is_absolute() or ".." in candidate.parts


MAX_AUDIO_BYTES = 256 << 20
"""An answer's WAV is minutes long (an hour is 115 MB); a bigger file is not read."""


def audio_path(folder: Path, name: Any) -> Path | None:
    """The audio file an event names, inside ``folder``; None when absent or outside it.

    Outside includes a symbolic link (voice-coach never makes one: it could lead anywhere,
    even to /dev/zero), anything but a regular file, and an absurdly large file.
    """
    if not isinstance(name, str) or not name:
        return None
    if is_outside(name) or "\x00" in name:
        _LOGGER.warning("ignoring audio path outside the session folder: %r", name)
        return None
    path = folder / name
    try:
        info = os.lstat(path)
    except OSError:
        return path  # missing (or unreadable): the caller says so
    real_folder = os.path.realpath(folder)
    if (stat.S_ISLNK(info.st_mode)
            or not os.path.realpath(path).startswith(real_folder + os.sep)):
        _LOGGER.warning("ignoring audio that is a link: %r", name)
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_AUDIO_BYTES:
        _LOGGER.warning("ignoring audio that is not a regular file of sane size: %r", name)
        return None
    return path


@dataclass(frozen=True)
class _Event:
    """Fields shared by every event: the raw fields not modelled, kept for round trips."""

    TYPE: ClassVar[str] = ""
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The event as stored (modelled fields that are unset are left out)."""
        out: dict[str, Any] = {"type": self.TYPE}
        for name in self._FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.value if isinstance(value, Stage) else value
        out.update(self.extra)
        return out

    def get(self, key: str, default: Any = None) -> Any:
        """A raw field by its stored name (for fields not modelled)."""
        return self.to_dict().get(key, default)


@dataclass(frozen=True)
class SessionStart(_Event):
    """The first event: who, which scenario, when, and which engines (in ``extra``)."""

    TYPE: ClassVar[str] = "session_start"
    _FIELDS: ClassVar[tuple[str, ...]] = ("id", "scenario", "name", "mode", "started_at",
                                          "interviewer")
    id: str | None = None
    scenario: str | None = None
    name: str | None = None
    mode: str | None = None
    started_at: str | None = None
    interviewer: str | None = None


@dataclass(frozen=True)
class StageEvent(_Event):
    """A stage begins."""

    TYPE: ClassVar[str] = "stage"
    _FIELDS: ClassVar[tuple[str, ...]] = ("stage", "title", "t")
    stage: Stage | None = None
    title: str | None = None
    t: float | None = None

    @property
    def heading(self) -> str:
        """The title, else the stage key."""
        return self.title or (self.stage.value if self.stage else str(self.extra.get("stage", "")))


@dataclass(frozen=True)
class PromptEvent(_Event):
    """The interviewer said a line (``t`` when it was due; speech_* when it was heard)."""

    TYPE: ClassVar[str] = "prompt"
    _FIELDS: ClassVar[tuple[str, ...]] = ("stage", "kind", "text", "t", "speech_start",
                                          "speech_end", "audio")
    stage: Stage | None = None
    kind: str | None = None
    text: str = ""
    t: float | None = None
    speech_start: float | None = None
    speech_end: float | None = None
    audio: str | None = None


@dataclass(frozen=True)
class AnswerEvent(_Event):
    """The user answered (words, latency and the like stay in ``extra``)."""

    TYPE: ClassVar[str] = "answer"
    _FIELDS: ClassVar[tuple[str, ...]] = ("stage", "text", "start", "end", "audio",
                                          "audio_start")
    stage: Stage | None = None
    text: str = ""
    start: float | None = None
    end: float | None = None
    audio: str | None = None
    audio_start: float | None = None


@dataclass(frozen=True)
class CommandEvent(_Event):
    """The user gave a hands-free command (not an answer)."""

    TYPE: ClassVar[str] = "command"
    _FIELDS: ClassVar[tuple[str, ...]] = ("stage", "command", "text", "start", "end")
    stage: Stage | None = None
    command: str | None = None
    text: str = ""
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class SessionEnd(_Event):
    """How the session ended."""

    TYPE: ClassVar[str] = "session_end"
    _FIELDS: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str | None = None


@dataclass(frozen=True)
class OtherEvent(_Event):
    """An event type this version does not model; kept as stored."""

    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The event as stored."""
        return {"type": self.kind, **self.extra}


Event: TypeAlias = (SessionStart | StageEvent | PromptEvent | AnswerEvent | CommandEvent
                    | SessionEnd | OtherEvent)
Spoken: TypeAlias = PromptEvent | AnswerEvent | CommandEvent
"""A line somebody said: the interviewer's prompt, or the user's answer or command."""

_CLASSES: dict[str, type[_Event]] = {c.TYPE: c for c in (
    SessionStart, StageEvent, PromptEvent, AnswerEvent, CommandEvent, SessionEnd)}
_NUMBERS = {"t", "start", "end", "speech_start", "speech_end", "audio_start"}


def from_dict(raw: Mapping[str, Any]) -> Event:
    """Parse one stored event; wrong-typed fields read as missing and stay in ``extra``."""
    kind = raw.get("type")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return OtherEvent(extra={k: v for k, v in raw.items() if k != "type"},
                          kind=kind if isinstance(kind, str) else "")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in cls._FIELDS:
            extra[key] = value
            continue
        if key == "stage":
            parsed: Any = parse_stage(value)
        elif key in _NUMBERS:
            parsed = num(value)
        else:
            parsed = value if isinstance(value, str) else None
        if parsed is None or (key == "stage" and value != getattr(parsed, "value", None)):
            extra[key] = value  # unusable as modelled: kept verbatim for the round trip
        else:
            values[key] = parsed
    event = cls(extra=extra, **values)
    return event  # type: ignore[return-value]


def parse_events(raw: list[dict[str, Any]]) -> list[Event]:
    """Parse a transcript's events, in order."""
    return [from_dict(e) for e in raw]
