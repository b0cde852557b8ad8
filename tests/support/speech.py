"""Test helper: synthesise speech with espeak-ng and read it as 16 kHz mono int16."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio

VOICES = ("en-us", "en-gb")
"""Two espeak-ng English voices used for accent variety."""


def have_espeak() -> bool:
    """True when the espeak-ng command is installed."""
    return shutil.which("espeak-ng") is not None


def synth(text: str, voice: str = "en-us", rate: int = 160, folder: Path | None = None) -> Pcm:
    """Speak ``text`` with espeak-ng into a WAV and return it as 16 kHz mono int16."""
    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), text],
            check=True,
            capture_output=True,
        )
        return read_audio(out)


def silence(seconds: float) -> Pcm:
    """Digital silence of the given length."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def noise(seconds: float, level: float = 30.0, seed: int = 0) -> Pcm:
    """Quiet white noise, like a room with nobody speaking."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * level).astype(np.int16)
