"""Hesitations found in an answer's audio: filled pauses the recogniser dropped, long silences.

Pure over a ``Pcm`` array, the session time of its first sample and the recognised word spans:
a frame is voice when the VAD calls it speech; a stretch of voice that no word covers and that
is mostly voiced (periodic, like "um" and "uh", unlike breaths and room noise) is a filled pause.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, Pcm, frames
from voice_coach.feedback import thresholds as th
from voice_coach.listening.vad import Vad

_LOGGER = logging.getLogger(__name__)

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
"""Seconds in one analysis frame (0.03)."""
_MIN_VOICE_FRAMES = 2
"""Voice shorter than this (60 ms) is a click or a blip: it does not break a silence."""
_BRIDGE_FRAMES = 2
"""Gaps of up to this many frames inside a filled pause are bridged (a nasal "mm" dips)."""


@dataclass(frozen=True)
class Span:
    """A stretch of the session timeline, in seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class Hesitations:
    """What the audio of one answer shows; ``filled_pauses`` is None without word timings."""

    filled_pauses: tuple[Span, ...] | None
    long_pauses: tuple[Span, ...]
    unrecognised: tuple[Span, ...]
    """Voiced stretches with no word that are too long to be a filled pause."""
    voiced_s: float
    """Speaking time by voice activity (gaps shorter than ``PACE_GAP_S`` included)."""


def voicing(samples: Pcm) -> npt.NDArray[np.float64]:
    """Per 30 ms frame, the peak normalised autocorrelation over speaking pitch lags (0..1)."""
    blocks = list(frames(samples))
    if not blocks:
        return np.zeros(0)
    x = np.stack(blocks).astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    n = FRAME_SAMPLES
    spec = np.fft.rfft(x, n=2 * n, axis=1)
    acf = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    energy = acf[:, 0]
    lo = int(SAMPLE_RATE / th.PITCH_HZ[1])
    hi = int(SAMPLE_RATE / th.PITCH_HZ[0])
    lags = np.arange(lo, hi + 1)
    # Unbiased: a lag of k overlaps n - k samples, so scale up to compare lags fairly.
    scaled = acf[:, lo : hi + 1] * (n / (n - lags))[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        peak = np.where(energy > 0, scaled.max(axis=1) / energy, 0.0)
    out: npt.NDArray[np.float64] = np.clip(np.nan_to_num(peak), 0.0, 1.0)
    return out


def voice_activity(samples: Pcm, vad: Vad) -> npt.NDArray[np.bool_]:
    """Per 30 ms frame, whether the VAD hears speech (the VAD is reset first)."""
    vad.reset()
    return np.array([vad.is_speech(f) for f in frames(samples)], dtype=bool)


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, end) frame indices of each run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _bridge(flags: npt.NDArray[np.bool_], gap: int) -> npt.NDArray[np.bool_]:
    """Fill runs of False no longer than ``gap`` frames between Trues."""
    out = flags.copy()
    runs = _runs(~flags)
    for a, b in runs:
        if a > 0 and b < len(flags) and b - a <= gap:
            out[a:b] = True
    return out


def _drop_short(flags: npt.NDArray[np.bool_], min_frames: int) -> npt.NDArray[np.bool_]:
    """Clear runs of True shorter than ``min_frames``."""
    out = flags.copy()
    for a, b in _runs(flags):
        if b - a < min_frames:
            out[a:b] = False
    return out


def word_coverage(count: int, audio_start: float, words: Sequence[tuple[float, float]],
                  margin: float = th.WORD_MARGIN_S) -> npt.NDArray[np.bool_]:
    """Per frame, whether a recognised word (widened by ``margin``) covers its centre."""
    centres = audio_start + (np.arange(count) + 0.5) * FRAME_S
    covered = np.zeros(count, dtype=bool)
    for start, end in words:
        covered |= (centres >= start - margin) & (centres <= end + margin)
    return covered


def speaking_time(spans: Sequence[tuple[float, float]]) -> float:
    """Seconds of speaking over word spans: each word plus the gaps shorter than ``PACE_GAP_S``."""
    ordered = sorted(spans)
    if not ordered:
        return 0.0
    total = 0.0
    prev_end = ordered[0][0]
    for start, end in ordered:
        gap = start - prev_end
        if 0 < gap < th.PACE_GAP_S:
            total += gap
        total += max(0.0, end - max(start, prev_end))
        prev_end = max(prev_end, end)
    return total


def pauses_between(spans: Sequence[tuple[float, float]]) -> tuple[Span, ...]:
    """Silences longer than ``LONG_PAUSE_S`` between consecutive spans."""
    out: list[Span] = []
    ordered = sorted(spans)
    prev_end: float | None = None
    for start, end in ordered:
        if prev_end is not None and start - prev_end > th.LONG_PAUSE_S:
            out.append(Span(round(prev_end, 3), round(start, 3)))
        prev_end = end if prev_end is None else max(prev_end, end)
    return tuple(out)


def find_hesitations(samples: Pcm, audio_start: float, vad: Vad,
                     words: Sequence[tuple[float, float]] | None) -> Hesitations:
    """Filled pauses, long pauses and voiced time in one answer's audio.

    ``words`` are the recognised word spans on the session timeline; None when the session has
    no word timings (then filled pauses are not measured: any voice could be a word).
    """
    voice = _drop_short(voice_activity(samples, vad), _MIN_VOICE_FRAMES)
    count = len(voice)

    def span(a: int, b: int) -> Span:
        return Span(round(audio_start + a * FRAME_S, 3), round(audio_start + b * FRAME_S, 3))

    covered = word_coverage(count, audio_start, words or ())
    # A pause is measured between the words themselves, not their widened margins.
    sound = voice | word_coverage(count, audio_start, words or (), margin=0.0)
    # Long pauses: silence (no voice, no word) between the first and last sound.
    stretches = [span(a, b) for a, b in _runs(sound)]
    long_pauses = pauses_between([(s.start, s.end) for s in stretches])
    voiced_s = speaking_time([(s.start, s.end) for s in (span(a, b) for a, b in _runs(voice))])

    if words is None:
        return Hesitations(None, long_pauses, (), round(voiced_s, 3))
    periodic = voicing(samples)[:count] >= th.VOICING_MIN
    filled: list[Span] = []
    unrecognised: list[Span] = []
    candidates = _bridge(voice & ~covered, _BRIDGE_FRAMES) & ~covered
    for a, b in _runs(candidates):
        s = span(a, b)
        voiced_share = float(periodic[a:b].mean()) if b > a else 0.0
        if s.seconds < th.FILLED_PAUSE_MIN_S - 1e-9 or voiced_share < th.VOICED_FRACTION_MIN:
            continue
        (filled if s.seconds <= th.FILLED_PAUSE_MAX_S else unrecognised).append(s)
    _LOGGER.debug("hesitations: %d filled, %d long pauses, %d unrecognised",
                  len(filled), len(long_pauses), len(unrecognised))
    return Hesitations(tuple(filled), long_pauses, tuple(unrecognised), round(voiced_s, 3))

