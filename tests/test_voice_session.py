"""The spoken session loop with fake engines and scripted audio (no devices, no models)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.audio.playback import NullPlayer
from voice_coach.errors import DeviceError, Interrupted
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.interview.stages import Stage
from voice_coach.session.second_look import Decode
from voice_coach.session.voice import VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer, Transcript, Word
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker, Speech

QUICK = Path(__file__).resolve().parent / "data" / "quick-chat.toml"
SILENCE = object()


def voiced(seconds: float) -> Pcm:
    """Noise loud enough for the energy VAD: a stand-in for speech."""
    rng = np.random.default_rng(1)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 3000).astype(np.int16)


def quiet(seconds: float) -> Pcm:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


class ScriptedRecognizer(Recognizer):
    """Returns the next scripted text for each utterance, with one word per 0.3 s."""

    name = "scripted"

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts = iter(texts)
        self.prepared = 0

    def prepare_tail(self) -> bool:
        self.prepared += 1
        return True

    def transcribe(self, samples: Pcm) -> Transcript:
        if not len(samples):
            return Transcript("", engine=self.name)
        text = next(self.texts, "")
        words = tuple(Word(w, 0.3 + i * 0.3, 0.55 + i * 0.3) for i, w in enumerate(text.split()))
        return Transcript(text, words, engine=self.name)


class ToneSpeaker(Speaker):
    """0.2 s of tone a sentence: playbacks exist, synthesis costs nothing."""

    name = "tone"

    def synth(self, text: str) -> Speech:
        return Speech((np.sin(np.arange(3200) / 5) * 5000).astype(np.int16), SAMPLE_RATE)


class RecordingUI:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def heading(self, title: str) -> None:
        self.lines.append(f"== {title}")

    def interviewer(self, text: str) -> None:
        self.lines.append(f"I: {text}")

    def listening(self, level: float, partial: str) -> None:
        pass

    def answer(self, text: str) -> None:
        self.lines.append(f"U: {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"({text})")


def run(texts: list[object], tmp_path: Path, recognizer: Recognizer | None = None,
        **options: object) -> tuple[VoiceSession, list[dict[str, object]]]:
    """Each item is said as ~1 s of 'speech' (or silence for SILENCE) when listening starts."""
    source = PcmSource(realtime=False, after_end=AfterEnd.SILENCE)
    utterances: Iterator[object] = iter(texts)

    def on_listen(stage: Stage | None, line: str) -> None:
        item = next(utterances, "")
        if item is not SILENCE:
            source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))

    said = [t for t in texts if t is not SILENCE]
    session = VoiceSession(
        load_scenario_file(QUICK), source, NullPlayer(), ToneSpeaker(),
        recognizer or ScriptedRecognizer([str(t) for t in said]), SessionStore(), RecordingUI(),
        VoiceOptions(name="Jo", seed=1, vad="energy", **options),  # type: ignore[arg-type]
        on_listen=on_listen,
    )
    session.run()
    folder = next(SessionStore().root.iterdir())
    events = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    return session, events


ANSWERS = [
    "I am Jo and I build dashboards",
    "I like hiking",
    "I built a data pipeline with Python",
    "I would fit in well",
    "What are the company's goals for this project",
    "No that's all",
    "Thank you Alex",
]


def test_a_whole_spoken_interview_is_stored_in_order(tmp_path: Path) -> None:
    _, events = run(ANSWERS, tmp_path)
    types = [e["type"] for e in events]
    assert types[0] == "session_start" and types[-1] == "session_end"
    assert events[-1]["reason"] == "completed"
    # After each answer: the answer first, then any stage change, then the reply.
    for i, e in enumerate(events):
        if e["type"] == "answer" and i + 1 < len(events) - 1:
            assert events[i + 1]["type"] in ("stage", "prompt")
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == ANSWERS
    for a in answers:
        assert a["audio"] and (SessionStore().root / events[0]["id"] / a["audio"]).exists()
        assert a["words"][0]["start"] >= a["audio_start"]
        # The two headline numbers, then where the time went (bench/latency.py reads these).
        assert set(a["latency"]) == {"from_endpoint", "from_voice", "endpoint_s", "tail_s",
                                     "silence_needed_s", "controller_s", "synth_s",
                                     "playback_start_s"}
        split = sum(a["latency"][k] for k in ("tail_s", "controller_s", "synth_s",
                                               "playback_start_s"))
        assert split <= a["latency"]["from_endpoint"] + 0.002
    prompts = [e for e in events if e["type"] == "prompt"]
    assert all("speech_start" in p and p["speech_end"] > p["speech_start"] for p in prompts)
    assert any("real time dashboards" in p["text"] for p in prompts)


def test_no_audio_stores_no_audio(tmp_path: Path) -> None:
    _, events = run(ANSWERS, tmp_path, save_audio=False)
    folder = SessionStore().root / str(events[0]["id"])
    assert sorted(p.name for p in folder.iterdir()) == ["transcript.jsonl"]
    assert all("audio" not in e for e in events)


def test_commands_repeat_pause_resume_slower(tmp_path: Path) -> None:
    session, events = run(["repeat that", "pause", "I am still talking", "resume", "slower",
                           *ANSWERS], tmp_path)
    commands = [e["command"] for e in events if e["type"] == "command"]
    assert commands == ["repeat", "pause", "resume", "slower"]
    answers = [e["text"] for e in events if e["type"] == "answer"]
    assert "I am still talking" not in answers  # while paused only "resume" acts
    prompts = [e for e in events if e["type"] == "prompt"]
    greeting = prompts[0]["text"]
    assert [p["text"] for p in prompts[:4]] == [greeting] * 4  # repeat, resume, slower
    assert session.speaker.rate_wpm == 175 - 30


def test_the_screen_shows_the_pause_and_every_spoken_acknowledgement(tmp_path: Path) -> None:
    session, _ = run(["slower, please", "pause", "I am still talking", "let's continue",
                      "pause", "resume", *ANSWERS], tmp_path)
    lines = session.ui.lines  # type: ignore[attr-defined]
    spoken = [line for line in lines if line.startswith("I: ")]
    for aside in ("Sure, I'll speak more slowly.", "Okay, paused. Say 'resume' when you're ready.",
                  "Welcome back."):
        assert f"I: {aside}" in spoken, lines
    paused = [i for i, line in enumerate(lines) if line.startswith("((paused:")]
    assert len(paused) == 2, lines
    assert "'resume'" in lines[paused[0]] and "'let's continue'" in lines[paused[0]]
    # What was said while paused is shown, with what would resume, and it did nothing.
    ignored = next(line for line in lines if "I am still talking" in line)
    assert ignored.startswith("((paused; heard") and "'resume'" in ignored
    after = lines[lines.index(ignored) + 1:]
    assert after[:2] == ["U: let's continue", "I: Welcome back."], lines


class CheapScriptedRecognizer(ScriptedRecognizer):
    """Scripted, under the name of an engine whose short decodes are cheap (second looks)."""

    name = "moonshine"

    def __init__(self, texts: list[str]) -> None:
        super().__init__(texts)
        self.clips: list[float] = []

    def transcribe(self, samples: Pcm) -> Transcript:
        self.clips.append(len(samples) / SAMPLE_RATE)
        return super().transcribe(samples)


def test_a_one_word_command_misheard_once_is_decoded_again(tmp_path: Path) -> None:
    # "pause" heard as "Oz." (then twice as a command out of three more decodes); while
    # paused, "resume" heard as "Where's him?" (then once as "Resume.": enough, then); "Jane."
    # heard once more as "pause" only: an answer; "No." is never decoded again.
    texts = ["Oz.", "Pause.", "Awesome.", "Paws.", "Where's him?", "Bris him.", "Resume.",
             "Where is him?", "Jane.", "Jane.", "pause", "Jane.", "end the interview"]
    recognizer = CheapScriptedRecognizer(texts)
    utterances = ["Oz.", "Where's him?", "Jane.", "end the interview"]
    _, events = run(utterances, tmp_path, recognizer=recognizer)
    assert [(e["command"], e["text"]) for e in events if e["type"] == "command"] == [
        ("pause", "Pause."), ("resume", "Resume."), ("end", "end the interview")]
    assert [e["text"] for e in events if e["type"] == "answer"] == ["Jane."]
    # Each extra decode is the speech with a little silence around it, not the whole turn.
    assert len(recognizer.clips) == len(texts)
    assert max(recognizer.clips[1:4]) < 1.0 + 1.1


class ScriptedWhisper:
    """The prompted whisper of second looks, faked: the next scripted text for each clip."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = iter(texts)

    def decode(self, samples: Pcm) -> Decode:
        return Decode(next(self.texts))


def test_whisper_told_the_commands_decides_a_one_word_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "pause" heard as "Oz.", "resume" as "Where's him?": whisper hears both, and the
    # recogniser is not asked again; "Jane." is "Jane." to whisper too: an answer, at once;
    # "Jo." is "Joe." to whisper: the margins vote (one of three says "pause": an answer).
    whisper = ScriptedWhisper(["Pause.", "Resume.", "Jane.", "Joe."])
    monkeypatch.setattr("voice_coach.session.voice.load_prompted", lambda: whisper)
    texts = ["Oz.", "Where's him?", "Jane.", "Jo.", "Jo.", "Pause.", "Jo.", "end the interview"]
    recognizer = CheapScriptedRecognizer(texts)
    _, events = run(["Oz.", "Where's him?", "Jane.", "Jo.", "end the interview"], tmp_path,
                    recognizer=recognizer, prompted_look=True)
    assert [(e["command"], e["text"]) for e in events if e["type"] == "command"] == [
        ("pause", "Pause."), ("resume", "Resume."), ("end", "end the interview")]
    assert [e["text"] for e in events if e["type"] == "answer"] == ["Jane.", "Jo."]
    assert len(recognizer.clips) == len(texts)
    assert next(whisper.texts, None) is None


def test_a_command_ends_the_turn_after_a_short_pause() -> None:
    session = _session_with(PcmSource(realtime=False))
    ep = session.endpointer
    ep.expect(8, 3.0)  # the greeting wants a sentence: a one-word start waits ~3 s
    ep.set_hint("Pause.")
    assert ep.silence_needed() >= 2.5
    session._expect_command("Pause.")
    assert ep.silence_needed() <= 1.2
    session._expect_command("Pause. I was thinking about the project")
    assert ep.silence_needed() >= 2.5


def test_two_silent_turns_pause_the_interview(tmp_path: Path) -> None:
    _, events = run([SILENCE, SILENCE, "resume", *ANSWERS], tmp_path)
    assert [e["command"] for e in events if e["type"] == "command"] == ["resume"]
    assert events[-1]["reason"] == "completed"


def test_end_the_interview_by_voice(tmp_path: Path) -> None:
    _, events = run(["end the interview"], tmp_path)
    assert events[-1]["reason"] == "stopped"
    assert "Thank you for your time, Jo" in [e for e in events if e["type"] == "prompt"][-1]["text"]


class FailingSource(PcmSource):
    """A microphone that dies after a few reads."""

    def __init__(self, reads: int) -> None:
        super().__init__(realtime=False)
        self.left = reads

    def read(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        self.left -= 1
        if self.left < 0:
            raise DeviceError("microphone failed: the input stream stopped")
        return super().read(timeout)


def _session_with(source: PcmSource) -> VoiceSession:
    return VoiceSession(load_scenario_file(QUICK), source, NullPlayer(), ToneSpeaker(),
                        ScriptedRecognizer(ANSWERS), SessionStore(), RecordingUI(),
                        VoiceOptions(name="Jo", seed=1, vad="energy"))


def test_device_failure_mid_session_is_saved_as_error() -> None:
    source = FailingSource(reads=200)
    source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))
    with pytest.raises(DeviceError, match=r"microphone failed.*saved in"):
        _session_with(source).run()
    s = SessionStore().load("last")
    assert s.end_reason == "error" and len(s.answers()) == 1


class InterruptingSource(PcmSource):
    def read(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        chunk = super().read(timeout)
        if chunk is not None and chunk.start > 0.8:
            raise KeyboardInterrupt
        return chunk


def test_ctrl_c_mid_answer_is_saved_as_interrupted() -> None:
    source = InterruptingSource(realtime=False)
    source.feed(np.concatenate([quiet(0.3), voiced(3.0)]))
    with pytest.raises(Interrupted):
        _session_with(source).run()
    s = SessionStore().load("last")
    assert s.end_reason == "interrupted" and not s.cut_short


def test_speculation_starts_when_silence_begins(tmp_path: Path) -> None:
    session, _ = run(ANSWERS, tmp_path)
    recognizer = session.recognizer()
    assert isinstance(recognizer, ScriptedRecognizer) and recognizer.prepared >= len(ANSWERS)


class EndingSource(PcmSource):
    """A scripted source that ends (``finished``) when closed, as a vanished script does."""

    def close(self) -> None:
        super().close()
        self.finished = True


class TailSource(EndingSource):
    """A scripted source that remembers every unmute tail it was given."""

    def __init__(self) -> None:
        super().__init__(realtime=False, after_end=AfterEnd.SILENCE)
        self.tails: list[float] = []

    def unmute(self, tail: float = 0.25) -> None:
        self.tails.append(tail)
        super().unmute(tail)


@pytest.mark.parametrize(("headphones", "tail"), [(True, 0.0), (False, 0.25)])
def test_the_microphone_reopens_when_the_line_ends_with_headphones(
        headphones: bool, tail: float) -> None:
    """With headphones nothing echoes: an answer begun the moment the line ends is heard
    from its first syllable (a quarter second more stays muted only for a room's echo)."""
    source = TailSource()
    utterances = iter(ANSWERS[:2])

    def on_listen(stage: Stage | None, line: str) -> None:
        if next(utterances, None) is not None:
            source.feed(np.concatenate([quiet(0.3), voiced(1.0)]))
        else:
            source.close()

    session = VoiceSession(
        load_scenario_file(QUICK), source, NullPlayer(), ToneSpeaker(),
        ScriptedRecognizer(ANSWERS[:2]), SessionStore(), RecordingUI(),
        VoiceOptions(name="Jo", seed=1, vad="energy", headphones=headphones),
        on_listen=on_listen)
    session.run()
    assert source.tails and set(source.tails) == {tail}


def test_only_answers_count_toward_knowing_a_new_user(tmp_path: Path) -> None:
    """A command said first is no answer: the first real answer still gets the long wait."""
    session, events = run(["pause", "resume", *ANSWERS], tmp_path)
    answers = [e for e in events if e["type"] == "answer"]
    assert session.endpointer.answers == len(answers)
    first = answers[0]["latency"]["silence_needed_s"]  # type: ignore[index]
    assert first == pytest.approx(session.endpointer.config.cold_start_silence)
