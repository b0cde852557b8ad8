"""The spoken interview end to end on a virtual microphone and speaker (PulseAudio null sinks)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_cmd
from tests.support.virtual_audio import VirtualAudio
from voice_coach.audio.format import read_audio
from voice_coach.stt.wer import wer

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

QUICK = REPO / "tests" / "data" / "quick-chat.toml"
# (what the candidate says, is it an answer?) in interview order; "repeat that" is a command.
SCRIPT = [
    ("Could you repeat that, please?", False),
    ("Hi Alex, nice to meet you too. I'm Jane, and I recently moved to Berlin.", True),
    ("I love hiking in the mountains with friends on weekends.", True),
    ("At my last job I designed the ingestion layer and set up monitoring for our reports.",
     True),
    ("I would enjoy the real time work, and I would need to learn your tools.", True),
    ("What are the company's goals for this project?", True),
    ("No, that's all, thank you.", True),
    ("Thank you so much for your time, Alex.", True),
]


def synth_speech(path: Path, text: str) -> Path:
    """espeak-ng speech in the voice the recognisers handle best here (en-us, variant m3)."""
    subprocess.run(["espeak-ng", "-w", str(path), "-v", "en-us+m3", "-s", "165", text],
                   check=True, timeout=30)
    return path


class Session:
    """A `voice-coach practice` process on the virtual devices, read line by line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            cli_cmd("-v", "practice", "--scenario", str(QUICK), "--name", "Jane",
                    "--seed", "1", "--engine", "whisper", "--rate", "200", *args),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.events: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "listening for an answer" in line:
                self.events.put(line)

    def wait_listening(self, timeout: float = 90.0) -> None:
        try:
            self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("voice-coach never listened:\n" + "".join(self.stderr)) from None
        time.sleep(0.5)  # past the mute tail


def _session_dir(home: Path) -> Path:
    folders = sorted(home.glob("sessions/*"))
    assert folders, "no session folder"
    return folders[-1]


def _events(home: Path) -> list[dict[str, object]]:
    path = _session_dir(home) / "transcript.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _transcribe(path: Path) -> str:
    from voice_coach.stt.registry import create_recognizer

    return create_recognizer("whisper").transcribe(read_audio(path)).text


@pytest.fixture
def voice_env(audio_env: dict[str, str], coach_home: Path) -> dict[str, str]:
    env = dict(audio_env)
    env["VOICE_COACH_HOME"] = str(coach_home)
    return env


def test_full_spoken_interview(virtual_audio: VirtualAudio, voice_env: dict[str, str],
                               coach_home: Path, tmp_path: Path) -> None:
    wavs = [synth_speech(tmp_path / f"a{i}.wav", text) for i, (text, _) in enumerate(SCRIPT)]
    speaker = tmp_path / "speaker.wav"
    virtual_audio.record_speaker(speaker)
    session = Session(voice_env, "--save-interviewer-audio")
    try:
        for wav in wavs:
            session.wait_listening()
            virtual_audio.play_into_mic(wav)
        out, _ = session.proc.communicate(timeout=120)
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
        virtual_audio.stop_recording(speaker)
    assert session.proc.returncode == 0, "".join(session.stderr)
    assert "completed" in out

    events = _events(coach_home)
    assert [e["stage"] for e in events if e["type"] == "stage"] == [
        "greeting", "icebreakers", "discussion", "your_questions", "wrap_up"]
    assert events[-1]["type"] == "session_end" and events[-1]["reason"] == "completed"

    # "repeat that" was a command, and the interviewer said the greeting again.
    commands = [e for e in events if e["type"] == "command"]
    assert [c["command"] for c in commands] == ["repeat"]
    prompts = [e for e in events if e["type"] == "prompt"]
    assert prompts[1].get("repeat") and prompts[1]["text"] == prompts[0]["text"]

    # Every answer: recognised close to what was played, with words, timings and audio.
    answers = [e for e in events if e["type"] == "answer"]
    played = [text for text, is_answer in SCRIPT if is_answer]
    assert len(answers) == len(played)
    total = wer(" ".join(played), " ".join(str(a["text"]) for a in answers))
    print(f"answers WER through the virtual microphone: {total:.3f}")
    assert total <= 0.25
    folder = _session_dir(coach_home)
    for a in answers:
        assert a["words"] and a["start"] < a["end"]
        assert (folder / str(a["audio"])).stat().st_size > 10_000
    # Timed targets live in bench/latency.py; here only a sanity bound (CI machines are busy).
    endpoint_latency = sorted(float(a["latency"]["from_endpoint"]) for a in answers)
    assert endpoint_latency[len(endpoint_latency) // 2] < 1.0
    assert os.stat(folder / str(answers[0]["audio"])).st_mode & 0o777 == 0o600
    # The question got an answer: the bank's, or an honest one that names the topic as heard
    # (whisper has heard "goals" as "gold", and a misheard topic must not draw a wrong answer).
    replies = [str(p["text"]) for p in prompts if p.get("kind") == "answer"]
    assert len(replies) == 1, [str(p["text"]) for p in prompts]

    # What came out of the speaker is what the transcript says the interviewer said.
    heard = _transcribe(speaker)
    said = " ".join(str(p["text"]) for p in prompts)
    speaker_wer = wer(said, heard)
    print(f"interviewer WER from the virtual speaker: {speaker_wer:.3f}")
    assert speaker_wer <= 0.35
    for p in prompts:
        assert (folder / str(p["audio"])).exists()


def test_ctrl_c_mid_answer_keeps_finished_turns(virtual_audio: VirtualAudio,
                                               voice_env: dict[str, str], coach_home: Path,
                                               tmp_path: Path) -> None:
    first = synth_speech(tmp_path / "first.wav", SCRIPT[1][0])
    long = synth_speech(tmp_path / "long.wav", "I love hiking in the mountains and, " * 6)
    session = Session(voice_env)
    try:
        session.wait_listening()
        virtual_audio.play_into_mic(first)
        session.wait_listening()
        player = subprocess.Popen(["paplay", "--device=va_micfeed", str(long)],
                                  env=virtual_audio.env)
        time.sleep(2.5)  # mid-answer
        session.proc.send_signal(signal.SIGINT)
        session.proc.communicate(timeout=30)
        player.kill()
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
    assert session.proc.returncode == 130
    assert "Traceback" not in "".join(session.stderr)
    events = _events(coach_home)
    answers = [e for e in events if e["type"] == "answer"]
    assert len(answers) == 1 and wer(SCRIPT[1][0], str(answers[0]["text"])) <= 0.5
    assert events[-1]["type"] == "session_end" and events[-1]["reason"] == "interrupted"


ALSA_VOICES = Path("/usr/share/sounds/alsa")
REAL_PHRASES = ["Front_Left", "Front_Right", "Rear_Center", "Side_Left"]


def test_a_real_human_voice_is_transcribed_into_the_session(
        virtual_audio: VirtualAudio, voice_env: dict[str, str], coach_home: Path,
        tmp_path: Path) -> None:
    """alsa-utils ships recordings of a person saying "Front left" etc.: real speech, not TTS."""
    if not all((ALSA_VOICES / f"{p}.wav").exists() for p in REAL_PHRASES):
        pytest.skip("alsa-utils' voice recordings are missing: sudo apt-get install alsa-utils")
    import numpy as np

    from voice_coach.audio.format import write_wav

    gap = np.zeros(8000, np.int16)
    clip = np.concatenate([part for p in REAL_PHRASES
                           for part in (read_audio(ALSA_VOICES / f"{p}.wav"), gap)])
    wav = tmp_path / "person.wav"
    write_wav(wav, clip)
    session = Session(voice_env)
    try:
        session.wait_listening()
        virtual_audio.play_into_mic(wav)
        session.wait_listening()  # the answer was taken and the interviewer replied
        session.proc.send_signal(signal.SIGINT)
        session.proc.communicate(timeout=30)
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
    answers = [e for e in _events(coach_home) if e["type"] == "answer"]
    assert len(answers) == 1
    said = "front left front right rear center side left"
    heard = str(answers[0]["text"])
    print(f"a person's voice through the virtual microphone: {heard!r}")
    assert wer(said, heard) <= 0.25
    assert answers[0]["words"] and answers[0]["audio"]
