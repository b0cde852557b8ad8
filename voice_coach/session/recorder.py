"""Turns controller steps and user turns into transcript events (shared by every session loop)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from voice_coach.interview.controller import Prompt, StageStart, Step
from voice_coach.interview.language import Command
from voice_coach.interview.stages import Stage
from voice_coach.stt.base import Word
from voice_coach.transcripts.store import SessionWriter

_LOGGER = logging.getLogger(__name__)


def words_to_json(words: Sequence[Word], offset: float = 0.0) -> list[dict[str, Any]]:
    """Word timings as stored: seconds on the session timeline when ``offset`` is given."""
    out = []
    for w in words:
        item: dict[str, Any] = {"text": w.text, "start": round(w.start + offset, 3),
                                "end": round(w.end + offset, 3)}
        if w.confidence is not None:
            item["confidence"] = round(float(w.confidence), 3)
        out.append(item)
    return out


class Recorder:
    """Writes the conversation to a session, one fsynced event at a time."""

    def __init__(self, writer: SessionWriter) -> None:
        self.writer = writer
        self.answers = 0

    @property
    def session_id(self) -> str:
        """The session's id."""
        return self.writer.id

    def now(self) -> float:
        """Seconds on the session timeline."""
        return self.writer.elapsed()

    def step(self, step: Step) -> None:
        """Record the stage changes and prompts of a controller step."""
        for event in step.events:
            self.event(event)

    def event(self, event: StageStart | Prompt, **extra: Any) -> None:
        """Record one stage change or prompt."""
        if isinstance(event, StageStart):
            self.writer.append({"type": "stage", "stage": event.stage.value,
                                "title": event.title, "t": self.now()})
            return
        record: dict[str, Any] = {
            "type": "prompt", "stage": event.stage.value if event.stage else None,
            "kind": event.kind.value, "text": event.text, "t": self.now(),
        }
        if event.repeat:
            record["repeat"] = True
        record.update(extra)
        self.writer.append(record)

    def answer(self, stage: Stage | None, text: str, start: float, end: float,
               **extra: Any) -> None:
        """Record one finished answer (words, audio, latency go in ``extra`` when known)."""
        self.answers += 1
        self.writer.append({"type": "answer", "stage": stage.value if stage else None,
                            "text": text, "start": round(start, 3), "end": round(end, 3),
                            **extra})

    def command(self, stage: Stage | None, command: Command, text: str, start: float,
                end: float) -> None:
        """Record a hands-free command (not an answer)."""
        self.writer.append({"type": "command", "stage": stage.value if stage else None,
                            "command": command.value, "text": text,
                            "start": round(start, 3), "end": round(end, 3)})

    def end(self, reason: str, **extra: Any) -> None:
        """Record how the session ended."""
        self.writer.end(reason, **extra)

    def end_quietly(self, reason: str, **extra: Any) -> None:
        """Best-effort end event on the way out of a failure; never masks the original error."""
        try:
            self.writer.end(reason, **extra)
        except Exception as exc:
            _LOGGER.warning("could not record the end of session %s: %s", self.session_id, exc)
