"""Voice activity detection on 16 kHz int16 frames: webrtcvad if installed, else an energy gate."""

from __future__ import annotations

import abc
import logging
import math
from collections import deque
from typing import Any

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, rms
from voice_coach.errors import EngineUnavailable, UsageError

_LOGGER = logging.getLogger(__name__)

_FLOOR_DBFS = -96.0
"""Level reported for digital silence (the 16-bit noise floor)."""
VAD_KINDS = ("auto", "webrtc", "energy")


def dbfs(frame: Pcm) -> float:
    """RMS level of a frame in dB relative to full scale (-96 for digital silence)."""
    level = rms(frame)
    if level <= 0.0:
        return _FLOOR_DBFS
    return max(_FLOOR_DBFS, 20.0 * math.log10(level / 32768.0))


def level_meter(frame: Pcm, floor_dbfs: float = -60.0) -> float:
    """Input level for a meter: 0.0 at ``floor_dbfs`` or below, 1.0 at full scale."""
    return min(1.0, max(0.0, (dbfs(frame) - floor_dbfs) / -floor_dbfs))


class Vad(abc.ABC):
    """Decides, frame by frame, whether a 10/20/30 ms frame of 16 kHz audio holds speech."""

    name: str = "base"

    @abc.abstractmethod
    def is_speech(self, frame: Pcm) -> bool:
        """True when ``frame`` holds speech."""

    def reset(self) -> None:
        """Forget any adaptation (between turns)."""


class WebRtcVad(Vad):
    """Google's WebRTC VAD (``webrtcvad-wheels``); mode 0 (lenient) to 3 (aggressive).

    webrtcvad calls steady broadband noise speech for its first second or so, until its
    noise model adapts; an energy gate (``gate_db`` above the noise floor) vetoes those frames.
    """

    name = "webrtc"
    _SIZES = (SAMPLE_RATE // 100, SAMPLE_RATE // 50, SAMPLE_RATE * 3 // 100)

    def __init__(self, mode: int = 2, gate_db: float | None = 6.0) -> None:
        if not 0 <= mode <= 3:
            raise UsageError(f"webrtc VAD mode must be 0..3, not {mode}")
        try:
            import webrtcvad
        except ImportError as exc:
            raise EngineUnavailable(
                "webrtcvad is not installed: pip install webrtcvad-wheels"
            ) from exc
        self.mode = mode
        self._vad: Any = webrtcvad.Vad(mode)
        self._gate = (
            # Trust the measured floor at once: the gate must veto noise from the first frame.
            EnergyVad(threshold_db=gate_db, min_dbfs=_FLOOR_DBFS, trust_frames=1)
            if gate_db is not None
            else None
        )

    def is_speech(self, frame: Pcm) -> bool:
        """True when webrtcvad hears speech in a 10, 20 or 30 ms frame."""
        if len(frame) not in self._SIZES:
            raise ValueError(f"webrtcvad needs 160, 320 or 480 samples, not {len(frame)}")
        data = np.ascontiguousarray(frame, dtype="<i2").tobytes()
        loud_enough = self._gate.is_speech(frame) if self._gate is not None else True
        return bool(self._vad.is_speech(data, SAMPLE_RATE)) and loud_enough

    def reset(self) -> None:
        """Forget the energy gate's noise floor."""
        if self._gate is not None:
            self._gate.reset()


class EnergyVad(Vad):
    """Level above an adaptive noise floor; pure numpy, for when webrtcvad is missing.

    The floor is the quietest frame of the last ``floor_window`` frames (minimum statistics):
    speech always has gaps between syllables, so the minimum follows the room, not the voice.
    For the first ``trust_frames`` frames the floor is at most ``initial_floor_dbfs``.
    """

    name = "energy"

    def __init__(
        self,
        threshold_db: float = 12.0,
        min_dbfs: float = -50.0,
        initial_floor_dbfs: float = -65.0,
        floor_window: int = 100,
        trust_frames: int = 10,
    ) -> None:
        self.threshold_db = threshold_db
        self.trust_frames = trust_frames
        self.min_dbfs = min_dbfs
        self.initial_floor_dbfs = initial_floor_dbfs
        self._levels: deque[float] = deque(maxlen=floor_window)

    @property
    def floor_dbfs(self) -> float:
        """Current noise floor estimate."""
        if len(self._levels) < self.trust_frames:
            # Too few frames to know the room: do not trust a floor above the initial guess.
            return min([self.initial_floor_dbfs, *self._levels])
        return min(self._levels)

    def is_speech(self, frame: Pcm) -> bool:
        """True when the frame is loud enough and well above the running noise floor."""
        level = dbfs(frame)
        self._levels.append(level)
        return level >= self.min_dbfs and level >= self.floor_dbfs + self.threshold_db

    def reset(self) -> None:
        """Start again from the initial noise floor."""
        self._levels.clear()


def webrtc_available() -> bool:
    """True when the webrtcvad module can be imported."""
    import importlib.util

    return importlib.util.find_spec("webrtcvad") is not None


def create_vad(kind: str = "auto", mode: int = 2) -> Vad:
    """Build a VAD: ``webrtc``, ``energy`` or ``auto`` (webrtc when installed, else energy)."""
    if kind == "auto":
        kind = "webrtc" if webrtc_available() else "energy"
        _LOGGER.debug("VAD auto-selected: %s", kind)
    if kind == "webrtc":
        return WebRtcVad(mode)
    if kind == "energy":
        return EnergyVad()
    raise UsageError(f"unknown VAD {kind!r}; choose one of: {', '.join(VAD_KINDS)}")
