"""Voice activity detection on 16 kHz int16 frames: Silero, webrtcvad, or an energy gate."""

from __future__ import annotations

import abc
import importlib.util
import logging
import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, rms
from voice_coach.errors import EngineUnavailable, UsageError

_LOGGER = logging.getLogger(__name__)

_FLOOR_DBFS = -96.0
"""Level reported for digital silence (the 16-bit noise floor)."""
VAD_KINDS = ("auto", "silero", "webrtc", "energy")


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


class SileroVad(Vad):
    """Silero VAD v6 (MIT), the ONNX file shipped inside ``faster-whisper``, run by onnxruntime.

    Silero takes 512-sample chunks (32 ms) with 64 samples of context and carries an LSTM
    state; frames of any size are buffered into chunks, and a frame is judged by the newest
    chunk probability with hysteresis (on at ``threshold``, off below ``threshold - 0.15``),
    so the decision lags the audio by at most one chunk.
    """

    name = "silero"
    CHUNK = 512
    CONTEXT = 64

    def __init__(
        self, threshold: float = 0.5, path: Path | None = None, gate_db: float | None = None
    ) -> None:
        self.threshold = threshold
        self.off_threshold = threshold - 0.15
        self._gate = SpeakerLevelGate(gate_db) if gate_db is not None else None
        model = path or silero_model_path()
        if model is None or not model.is_file():
            raise EngineUnavailable(
                "Silero VAD needs faster-whisper (it ships the model): "
                "pip install 'voice-coach[whisper]'"
            )
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EngineUnavailable(
                "Silero VAD needs onnxruntime: pip install onnxruntime"
            ) from exc
        opts = ort.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.reset()

    def reset(self) -> None:
        """Forget the LSTM state and any buffered samples."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(self.CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._speaking = False
        self.probability = 0.0
        """Speech probability of the newest chunk."""
        if self._gate is not None:
            self._gate.reset()

    def is_speech(self, frame: Pcm) -> bool:
        """True when the newest 32 ms chunk (up to this frame) holds the user's speech."""
        voiced = self._model_says_speech(frame)
        if self._gate is None:
            return voiced
        return self._gate.judge(frame, voiced)

    def _model_says_speech(self, frame: Pcm) -> bool:
        self._pending = np.concatenate([self._pending, frame.astype(np.float32) / 32768.0])
        while len(self._pending) >= self.CHUNK:
            chunk, self._pending = self._pending[: self.CHUNK], self._pending[self.CHUNK :]
            window = np.concatenate([self._context, chunk])[np.newaxis]
            out, self._h, self._c = self._session.run(
                None, {"input": window, "h": self._h, "c": self._c}
            )
            self._context = chunk[-self.CONTEXT :]
            self.probability = float(np.asarray(out).reshape(-1)[0])
            if self._speaking:
                self._speaking = self.probability >= self.off_threshold
            else:
                self._speaking = self.probability >= self.threshold
        return self._speaking


class SpeakerLevelGate:
    """Vetoes voiced frames far below the user's own speech level (background talkers).

    Silero hears a café's babble as speech, and so would let a thinking pause never end; the
    user, close to the microphone, is much louder. The level is the 75th percentile of the
    frames called speech over the last ~6 s; until 0.6 s of speech is heard there is no veto.
    """

    def __init__(self, gate_db: float = 14.0, history: int = 200, min_frames: int = 20) -> None:
        self.gate_db = gate_db
        self.min_frames = min_frames
        self._levels: deque[float] = deque(maxlen=history)

    def reset(self) -> None:
        """Forget the user's level."""
        self._levels.clear()

    @property
    def level_dbfs(self) -> float | None:
        """The user's speech level, once known."""
        if len(self._levels) < self.min_frames:
            return None
        return float(np.percentile(np.fromiter(self._levels, float), 75))

    def judge(self, frame: Pcm, voiced: bool) -> bool:
        """The VAD's decision ``voiced`` for ``frame``, vetoed when the frame is too quiet."""
        if not voiced:
            return False
        level = dbfs(frame)
        known = self.level_dbfs
        if known is not None and level < known - self.gate_db:
            return False
        self._levels.append(level)
        return True


def silero_model_path() -> Path | None:
    """The Silero VAD ONNX file inside the installed faster-whisper, found without importing it."""
    try:
        spec = importlib.util.find_spec("faster_whisper")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        path = Path(base, "assets", "silero_vad_v6.onnx")
        if path.is_file():
            return path
    return None


def webrtc_available() -> bool:
    """True when the webrtcvad module can be imported."""
    return importlib.util.find_spec("webrtcvad") is not None


def create_vad(kind: str = "auto", mode: int = 2) -> Vad:
    """Build a VAD by name; ``auto`` is the best one installed (silero, webrtc, energy)."""
    if kind == "auto":
        if silero_model_path() is not None and importlib.util.find_spec("onnxruntime"):
            kind = "silero"
        else:
            kind = "webrtc" if webrtc_available() else "energy"
        _LOGGER.debug("VAD auto-selected: %s", kind)
    if kind == "silero":
        return SileroVad()
    if kind == "webrtc":
        return WebRtcVad(mode)
    if kind == "energy":
        return EnergyVad()
    raise UsageError(f"unknown VAD {kind!r}; choose one of: {', '.join(VAD_KINDS)}")
