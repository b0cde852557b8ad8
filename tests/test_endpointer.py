"""The endpointer state machine, fed VAD flags frame by frame (no audio devices, no clocks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from voice_coach.listening.endpointer import (
    EndpointConfig,
    Endpointer,
    EndpointEvent,
    EndpointState,
    EndReason,
    EventKind,
    required_silence,
)

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def frames_for(seconds: float) -> int:
    """Number of 30 ms frames that last at least ``seconds``."""
    return math.ceil(seconds / FRAME_S - 1e-9)


def voiced_frame(value: int = 1000) -> np.ndarray:
    """A recognisable non-zero frame (its value marks where it came from)."""
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


SILENT = np.zeros(FRAME_SAMPLES, dtype=np.int16)
WARM = EndpointConfig(cold_start_silence=0.0)
"""The defaults without a new user's long first wait (tested on its own), for tests of the
waits and gates that start from a fresh endpointer."""


def feed(ep: Endpointer, pattern: str | list[bool], value: int = 1000) -> list[EndpointEvent]:
    """Feed flags ('x' voiced, '.' silent); voiced frames carry ``value``."""
    flags = [c == "x" for c in pattern] if isinstance(pattern, str) else pattern
    events: list[EndpointEvent] = []
    for flag in flags:
        events += ep.process(voiced_frame(value) if flag else SILENT, flag)
    return events


def kinds(events: list[EndpointEvent]) -> list[EventKind]:
    return [e.kind for e in events]


def test_single_click_is_not_speech() -> None:
    ep = Endpointer()
    assert feed(ep, "....x" + "." * 10) == []
    assert ep.state is EndpointState.QUIET
    assert ep.speech_start is None


def test_two_clicks_in_window_not_enough_three_are() -> None:
    ep = Endpointer()
    assert feed(ep, "..x....x..") == []
    assert ep.state is EndpointState.STARTING
    events = feed(ep, "x")
    assert kinds(events) == [EventKind.SPEECH_START]
    # Speech is dated from the first voiced frame of the window, not the third.
    assert events[0].time == pytest.approx(2 * FRAME_S)
    assert ep.state is EndpointState.SPEAKING


def test_pre_roll_is_kept() -> None:
    ep = Endpointer()
    feed(ep, [False] * 40)  # 1.2 s of silence (marked by value 0)
    events = feed(ep, "xxx", value=1234)
    assert kinds(events) == [EventKind.SPEECH_START]
    start = 40 * FRAME_S
    assert events[0].time == pytest.approx(start)
    audio = ep.utterance()
    pre = frames_for(0.6)
    assert len(audio) == (pre + 3) * FRAME_SAMPLES
    assert np.all(audio[: pre * FRAME_SAMPLES] == 0)
    assert np.all(audio[pre * FRAME_SAMPLES :] == 1234)
    assert ep.utterance_start == pytest.approx(start - pre * FRAME_S)


def test_pre_roll_shorter_at_stream_start() -> None:
    ep = Endpointer()
    feed(ep, "xxx")
    assert len(ep.utterance()) == 3 * FRAME_SAMPLES
    assert ep.utterance_start == 0.0


def test_one_second_pause_is_not_an_endpoint_by_default() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30)
    events = feed(ep, [False] * frames_for(1.0))
    assert kinds(events) == [EventKind.SILENCE_START]
    assert ep.state is EndpointState.STOPPING
    events = feed(ep, "xx")
    assert kinds(events) == [EventKind.SPEECH_RESUME]
    assert ep.state is EndpointState.SPEAKING


def test_endpoint_after_default_silence() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30)
    events = feed(ep, [False] * frames_for(1.2))
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.ENDPOINT]
    end = events[-1]
    assert end.reason is EndReason.SILENCE
    assert end.time == pytest.approx(30 * FRAME_S + 1.2, abs=FRAME_S)
    assert ep.last_voice_time == pytest.approx(30 * FRAME_S)
    assert ep.state is EndpointState.ENDED
    # Utterance holds speech plus the trailing silence; a short noise after the end is kept
    # aside (not a barge-in) and does not join the answer.
    n = len(ep.utterance())
    assert feed(ep, "xxx...") == []
    assert len(ep.utterance()) == n == (30 + frames_for(1.2)) * FRAME_SAMPLES
    assert len(ep.after_end()) == 6 * FRAME_SAMPLES


def test_silence_start_time_is_first_silent_frame() -> None:
    ep = Endpointer()
    feed(ep, "x" * 10)
    events = feed(ep, "..")
    assert kinds(events) == [EventKind.SILENCE_START]
    assert events[0].time == pytest.approx(10 * FRAME_S)


def test_trailing_and_waits_longer() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30)
    ep.set_hint("I worked on the billing system and")
    assert ep.silence_needed() == pytest.approx(2.5)
    events = feed(ep, [False] * frames_for(2.4))
    assert EventKind.ENDPOINT not in kinds(events)
    events = feed(ep, [False] * frames_for(0.15))
    assert kinds(events) == [EventKind.ENDPOINT]


def test_finished_sentence_ends_sooner() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30)
    ep.set_hint("I led the migration to the new database last year.")
    events = feed(ep, [False] * frames_for(0.8))
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.ENDPOINT]


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("", 1.2),
        ("so um", 4.0),  # nothing but fillers: the user is thinking (hold)
        ("I did the backend, um", 2.5),
        ("because,", 2.5),
        ("I like it.", 1.2),  # too short to count as finished
        ("I think that went really well overall.", 0.7),
        # engines without punctuation: finished unless it ends on a cue
        ("I think that went really well overall", 0.7),
        ("I think that went really well, overall", 1.2),  # punctuated, mid-sentence
        ("we did the whole thing and.", 0.7),
        ("Yes, and I also tried the other approach, THE", 2.5),
    ],
)
def test_required_silence(hint: str, expected: float) -> None:
    assert required_silence(hint, EndpointConfig()) == pytest.approx(expected)


def test_expected_length_keeps_waiting_through_a_thinking_pause() -> None:
    first_sentence = "At my last job I built a data pipeline for sales reporting."
    assert required_silence(first_sentence, EndpointConfig()) == pytest.approx(0.7)
    # A discussion question wants a developed answer: one sentence is not the end yet.
    assert required_silence(first_sentence, EndpointConfig(), expected_words=25) == (
        pytest.approx(2.5))


def test_lone_voiced_frame_in_pause_does_not_resume_or_reset_timer() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30)
    events = feed(ep, "." * 20 + "x" + "." * 19)  # 1.2 s pause with one click inside
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.ENDPOINT]


def test_resume_time_is_first_voiced_frame_of_the_run() -> None:
    ep = Endpointer()
    feed(ep, "x" * 10 + "." * 10)
    events = feed(ep, "xx")
    assert kinds(events) == [EventKind.SPEECH_RESUME]
    assert events[0].time == pytest.approx(20 * FRAME_S)
    assert ep.last_voice_time == pytest.approx(22 * FRAME_S)


def test_no_speech_timeout() -> None:
    ep = Endpointer()
    events = feed(ep, [False] * (frames_for(8.0) - 1))
    assert events == []
    events = feed(ep, [False] * 2)
    assert kinds(events) == [EventKind.NO_SPEECH]
    assert events[0].time == pytest.approx(8.0, abs=FRAME_S)
    assert ep.state is EndpointState.ENDED
    assert len(ep.utterance()) == 0


def test_no_speech_not_emitted_once_speaking() -> None:
    ep = Endpointer(EndpointConfig(no_speech_timeout=1.0, end_silence=5.0))
    feed(ep, "." * 20 + "xxx")
    assert EventKind.NO_SPEECH not in kinds(feed(ep, "." * 60))


def test_max_length() -> None:
    ep = Endpointer(EndpointConfig(max_length=3.0))
    events = feed(ep, [True] * frames_for(3.0))
    assert kinds(events) == [EventKind.SPEECH_START, EventKind.ENDPOINT]
    assert events[-1].reason is EndReason.MAX_LENGTH
    assert events[-1].time == pytest.approx(3.0, abs=FRAME_S)


def test_going_on_after_the_longest_answer_may_go_on_as_long_again() -> None:
    """Once reopened, an answer already past its longest ended at its next frame, and each
    word stopped the reply anew (seen live with a café's talk keeping the answer open)."""
    ep = Endpointer(EndpointConfig(max_length=3.0))
    feed(ep, [True] * frames_for(3.0))
    barge_in = feed(ep, [True] * 4)
    assert kinds(barge_in) == [EventKind.BARGE_IN]
    assert feed(ep, [True] * frames_for(2.5)) == []
    end = feed(ep, [True] * frames_for(0.7))[0]
    assert end.kind is EventKind.ENDPOINT and end.reason is EndReason.MAX_LENGTH
    assert end.time == pytest.approx(barge_in[0].time + 3.0, abs=FRAME_S)


def test_reset_starts_a_new_turn() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 10 + "." * 50)
    assert ep.state is EndpointState.ENDED
    ep.set_hint("and")
    ep.reset()
    assert ep.state is EndpointState.QUIET
    assert ep.now == 0.0
    assert ep.speech_start is None and ep.last_voice_time is None
    assert len(ep.utterance()) == 0
    assert ep.silence_needed() == pytest.approx(1.2)
    assert kinds(feed(ep, "xxx")) == [EventKind.SPEECH_START]


def test_events_are_deterministic_for_a_replayed_stream() -> None:
    rng = np.random.default_rng(3)
    flags = list(rng.random(2000) < 0.4)
    a, b = Endpointer(), Endpointer()
    assert feed(a, flags) == feed(b, flags)


def test_talk_far_below_the_voice_in_a_pause_does_not_reopen_it() -> None:
    """Silero calls background talkers speech: their words must not keep a pause open."""
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, end_silence=1.0))
    feed(ep, "x" * 30, value=3000)
    events = feed(ep, "." * 10 + "x" * 10 + "." * 5 + "x" * 10, value=300)  # -20 dB
    assert kinds(events)[0] is EventKind.SILENCE_START
    assert EventKind.SPEECH_RESUME not in kinds(events)
    assert ep.state is EndpointState.ENDED  # 1.05 s of pause, talk behind the user or not


def test_talk_straight_after_the_last_word_is_a_pause_from_that_word() -> None:
    """Background talk with no gap after the user's last word: the pause began at the word."""
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, end_silence=1.0))
    feed(ep, "x" * 30, value=3000)
    last_word = ep.now
    events = feed(ep, "x" * frames_for(0.9), value=300)
    assert [(e.kind, round(e.time, 2)) for e in events] == [
        (EventKind.SILENCE_START, round(last_word, 2))]
    assert ep.last_voice_time == pytest.approx(last_word)
    assert kinds(feed(ep, "x" * frames_for(0.2), value=300)) == [EventKind.ENDPOINT]


def _answered(ep: Endpointer, value: int) -> None:
    """One whole answer at ``value``, ended, and the next turn begun."""
    feed(ep, "x" * 30, value=value)
    feed(ep, "." * frames_for(ep.config.end_silence + 0.1))
    assert ep.state is EndpointState.ENDED
    ep.reset()


def test_talk_far_below_the_users_voice_in_the_session_does_not_start_an_answer() -> None:
    """In a cafe, talk before the user's first word started the answer and set their voice
    level at the talk's: it then held the pause open (no reply within 6 s of the last word)."""
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, end_silence=1.0))
    assert ep.session_level is None
    _answered(ep, 3000)
    assert ep.session_level == pytest.approx(69.5, abs=0.1)
    assert feed(ep, "x" * 20, value=300) == []  # -20 dB: someone else
    assert ep.state is EndpointState.QUIET
    events = feed(ep, "x" * 3, value=1500)  # the user, 6 dB softer than before
    assert kinds(events) == [EventKind.SPEECH_START]


def test_the_level_that_starts_an_answer_is_the_quietest_of_the_users_last_answers() -> None:
    """Two readers 17 dB apart taking turns (bench/live_pauses.py) were both the user."""
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, end_silence=1.0))
    for value in (3000, 1000, 3000):
        _answered(ep, value)
    assert kinds(feed(ep, "x" * 3, value=400)) == [EventKind.SPEECH_START]  # -17.5 dB, -8 dB
    events = feed(ep, "x" * 30 + "." * 10 + "x" * 2, value=400)
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.SPEECH_RESUME]
    turned_off = Endpointer(EndpointConfig(cold_start_silence=0.0, start_level_db=0))
    _answered(turned_off, 3000)
    assert kinds(feed(turned_off, "x" * 3, value=100)) == [EventKind.SPEECH_START]


def test_a_user_far_quieter_than_before_is_heard_again_after_no_answer() -> None:
    """The session's level is forgotten when only quiet speech came: maybe it was the user."""
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, end_silence=1.0, no_speech_timeout=2.0))
    _answered(ep, 3000)
    assert kinds(feed(ep, "x" * frames_for(2.0), value=300)) == [EventKind.NO_SPEECH]
    assert ep.session_level is None
    ep.reset()
    assert kinds(feed(ep, "x" * 3, value=300)) == [EventKind.SPEECH_START]


def test_a_new_users_first_answer_starts_at_any_level() -> None:
    ep = Endpointer()
    assert kinds(feed(ep, "x" * 3, value=300)) == [EventKind.SPEECH_START]


def test_a_soft_stretch_between_words_is_no_pause_and_the_user_resumes_at_their_level() -> None:
    ep = Endpointer(EndpointConfig(end_silence=1.0))
    feed(ep, "x" * 30, value=3000)
    assert feed(ep, "x" * frames_for(0.4), value=300) == []  # a dip between words
    assert ep.state is EndpointState.SPEAKING
    feed(ep, "x" * 5, value=3000)
    events = feed(ep, "." * 10 + "x" * 2, value=1500)  # a pause, then the user 6 dB softer
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.SPEECH_RESUME]


def test_a_user_who_steps_back_slowly_stays_the_user() -> None:
    """The voice level is the recent one: 3 dB quieter every few seconds is still the user."""
    ep = Endpointer(EndpointConfig(end_silence=1.0))
    value = 8000
    for _ in range(6):  # -18 dB in all, over ~18 s of speech
        feed(ep, "x" * 100, value=value)
        value = int(value / 1.41)
    events = feed(ep, "." * 10 + "x" * 2, value=value)
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.SPEECH_RESUME]


def test_the_level_rule_in_pauses_can_be_turned_off() -> None:
    ep = Endpointer(EndpointConfig(end_silence=1.0, pause_level_db=0))
    feed(ep, "x" * 30, value=3000)
    events = feed(ep, "." * 10 + "x" * 2, value=300)
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.SPEECH_RESUME]
