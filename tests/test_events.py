"""Typed transcript events: round trips, tolerant parsing, the one audio-path check."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli_text import JANE, run
from voice_coach.interview.stages import Stage
from voice_coach.transcripts import events as ev
from voice_coach.transcripts.store import SessionStore


def test_stored_events_round_trip() -> None:
    run(["practice", "--text", "--name", "Jane", "--seed", "1"], "\n".join(JANE) + "\n")
    session = SessionStore().load("last")
    assert [e.to_dict() for e in session.typed] == session.events
    kinds = {type(e) for e in session.typed}
    assert {ev.SessionStart, ev.StageEvent, ev.PromptEvent, ev.AnswerEvent,
            ev.SessionEnd} <= kinds
    first_answer = session.answers()[0]
    assert first_answer.stage is Stage.GREETING and first_answer.text.startswith("Hi Alex")


def test_tolerant_parsing_keeps_what_it_cannot_model() -> None:
    raw = {"type": "answer", "stage": "rehearsal", "text": 7, "start": True, "end": 2,
           "words": [{"text": "hi"}]}
    answer = ev.from_dict(raw)
    assert isinstance(answer, ev.AnswerEvent)
    assert answer.stage is None and answer.text == "" and answer.start is None
    assert answer.end == 2.0
    assert answer.to_dict() == {**raw, "end": 2.0}
    other = ev.from_dict({"type": "future_thing", "x": 1})
    assert isinstance(other, ev.OtherEvent) and other.to_dict() == {"type": "future_thing", "x": 1}
    assert isinstance(ev.from_dict({"no": "type"}), ev.OtherEvent)


def test_audio_paths_stay_in_the_session_folder(tmp_path: Path) -> None:
    assert ev.audio_path(tmp_path, "answer-001.wav") == tmp_path / "answer-001.wav"
    for bad in ("../x.wav", "/etc/passwd", "", None, 3):
        assert ev.audio_path(tmp_path, bad) is None
    assert ev.num(True) is None and ev.num(2) == 2.0 and ev.num("2") is None
