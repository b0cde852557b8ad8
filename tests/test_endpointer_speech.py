"""The endpointer on real synthesised speech with webrtcvad: a thinking pause is not the end."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames, resample
from voice_coach.errors import EngineUnavailable
from voice_coach.listening.endpointer import EndpointConfig, Endpointer, EndReason, EventKind
from voice_coach.listening.vad import create_vad

pytestmark = pytest.mark.slow


def speech_16k(text: str) -> np.ndarray:
    """Synthesise ``text`` with espeak-ng and bring it to 16 kHz, trimmed of edge silence."""
    from voice_coach.tts.espeak import EspeakSpeaker

    try:
        clip = EspeakSpeaker(voice="en-us").synth(text)
    except EngineUnavailable as exc:
        pytest.skip(str(exc))
    pcm = resample(clip.samples, clip.rate)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    return pcm[loud[0] : loud[-1] + 1]


def gap(seconds: float) -> np.ndarray:
    """Quiet room noise, not digital zeros."""
    rng = np.random.default_rng(1)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 30).astype(np.int16)


@pytest.mark.parametrize("kind", ["webrtc", "energy"])
def test_answer_with_thinking_pause(kind: str) -> None:
    if kind == "webrtc":
        pytest.importorskip("webrtcvad")
    first = speech_16k("I worked on the billing system for two years")
    second = speech_16k("and I led the move to the new database.")
    lead, pause = 1.0, 1.0
    stream = np.concatenate([gap(lead), first, gap(pause), second, gap(3.0)])
    # A user past their first answer: the first waits longer (the test after this one).
    vad, ep = create_vad(kind), Endpointer(EndpointConfig(cold_start_silence=0.0))
    events = []
    for frame in frames(stream, FRAME_SAMPLES):
        events += ep.process(frame, vad.is_speech(frame))
    got = [e.kind for e in events]
    assert got[0] is EventKind.SPEECH_START
    assert got[-1] is EventKind.ENDPOINT and events[-1].reason is EndReason.SILENCE
    assert EventKind.SPEECH_RESUME in got  # the 1 s pause did not end the answer
    start = events[0].time
    assert lead - 0.1 <= start <= lead + 0.15
    speech_end = lead + (len(first) + len(second)) / SAMPLE_RATE + pause
    assert ep.last_voice_time == pytest.approx(speech_end, abs=0.25)
    assert events[-1].time == pytest.approx(speech_end + 1.2, abs=0.3)
    # The utterance starts with the pre-roll and covers both parts.
    assert ep.utterance_start == pytest.approx(start - ep.config.pre_roll, abs=0.031)
    assert len(ep.utterance()) / SAMPLE_RATE == pytest.approx(
        events[-1].time - ep.utterance_start, abs=0.031
    )


@pytest.mark.parametrize("kind", ["webrtc", "energy"])
def test_a_new_users_first_answer_is_not_cut_at_a_long_pause_after_a_sentence(kind: str) -> None:
    """Two whole sentences 2.5 s apart: nothing is known of this user yet, so the first
    answer waits the pause out and ends 3 s after its last word."""
    if kind == "webrtc":
        pytest.importorskip("webrtcvad")
    first = speech_16k("I worked on the billing system for two years.")
    second = speech_16k("Then I led the move to the new database.")
    stream = np.concatenate([gap(1.0), first, gap(2.5), second, gap(4.0)])
    vad, ep = create_vad(kind), Endpointer()
    ep.expect(1)  # "How are you?": the first sentence is long enough to sound finished
    pause_ends = 1.0 + len(first) / SAMPLE_RATE + 2.5
    events = []
    for frame in frames(stream, FRAME_SAMPLES):
        ep.set_hint("I worked on the billing system for two years." if ep.now < pause_ends
                    else "I worked on the billing system for two years. Then I led the move.")
        events += ep.process(frame, vad.is_speech(frame))
    got = [e.kind for e in events]
    assert got.count(EventKind.ENDPOINT) == 1 and EventKind.SPEECH_RESUME in got
    speech_end = 1.0 + (len(first) + len(second)) / SAMPLE_RATE + 2.5
    assert events[-1].time == pytest.approx(speech_end + ep.config.cold_start_silence, abs=0.3)
