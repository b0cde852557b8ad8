"""Run the voice-coach CLI with an "oracle" speech engine: the spoken demo without a real STT.

Usage: python tests/support/oracle_child.py demo --fast --engine oracle [options]

The oracle recognizer returns, for each utterance, the text the scripted candidate was asked to
say (taken from ScriptedCandidate.answer), so a whole spoken demo runs the real pipeline
(synthesis, endpointing, audio files, store) in a couple of seconds. Crash and offline tests use it.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from voice_coach.audio.format import Pcm
from voice_coach.interview import candidate as candidate_mod
from voice_coach.interview.candidate import plain
from voice_coach.stt import registry
from voice_coach.stt.base import Recognizer, Transcript, Word

_SAID: collections.deque[str] = collections.deque()


class OracleRecognizer(Recognizer):
    """Returns what the scripted candidate said, one answer per utterance, with even word times."""

    name = "oracle"

    def __init__(self, model_path: object = None) -> None:
        super().__init__()

    def transcribe(self, samples: Pcm) -> Transcript:
        """The next scripted answer, spread evenly over the utterance."""
        text = plain(_SAID.popleft()) if _SAID else ""
        seconds = len(samples) / 16000
        tokens = text.split()
        step = seconds / max(1, len(tokens))
        words = tuple(Word(t, round(i * step, 3), round((i + 1) * step, 3), 0.9)
                      for i, t in enumerate(tokens))
        return Transcript(text, words, engine="oracle")


def install() -> None:
    """Register the oracle engine and make the scripted candidate report what it says."""
    original = candidate_mod.ScriptedCandidate.answer

    def answer(self: candidate_mod.ScriptedCandidate, stage: object, line: str = "") -> str:
        text = original(self, stage, line)  # type: ignore[arg-type]
        _SAID.append(text)
        return text

    candidate_mod.ScriptedCandidate.answer = answer  # type: ignore[method-assign]
    registry.ENGINES["oracle"] = (__name__, "OracleRecognizer")
    registry.REQUIRES["oracle"] = ((), "nothing")


if __name__ == "__main__":
    install()
    from voice_coach.cli import main

    main()
