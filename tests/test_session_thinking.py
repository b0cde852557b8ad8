"""A slow recognition tail: "thinking..." on the screen, one "Mm." bridge, nothing lost.

Fake engines (the loop's pure logic): a recognizer whose ``finish_async`` resolves late, as
Moonshine's does when its decoder process is starved on a busy machine.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time

import numpy as np
import pytest

from tests.test_voice_session import (
    ANSWERS,
    QUICK,
    EndingSource,
    RecordingUI,
    quiet,
    voiced,
)
from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio
from voice_coach.audio.playback import NullPlayer
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.interview.stages import Stage
from voice_coach.listening.endpointer import EndpointConfig
from voice_coach.session.voice import BRIDGE_TEXT, VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer, Transcript
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker, Speech


class SlowTailRecognizer(Recognizer):
    """Scripted texts; the tail of utterance ``i`` takes ``delays[i]`` seconds to decode."""

    name = "scripted"

    def __init__(self, texts: list[str], delays: list[float],
                 by_length: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.texts = iter(texts)
        self.delays = iter(delays)
        self.by_length = by_length
        self.finished_lengths: list[float] = []

    def transcribe(self, samples: Pcm) -> Transcript:
        seconds = len(samples) / SAMPLE_RATE
        self.finished_lengths.append(seconds)
        if self.by_length is not None:
            first, second = self.by_length
            return Transcript(first if seconds < 3.0 else f"{first} {second}", engine=self.name)
        return Transcript(next(self.texts, "") if len(samples) else "", engine=self.name)

    def finish_async(self) -> concurrent.futures.Future[Transcript]:
        samples = np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.int16)
        self._buffer = []
        delay = next(self.delays, 0.0)
        future: concurrent.futures.Future[Transcript] = concurrent.futures.Future()

        def work() -> None:
            time.sleep(delay)
            future.set_result(self.transcribe(samples))

        threading.Thread(target=work, daemon=True).start()
        return future


class NamedToneSpeaker(Speaker):
    """A tone per sentence whose length says which text it is; remembers what it made."""

    name = "tone"

    def __init__(self, seconds: float = 0.2) -> None:
        super().__init__()
        self.made: list[str] = []
        self.seconds = seconds

    def synth(self, text: str) -> Speech:
        self.made.append(text)
        n = 1600 if text == BRIDGE_TEXT else int(self.seconds * SAMPLE_RATE)
        return Speech((np.sin(np.arange(n) / 5) * 5000).astype(np.int16), SAMPLE_RATE)


def _events() -> list[dict[str, object]]:
    folder = next(SessionStore().root.iterdir())
    return [json.loads(x) for x in (folder / "transcript.jsonl").read_text().splitlines()]


def _run(delays: list[float]) -> tuple[VoiceSession, RecordingUI, NullPlayer, NamedToneSpeaker]:
    source = PcmSource(realtime=False, after_end=AfterEnd.SILENCE)
    utterances = iter(ANSWERS)

    def on_listen(stage: Stage | None, line: str) -> None:
        if next(utterances, None) is not None:
            source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))

    ui, player, speaker = RecordingUI(), NullPlayer(), NamedToneSpeaker()
    session = VoiceSession(
        load_scenario_file(QUICK), source, player, speaker,
        SlowTailRecognizer(ANSWERS, delays), SessionStore(), ui,
        VoiceOptions(name="Jo", seed=1, vad="energy"), on_listen=on_listen)
    session.run()
    return session, ui, player, speaker


def test_a_slow_tail_shows_thinking_and_bridges_once() -> None:
    session, ui, player, speaker = _run([0.0, 1.4, 0.0])
    assert ui.lines.count("(thinking...)") == 1
    assert session.bridges == 1
    assert speaker.made.count(BRIDGE_TEXT) == 1  # synthesised once, at the start
    bridge_clips = [c for c in player.clips if len(c.samples) == 1600]
    assert len(bridge_clips) == 1
    events = _events()
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == ANSWERS  # every answer stored, in order
    assert "bridge_s" in answers[1]["latency"] and "bridge_s" not in answers[0]["latency"]
    assert answers[1]["latency"]["tail_s"] >= 1.4
    prompts = [str(e["text"]) for e in events if e["type"] == "prompt"]
    assert BRIDGE_TEXT not in prompts  # the bridge is no prompt: the transcript reads right
    times = [float(e["t"]) for e in events if "t" in e]  # type: ignore[arg-type]
    assert times == sorted(times)


def test_a_quick_tail_shows_nothing() -> None:
    session, ui, player, _ = _run([0.2] * len(ANSWERS))
    assert "(thinking...)" not in ui.lines
    assert session.bridges == 0
    assert not [c for c in player.clips if len(c.samples) == 1600]
    assert [a["text"] for a in _events() if a["type"] == "answer"] == ANSWERS


FIRST, SECOND = "I led the billing migration", "and we finished it two weeks early"


@pytest.mark.slow
def test_speech_during_a_slow_tail_joins_the_same_answer() -> None:
    """Real time: the user goes on while the tail decodes (1.5 s): nothing lost or moved."""
    source = PcmSource(realtime=True, after_end=AfterEnd.STOP)
    fed = {"done": False}
    # The endpoint comes 0.6 s into the pause; the tail then takes 1.5 s; the user goes on
    # 1.2 s into the pause, i.e. while the interviewer is still thinking.
    script = [quiet(0.3), voiced(1.0), quiet(1.2), voiced(1.0), quiet(2.5)]

    def on_listen(stage: object, line: str) -> None:
        if not fed["done"]:
            fed["done"] = True
            source.feed(np.concatenate(script))

    ui, player = RecordingUI(), NullPlayer(realtime=True)
    recognizer = SlowTailRecognizer([], [1.5, 0.0, 0.0], by_length=(FIRST, SECOND))
    fast = EndpointConfig(end_silence=0.6, finished_silence=0.6, thinking_silence=0.6,
                          cold_start_silence=0.0)
    session = VoiceSession(
        load_scenario_file(QUICK), source, player, NamedToneSpeaker(2.0), recognizer,
        SessionStore(), ui,
        VoiceOptions(name="Jo", seed=1, vad="energy", endpoint=fast, headphones=True),
        on_listen=on_listen)
    session.run()
    assert ui.lines.count("(thinking...)") == 1 and session.bridges == 1
    events = _events()
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == [f"{FIRST} {SECOND}"]  # one answer, both parts
    assert session.endpointer.barge_ins == 1
    folder = next(SessionStore().root.iterdir())
    audio = read_audio(folder / str(answers[0]["audio"]))
    # Every frame from the first word to the end: both parts and the pause between them.
    expected = 0.3 + 1.0 + 1.2 + 1.0 + session.endpointer.silence_needed()
    assert len(audio) / SAMPLE_RATE == pytest.approx(expected, abs=0.35)
    times = [float(e["t"]) for e in events if "t" in e]  # type: ignore[arg-type]
    assert times == sorted(times)


@pytest.mark.slow
def test_an_answer_after_a_bridge_keeps_its_first_words() -> None:
    """Real time, loudspeakers, no echo coming back: after a bridge, the next answer starts
    0.2 s after the reply and every frame of it is stored (its first second was once taken for
    the reply's echo, because the bridge's gate stayed on for every later line)."""
    source = EndingSource(realtime=True, after_end=AfterEnd.SILENCE)
    second = voiced(1.5)
    calls = {"n": 0}

    def on_listen(stage: object, line: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))
        elif calls["n"] == 2:
            source.feed(np.concatenate([quiet(0.2), second]))
        else:
            source.close()

    ui, player = RecordingUI(), NullPlayer(realtime=True)
    fast = EndpointConfig(end_silence=0.6, finished_silence=0.6, thinking_silence=0.6,
                          cold_start_silence=0.0)
    session = VoiceSession(
        load_scenario_file(QUICK), source, player, NamedToneSpeaker(1.0),
        SlowTailRecognizer(ANSWERS, [1.4, 0.0]), SessionStore(), ui,
        VoiceOptions(name="Jo", seed=1, vad="energy", endpoint=fast), on_listen=on_listen)
    session.run()
    assert session.bridges == 1 and session.echo is not None and not session.echo.learnt
    answers = [e for e in _events() if e["type"] == "answer"]
    assert [a["text"] for a in answers] == ANSWERS[:2]
    folder = next(SessionStore().root.iterdir())
    audio = read_audio(folder / str(answers[1]["audio"]))
    loud = int((np.abs(audio.astype(np.int32)) > 1000).sum())
    assert loud >= 0.95 * int((np.abs(second.astype(np.int32)) > 1000).sum())
