"""Turn-taking evidence in the endpointer: model verdict, hold cues, barge-in and patience."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_endpointer import FRAME_S, WARM, feed, frames_for, kinds
from voice_coach.audio.format import FRAME_SAMPLES
from voice_coach.listening.endpointer import (
    EndpointConfig,
    Endpointer,
    EndpointState,
    EndReason,
    EventKind,
    Verdict,
    judge,
    required_silence,
)

FINISHED = "At my last job I built a data pipeline for sales reporting."
SHORT = EndpointConfig().finished_silence
"""The pause that ends an answer that sounds finished."""


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("Hmm, let me think.", Verdict.HOLD),
        ("That's a good question, um", Verdict.HOLD),
        ("Give me a second.", Verdict.HOLD),
        ("hmm", Verdict.HOLD),
        ("Good question. We moved the whole reporting stack to a new warehouse.",
         Verdict.FINISHED),  # the hold phrase is not at the end: this is an answer
        # "well" at the end is no hold cue
        ("I think the project went really well", Verdict.FINISHED),
        (FINISHED, Verdict.FINISHED),
        ("I worked on the billing system and", Verdict.THINKING),
        ("I like it.", Verdict.NEUTRAL),
        ("", Verdict.NEUTRAL),
    ],
)
def test_judge_words(hint: str, expected: Verdict) -> None:
    assert judge(hint, EndpointConfig()) is expected


def test_model_and_words_must_agree_for_the_short_wait() -> None:
    cfg = EndpointConfig(words_overrule_model=0.0)  # (on, see test_long_complete_answer...)
    assert required_silence(FINISHED, cfg, probability=0.9) == pytest.approx(SHORT)
    # Sounds unfinished (mid-thought intonation): wait as for "and".
    assert required_silence(FINISHED, cfg, probability=0.2) == pytest.approx(2.5)
    # No words yet: the model alone can lengthen the wait, not shorten it below neutral.
    assert required_silence("", cfg, probability=0.1) == pytest.approx(2.5)
    assert required_silence("", cfg, probability=0.99) == pytest.approx(1.2)


def test_short_for_the_question_waits_the_stage_thinking_pause() -> None:
    cfg = EndpointConfig()
    assert required_silence(FINISHED, cfg, expected_words=25, probability=0.95,
                            thinking=3.5) == pytest.approx(3.5)
    long_answer = FINISHED + " We cut the nightly run from four hours to twenty minutes."
    assert required_silence(long_answer, cfg, expected_words=20, probability=0.95,
                            thinking=3.5) == pytest.approx(SHORT)


def test_hold_cue_waits_longest() -> None:
    cfg = EndpointConfig()
    assert required_silence("Good question. Let me think.", cfg, thinking=3.5) == (
        pytest.approx(5.0))


def test_turn_check_is_asked_once_per_pause_and_its_verdict_is_used() -> None:
    ep = Endpointer(WARM)
    ep.use_turn_model()
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)
    events = feed(ep, ".......")
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.TURN_CHECK]
    assert events[1].time == pytest.approx(30 * FRAME_S + 0.2, abs=FRAME_S)
    # Until the verdict comes, the words alone never end the answer before the neutral pause.
    assert ep.silence_needed() == pytest.approx(1.2)
    ep.set_turn_probability(0.93)
    assert ep.verdict() is Verdict.FINISHED
    events = feed(ep, [False] * frames_for(SHORT - 0.18))
    assert kinds(events) == [EventKind.ENDPOINT]
    assert events[0].time == pytest.approx(30 * FRAME_S + SHORT, abs=FRAME_S)


def test_unfinished_sound_keeps_waiting_and_resume_clears_the_verdict() -> None:
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, words_overrule_model=0.0))
    ep.use_turn_model()
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)
    feed(ep, ".......")
    ep.set_turn_probability(0.1)
    assert kinds(feed(ep, [False] * frames_for(2.0))) == []
    assert kinds(feed(ep, "xx")) == [EventKind.SPEECH_RESUME]
    assert ep.probability is None
    events = feed(ep, "." * 7)
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.TURN_CHECK]


def test_barge_in_reopens_the_same_answer_and_raises_patience() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30, value=111)
    ep.set_hint(FINISHED)
    events = feed(ep, [False] * frames_for(SHORT))
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.ENDPOINT]
    first_end = events[-1].time
    # The user was only thinking: 1.5 s after the last word they go on.
    gap_frames = frames_for(1.5) - frames_for(SHORT)
    events = feed(ep, [False] * gap_frames + [True] * 4, value=222)
    assert kinds(events) == [EventKind.BARGE_IN]
    resumed = events[0].time
    assert resumed == pytest.approx(30 * FRAME_S + 1.5, abs=FRAME_S)
    assert ep.state is EndpointState.SPEAKING and ep.end_time is None
    assert ep.patience == pytest.approx(1.5 + 0.4, abs=FRAME_S)
    assert ep.barge_ins == 1
    # One answer, one continuous recording: nothing between the end and the resume is lost.
    audio = ep.utterance()
    assert len(audio) == round(ep.now / FRAME_S) * FRAME_SAMPLES
    assert np.all(audio[-4 * FRAME_SAMPLES :] == 222)
    assert first_end < resumed
    # An answer barely longer than the one that was cut now needs the user's own pause plus
    # a margin: it is not yet as long as this user's answers (1.25x the words at the cut)...
    ep.set_hint(FINISHED + " It worked.")
    assert ep.verdict() is Verdict.NEUTRAL
    assert ep.silence_needed() == pytest.approx(1.9, abs=FRAME_S)
    # ...while one that is long enough and sounds finished ends after the short wait: the
    # learnt patience does not slow down the reply to a finished answer.
    ep.set_hint(FINISHED + " And we kept it running.")
    assert ep.verdict() is Verdict.FINISHED
    assert ep.silence_needed() == pytest.approx(SHORT, abs=FRAME_S)
    events = feed(ep, [False] * frames_for(SHORT + 0.05))
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.ENDPOINT]
    # The old behaviour (patience floors every wait) stays available.
    slow = Endpointer(EndpointConfig(cold_start_silence=0.0, patience_floors_finished=True))
    slow.set_patience(1.9)
    slow.set_hint(FINISHED)
    assert slow.silence_needed() == pytest.approx(1.9)


def _ended(ep: Endpointer) -> None:
    """An answer of 30 voiced frames (value 111), finished: the endpoint."""
    feed(ep, "x" * 30, value=111)
    ep.set_hint(FINISHED)
    assert kinds(feed(ep, [False] * frames_for(SHORT)))[-1] is EventKind.ENDPOINT


def _frame(value: int) -> np.ndarray:
    return np.full(FRAME_SAMPLES, value, np.int16)


def _after(ep: Endpointer) -> list[int]:
    """The value of each frame of the answer after its endpoint."""
    start = 30 + frames_for(SHORT)
    return ep.utterance()[start * FRAME_SAMPLES :].reshape(-1, FRAME_SAMPLES)[:, 0].tolist()


def test_the_replys_echo_before_a_barge_in_joins_the_answer_as_silence() -> None:
    ep = Endpointer(WARM)
    _ended(ep)
    # 0.3 s of nothing before the reply sounds (thinking: no echo possible), then 1.5 s of
    # its echo alone (about as loud as expected), which the gate calls no user...
    for _ in range(10):
        assert ep.process(_frame(5), False) == []
    for i in range(50):
        assert ep.process(_frame(333), False, echo_excess_db=-4.0 + i % 3) == []
    # ...then the user goes on over it, well above the echo, but for 0.45 s (with a short
    # dip, a soft consonant) not by the gate's margin: it hears them late.
    for i in range(15):
        assert ep.process(_frame(444), False, echo_excess_db=-5.0 if i == 7 else 9.0) == []
    events = [e for _ in range(4) for e in ep.process(_frame(555), True, echo_excess_db=20.0)]
    assert kinds(events) == [EventKind.BARGE_IN]
    # The timeline is whole: one frame for every frame fed.
    assert len(ep.utterance()) == round(ep.now / FRAME_S) * FRAME_SAMPLES
    kept = frames_for(ep.config.barge_in_pre_roll)
    # No echo possible: kept as it was. The echo alone: silence, but for the short pre-roll
    # before the user's onset (found back from the barge-in). The user: all of it.
    assert _after(ep) == [5] * 10 + [0] * (50 - kept) + [333] * kept + [444] * 15 + [555] * 4
    assert np.all(ep.utterance()[: 30 * FRAME_SAMPLES] == 111)


def test_a_pause_of_the_user_under_the_echo_does_not_end_the_look_back() -> None:
    ep = Endpointer(WARM)
    _ended(ep)
    for _ in range(20):
        ep.process(_frame(333), False, echo_excess_db=-2.0)
    # The user: a word, a comma's pause (only the echo is heard), more words, the barge-in.
    for excess in [9.0] * 10 + [-1.0] * 10 + [9.0] * 10:
        ep.process(_frame(444), False, echo_excess_db=excess)
    assert kinds(feed(ep, "xxxx", value=555)) == [EventKind.BARGE_IN]
    kept = frames_for(ep.config.barge_in_pre_roll)
    assert _after(ep) == [0] * (20 - kept) + [333] * kept + [444] * 30 + [555] * 4


def test_without_echo_the_frames_before_a_barge_in_are_kept() -> None:
    ep = Endpointer(WARM)
    feed(ep, "x" * 30, value=111)
    ep.set_hint(FINISHED)
    feed(ep, [False] * frames_for(SHORT))
    for _ in range(40):  # with headphones nothing is echo: a quiet room
        ep.process(np.full(FRAME_SAMPLES, 7, np.int16), False)
    assert kinds(feed(ep, "xxxx", value=222)) == [EventKind.BARGE_IN]
    audio = ep.utterance()
    assert np.count_nonzero(audio == 0) == frames_for(SHORT) * FRAME_SAMPLES  # the pause itself
    assert np.all(audio[-4 * FRAME_SAMPLES :] == 222)


def test_patience_survives_reset_and_is_capped() -> None:
    ep = Endpointer()
    ep.set_patience(9.0)
    assert ep.patience == pytest.approx(3.8)  # above a 3 s thinking pause plus the VAD's lag
    ep.reset()
    assert ep.patience == pytest.approx(3.8)
    ep.set_hint(FINISHED.rstrip(".") + ",")  # mid-sentence: the thinking wait, floored
    assert ep.silence_needed() == pytest.approx(3.8)


def test_barge_in_can_be_turned_off() -> None:
    ep = Endpointer(EndpointConfig(cold_start_silence=0.0, barge_in_voiced=0))
    feed(ep, "x" * 30 + "." * 60)
    assert ep.state is EndpointState.ENDED
    assert feed(ep, "x" * 20) == []
    assert len(ep.after_end()) == 0


def test_no_barge_in_after_no_speech() -> None:
    ep = Endpointer(EndpointConfig(no_speech_timeout=1.0))
    assert kinds(feed(ep, "." * 40)) == [EventKind.NO_SPEECH]
    assert feed(ep, "x" * 20) == []


def test_no_speech_timer_restarts_when_the_question_ends() -> None:
    ep = Endpointer(EndpointConfig(no_speech_timeout=1.0))
    feed(ep, "." * 30)  # 0.9 s while the question is still playing
    ep.restart_no_speech_timer()
    assert feed(ep, "." * 30) == []
    assert kinds(feed(ep, "." * 4)) == [EventKind.NO_SPEECH]


def test_stage_thinking_pause_from_expect() -> None:
    ep = Endpointer()
    ep.expect(25, thinking=3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)
    assert ep.verdict() is Verdict.THINKING
    assert kinds(feed(ep, [False] * frames_for(3.4))) == [EventKind.SILENCE_START]
    assert kinds(feed(ep, ".....")) == [EventKind.ENDPOINT]


def test_patience_is_stored_privately_for_the_next_session(tmp_path: Path) -> None:
    import os

    from voice_coach.session.patience import load_patience, save_patience

    path = tmp_path / "home" / "turn-taking.json"
    ep = Endpointer()
    ep.set_patience(2.1, min_words=18)
    save_patience(ep, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    fresh = Endpointer()
    load_patience(fresh, path)
    assert fresh.patience == pytest.approx(2.1) and fresh.min_words == 18
    for damaged in ("not json", '{"answers": 1e999}', '{"min_words": Infinity}',
                    "[" * 100_000, '{"patience": "slow"}', "[]"):
        path.write_text(damaged)
        other = Endpointer()
        load_patience(other, path)  # a damaged file is ignored, not fatal
        assert other.patience == 0.0 and other.answers == 0
    # A user who answered without ever pausing long is stored as heard: not new next time.
    quick = Endpointer()
    quick.expect(1)
    feed(quick, "x" * 10)
    quick.set_hint(FINISHED)
    feed(quick, "." * 110)
    assert quick.patience == 0.0 and quick.min_words == 0
    save_patience(quick, path)
    returning = Endpointer()
    load_patience(returning, path)
    returning.expect(1)
    feed(returning, "x" * 10)
    returning.set_hint(FINISHED)
    assert returning.silence_needed() == pytest.approx(returning.config.finished_silence)


def test_model_unfinished_can_mean_neutral_for_a_complete_sentence() -> None:
    cfg = EndpointConfig(words_overrule_model=0.0)
    assert judge(FINISHED, cfg, probability=0.2) is Verdict.THINKING
    soft = EndpointConfig(model_unfinished_thinking=False, words_overrule_model=0.0)
    assert judge(FINISHED, soft, probability=0.2) is Verdict.NEUTRAL
    assert judge(FINISHED, soft, expected_words=25, probability=0.2) is Verdict.THINKING
    assert judge(FINISHED.rstrip(".") + ",", soft, probability=0.2) is Verdict.THINKING


LONG = ("I led the move of our reporting to a new warehouse last spring. "
        "It took four months and we cut the nightly run from hours to minutes.")
"""A complete answer of 26 words."""


def test_long_complete_answer_overrules_an_unfinished_sound() -> None:
    cfg = EndpointConfig()
    # Long enough for the question and ending a sentence: finished, whatever the model hears.
    assert judge(LONG, cfg, expected_words=25, probability=0.05) is Verdict.FINISHED
    assert required_silence(LONG, cfg, 25, probability=0.05) == pytest.approx(SHORT)
    # The model still decides when the words are not that strong.
    assert judge(LONG, cfg, expected_words=30, probability=0.05) is Verdict.THINKING
    assert judge(LONG.rstrip(".") + ",", cfg, 20, probability=0.9) is Verdict.THINKING
    assert judge(LONG.rstrip("."), cfg, 20, probability=0.05) is Verdict.THINKING  # no full stop
    # ...and when this user's answers need more words (learnt from a barge-in).
    assert judge(LONG, cfg, 20, probability=0.05, min_words=30) is Verdict.THINKING
    assert judge(LONG, cfg, 20, probability=0.9, min_words=30) is Verdict.NEUTRAL
    # A higher factor asks for more words than the question wants; 0 lets the model veto.
    assert judge(LONG, EndpointConfig(words_overrule_model=1.5), 20,
                 probability=0.05) is Verdict.THINKING
    assert judge(LONG, EndpointConfig(words_overrule_model=0.0), 6,
                 probability=0.05) is Verdict.THINKING


def test_a_three_second_pause_after_a_barge_in_is_waited_for() -> None:
    """The learnt patience after a 3 s pause (3 s + 0.4 s margin) is no longer capped below
    the pause: the same pause later in the session does not end the answer."""
    ep = Endpointer(WARM)
    ep.expect(0, thinking=3.5)
    feed(ep, "x" * 30)
    ep.set_hint("I built it.")
    feed(ep, [False] * frames_for(1.3))  # NEUTRAL (short): ended after 1.2 s
    assert ep.state is EndpointState.ENDED
    feed(ep, [False] * frames_for(1.7))
    assert kinds(feed(ep, "x" * 6)) == [EventKind.BARGE_IN]  # went on after ~3 s
    assert ep.patience == pytest.approx(3.0 + 0.4, abs=3 * FRAME_S)
    ep.set_hint("I built it. Twice.")  # still short: the neutral wait, floored by patience
    feed(ep, "x" * 10)
    assert kinds(feed(ep, [False] * frames_for(3.0))) == [EventKind.SILENCE_START]
    assert ep.state is EndpointState.STOPPING


def test_no_speech_timer_can_start_later_in_the_stream() -> None:
    ep = Endpointer(EndpointConfig(no_speech_timeout=1.0))
    ep.restart_no_speech_timer(1.5)  # listening began 1.5 s into the frames still queued
    assert feed(ep, "." * 80) == []  # 2.4 s
    assert kinds(feed(ep, "." * 4)) == [EventKind.NO_SPEECH]


def test_talk_far_below_the_users_voice_is_no_barge_in() -> None:
    """Background talkers (a cafe) are speech to the VAD, but ~20 dB below the user."""
    ep = Endpointer(WARM)
    feed(ep, "x" * 30, value=3000)
    ep.set_hint(FINISHED)
    feed(ep, [False] * frames_for(SHORT))
    assert ep.state is EndpointState.ENDED
    assert feed(ep, "x" * 20, value=300) == []  # -20 dB: someone else
    assert ep.state is EndpointState.ENDED and ep.barge_ins == 0
    # The user going on a little softer than before (-6 dB) is still the user.
    assert kinds(feed(ep, "x" * 4, value=1500)) == [EventKind.BARGE_IN]


def test_level_gate_waits_to_know_the_voice_and_can_be_turned_off() -> None:
    short = Endpointer(WARM)
    feed(short, "x" * 5, value=3000)  # a one-word answer: too little to know the voice by
    feed(short, [False] * frames_for(1.3))
    assert short.state is EndpointState.ENDED
    assert kinds(feed(short, "x" * 4, value=300)) == [EventKind.BARGE_IN]
    off = Endpointer(EndpointConfig(cold_start_silence=0.0, barge_in_level_db=0))
    feed(off, "x" * 30, value=3000)
    off.set_hint(FINISHED)
    feed(off, [False] * frames_for(SHORT))
    assert kinds(feed(off, "x" * 4, value=300)) == [EventKind.BARGE_IN]


def test_a_new_user_needs_a_longer_answer_to_sound_finished() -> None:
    """The first answers of a session (greeting, first small talk) want 1.6x the words."""
    ep = Endpointer()
    ep.expect(8)
    assert ep.expected_words == 13
    ep.set_hint(FINISHED)  # 12 words: enough for the question, not yet for a new user
    assert ep.verdict() is Verdict.THINKING
    for _ in range(2):  # two answers heard
        feed(ep, "x" * 10)
        ep.reset()
    ep.expect(8)
    feed(ep, "x" * 10)  # the third answer begins
    ep.set_hint(FINISHED)
    assert ep.expected_words == 8 and ep.verdict() is Verdict.FINISHED
    known = Endpointer()
    known.set_patience(2.0, 12)  # heard in an earlier session: not new
    known.expect(8)
    assert known.expected_words == 8


def test_a_new_users_first_answer_waits_out_pauses_up_to_the_cold_start_silence() -> None:
    """Nothing is known of a new user's pauses: a finished-sounding first answer waits 3 s."""
    config = EndpointConfig()
    ep = Endpointer(config)
    ep.expect(1)
    feed(ep, "x" * 10)  # the first answer begins
    ep.set_hint(FINISHED)
    assert ep.verdict() is Verdict.FINISHED
    assert ep.silence_needed() == pytest.approx(config.cold_start_silence) == pytest.approx(3.0)
    events = feed(ep, "." * 90)  # 2.7 s of silence: maybe a thinking pause, not the end yet
    assert EventKind.ENDPOINT not in kinds(events)
    assert EventKind.ENDPOINT in kinds(feed(ep, "." * 12))
    ep.reset()
    ep.expect(1)
    feed(ep, "x" * 10)  # the second answer: the short wait again
    ep.set_hint(FINISHED)
    assert ep.silence_needed() == pytest.approx(config.finished_silence)
    off = Endpointer(EndpointConfig(cold_start_silence=0.0))
    off.expect(1)
    feed(off, "x" * 10)
    off.set_hint(FINISHED)
    assert off.silence_needed() == pytest.approx(config.finished_silence)


def test_a_command_or_a_sound_without_words_does_not_make_a_new_user_known() -> None:
    """ "Pause" said first (or a cough): the first real answer still gets the long wait."""
    ep = Endpointer()
    ep.expect(1)
    feed(ep, "x" * 10)
    ep.set_hint("Pause.")
    feed(ep, "." * 110)
    ep.not_an_answer()
    ep.not_an_answer()  # counted back once only
    assert ep.answers == 0
    ep.reset()
    ep.expect(1)
    feed(ep, "x" * 10)
    ep.set_hint(FINISHED)
    assert ep.silence_needed() == pytest.approx(ep.config.cold_start_silence)
    ep.reset()
    ep.not_an_answer()  # nothing heard in this turn: nothing to take back
    assert ep.answers == 1


def test_a_pause_waits_for_words_still_being_decoded() -> None:
    """No text yet because the decode lags (busy machine, audio fed faster than real time):
    the short waits do not apply until the words are in."""
    ep = Endpointer(WARM)
    ep.expect(25, 3.5)
    feed(ep, "x" * 60)
    feed(ep, ".....")
    ep.set_hint("", decoding=True)
    assert ep.silence_needed() == pytest.approx(3.5)
    assert EventKind.ENDPOINT not in kinds(feed(ep, "." * 40))  # 1.35 s: no cut
    ep.set_hint(" ".join([FINISHED] * 4))  # decoded: finished, long enough for a new user
    assert ep.silence_needed() == pytest.approx(ep.config.finished_silence)
    assert kinds(feed(ep, "."))[-1] is EventKind.ENDPOINT


def test_a_user_heard_in_an_earlier_session_is_not_new() -> None:
    """Stored patience, or only answers heard before: no cold-start wait."""
    for known_as in ((0.5, 1, False), (0.0, 0, True)):
        known = Endpointer()
        known.set_patience(*known_as)
        known.expect(1)
        feed(known, "x" * 10)
        known.set_hint(FINISHED)
        assert known.silence_needed() == pytest.approx(known.config.finished_silence)
    new = Endpointer()
    new.set_patience(0.0, 0, False)  # a file with nothing in it: still new
    new.expect(1)
    feed(new, "x" * 10)
    new.set_hint(FINISHED)
    assert new.silence_needed() == pytest.approx(new.config.cold_start_silence)


def test_a_pause_after_a_sentence_that_the_user_went_on_from_teaches_patience() -> None:
    """Waited through (short for the question) and went on: a thinker, like a barge-in."""
    ep = Endpointer()
    ep.expect(25, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)  # 12 words: short for the question, so the wait is 3.5 s
    events = feed(ep, [False] * frames_for(1.5) + [True] * 3)
    assert kinds(events) == [EventKind.SILENCE_START, EventKind.SPEECH_RESUME]
    assert ep.patience == pytest.approx(1.5 + 0.4, abs=2 * FRAME_S)
    assert ep.min_words == 14  # 1.1x the words before the pause
    assert ep.barge_ins == 0


@pytest.mark.parametrize(("pause", "teaches"), [(0.93, True), (0.8, False)])
def test_a_second_between_sentences_teaches_but_the_rhythm_of_speech_does_not(
        pause: float, teaches: bool) -> None:
    """A second of silence between the words measures just under it (the VAD hears the voice
    end late): it must still teach, or a user who pauses a second between sentences is cut
    after every second sentence (bench/turns.py: 10.8 % of such answers, 6.8 % now)."""
    ep = Endpointer()
    ep.expect(25, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)
    feed(ep, [False] * frames_for(pause) + [True] * 3)
    assert (ep.patience > 0) is teaches
    assert (ep.min_words == 14) is teaches


@pytest.mark.parametrize("hint", ["I worked on the billing system and", "Yes."])
def test_pauses_mid_sentence_or_after_a_word_teach_nothing(hint: str) -> None:
    ep = Endpointer()
    ep.expect(25, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(hint)
    feed(ep, [False] * frames_for(2.0) + [True] * 3)
    assert ep.patience == 0 and ep.min_words == 0


def _answer_with_a_pause(ep: Endpointer, first: str, whole: str) -> None:
    """An answer of two parts with a 1.5 s thinking pause after ``first``, then its end."""
    ep.expect(len(whole.split()), 3.5)  # (``first`` alone is short for the question)
    feed(ep, "x" * 30)
    ep.set_hint(first)
    feed(ep, [False] * frames_for(1.5) + [True] * 30)
    ep.set_hint(whole)
    assert kinds(feed(ep, [False] * frames_for(ep.silence_needed())))[-1] is EventKind.ENDPOINT
    ep.reset()


def test_after_an_answer_with_a_thinking_pause_the_next_need_most_of_its_words() -> None:
    """Who greets in two sentences with a pause between was cut after two sentences of three
    in the next answer; 85 % of the words of their last such answer must come first."""
    ep = _known()
    whole = LONGER
    _answer_with_a_pause(ep, FINISHED, whole)
    assert ep.paused_answer_words == 23 and ep.min_words == 14
    ep.expect(10, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED + " It ran every night.")  # 16 words of the 20 needed: maybe more
    assert ep.silence_needed() == pytest.approx(ep.patience)
    ep.set_hint(whole)  # 23 words: as long as the answer before
    assert ep.silence_needed() == pytest.approx(SHORT)
    ep.reset()
    # The last such answer sets it, not the longest: a short one lowers it again.
    _answer_with_a_pause(ep, "I like it there a lot.", "I like it there a lot. The team is kind.")
    assert ep.paused_answer_words == 10


LONGER = FINISHED + " We cut the nightly run from four hours to twenty minutes."  # 23 words


def _known(config: EndpointConfig | None = None) -> Endpointer:
    """An endpointer for a user heard before (no new user's long waits)."""
    ep = Endpointer(config)
    ep.set_patience(0.0, 0, True)
    return ep


def test_an_answer_without_a_thinking_pause_sets_no_floor_nor_clears_one() -> None:
    ep = _known()
    _ended(ep)
    ep.reset()
    assert ep.paused_answer_words == 0 and ep.min_words == 0
    _answer_with_a_pause(ep, FINISHED, LONGER)
    ep.expect(10, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(LONGER)  # a long enough answer without a pause: the thinker's floor stays
    assert kinds(feed(ep, [False] * frames_for(SHORT)))[-1] is EventKind.ENDPOINT
    ep.reset()
    assert ep.paused_answer_words == 23


def test_the_floor_counts_from_the_next_turn_so_the_last_verdict_stays() -> None:
    """The verdict that ended an answer (logged, and stored with its timings) is kept."""
    ep = _known()
    _answer_with_a_pause(ep, FINISHED, LONGER)
    ep.expect(10, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)  # 12 words, under the 20 needed: the patience, not the short wait
    feed(ep, [False] * frames_for(1.5) + [True] * 30)
    ep.set_hint(FINISHED + " It ran every night.")
    assert ep.verdict() is Verdict.NEUTRAL
    assert kinds(feed(ep, [False] * frames_for(ep.silence_needed())))[-1] is EventKind.ENDPOINT
    assert ep.verdict() is Verdict.NEUTRAL and ep.paused_answer_words == 23
    ep.reset()
    assert ep.paused_answer_words == 16


def test_after_a_barge_in_the_floor_is_the_whole_answer() -> None:
    ep = _known()
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED)
    assert kinds(feed(ep, [False] * frames_for(SHORT)))[-1] is EventKind.ENDPOINT
    assert kinds(feed(ep, [False] * frames_for(0.8) + [True] * 30))[-1] is EventKind.BARGE_IN
    ep.set_hint(LONGER)
    feed(ep, [False] * frames_for(ep.silence_needed()))
    ep.reset()
    assert ep.paused_answer_words == 23  # not the 12 words at the cut


def test_a_command_or_an_answer_cut_at_the_longest_sets_no_floor() -> None:
    ep = _known()
    feed(ep, "x" * 30)
    ep.set_hint("Could you repeat the question, please?")  # 6 words, then a pause, then more
    feed(ep, [False] * frames_for(ep.silence_needed()) + [True] * 30)
    feed(ep, [False] * frames_for(ep.silence_needed()))
    ep.not_an_answer()
    ep.reset()
    assert ep.paused_answer_words == 0
    short = _known(EndpointConfig(max_length=4.0))
    short.expect(25, 3.5)
    feed(short, "x" * 30)
    short.set_hint(FINISHED)
    events = feed(short, [False] * frames_for(1.5) + [True] * frames_for(3.0))  # and on
    assert EndReason.MAX_LENGTH in [e.reason for e in events]
    short.reset()
    assert short.paused_answer_words == 0


def test_the_floor_can_be_turned_off() -> None:
    ep = _known(EndpointConfig(paused_answer_share=0.0))
    _answer_with_a_pause(ep, FINISHED, LONGER)
    ep.expect(10, 3.5)
    feed(ep, "x" * 30)
    ep.set_hint(FINISHED + " It ran every night.")  # 16 words: 1.1x those before the pause
    assert ep.verdict() is Verdict.FINISHED
