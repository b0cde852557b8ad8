"""Hesitations in audio: filled pauses with no recognised word, long pauses; not breaths."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support.feedback_sessions import buzz, hiss, silence
from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio
from voice_coach.feedback.hesitation import (
    find_hesitations,
    pauses_between,
    speaking_time,
    voicing,
)
from voice_coach.listening.vad import EnergyVad, Vad, create_vad

VADS = ["energy", pytest.param("webrtc", marks=pytest.mark.skipif(
    not __import__("importlib.util").util.find_spec("webrtcvad"), reason="no webrtcvad"))]


def _vad(kind: str) -> Vad:
    return create_vad(kind)


def _assemble(pieces: list[tuple[str, Pcm]]) -> tuple[Pcm, list[tuple[float, float]]]:
    """Concatenate pieces; the spans of the 'word' pieces are the recognised words (t0 = 0)."""
    out: list[Pcm] = []
    spans: list[tuple[float, float]] = []
    t = 0
    for kind, samples in pieces:
        if kind == "word":
            spans.append((t / SAMPLE_RATE, (t + len(samples)) / SAMPLE_RATE))
        out.append(samples)
        t += len(samples)
    return np.concatenate(out), spans


def test_speaking_time_and_pauses_from_word_spans() -> None:
    spans = [(0.0, 0.3), (0.4, 0.7), (3.0, 3.3), (3.4, 3.7)]
    # Gaps of 0.1 s count as speaking, the 2.3 s gap does not.
    assert speaking_time(spans) == pytest.approx(0.3 * 4 + 0.1 * 2)
    assert [(p.start, p.end) for p in pauses_between(spans)] == [(0.7, 3.0)]
    assert speaking_time([]) == 0.0 and pauses_between([]) == ()


def test_voicing_separates_hum_from_noise() -> None:
    assert np.median(voicing(buzz(0.5))) > 0.8
    assert np.max(voicing(hiss(0.5, 0.05))) < 0.45
    assert np.max(voicing(np.zeros(4800, dtype=np.int16))) == 0.0
    assert len(voicing(np.zeros(0, dtype=np.int16))) == 0


@pytest.mark.parametrize("kind", VADS)
def test_hum_between_words_is_a_filled_pause(kind: str) -> None:
    samples, words = _assemble([
        ("sil", silence(0.3)), ("word", buzz(0.4)), ("sil", silence(0.3)),
        ("hum", buzz(0.5, f0=110)), ("sil", silence(0.3)), ("word", buzz(0.4)),
        ("sil", silence(0.4)),
    ])
    h = find_hesitations(samples, 10.0, _vad(kind), [(a + 10, b + 10) for a, b in words])
    assert h.filled_pauses is not None and len(h.filled_pauses) == 1
    fp = h.filled_pauses[0]
    assert 10.95 <= fp.start <= 11.1 and 11.35 <= fp.end <= 11.55  # the hum: 11.0-11.5 s
    assert h.long_pauses == ()


@pytest.mark.parametrize("kind", VADS)
def test_silence_breath_and_noise_floor_are_not_filled_pauses(kind: str) -> None:
    samples, words = _assemble([
        ("sil", silence(0.5)), ("word", buzz(0.4)), ("sil", silence(0.8)),
        ("breath", hiss(0.5, 0.03)), ("sil", silence(0.8)), ("word", buzz(0.4)),
        ("sil", silence(2.6)), ("word", buzz(0.4)), ("sil", silence(0.5)),
    ])
    h = find_hesitations(samples, 0.0, _vad(kind), words)
    assert h.filled_pauses == ()
    assert len(h.long_pauses) == 1 and h.long_pauses[0].seconds == pytest.approx(2.6, abs=0.1)


def test_without_word_timings_filled_pauses_are_not_measured() -> None:
    samples, _ = _assemble([("word", buzz(0.4)), ("sil", silence(2.5)), ("word", buzz(0.4))])
    h = find_hesitations(samples, 0.0, EnergyVad(), None)
    assert h.filled_pauses is None
    assert len(h.long_pauses) == 1
    assert h.voiced_s == pytest.approx(0.8, abs=0.15)


def test_long_unrecognised_speech_is_not_a_hesitation() -> None:
    samples, words = _assemble([("word", buzz(0.4)), ("sil", silence(0.3)),
                                ("talk", buzz(3.0)), ("sil", silence(0.3)), ("word", buzz(0.4))])
    h = find_hesitations(samples, 0.0, EnergyVad(), words)
    assert h.filled_pauses == () and len(h.unrecognised) == 1


# --- real synthesised speech --------------------------------------------------------------------


def _espeak(tmp: Path, name: str, text: str, speed: int = 150) -> Pcm:
    path = tmp / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(path), text],
                   check=True, capture_output=True, timeout=30)
    x = read_audio(path)
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
    return x[loud[0] : loud[-1] + 1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize("kind", VADS)
def test_espeak_um_and_uh_spliced_into_an_answer(tmp_path: Path, kind: str) -> None:
    first = _espeak(tmp_path, "a", "I built a data pipeline for sales reporting")
    second = _espeak(tmp_path, "b", "and then I added tests so it would not happen again")
    um = _espeak(tmp_path, "um", "um", speed=90)
    uh = _espeak(tmp_path, "uh", "uh", speed=90)
    for filler in (um, uh):
        samples, words = _assemble([
            ("sil", silence(0.3)), ("word", first), ("sil", silence(0.5)), ("um", filler),
            ("sil", silence(0.5)), ("word", second), ("sil", silence(0.3)),
        ])
        # The transcript has the sentences' words and nothing where the filler is.
        h = find_hesitations(samples, 5.0, _vad(kind), [(a + 5, b + 5) for a, b in words])
        assert h.filled_pauses is not None and len(h.filled_pauses) == 1, h
        start = 5.0 + (0.3 * SAMPLE_RATE + len(first)) / SAMPLE_RATE + 0.5
        assert abs(h.filled_pauses[0].start - start) < 0.15
    # The same answer with plain silence (and a breath) instead: nothing.
    samples, words = _assemble([
        ("sil", silence(0.3)), ("word", first), ("sil", silence(0.6)),
        ("breath", hiss(0.4, 0.02)), ("sil", silence(0.6)), ("word", second),
        ("sil", silence(0.3)),
    ])
    h = find_hesitations(samples, 0.0, _vad(kind), words)
    assert h.filled_pauses == () and h.long_pauses == ()
