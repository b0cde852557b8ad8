"""Text-only mode: a speaker that makes no sound, so the caller just shows the text."""

from __future__ import annotations

import logging

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE
from voice_coach.tts.base import Speaker, Speech

_LOGGER = logging.getLogger(__name__)


class SilentSpeaker(Speaker):
    """Returns an empty clip for every line (text-only sessions, tests, no sound card)."""

    name = "silent"

    def synth(self, text: str) -> Speech:
        """An empty clip at 16 kHz."""
        return Speech(np.zeros(0, dtype=np.int16), SAMPLE_RATE)
