"""End to end at the session level: a speculative tail decode is thrown away when the user
resumes after a pause, and the answer stored is the decode of the whole answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_stt_whisper_stream import SpyModel

from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import SAMPLE_RATE, Pcm, rms
from voice_coach.audio.playback import NullPlayer
from voice_coach.interview.scenario import load_scenario
from voice_coach.interview.stages import Stage
from voice_coach.listening.endpointer import EndpointConfig
from voice_coach.session.voice import VoiceOptions, VoiceSession
from voice_coach.stt.whisper_engine import WhisperRecognizer, WhisperSettings
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.silent import SilentSpeaker


class RecordingWhisper(WhisperRecognizer):
    """The real streaming logic on a fake model, logging speculation as it happens."""

    def __init__(self, model: SpyModel) -> None:
        super().__init__(settings=WhisperSettings(pause_ms=300, min_segment_ms=1500),
                         model=model, is_speech=lambda f: rms(f) > 500)
        self.log: list[tuple[str, float]] = []

    def prepare_tail(self) -> bool:
        started = super().prepare_tail()
        self.log.append(("prepare" if started else "prepare-refused", self._samples / SAMPLE_RATE))
        return started

    def accept(self, frame: Pcm) -> None:
        before = self._spec
        super().accept(frame)
        if before is not None and self._spec is None and before.job not in self._jobs:
            self.log.append(("discarded", self._samples / SAMPLE_RATE))


class _UI:
    def heading(self, title: str) -> None: ...
    def interviewer(self, text: str) -> None: ...
    def listening(self, level: float, partial: str) -> None: ...
    def answer(self, text: str) -> None: ...
    def note(self, text: str) -> None: ...


def _voice(seconds: float, seed: int) -> Pcm:
    """Loud noise the energy VAD and the fake speech test both call speech."""
    rng = np.random.default_rng(seed)
    return rng.integers(-6000, 6000, int(seconds * SAMPLE_RATE)).astype(np.int16)


def _quiet(seconds: float) -> Pcm:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


def test_session_discards_speculation_when_the_user_goes_on(tmp_path: Path) -> None:
    spy = SpyModel()
    rec = RecordingWhisper(spy)
    # 0.6 s of speech, a 0.5 s thinking pause (too short for a segment cut, long enough to
    # speculate), 1.0 s more speech, then the silence that ends the answer.
    answer = np.concatenate([_quiet(0.3), _voice(0.6, 1), _quiet(0.5), _voice(1.0, 2),
                             _quiet(2.5)])
    source = PcmSource(realtime=False, after_end=AfterEnd.STOP)
    fed: list[Stage | None] = []

    def on_listen(stage: Stage | None, line: str) -> None:
        if not fed:
            source.feed(answer)
        fed.append(stage)

    store = SessionStore(tmp_path)
    session = VoiceSession(load_scenario("coffee-chat"), source, NullPlayer(), SilentSpeaker(),
                           rec, store, _UI(),
                           VoiceOptions(vad="energy", save_audio=False,
                                        endpoint=EndpointConfig(cold_start_silence=0.0)),
                           on_listen=on_listen)
    try:
        result = session.run()
    finally:
        rec.close()
    kinds = [kind for kind, _ in rec.log]
    # A bet at the pause, thrown away when speech resumed, then a new bet at the end.
    assert kinds[:3] == ["prepare", "discarded", "prepare"], rec.log
    assert rec.log[0][1] == pytest.approx(0.9, abs=0.1)
    assert rec.log[1][1] == pytest.approx(1.45, abs=0.1)
    assert rec.log[2][1] == pytest.approx(2.45, abs=0.1)
    answers = store.load(result.session_id).answers()
    assert len(answers) == 1
    # The stored text is the last decode, which covers the whole answer, not the first bet.
    last_call = len(spy.calls)
    assert answers[0].text == f"w{last_call}"
    assert spy.calls[-1] >= 0.6 + 0.5 + 1.0
    assert all(c < 1.0 for c in spy.calls[:-1])  # the discarded bet saw only the first part
    latency: dict[str, Any] = answers[0].get("latency", {})
    assert "tail_s" in latency or not latency  # NullPlayer of silent speech: maybe no reply
