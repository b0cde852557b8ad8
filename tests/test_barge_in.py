"""The microphone stays open while the reply plays: the user going on joins the same answer.

Real time (a few seconds): a scripted candidate pauses 1.6 s after a first part, long enough
for the (shortened) endpoint; the reply starts; the candidate goes on; the reply stops and the
continuation becomes part of the one answer, decided on again as a whole.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.test_voice_session import QUICK, EndingSource, RecordingUI, quiet, voiced
from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio
from voice_coach.audio.playback import NullPlayer
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.listening.endpointer import EndpointConfig
from voice_coach.session.voice import VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer, Transcript
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker, Speech

FIRST, SECOND = "I led the billing migration", "and we finished it two weeks early"


class LengthRecognizer(Recognizer):
    """Knows the answer by its length: the first part alone, or both parts."""

    name = "scripted"

    def transcribe(self, samples: Pcm) -> Transcript:
        seconds = len(samples) / SAMPLE_RATE
        if seconds < 0.5:
            return Transcript("", engine=self.name)
        text = FIRST if seconds < 3.0 else f"{FIRST} {SECOND}"
        return Transcript(text, engine=self.name)


class SlowSpeaker(Speaker):
    """Two seconds of tone a sentence: long enough to be talked over."""

    name = "tone"

    def synth(self, text: str) -> Speech:
        t = np.arange(2 * SAMPLE_RATE)
        return Speech((np.sin(t / 5) * 5000).astype(np.int16), SAMPLE_RATE)


def run_first_answer(
    audio: Pcm, recognizer: Recognizer
) -> tuple[VoiceSession, RecordingUI, NullPlayer, Path, list[dict[str, Any]]]:
    """A real-time session whose greeting is answered with ``audio``, then the script ends."""
    source = PcmSource(realtime=True, after_end=AfterEnd.STOP)
    fed = {"done": False}

    def on_listen(stage: object, line: str) -> None:
        if not fed["done"]:  # the greeting's answer only; then the script runs out
            fed["done"] = True
            source.feed(audio)

    player = NullPlayer(realtime=True)
    session, ui, folder, events = run_session(source, player, recognizer, on_listen)
    return session, ui, player, folder, events


def run_session(
    source: PcmSource, player: NullPlayer, recognizer: Recognizer,
    on_listen: Callable[[object, str], None],
) -> tuple[VoiceSession, RecordingUI, Path, list[dict[str, Any]]]:
    """Run a real-time session with headphones and a quick endpoint; its transcript events."""
    ui = RecordingUI()
    fast = EndpointConfig(end_silence=0.6, finished_silence=0.6, thinking_silence=0.6,
                          cold_start_silence=0.0)
    session = VoiceSession(
        load_scenario_file(QUICK), source, player, SlowSpeaker(), recognizer,
        SessionStore(), ui,
        VoiceOptions(name="Jo", seed=1, vad="energy", endpoint=fast, headphones=True),
        on_listen=on_listen,
    )
    session.run()
    folder = next(SessionStore().root.iterdir())
    events = [json.loads(x) for x in (folder / "transcript.jsonl").read_text().splitlines()]
    return session, ui, folder, events


@pytest.mark.slow
def test_continuation_during_the_reply_joins_the_same_answer() -> None:
    session, ui, player, folder, events = run_first_answer(
        np.concatenate([quiet(0.3), voiced(1.0), quiet(1.6), voiced(1.0), quiet(2.5)]),
        LengthRecognizer())
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == [f"{FIRST} {SECOND}"]  # one answer, both parts
    assert "((go on))" in ui.lines  # RecordingUI brackets notes
    assert session.endpointer.barge_ins == 1
    # One WAV with the whole answer: both voiced parts and the pause between them.
    audio = read_audio(folder / answers[0]["audio"])
    # (Ended after the user's own pause plus a margin: the endpointer learnt their patience.)
    assert session.endpointer.patience == pytest.approx(1.6 + 0.4, abs=0.1)
    expected = 0.3 + 1.0 + 1.6 + 1.0 + session.endpointer.patience
    assert len(audio) / SAMPLE_RATE == pytest.approx(expected, abs=0.2)
    # The interrupted reply was stopped (or, on a machine so busy that the reply was not
    # ready 1 s after the endpoint, never started), and is not stored as a prompt.
    assert any(c.playback.stopped for c in player.clips) or session.unsaid_replies == 1
    after = events[events.index(answers[0]) + 1 :]
    prompts_after = [e for e in after if e["type"] == "prompt"]
    assert len(prompts_after) == 1  # only the reply to the whole answer


def test_barge_in_only_with_a_real_time_source() -> None:
    session = VoiceSession(
        load_scenario_file(QUICK), PcmSource(realtime=False), NullPlayer(), SlowSpeaker(),
        LengthRecognizer(), SessionStore(), RecordingUI(), VoiceOptions(vad="energy"))
    from voice_coach.session.turns import Heard

    heard = Heard(Transcript("hi"), 0, 1, 0, np.zeros(1, np.int16), None, None)
    assert not session._can_barge_in(heard)


def test_snapshot_goes_back_to_before_the_reply() -> None:
    from voice_coach.interview.controller import Controller
    from voice_coach.session.voice import snapshot

    controller = Controller(load_scenario_file(QUICK), name="Jo", seed=1)
    controller.start()
    before = snapshot(controller)
    assert before is not None
    first = controller.respond("I am Jo and I build dashboards")
    again = before.respond("I am Jo and I build dashboards")
    # Same state, same seed: the same next question (the acknowledgement before it may vary:
    # the acknowledger is a shared engine that avoids repeating itself).
    question = [str(getattr(e, "text", "")).split(". ")[-1] for e in first.events]
    assert [str(getattr(e, "text", "")).split(". ")[-1] for e in again.events] == question
    assert before.stage == controller.stage


class SlowFirstPartRecognizer(LengthRecognizer):
    """Takes 0.7 s over the first part alone: the user goes on before the reply is ready."""

    def transcribe(self, samples: Pcm) -> Transcript:
        if 0.5 <= len(samples) / SAMPLE_RATE < 3.0:
            time.sleep(0.7)
        return super().transcribe(samples)


@pytest.mark.slow
def test_going_on_before_the_reply_starts_says_nothing() -> None:
    """~6 s real time. The endpoint came, but the user went on while the reply was being made:
    no sample of it is played (nothing to stop), and the answer continues as one."""
    session, ui, player, _, events = run_first_answer(
        np.concatenate([quiet(0.3), voiced(1.0), quiet(0.75), voiced(1.5), quiet(2.5)]),
        SlowFirstPartRecognizer())
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == [f"{FIRST} {SECOND}"]
    assert session.endpointer.barge_ins == 1
    assert "((go on))" in ui.lines
    # Nothing of a reply to the first part alone was played, so nothing had to be stopped.
    assert session.unsaid_replies == 1
    assert not any(c.playback.stopped for c in player.clips)
    replies = [line for line in ui.lines if line.startswith("I: ")]
    assert len(replies) == len([e for e in events if e["type"] == "prompt"])


class QuickAnswerPlayer(NullPlayer):
    """Calls ``on_reply_end(end)`` with when each clip queued after the first answer ends."""

    def __init__(self) -> None:
        super().__init__(realtime=True)
        self.armed = False
        self.ends: list[float] = []

    def play(self, samples: Pcm, rate: int, on_first_sample: Any = None) -> Any:
        pb = super().play(samples, rate, on_first_sample)
        if self.armed and pb.ends_at is not None:
            self.ends.append(pb.ends_at)
        return pb


class VoicedLengthRecognizer(Recognizer):
    """Knows each answer by how long its voice lasts: 1.0 s, 1.5 s, or both joined."""

    name = "scripted"
    texts = ("I am Jo and I build dashboards", "I like hiking")

    def transcribe(self, samples: Pcm) -> Transcript:
        n = len(samples) // 480
        frames = samples[: n * 480].astype(np.float64).reshape(n, 480)
        voiced_s = float((np.sqrt((frames**2).mean(axis=1)) > 1000).sum()) * 0.03
        if voiced_s < 0.5:
            return Transcript("", engine=self.name)
        if voiced_s < 1.25:
            return Transcript(self.texts[0], engine=self.name)
        if voiced_s < 2.0:
            return Transcript(self.texts[1], engine=self.name)
        return Transcript(" ".join(self.texts), engine=self.name)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.05, 0.15])
def test_a_quick_answer_to_the_next_question_is_a_new_answer(gap: float) -> None:
    """The question is said whole, and the user answers it ``gap`` s after its end: that is
    the next answer, from its first frame, not the last answer going on (120 ms of voice
    inside the reply's tail once joined it to the answer before, and the question, said
    in full, vanished from the transcript)."""
    source = EndingSource(realtime=True, after_end=AfterEnd.SILENCE)
    player = QuickAnswerPlayer()
    second = voiced(1.5)
    calls = {"n": 0}

    def feed_after_reply() -> None:
        # The reply's clips are queued while it plays: answer once the last one has ended.
        while True:
            time.sleep(0.01)
            if player.ends and time.monotonic() > player.ends[-1] + gap:
                source.feed(second)
                return

    def on_listen(stage: object, line: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))
            player.armed = True
            threading.Thread(target=feed_after_reply, daemon=True).start()
        elif calls["n"] >= 3:
            source.close()

    texts = list(VoicedLengthRecognizer.texts)
    session, ui, folder, events = run_session(source, player, VoicedLengthRecognizer(), on_listen)
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == texts
    assert session.endpointer.barge_ins == 0 and "(go on)" not in ui.lines
    prompts = [e for e in events if e["type"] == "prompt"]
    assert len(prompts) >= 2  # the question the second answer answers was stored
    audio = read_audio(folder / str(answers[1]["audio"]))
    loud = int((np.abs(audio.astype(np.int32)) > 1000).sum())
    assert loud >= 0.95 * int((np.abs(second.astype(np.int32)) > 1000).sum())
