"""The one internal audio currency: 16 kHz mono int16 PCM in 30 ms frames; edge converters."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
"""Samples a second of every internal stream."""
FRAME_MS = 30
"""Length of one frame in milliseconds (webrtcvad takes 10, 20 or 30)."""
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
"""Samples in one frame (480)."""

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True)
class AudioChunk:
    """A piece of 16 kHz mono int16 audio and when it began on the stream's clock."""

    samples: Pcm
    start: float = 0.0
    """Seconds from the start of the stream to the first sample."""
    at: float | None = None
    """Monotonic time the first sample was captured, when the source knows it (real time)."""

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        """Stream time just after the last sample."""
        return self.start + self.seconds


def to_int16(samples: npt.NDArray[np.generic]) -> Pcm:
    """Convert float (-1..1) or integer samples to int16, clipping."""
    if samples.dtype == np.int16:
        return samples.astype(np.int16, copy=False)
    if np.issubdtype(samples.dtype, np.floating):
        scaled = np.clip(samples.astype(np.float64), -1.0, 1.0) * 32767.0
        return scaled.astype(np.int16)
    if samples.dtype == np.int32:
        return (samples.astype(np.int32) >> 16).astype(np.int16)
    return samples.astype(np.int16)


def to_mono(samples: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Average the channels of a (frames, channels) array."""
    if samples.ndim == 1:
        return samples
    mono: npt.NDArray[np.generic] = samples.astype(np.float64).mean(axis=1).astype(samples.dtype)
    return mono


def resample(samples: Pcm, rate: int, target: int = SAMPLE_RATE) -> Pcm:
    """Resample int16 audio with a windowed-sinc low-pass and linear interpolation."""
    if rate == target or len(samples) == 0:
        return samples
    x = samples.astype(np.float32)
    if target < rate:
        # Low-pass below the new Nyquist so downsampling does not alias sibilants into the band.
        cutoff = 0.5 * target / rate
        taps = 63
        n = np.arange(taps) - (taps - 1) / 2
        h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        x = np.convolve(x, (h / h.sum()).astype(np.float32), mode="same")
    duration = len(x) / rate
    count = round(duration * target)
    t_new = np.arange(count, dtype=np.float64) / target
    t_old = np.arange(len(x), dtype=np.float64) / rate
    y = np.interp(t_new, t_old, x)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def frames(samples: Pcm, size: int = FRAME_SAMPLES, pad: bool = True) -> Iterator[Pcm]:
    """Split audio into frames of ``size`` samples; the last one is zero-padded when ``pad``."""
    for i in range(0, len(samples), size):
        chunk = samples[i : i + size]
        if len(chunk) < size:
            if not pad:
                return
            chunk = np.concatenate([chunk, np.zeros(size - len(chunk), dtype=np.int16)])
        yield chunk


def rms(samples: Pcm) -> float:
    """Root-mean-square level of int16 audio, 0..32768."""
    if len(samples) == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def read_audio(path: Path | str) -> Pcm:
    """Read a WAV/FLAC/OGG file of any rate and channel count as 16 kHz mono int16."""
    import soundfile  # lazy: only the file edges need libsndfile

    data, rate = soundfile.read(str(path), dtype="int16", always_2d=False)
    return resample(to_int16(to_mono(data)), int(rate))


def wav_bytes(samples: Pcm, rate: int = SAMPLE_RATE) -> bytes:
    """Mono int16 samples as the bytes of a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def write_wav(path: Path, samples: Pcm, rate: int = SAMPLE_RATE, mode: int = 0o600) -> None:
    """Write mono int16 WAV atomically (see :func:`voice_coach.fileio.atomic_write`)."""
    from voice_coach.fileio import atomic_write

    atomic_write(Path(path), wav_bytes(samples, rate), mode)


def read_wav(path: Path | str) -> tuple[Pcm, int]:
    """Read a mono or stereo int16 WAV with the stdlib; returns (mono samples, rate)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV is supported here")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        if w.getnchannels() > 1:
            data = to_int16(to_mono(data.reshape(-1, w.getnchannels())))
        return data, w.getframerate()
