"""Feedback metrics on crafted sessions: known words, timings and pauses give known numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.feedback_sessions import Crafted, Turn, write_spoken, write_typed
from voice_coach.feedback import report as rep
from voice_coach.feedback.metrics import (
    TimingSource,
    Verdict,
    analyse,
    fillers_in,
    hedges_in,
    no_audio,
)
from voice_coach.listening.vad import EnergyVad
from voice_coach.transcripts.store import SessionStore

DISCUSSION = ("Um so at my last job I built a data pipeline for sales reporting and I think "
              "it was like kind of the biggest project you know and I led a team of three "
              "engineers basically so we shipped it in two months")  # 43 words

TURNS = [
    Turn("greeting", "Tell me about yourself?",
         "Hi Alex nice to meet you I'm Jane a data engineer in Berlin", delay=0.6),  # 13
    Turn("icebreakers", "Any hobbies?", "I love hiking in the mountains with friends",
         delay=0.4),  # 8
    Turn("discussion", "Tell me about a project.", DISCUSSION, delay=4.0,
         pauses={12: 3.0}),  # 43, a 3 s pause after "reporting"
    Turn("your_questions", "Any questions?",
         "What are the goals for this project? How big is the team? "
         "I have worked with Kafka a lot.", delay=0.8),  # 19
    Turn("wrap_up", "Anything else?", "Thank you so much Alex this was really helpful",
         delay=0.8),  # 9
]


@pytest.fixture
def spoken() -> Crafted:
    return write_spoken(SessionStore(), TURNS)


def test_fillers_and_hedges_by_context() -> None:
    assert fillers_in("I like hiking and it feels like home") == []
    assert fillers_in("it was like huge, you know, um basically") == [
        "like", "you know", "um", "basically"]
    assert fillers_in("do you know the answer? I mean it") == ["i mean"]
    assert hedges_in("what kind of tools do you use") == []
    assert hedges_in("I think it was kind of hard, maybe") == ["i think", "kind of", "maybe"]
    assert fillers_in("") == [] and hedges_in("") == []


def test_spoken_session_pace_words_and_pauses(spoken: Crafted) -> None:
    r = analyse(spoken.session, audio_loader=no_audio)
    assert r.spoken and not r.cut_short and len(r.answers) == 5
    assert [a.words for a in r.answers] == [13, 8, 43, 19, 9]
    d = r.answers[2]
    # 43 words of 0.3 s, 41 gaps of 0.1 s; the 3 s pause is not speaking time.
    assert d.timing is TimingSource.WORDS
    assert d.seconds == pytest.approx(17.0)
    assert d.wpm == pytest.approx(151.8)
    assert d.pace is Verdict.OK
    assert d.long_pauses == 1 and d.longest_pause_s == pytest.approx(3.0)
    assert d.filled_pauses is None  # no audio: not measured
    assert d.fillers == ("um", "like", "you know", "basically")
    assert d.hedges == ("i think", "kind of")
    assert d.length is Verdict.OK
    # Short answers are measured but not judged for pace.
    assert r.answers[0].wpm == pytest.approx(13 / (13 * 0.3 + 12 * 0.1) * 60, abs=0.1)
    assert r.answers[0].pace is Verdict.UNJUDGED
    assert r.pace.judged_turns == (3,)
    assert r.pace.words == 92
    assert r.pace.verdict is Verdict.OK
    assert r.hesitations.long_pauses == 1 and r.hesitations.filled_pauses is None


def test_spoken_session_rates_turn_taking_and_stages(spoken: Crafted) -> None:
    r = analyse(spoken.session, audio_loader=no_audio)
    assert r.fillers.count == 4 and r.fillers.per_100 == pytest.approx(4 / 92 * 100, abs=0.01)
    assert r.fillers.verdict is Verdict.OK
    assert r.hedges.count == 2
    assert [a.start_delay_s for a in r.answers] == pytest.approx([0.6, 0.4, 4.0, 0.8, 0.8])
    assert r.start_delay.median_s == pytest.approx(0.8)
    assert r.start_delay.max_s == pytest.approx(4.0) and r.start_delay.max_turn == 3
    assert r.start_delay.slow_turns == (3,)
    user = (13 * 0.3 + 12 * 0.1) + (8 * 0.3 + 7 * 0.1) + (43 * 0.3 + 41 * 0.1 + 3.0) \
        + (19 * 0.3 + 18 * 0.1) + (9 * 0.3 + 8 * 0.1)
    assert r.talk.user_s == pytest.approx(user, abs=0.02)
    assert r.talk.interviewer_s == pytest.approx(15.0)
    assert r.talk.user_share == pytest.approx(user / (user + 15.0), abs=0.001)
    assert r.questions.asked == 2 and r.questions.statements == 1
    assert r.questions.ratio == pytest.approx(2.0) and r.questions.turns == (4,)
    assert r.wrap_up.thanked is True and r.wrap_up.used_name is True
    assert [(k.phrase, k.turn) for k in r.key_points][:2] == [
        ("the data pipeline", 3), ("the team of three engineers", 3)]
    # The slow start is the top tip and points at its turn.
    assert r.tips[0].metric == "start" and rep.pointer(r.tips[0]) == "turn 3 (discussion)"


def test_filled_pauses_from_injected_audio() -> None:
    turns = [Turn("discussion", "Tell me about a project.", DISCUSSION, audio=True,
                  pauses={5: 1.0, 12: 1.0, 20: 2.6}, hums={5: 0.45, 12: 0.5},
                  breaths={20: 0.6})]
    crafted = write_spoken(SessionStore(), turns)
    r = analyse(crafted.session, audio_loader=crafted.loader, vad_factory=EnergyVad)
    a = r.answers[0]
    assert a.filled_pauses == 2  # the two hums, not the breath
    assert a.long_pauses == 0  # the 2.6 s pause holds a breath: neither side is over 2 s
    assert r.hesitations.filled_pauses == 2
    assert r.hesitations.filled_per_min == pytest.approx(2 / (a.seconds or 1) * 60, abs=0.01)
    # JSON carries the same numbers.
    data = json.loads(rep.to_json(r))
    assert data["answers"][0]["filled_pauses"] == 2
    assert data["hesitations"]["filled_pauses"] == 2
    assert data["pace"]["wpm"] == r.pace.wpm


def test_silence_and_noise_are_not_filled_pauses() -> None:
    turns = [Turn("discussion", "Q?", DISCUSSION, audio=True, pauses={8: 1.5, 30: 3.5},
                  breaths={8: 0.5})]
    crafted = write_spoken(SessionStore(), turns)
    r = analyse(crafted.session, audio_loader=crafted.loader, vad_factory=EnergyVad)
    assert r.answers[0].filled_pauses == 0
    assert r.answers[0].long_pauses == 1  # the 3.5 s silence


def test_missing_audio_is_a_warning_not_a_number() -> None:
    crafted = write_spoken(SessionStore(), [Turn("discussion", "Q?", DISCUSSION, audio=True)])
    r = analyse(crafted.session)  # the WAV was never written to disk
    assert r.answers[0].filled_pauses is None
    assert r.answers[0].timing is TimingSource.WORDS
    assert any("missing" in w for w in r.warnings)


def test_fast_and_slow_answers_give_pace_tips() -> None:
    fast = Turn("discussion", "Q?", DISCUSSION, word_s=0.2, gap_s=0.05)  # 43 words / 10.7 s
    slow = Turn("discussion", "Q?", DISCUSSION, word_s=0.45, gap_s=0.4)  # 43 words / 36.15 s
    r = analyse(write_spoken(SessionStore(), [fast, slow]).session, audio_loader=no_audio)
    assert r.answers[0].wpm == pytest.approx(241.1) and r.answers[0].pace is Verdict.HIGH
    assert r.answers[1].wpm == pytest.approx(71.4) and r.answers[1].pace is Verdict.LOW
    assert r.pace.fast_turns == (1,) and r.pace.slow_turns == (2,)
    pace_tips = [t for t in r.tips if t.metric == "pace"]
    assert {t.turn for t in pace_tips} == {1, 2}


def test_session_with_no_answers() -> None:
    store = SessionStore()
    writer = store.create("coffee-chat", "Jane", mode="voice", interviewer="Alex Morgan")
    writer.append({"type": "prompt", "stage": "greeting", "kind": "main", "text": "Hi!",
                   "t": 0.1, "speech_start": 0.1, "speech_end": 1.5})
    writer.end("stopped")
    r = analyse(store.load("last"))
    assert r.answers == () and r.pace.wpm is None and r.pace.verdict is Verdict.NOT_MEASURED
    assert r.fillers.per_100 is None and r.talk.user_share is None
    assert r.tips[0].metric == "answers" and r.tips[0].turn is None
    text = rep.render_text(r)
    assert "not measured" in text and "no answers were recorded" in text
    assert rep.spoken_feedback(r)


def test_text_mode_says_not_measured() -> None:
    session = write_typed(SessionStore(), [
        ("greeting", "Hi, I'm Jane, um, a data engineer."),
        ("discussion", "I built a data pipeline, you know, and I think it was kind of fine."),
    ])
    r = analyse(session)
    assert not r.spoken
    for a in r.answers:
        assert a.seconds is None and a.wpm is None and a.pace is Verdict.NOT_MEASURED
        assert a.filled_pauses is None and a.long_pauses is None and a.start_delay_s is None
    assert r.fillers.count == 2 and r.hedges.count == 2  # words are still counted
    assert r.talk.user_share is None and r.start_delay.median_s is None
    text = rep.render_text(r)
    assert "A typed session" in text
    assert "Pace                   not measured" in text
    assert "wpm" not in " ".join(rep.summary_lines(r))


def test_cut_short_session_analyses_complete_turns(coach_home: Path) -> None:
    crafted = write_spoken(SessionStore(), TURNS[:3], end=None)
    path = crafted.session.folder / "transcript.jsonl"
    with path.open("ab") as f:  # the crash cut the next answer's line
        f.write(b'{"type":"answer","stage":"discussion","text":"And then')
    session = SessionStore().load("last")
    r = analyse(session, audio_loader=no_audio)
    assert r.cut_short and r.end_reason == "interrupted"
    assert len(r.answers) == 3 and r.answers[2].wpm == pytest.approx(151.8)
    assert any("cut short" in w for w in r.warnings)
    assert not r.questions.reached and r.wrap_up.reached is False
    assert "cut short: its 3 complete turns are analysed" in rep.render_text(r)
    assert "cut short" in rep.summary_lines(r)[0]


def test_render_and_summary_lines(spoken: Crafted) -> None:
    r = analyse(spoken.session, audio_loader=no_audio)
    text = rep.render_text(r)
    for needle in ("Top tips", "1. turn 3 (discussion)", "Pace", f"{r.pace.wpm:.0f} wpm",
                   "Fillers", "Hedges", "Filled pauses (audio)", "Long pauses",
                   "Start after question", "Talk ratio", "Your questions", "Wrap-up",
                   "Key points", "the data pipeline (turn 3, discussion)", "Turns"):
        assert needle in text, needle
    lines = rep.summary_lines(r)
    assert lines[-1] == f"  Full report: voice-coach report {r.session_id}"
    assert any("turn 3 (discussion)" in line for line in lines)
    said = rep.spoken_feedback(r)
    assert said.startswith("Thanks for practising, Jane")
    assert 2 <= said.count(".") <= 3
    assert "turn" not in said
