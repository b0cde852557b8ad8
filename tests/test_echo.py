"""The echo gate: the interviewer's own voice coming back is not the user."""

from __future__ import annotations

import numpy as np

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from voice_coach.listening.echo import EchoGate

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
