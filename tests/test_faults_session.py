"""Device and storage faults in the middle of a spoken session (fake devices, fake engine).

Every fault must end the session saved: the turns before it are on disk, the transcript ends
with reason "error", and the error that reaches the CLI is one line naming the session.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import REPO, cli_cmd
from tests.support.session_checks import check_session_folder, run_saved_session_commands
from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import SAMPLE_RATE, AudioChunk, Pcm
from voice_coach.audio.playback import FirstSampleCallback, NullPlayer, Playback
from voice_coach.errors import DeviceError, StorageError
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.interview.stages import Stage
from voice_coach.session.voice import QuietUI, VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer, Transcript
from voice_coach.transcripts.store import SessionStore, SessionWriter
from voice_coach.tts.base import Speaker, Speech

QUICK = REPO / "tests" / "data" / "quick-chat.toml"
ANSWERS = [
    "Hi Alex, nice to meet you too. I'm Jane and I recently moved to Berlin.",
    "I love hiking in the mountains with friends on weekends.",
    "At my last job I designed the ingestion layer and set up monitoring for our reports.",
    "I would enjoy the real time work, and I would need to learn your tools.",
    "What are the company's goals for this project?",
    "No, that's all, thank you.",
    "Thank you so much for your time, Alex.",
]


def voiced(seconds: float = 1.2) -> Pcm:
    """A loud, speech-like buzz (harmonics of 140 Hz with a syllable rhythm) the VAD accepts."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return (tone * envelope * 6000).astype(np.int16)


class ToneSpeaker(Speaker):
    """A tenth of a second of tone per sentence: the player gets real clips."""

    name = "tone"

    def synth(self, text: str) -> Speech:
        """A short tone."""
        t = np.arange(SAMPLE_RATE // 10) / SAMPLE_RATE
        return Speech((np.sin(2 * np.pi * 440 * t) * 3000).astype(np.int16), SAMPLE_RATE)


class ScriptedRecognizer(Recognizer):
    """Returns the scripted answers in order, one per utterance."""

    name = "scripted"

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts: Iterator[str] = iter(texts)

    def transcribe(self, samples: Pcm) -> Transcript:
        """The next scripted answer."""
        return Transcript(next(self.texts, "okay"), engine="scripted")


class FailingSource(PcmSource):
    """A microphone that fails (DeviceError) during the ``fail_on``-th answer."""

    def __init__(self, fail_on: int | None) -> None:
        super().__init__(realtime=False, after_end=AfterEnd.SILENCE)
        self.fail_on = fail_on
        self.listens = 0
        self.reads = 0

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """Frames, until the device 'vanishes' mid-answer."""
        if self.fail_on is not None and self.listens == self.fail_on:
            self.reads += 1
            if self.reads > 20:  # 0.6 s into the answer
                raise DeviceError("microphone failed: device unavailable")
        return super().read(timeout)


class FailingPlayer(NullPlayer):
    """A speaker that vanishes at the ``fail_on``-th clip."""

    def __init__(self, fail_on: int | None) -> None:
        super().__init__(realtime=False)
        self.fail_on = fail_on
        self.played = 0

    def play(self, samples: Pcm, rate: int,
             on_first_sample: FirstSampleCallback | None = None) -> Playback:
        """Play, or fail like a pulled headset."""
        self.played += 1
        if self.fail_on is not None and self.played >= self.fail_on:
            raise DeviceError("the output device vanished")
        return super().play(samples, rate, on_first_sample)


class FailingWriter(SessionWriter):
    """A session file whose disk becomes read-only (or full) after ``ok`` appends."""

    ok = 10**9
    err = errno.EROFS

    def append(self, event: Any) -> None:
        """Append, until the disk goes away."""
        FailingWriter.ok -= 1
        if FailingWriter.ok < 0:
            raise StorageError(f"cannot write {self.path}: {errno.errorcode[self.err]}; "
                               "earlier turns are saved")
        super().append(event)


class FailingStore(SessionStore):
    """A store whose sessions use FailingWriter."""

    def create(self, scenario: str, name: str, **meta: Any) -> SessionWriter:
        """Create the session normally, then hand out a failing writer on the same file."""
        good = super().create(scenario, name, **meta)
        good.close()
        return FailingWriter(good.folder)


def run_session(source: FailingSource, player: NullPlayer, store: SessionStore | None = None,
                save_audio: bool = True) -> VoiceSession:
    """A spoken quick-chat session on fake devices; the candidate speaks when listened to."""
    spec = load_scenario_file(QUICK)

    def on_listen(stage: Stage | None, line: str) -> None:
        source.listens += 1
        source.reads = 0
        source.feed(np.concatenate([np.zeros(SAMPLE_RATE // 4, np.int16), voiced()]))

    session = VoiceSession(spec, source, player, ToneSpeaker(), ScriptedRecognizer(ANSWERS),
                           store or SessionStore(), QuietUI(),
                           VoiceOptions(name="Jane", seed=1, save_audio=save_audio,
                                        mode="demo"),
                           on_listen=on_listen)
    return session


def only_session(home: Path) -> Path:
    folders = list((home / "sessions").iterdir())
    assert len(folders) == 1
    return folders[0]


def test_fake_session_completes(coach_home: Path) -> None:
    result = run_session(FailingSource(None), FailingPlayer(None)).run()
    assert result.reason.value == "completed" and result.answers == len(ANSWERS)
    events = check_session_folder(only_session(coach_home))
    assert [e["text"] for e in events if e["type"] == "answer"] == ANSWERS


def test_microphone_failing_mid_answer_ends_saved(coach_home: Path) -> None:
    session = run_session(FailingSource(3), FailingPlayer(None))
    with pytest.raises(DeviceError) as info:
        session.run()
    message = str(info.value)
    assert "microphone failed" in message and "saved in" in message and "\n" not in message
    folder = only_session(coach_home)
    events = check_session_folder(folder)
    assert [e["text"] for e in events if e["type"] == "answer"] == ANSWERS[:2]
    assert events[-1]["type"] == "session_end" and events[-1]["reason"] == "error"
    assert "microphone failed" in events[-1]["error"]
    run_saved_session_commands(coach_home, folder.name)


def test_output_device_vanishing_ends_saved(coach_home: Path) -> None:
    session = run_session(FailingSource(None), FailingPlayer(5))
    with pytest.raises(DeviceError) as info:
        session.run()
    assert "vanished" in str(info.value) and folder_name(coach_home) in str(info.value)
    events = check_session_folder(only_session(coach_home))
    answers = [e["text"] for e in events if e["type"] == "answer"]
    assert answers == ANSWERS[: len(answers)] and answers  # the answers before it are kept
    assert events[-1]["reason"] == "error"


def folder_name(home: Path) -> str:
    return only_session(home).name


@pytest.mark.parametrize("err", [errno.EROFS, errno.ENOSPC])
def test_disk_lost_mid_session_keeps_earlier_turns(coach_home: Path, err: int) -> None:
    FailingWriter.ok, FailingWriter.err = 9, err
    try:
        session = run_session(FailingSource(None), FailingPlayer(None), FailingStore())
        with pytest.raises(StorageError):
            session.run()
    finally:
        FailingWriter.ok = 10**9
    folder = only_session(coach_home)
    events = check_session_folder(folder)
    assert len(events) == 1 + 9  # session_start + the 9 appends that worked; no end event
    answers = [e["text"] for e in events if e["type"] == "answer"]
    assert answers == ANSWERS[: len(answers)] and answers
    run_saved_session_commands(coach_home, folder.name)


def test_audio_that_cannot_be_saved_keeps_the_words(coach_home: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A WAV failing (file-size limit, full disk) still stores the answer's text, then stops."""
    from voice_coach.audio.format import write_wav as real

    calls = {"n": 0}

    def flaky(path: Path, samples: Pcm, rate: int = SAMPLE_RATE, mode: int = 0o600) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, samples, rate, mode)

    monkeypatch.setattr("voice_coach.transcripts.store.write_wav", flaky)
    with pytest.raises(StorageError) as info:
        run_session(FailingSource(None), FailingPlayer(None)).run()
    assert str(info.value).startswith("the disk is full: cannot write")
    events = check_session_folder(only_session(coach_home))
    answers = [e for e in events if e["type"] == "answer"]
    assert [a["text"] for a in answers] == ANSWERS[:2]
    assert "audio" in answers[0] and "audio" not in answers[1]
    assert events[-1]["reason"] == "error"
    assert not list(only_session(coach_home).glob("*.part"))


def test_no_audio_stores_no_audio(coach_home: Path) -> None:
    run_session(FailingSource(None), FailingPlayer(None), save_audio=False).run()
    folder = only_session(coach_home)
    assert sorted(p.name for p in folder.iterdir()) == ["transcript.jsonl"]
    events = check_session_folder(folder)
    assert not any("audio" in e for e in events)


def test_practice_without_a_microphone_is_one_line(no_audio_env: dict[str, str],
                                                   coach_home: Path) -> None:
    env = dict(no_audio_env, VOICE_COACH_HOME=str(coach_home))
    proc = subprocess.run(cli_cmd("practice"), env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["voice-coach: no microphone found: try `voice-coach practice --text` "
                     "or `voice-coach demo`"], proc.stderr
    assert not (coach_home / "sessions").exists() or not any((coach_home / "sessions").iterdir())
