"""Session time for a spoken session: the audio's own clock in fast runs, playback timing."""

from __future__ import annotations

import time

from voice_coach.audio.capture import AudioSource
from voice_coach.audio.playback import Playback


class AudioClock:
    """Session time that follows the audio (for sources faster than real time)."""

    def __init__(self) -> None:
        self._t = 0.0

    def now(self) -> float:
        """Seconds of audio heard and said so far."""
        return self._t

    def advance(self, seconds: float) -> None:
        """The interviewer said ``seconds`` of audio."""
        self._t += seconds

    def set(self, t: float) -> None:
        """Listening reached session time ``t``."""
        self._t = max(self._t, t)


def source_speed(source: AudioSource) -> float:
    """How fast the source's stream clock runs against the wall clock."""
    if getattr(source, "realtime", True) is False:
        return float("inf")
    return float(getattr(source, "speed", 1.0))


def wait_first_sample(pb: Playback, timeout: float = 0.5) -> None:
    """Wait until the first sample of a clip has been handed to the device (a few ms)."""
    deadline = time.monotonic() + timeout
    while pb.first_sample_at is None and time.monotonic() < deadline:
        time.sleep(0.001)
