"""Craft stored sessions for the feedback tests: spoken (timed words, optional audio) or typed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, write_wav
from voice_coach.transcripts.store import LoadedSession, SessionStore, SessionWriter

RNG = np.random.default_rng(11)


def buzz(seconds: float, f0: float = 140.0, amplitude: float = 0.3) -> Pcm:
    """A harmonic-rich voiced sound (a sustained vowel or hum)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 20))
    wave = wave / np.max(np.abs(wave))
    return (wave * amplitude * 32767).astype(np.int16)


def hiss(seconds: float, amplitude: float = 0.05) -> Pcm:
    """Broadband noise, like a breath or a fan."""
    n = int(seconds * SAMPLE_RATE)
    return (RNG.standard_normal(n) * amplitude * 32767).clip(-32768, 32767).astype(np.int16)


def silence(seconds: float) -> Pcm:
    """Quiet room: a faint noise floor, not digital zero."""
    return hiss(seconds, 0.0005)


@dataclass
class Turn:
    """One prompt and the user's answer, with how it was spoken."""

    stage: str
    prompt: str
    answer: str
    prompt_s: float = 3.0
    delay: float = 0.8
    word_s: float = 0.3
    gap_s: float = 0.1
    pauses: dict[int, float] = field(default_factory=dict)
    """Extra silence after word i (0-based), in seconds, replacing the normal gap."""
    hums: dict[int, float] = field(default_factory=dict)
    """A voiced hum with no word, in the pause after word i (pause must be long enough)."""
    breaths: dict[int, float] = field(default_factory=dict)
    """A noise burst with no word, in the pause after word i."""
    audio: bool = False


@dataclass
class Crafted:
    """A crafted session and the audio its answers would have."""

    session: LoadedSession
    audio: dict[str, Pcm]

    def loader(self, path: Path) -> Pcm | None:
        """An audio loader reading from memory."""
        return self.audio.get(path.name)


Voice = Callable[[str], Pcm]
"""Audio for one word (or for "um" in a hum), e.g. espeak-ng speech."""


def _answer_words(turn: Turn, start: float, voice: Voice | None = None
                  ) -> tuple[list[dict[str, Any]], list[tuple[float, Pcm]]]:
    """Word events from ``start`` and the audio pieces (session time, samples) to place."""
    tokens = turn.answer.split()
    t = start
    out: list[dict[str, Any]] = []
    pieces: list[tuple[float, Pcm]] = []
    for i, tok in enumerate(tokens):
        word = tok.strip(",.?!")
        samples = voice(word) if voice else buzz(turn.word_s, f0=120 + 10 * (i % 5))
        length = round(len(samples) / SAMPLE_RATE, 3)
        out.append({"text": word, "start": round(t, 3), "end": round(t + length, 3),
                    "confidence": 0.9})
        pieces.append((t, samples))
        t += length
        gap = turn.pauses.get(i, turn.gap_s)
        if i in turn.hums:
            hum = voice("um") if voice else buzz(turn.hums[i], f0=110)
            pieces.append((t + (gap - len(hum) / SAMPLE_RATE) / 2, hum))
        if i in turn.breaths:
            pieces.append((t + (gap - turn.breaths[i]) / 2, hiss(turn.breaths[i], 0.03)))
        if i < len(tokens) - 1:
            t += gap
    return out, pieces


def write_spoken(store: SessionStore, turns: Sequence[Turn], *, name: str = "Jane",
                 interviewer: str = "Alex Morgan", end: str | None = "completed",
                 files: bool = False, mode: str = "voice", voice: Voice | None = None
                 ) -> Crafted:
    """Write a spoken session; with ``files`` the answers' WAVs are written to disk too."""
    writer = store.create("coffee-chat", name, mode=mode, interviewer=interviewer,
                          company="Brightwave", voice="en-us", rate=170, engine="whisper")
    audio: dict[str, Pcm] = {}
    t = 0.5
    stage = None
    for n, turn in enumerate(turns, start=1):
        if turn.stage != stage:
            stage = turn.stage
            writer.append({"type": "stage", "stage": stage, "title": stage, "t": round(t, 3)})
        writer.append({"type": "prompt", "stage": stage, "kind": "main", "text": turn.prompt,
                       "t": round(t, 3), "speech_start": round(t, 3),
                       "speech_end": round(t + turn.prompt_s, 3)})
        t += turn.prompt_s + turn.delay
        words, pieces = _answer_words(turn, t, voice)
        a_start, a_end = words[0]["start"], words[-1]["end"]
        event: dict[str, Any] = {"type": "answer", "stage": stage, "text": turn.answer,
                                 "start": a_start, "end": a_end, "words": words,
                                 "latency": {"from_voice": 1.0, "from_endpoint": 0.3},
                                 "engine": "whisper"}
        if turn.audio:
            lead = 0.3
            audio_start = round(a_start - lead, 3)
            total = int((a_end - audio_start + 0.5) * SAMPLE_RATE)
            pcm = silence(total / SAMPLE_RATE)
            for at, samples in pieces:
                i = round((at - audio_start) * SAMPLE_RATE)
                pcm[i : i + len(samples)] = samples[: len(pcm) - i]
            fname = f"answer-{n:03d}.wav"
            audio[fname] = pcm
            if files:
                write_wav(writer.folder / fname, pcm)
            event.update(audio=fname, audio_start=audio_start)
        writer.append(event)
        t = a_end + 0.6
    if end:
        writer.end(end)
    else:
        writer.close()
    return Crafted(store.load(writer.id), audio)


def write_typed(store: SessionStore, answers: Sequence[tuple[str, str]],
                end: str | None = "completed") -> LoadedSession:
    """A typed session: (stage, answer) pairs, no timings beyond the typing window."""
    writer: SessionWriter = store.create("coffee-chat", "Jane", mode="text",
                                         interviewer="Alex Morgan", company="Brightwave")
    t = 0.1
    stage = None
    for st, text in answers:
        if st != stage:
            stage = st
            writer.append({"type": "stage", "stage": st, "title": st, "t": t})
        writer.append({"type": "prompt", "stage": st, "kind": "main", "text": "Question?",
                       "t": t})
        writer.append({"type": "answer", "stage": st, "text": text, "start": t + 1,
                       "end": t + 20})
        t += 25
    if end:
        writer.end(end)
    else:
        writer.close()
    return store.load(writer.id)
