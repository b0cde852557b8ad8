"""The echo gate: the interviewer's own voice coming back is not the user."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from voice_coach.listening.echo import EchoGate, voice_short_of_echo_db

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE))
    return (np.sin(t / 7) * amplitude * 32767).astype(np.int16)


def frames_of(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm) - FRAME_SAMPLES + 1,
                                                      FRAME_SAMPLES)]


def test_echo_is_not_the_user_but_a_louder_voice_is() -> None:
    gate = EchoGate()
    played = tone(4.0, 0.3)
    gate.start_reply(100.0)
    gate.add_reference(100.0, played)
    delay = 0.25
    echo = (played * 0.2).astype(np.int16)  # -14 dB, a quarter second late
    verdicts = []
    for i, frame in enumerate(frames_of(echo)):
        verdicts.append(gate.is_user(frame, 100.0 + delay + i * FRAME_S))
    assert not any(verdicts)
    assert gate.coupling_db is not None and -16 < gate.coupling_db < -12
    # The user, much louder than that echo, talks over the reply after the calibration.
    user = tone(0.3, 0.9)
    assert all(gate.is_user(f, 102.0 + i * FRAME_S) for i, f in enumerate(frames_of(user)))


def test_silence_before_the_echo_arrives_does_not_fake_a_tiny_coupling() -> None:
    gate = EchoGate()
    gate.start_reply(0.0)
    gate.add_reference(0.0, tone(3.0, 0.3))
    quiet = np.zeros(FRAME_SAMPLES, np.int16)
    for i in range(10):
        assert not gate.is_user(quiet, i * FRAME_S)
    assert gate.coupling_db is None  # nothing learnt: the echo is assumed as loud as played
    same_level = tone(0.03, 0.3)[:FRAME_SAMPLES]
    assert not gate.is_user(same_level, 1.5)


def test_nothing_played_means_no_echo() -> None:
    gate = EchoGate()
    gate.start_reply(0.0)
    gate.add_reference(0.0, tone(1.0, 0.3))
    assert gate.is_user(tone(0.03, 0.01)[:FRAME_SAMPLES], 5.0)  # long after the reply


def speechlike(seconds: float, amplitude: float, seed: int = 3) -> np.ndarray:
    """A tone switched on and off at random (syllables and pauses): an envelope to match."""
    rng = np.random.default_rng(seed)
    pcm = tone(seconds, amplitude)
    step = FRAME_SAMPLES * 5
    for i in range(0, len(pcm), step):
        if rng.random() < 0.4:
            pcm[i : i + step] = 0
    return pcm


def test_a_late_echo_path_is_measured_and_gated_where_it_arrives() -> None:
    gate = EchoGate()
    played = speechlike(4.0, 0.3)
    gate.start_reply(10.0)
    gate.add_reference(10.0, played)
    delay = 2.6  # later than the fixed window's 2 s: a sound server's buffers
    echo = (played * 0.3).astype(np.int16)
    for i, frame in enumerate(frames_of(np.concatenate([np.zeros(int(delay * SAMPLE_RATE),
                                                                 np.int16), echo]))):
        gate.observe(frame, 10.0 + i * FRAME_S)
    assert gate.estimate_delay() == pytest.approx(delay, abs=0.06)
    assert gate.coupling_db is not None and -12 < gate.coupling_db < -9
    # A later reply: its echo at that delay is not the user; a louder voice is.
    gate.start_reply(30.0)
    second = speechlike(3.0, 0.3, seed=5)
    gate.add_reference(30.0, second)
    late = (second * 0.3).astype(np.int16)
    verdicts = [gate.is_user(f, 30.0 + delay + i * FRAME_S) for i, f in enumerate(frames_of(late))]
    assert not any(verdicts)
    user = tone(0.3, 0.9)
    assert all(gate.is_user(f, 31.0 + i * FRAME_S) for i, f in enumerate(frames_of(user)))


def test_nothing_coming_back_measures_no_delay() -> None:
    gate = EchoGate()
    gate.start_reply(0.0)
    gate.add_reference(0.0, speechlike(3.0, 0.3))
    for i in range(150):
        gate.observe(np.zeros(FRAME_SAMPLES, np.int16), i * FRAME_S)
    assert gate.estimate_delay() is None


def test_a_frame_judged_long_after_is_judged_against_what_played_then() -> None:
    """A busy machine reads frames late: the reference of an old reply must still be there."""
    gate = EchoGate()
    gate.coupling_db = -10.0
    loud = (np.sin(np.arange(16000) / 3) * 8000).astype(np.int16)
    gate.start_reply(100.0)
    gate.add_reference(100.0, loud)
    gate.start_reply(130.0)  # the next reply, 30 s later
    echo = (loud[:480] // 4).astype(np.int16)  # its echo: quieter than what was played
    assert not gate.is_user(echo, 100.3)
    gate.stop_reference(100.5)  # the reply was cut: after that nothing of it sounds
    assert gate.is_user(echo, 102.6)  # (its echo could arrive up to 2 s later)


def test_excess_over_the_typical_echo_tells_a_user_under_it_from_the_echo_alone() -> None:
    """After a barge-in, how much louder than its expected echo each frame is finds the onset."""
    gate = EchoGate()
    played = speechlike(4.0, 0.3)
    gate.start_reply(10.0)
    gate.add_reference(10.0, played)
    delay = 0.12
    echo = (played * 0.17).astype(np.int16)  # -15 dB
    for i, frame in enumerate(frames_of(np.concatenate([np.zeros(int(delay * SAMPLE_RATE),
                                                                 np.int16), echo]))):
        gate.observe(frame, 10.0 + i * FRAME_S)
    assert gate.estimate_delay() == pytest.approx(delay, abs=0.04)
    assert gate.typical_db is not None and gate.coupling_db is not None
    assert -17 < gate.typical_db <= gate.coupling_db
    gate.start_reply(20.0)
    again = tone(2.0, 0.3)
    gate.add_reference(20.0, again)
    echo_alone = (again * 0.17).astype(np.int16)[:FRAME_SAMPLES]
    user_too = (again * 0.17 + tone(2.0, 0.15)).astype(np.int16)[:FRAME_SAMPLES]  # -6 dB
    alone, under = gate.excess_db(echo_alone, 21.0), gate.excess_db(user_too, 21.0)
    assert alone is not None and under is not None
    assert abs(alone) < 2 and under > 6  # the echo alone is as loud as expected; not so here
    assert gate.excess_db(echo_alone, 40.0) is None  # nothing played can be echoing then


def test_a_sound_not_learnt_from_leaves_the_coupling_to_the_next_reply() -> None:
    """The bridge ("Mm.") is too short to learn from: its quiet echo set the coupling 12 dB
    low once, and the next reply's echo passed for the user."""
    gate = EchoGate()
    gate.start_reply(0.0, learn=False)
    played = tone(0.4, 0.3)
    gate.add_reference(0.0, played)
    quiet_echo = (played * 0.03).astype(np.int16)  # -30 dB: its start, fading in
    assert not any(gate.is_user(f, 0.1 + i * FRAME_S) for i, f in enumerate(frames_of(quiet_echo)))
    assert gate.coupling_db is None
    gate.start_reply(5.0)  # the reply: its loud echo is learnt from, and not the user
    reply = tone(3.0, 0.3)
    gate.add_reference(5.0, reply)
    echo = (reply * 0.2).astype(np.int16)
    assert not any(gate.is_user(f, 5.1 + i * FRAME_S) for i, f in enumerate(frames_of(echo)))
    assert gate.coupling_db is not None and gate.coupling_db > -16


def _calibrate(gate: EchoGate, played: np.ndarray, heard: np.ndarray, start: float) -> None:
    """The first reply ``played`` from ``start``; the microphone hears ``heard`` meanwhile."""
    gate.start_reply(start)
    gate.add_reference(start, played)
    for i, frame in enumerate(frames_of(heard)):
        gate.observe(frame, start + i * FRAME_S)  # as the session: every frame is observed
        gate.is_user(frame, start + i * FRAME_S)


def test_the_first_replys_echo_teaches_its_delay_and_coupling() -> None:
    gate = EchoGate()
    played = speechlike(3.0, 0.3)
    delay = 0.1
    echo = np.concatenate([np.zeros(int(delay * SAMPLE_RATE), np.int16),
                           (played * 0.3).astype(np.int16)])[: len(played)]  # -10 dB
    _calibrate(gate, played, echo[: int(2.0 * SAMPLE_RATE)], 50.0)
    assert gate.coupling_db is None  # nothing is taken for learnt until the window is over
    gate.is_user(echo[-FRAME_SAMPLES:], 52.5)
    assert gate.delay == pytest.approx(delay, abs=0.04)
    assert gate.coupling_db is not None and -12 < gate.coupling_db < -8


def test_a_user_talking_over_the_first_reply_is_not_learnt_as_its_echo() -> None:
    """Their voice does not follow the line: they are heard over the next replies."""
    gate = EchoGate()
    played = speechlike(3.0, 0.3, seed=3)
    user = speechlike(2.0, 0.9, seed=8)  # louder than the line, syllables of their own
    _calibrate(gate, played, user, 50.0)
    gate.is_user(np.zeros(FRAME_SAMPLES, np.int16), 52.0)  # the window is over
    assert gate.coupling_db is None and gate.delay is None
    played_then = gate.reference_db(52.5)
    louder = tone(0.1, 0.3 * 10 ** (9.5 / 20))[:FRAME_SAMPLES]  # +9.5 dB over the line
    assert gate.is_user(louder, 52.5)
    assert not gate.is_user(tone(0.1, 0.3)[:FRAME_SAMPLES], 52.6)  # the line's own level
    assert played_then > -20


def test_a_reply_shorter_than_the_window_still_teaches_its_coupling() -> None:
    gate = EchoGate()
    played = tone(1.0, 0.3)
    _calibrate(gate, played, (played * 0.2).astype(np.int16), 0.0)  # a steady -14 dB echo
    gate.start_reply(10.0)
    assert gate.coupling_db is not None and -16 < gate.coupling_db < -12


def test_the_echos_level_tells_a_voice_that_cannot_be_heard_over_it() -> None:
    """Through loudspeakers, a voice not well over the echo is not heard over a line."""
    gate = EchoGate()
    assert gate.echo_dbfs() is None  # nothing measured yet
    played = tone(3.0, 0.3)  # -13.5 dBFS
    _calibrate(gate, played, (played * 0.2).astype(np.int16), 0.0)  # -14 dB coupling
    gate.is_user(np.zeros(FRAME_SAMPLES, np.int16), 2.5)  # the window is over
    echo = gate.echo_dbfs()
    assert echo is not None and echo == pytest.approx(-13.5 - 14.0, abs=1.0)
    assert voice_short_of_echo_db(echo + 5.0, echo, 8.0) == pytest.approx(3.0)
    assert voice_short_of_echo_db(echo + 9.0, echo, 8.0) is None
    assert voice_short_of_echo_db(None, echo) is None
    assert voice_short_of_echo_db(-30.0, None) is None
