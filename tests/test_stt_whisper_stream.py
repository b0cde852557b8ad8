"""Whisper streaming logic with a spied fake model: segments, VAD gating, speculative tail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, Pcm, rms
from voice_coach.stt.whisper_engine import WhisperRecognizer, WhisperSettings


@dataclass
class _FakeWord:
    word: str
    start: float
    end: float
    probability: float = 0.9


@dataclass
class _FakeSegment:
    words: list[_FakeWord]


class SpyModel:
    """Stands in for faster-whisper: one word per call, naming the call and its length."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.gate = threading.Event()
        self.gate.set()

    def transcribe(self, audio: Any, **options: Any) -> tuple[list[_FakeSegment], None]:
        self.gate.wait(5)
        assert options["word_timestamps"] is True
        assert options["vad_filter"] is False
        seconds = len(audio) / SAMPLE_RATE
        self.calls.append(round(seconds, 2))
        word = _FakeWord(f"w{len(self.calls)}", 0.1, seconds)
        return [_FakeSegment([word])], None


def _speech(seconds: float) -> Pcm:
    return np.full(int(seconds * SAMPLE_RATE), 3000, dtype=np.int16)


def _silence(seconds: float) -> Pcm:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def _feed(rec: WhisperRecognizer, samples: Pcm) -> None:
    for i in range(0, len(samples), FRAME_SAMPLES):
        rec.accept(samples[i : i + FRAME_SAMPLES])


@pytest.fixture
def spy() -> SpyModel:
    return SpyModel()


@pytest.fixture
def rec(spy: SpyModel) -> Iterator[WhisperRecognizer]:
    settings = WhisperSettings(pause_ms=300, min_segment_ms=1000)
    r = WhisperRecognizer(settings=settings, model=spy, is_speech=lambda f: rms(f) > 500)
    yield r
    r.close()


def test_silence_never_reaches_the_model(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _silence(2.0))
    assert rec.finish().text == ""
    assert rec.transcribe(_silence(1.0)).text == ""
    assert spy.calls == []


def test_pause_hands_segment_to_worker_and_offsets_times(
    rec: WhisperRecognizer, spy: SpyModel
) -> None:
    rec.start()
    _feed(rec, _speech(1.2))
    _feed(rec, _silence(0.6))  # cut after 300 ms of pause
    _feed(rec, _speech(0.9))
    _feed(rec, _silence(0.1))
    result = rec.finish()
    assert result.text == "w1 w2"
    assert len(spy.calls) == 2
    assert spy.calls[0] == pytest.approx(1.5, abs=0.05)  # 1.2 s speech + 0.3 s pause
    first, second = result.words
    assert first.start == pytest.approx(0.1)
    # Offset to the utterance start; the segment starts lead_ms (0.2 s) before its speech.
    assert second.start == pytest.approx(1.8 - 0.2 + 0.1, abs=0.05)


def test_short_speech_is_not_cut(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _speech(0.4))
    _feed(rec, _silence(0.5))  # pause, but the segment is under min_segment_ms
    _feed(rec, _speech(0.4))
    assert rec.finish().text == "w1"
    assert len(spy.calls) == 1


def test_speculation_discarded_when_user_resumes(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _speech(0.5))
    _feed(rec, _silence(0.09))
    assert rec.prepare_tail()
    assert rec.speculating
    _feed(rec, _speech(0.5))  # the user goes on
    assert not rec.speculating
    result = rec.finish()
    # The speculated 0.5 s tail was thrown away; the final decode covers all ~1.1 s.
    assert result.text.split()[-1] == f"w{len(spy.calls)}"
    assert spy.calls[-1] == pytest.approx(1.09, abs=0.05)
    assert len(result.words) == 1


def test_speculation_reused_when_silence_continues(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _speech(0.5))
    _feed(rec, _silence(0.09))
    assert rec.prepare_tail()
    assert not rec.prepare_tail()  # one speculation at a time
    _feed(rec, _silence(0.15))
    result = rec.finish()
    assert result.text == "w1"
    assert spy.calls == [pytest.approx(0.59, abs=0.05)]


def test_speculation_adopted_by_segment_cut(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _speech(1.2))
    _feed(rec, _silence(0.06))
    rec.prepare_tail()
    _feed(rec, _silence(0.5))  # the pause cut reuses the speculation instead of decoding again
    _feed(rec, _speech(1.0))
    result = rec.finish()
    assert result.text == "w1 w2"
    assert len(spy.calls) == 2


def test_partial_shows_finished_segments(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    assert rec.partial() == ""
    _feed(rec, _speech(1.2))
    _feed(rec, _silence(0.4))
    rec._jobs[0].future.result(5)
    assert rec.partial() == "w1"
    rec.finish()


def test_new_utterance_drops_old_state(rec: WhisperRecognizer, spy: SpyModel) -> None:
    rec.start()
    _feed(rec, _speech(0.5))
    rec.start()
    _feed(rec, _silence(0.5))
    assert rec.finish().text == ""
    assert spy.calls == []


def test_long_audio_is_decoded_in_segments(rec: WhisperRecognizer, spy: SpyModel) -> None:
    # A minute-long file in one call lets whisper skip stretches: it goes in at the pauses.
    parts = []
    for _ in range(12):
        parts += [_speech(2.0), _silence(1.0)]
    result = rec.transcribe(np.concatenate(parts))
    assert len(spy.calls) == 12
    assert len(result.words) == 12
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and starts[-1] > 30


def test_finish_async_returns_before_a_slow_decode(rec: WhisperRecognizer, spy: SpyModel) -> None:
    """The session keeps reading the microphone while the tail decodes (a busy machine)."""
    rec.start()
    _feed(rec, _speech(0.8))
    spy.gate.clear()  # the model is slow now
    future = rec.finish_async()
    assert not future.done()
    spy.gate.set()
    assert future.result(5).text == "w1"


def test_decoding_says_when_the_partial_may_miss_words(
        rec: WhisperRecognizer, spy: SpyModel) -> None:
    """A segment handed over but not decoded yet: the endpointer must not judge without it."""
    rec.start()
    assert not rec.decoding
    spy.gate.clear()  # a busy machine: the decode lags the voice
    _feed(rec, _speech(1.2))
    _feed(rec, _silence(0.4))
    assert rec.decoding and rec.partial() == ""
    spy.gate.set()
    rec._jobs[0].future.result(5)
    assert not rec.decoding and rec.partial() == "w1"
    rec.finish()
