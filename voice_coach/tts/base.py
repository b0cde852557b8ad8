"""The speaker interface: text in, PCM out; the caller plays it (so the mic can be muted)."""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator
from dataclasses import dataclass

from voice_coach.audio.format import Pcm

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Speech:
    """Synthesised audio: mono int16 samples at ``rate`` Hz."""

    samples: Pcm
    rate: int

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.rate if self.rate else 0.0


def split_sentences(text: str) -> list[str]:
    """Split text into sentences so the first can play while the rest are made."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


MAX_CHUNK = 400
"""Characters an engine is given at once: espeak-ng is quadratic in a clause's length and
crashes on ~21,500 characters without punctuation, so longer text is cut at spaces."""


def chunk_text(text: str, limit: int = MAX_CHUNK) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at sentence ends, then spaces."""
    out: list[str] = []
    for sentence in split_sentences(text) or [text]:
        rest = sentence
        while len(rest) > limit:
            cut = rest.rfind(" ", 0, limit + 1)
            if cut <= 0:
                cut = limit  # one enormous "word": cut it anyway
            out.append(rest[:cut].strip())
            rest = rest[cut:].lstrip()
        if rest.strip():
            out.append(rest.strip())
    return [piece for piece in out if piece]


class Speaker(abc.ABC):
    """A text-to-speech engine. Only ``synth`` is required."""

    name: str = "base"

    def __init__(self, voice: str | None = None, rate_wpm: int | None = None) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm

    @abc.abstractmethod
    def synth(self, text: str) -> Speech:
        """Synthesise ``text`` to one clip."""

    def synth_sentences(self, text: str) -> Iterator[Speech]:
        """Synthesise sentence by sentence, so playback can start after the first."""
        for sentence in split_sentences(text) or [text]:
            yield self.synth(sentence)

    def set_rate(self, rate_wpm: int) -> None:
        """Change the speaking rate (words a minute) for the next line."""
        self.rate_wpm = rate_wpm

    def close(self) -> None:
        """Release the engine's resources."""

