"""The recognizer interface: stream frames in, get a Transcript with word timings out."""

from __future__ import annotations

import abc
import concurrent.futures
from dataclasses import dataclass, field

import numpy as np

from voice_coach.audio.format import Pcm


@dataclass(frozen=True)
class Word:
    """One recognised word; times in seconds from the start of the utterance."""

    text: str
    start: float
    end: float
    confidence: float | None = None


@dataclass(frozen=True)
class Transcript:
    """The result of recognising one utterance."""

    text: str
    words: tuple[Word, ...] = ()
    engine: str = ""
    model: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False)


class Recognizer(abc.ABC):
    """A speech-to-text engine; streaming engines override ``accept``/``partial``/``finish``.

    Only ``transcribe`` is required: the default streaming methods buffer the utterance and
    transcribe it whole at ``finish``.
    """

    name: str = "base"
    model_name: str = ""

    def __init__(self) -> None:
        self._buffer: list[Pcm] = []

    @abc.abstractmethod
    def transcribe(self, samples: Pcm) -> Transcript:
        """Recognise one whole utterance of 16 kHz mono int16 audio."""

    def start(self) -> None:
        """Begin a new utterance, dropping anything left from the last one."""
        self._buffer = []

    def accept(self, frame: Pcm) -> None:
        """Take the next frame of the current utterance."""
        self._buffer.append(frame)

    def prepare_tail(self) -> bool:
        """Silence began: an engine may start decoding the tail speculatively (True if so).

        ``accept`` after it means the user went on, and the speculation must be dropped.
        """
        return False

    def partial(self) -> str:
        """Text recognised so far in the current utterance (may be empty)."""
        return ""

    @property
    def decoding(self) -> bool:
        """True while audio already handed over is still being decoded for ``partial``."""
        return False

    def finish(self) -> Transcript:
        """End the utterance and return its transcript."""
        samples = np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.int16)
        self._buffer = []
        return self.transcribe(samples)

    def finish_async(self) -> concurrent.futures.Future[Transcript]:
        """End the utterance; a future of its transcript (engines decoding in the background
        return before it is done, so the caller can show "thinking..." meanwhile)."""
        future: concurrent.futures.Future[Transcript] = concurrent.futures.Future()
        try:
            future.set_result(self.finish())
        except Exception as exc:  # the caller sees it at .result(), as with a real worker
            future.set_exception(exc)
        return future

    def from_words(self, words: list[Word], text: str | None = None) -> Transcript:
        """A Transcript of this engine: ``text`` defaults to the words joined by spaces."""
        if text is None:
            text = " ".join(w.text for w in words)
        return Transcript(text=text, words=tuple(words), engine=self.name, model=self.model_name)

    def close(self) -> None:
        """Release the engine's resources."""

