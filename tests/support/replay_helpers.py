"""Test sessions for replay and export: spoken ones with saved audio, text ones, cut ones."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio, write_wav
from voice_coach.transcripts.store import SessionStore, SessionWriter

PROMPTS = [
    ("greeting", "Hello Jane, tell me about yourself."),
    ("greeting", "How are you finding Berlin?"),
    ("discussion", "What did you build at your last job?"),
]
ANSWERS = [
    "I am a data engineer and I love hiking.",
    "Berlin is great, lots of parks.",
    "<script>alert('x')</script> I built a pipeline with Kafka & Python.",
]
TITLES = {"greeting": "Greeting and Introductions", "discussion": "Informal Discussion"}


def espeak_pcm(text: str) -> Pcm:
    """Speech for ``text`` at 16 kHz (espeak-ng CLI); raises if espeak-ng is missing."""
    exe = shutil.which("espeak-ng")
    if not exe:
        raise RuntimeError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run([exe, "-w", str(out), "-v", "en-us", text], check=True, timeout=30)
        return read_audio(out)


def tone(seconds: float, hz: float = 440.0) -> Pcm:
    """A plain tone, for tests that need audio but not speech."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@dataclass
class MadeSession:
    """A session written for a test, and the audio its answers hold."""

    writer: SessionWriter
    answers: list[Pcm] = field(default_factory=list)
    prompt_audio: Pcm | None = None

    @property
    def id(self) -> str:
        """The session id."""
        return self.writer.id

    @property
    def folder(self) -> Path:
        """The session folder."""
        return self.writer.folder


def make_spoken_session(
    store: SessionStore | None = None,
    speech: bool = True,
    answers: list[str] | None = None,
    end: bool = True,
    missing_audio: int | None = None,
) -> MadeSession:
    """A spoken session: the first prompt's audio saved, every answer recorded.

    With ``speech=False`` the audio is tones (fast, no espeak-ng); ``missing_audio`` names an
    answer (0-based) whose WAV is not written.
    """
    store = store or SessionStore()
    texts = answers or ANSWERS
    w = store.create("coffee-chat", "Jane", mode="voice", seed=1, interviewer="Alex Morgan",
                     company="Brightwave", voice="en-us", rate=170, engine="espeak")
    made = MadeSession(w)
    t = 0.0
    stage = None
    for n, ((st, prompt), answer) in enumerate(zip(PROMPTS, texts, strict=False), start=1):
        if st != stage:
            w.append({"type": "stage", "stage": st, "title": TITLES[st], "t": round(t, 3)})
            stage = st
        p_audio = None
        if n == 1:
            p_audio = espeak_pcm(prompt) if speech else tone(1.2, 330)
            write_wav(w.folder / "prompt-001.wav", p_audio)
            made.prompt_audio = p_audio
            p_len = len(p_audio) / SAMPLE_RATE
        else:
            p_len = max(1.0, len(prompt.split()) / 2.5)
        event = {"type": "prompt", "stage": st, "kind": "main", "text": prompt, "t": round(t, 3),
                 "speech_start": round(t + 0.05, 3), "speech_end": round(t + 0.05 + p_len, 3)}
        if p_audio is not None:
            event["audio"] = "prompt-001.wav"
        w.append(event)
        t += 0.05 + p_len + 0.6
        a_audio = espeak_pcm(answer) if speech else tone(1.0 + 0.5 * n, 500 + 200 * n)
        made.answers.append(a_audio)
        name = f"answer-{n:03d}.wav"
        if missing_audio != n - 1:
            write_wav(w.folder / name, a_audio)
        a_len = len(a_audio) / SAMPLE_RATE
        w.append({"type": "answer", "stage": st, "text": answer, "start": round(t + 0.1, 3),
                  "end": round(t + a_len - 0.1, 3), "audio": name, "audio_start": round(t, 3),
                  "words": [], "engine": "test"})
        t += a_len + 0.7
    if end:
        w.end("completed")
    else:
        w.close()
    return made
