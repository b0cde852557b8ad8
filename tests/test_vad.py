"""VADs and the level meter on frames made in the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames
from voice_coach.errors import EngineUnavailable, UsageError
from voice_coach.listening import vad as vad_module
from voice_coach.listening.vad import (
    EnergyVad,
    SileroVad,
    SpeakerLevelGate,
    WebRtcVad,
    create_vad,
    dbfs,
    level_meter,
)

RNG = np.random.default_rng(7)
SILENT = np.zeros(FRAME_SAMPLES, dtype=np.int16)


def noise(level: float) -> np.ndarray:
    """White noise with RMS ``level`` (0..1 of full scale)."""
    return (RNG.standard_normal(FRAME_SAMPLES) * level * 32767).clip(-32768, 32767).astype(np.int16)


def voice_like(amplitude: float = 0.3, f0: float = 140.0, start: int = 0) -> np.ndarray:
    """A harmonic-rich buzz, enough like a vowel for webrtcvad."""
    t = (np.arange(FRAME_SAMPLES) + start) / SAMPLE_RATE
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 20))
    wave = wave / np.max(np.abs(wave))
    return (wave * amplitude * 32767).astype(np.int16)


def test_dbfs_and_level_meter() -> None:
    assert dbfs(SILENT) == -96.0
    full = np.full(FRAME_SAMPLES, 32767, dtype=np.int16)
    assert dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert level_meter(SILENT) == 0.0
    assert level_meter(full) == pytest.approx(1.0, abs=0.01)
    mid = level_meter(noise(0.03))  # about -30 dBFS
    assert 0.4 < mid < 0.6


def test_energy_vad_silence_and_speech() -> None:
    vad = EnergyVad()
    assert not any(vad.is_speech(SILENT) for _ in range(20))
    assert not any(vad.is_speech(noise(0.001)) for _ in range(30))  # quiet room
    assert vad.is_speech(voice_like(0.2))


def test_energy_vad_adapts_to_steady_noise() -> None:
    vad = EnergyVad()
    hum = [noise(0.02) for _ in range(200)]  # ~-34 dBFS fan noise for 6 s
    decisions = [vad.is_speech(f) for f in hum]
    assert any(decisions[:5])  # a sudden noise first looks like speech...
    assert not any(decisions[-100:])  # ...until the floor has learnt it
    assert vad.is_speech(voice_like(0.5))
    vad.reset()
    assert vad.floor_dbfs == vad.initial_floor_dbfs


def test_energy_vad_speech_with_gaps_keeps_floor_low() -> None:
    vad = EnergyVad()
    decisions = []
    for i in range(300):  # syllables of 150 ms with 60 ms gaps over a quiet room
        frame = voice_like(0.3) if i % 7 < 5 else noise(0.001)
        decisions.append(vad.is_speech(frame))
    assert all(d for i, d in enumerate(decisions) if i % 7 < 5)
    assert not any(d for i, d in enumerate(decisions) if i % 7 >= 5)


def test_webrtc_vad() -> None:
    pytest.importorskip("webrtcvad")
    vad = WebRtcVad(mode=2)
    assert not vad.is_speech(SILENT)
    decisions = [vad.is_speech(voice_like(0.3, start=i * FRAME_SAMPLES)) for i in range(10)]
    assert sum(decisions) >= 8
    assert vad.is_speech(voice_like()[:320]) in (True, False)  # 20 ms frames are accepted
    with pytest.raises(ValueError, match="480"):
        vad.is_speech(np.zeros(400, dtype=np.int16))
    with pytest.raises(UsageError):
        WebRtcVad(mode=5)


def test_create_vad_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(create_vad("energy"), EnergyVad)
    monkeypatch.setattr(vad_module, "silero_model_path", lambda: None)
    monkeypatch.setattr(vad_module, "webrtc_available", lambda: False)
    assert isinstance(create_vad("auto"), EnergyVad)
    with pytest.raises(UsageError, match="auto, silero, webrtc, energy"):
        create_vad("nope")


def test_create_vad_auto_prefers_silero_then_webrtc(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("webrtcvad")
    if vad_module.silero_model_path() is not None:
        assert isinstance(create_vad(), SileroVad)
    monkeypatch.setattr(vad_module, "silero_model_path", lambda: None)
    assert isinstance(create_vad(), WebRtcVad)


def test_silero_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    with pytest.raises(EngineUnavailable, match="faster-whisper"):
        SileroVad(path=tmp_path / "none.onnx")


def silero() -> SileroVad:
    if vad_module.silero_model_path() is None:
        pytest.skip("faster-whisper (which ships Silero VAD) is not installed")
    return SileroVad()


def test_silero_quiet_on_silence_and_noise_at_stream_start() -> None:
    vad = silero()
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(SAMPLE_RATE * 2) * 300).astype(np.int16)
    assert not any(vad.is_speech(f) for f in frames(hiss))
    assert not any(vad.is_speech(SILENT) for _ in range(20))


@pytest.mark.slow
def test_silero_hears_speech_whatever_the_frame_size() -> None:
    from tests.support.speech import synth

    pcm = np.concatenate([synth("I led the move to the new database last spring."),
                          np.zeros(SAMPLE_RATE, np.int16)])
    by_frames = silero()
    flags30 = [by_frames.is_speech(f) for f in frames(pcm)]
    assert 0.5 < sum(flags30) / len(flags30) < 0.95
    assert not any(flags30[-10:])  # the second of silence at the end
    # 20 ms frames: the same chunks are judged, so the share of speech is the same.
    by_20 = silero()
    flags20 = [by_20.is_speech(f) for f in frames(pcm, 320)]
    assert sum(flags20) * 320 == pytest.approx(sum(flags30) * 480, rel=0.05)


def test_speaker_level_gate_vetoes_quiet_voices_once_the_user_is_known() -> None:
    gate = SpeakerLevelGate(gate_db=14.0, min_frames=5)
    loud, quiet = voice_like(0.5), voice_like(0.02)
    assert gate.judge(quiet, True)  # the user's level is not known yet
    gate.reset()
    for _ in range(5):
        assert gate.judge(loud, True)
    assert gate.level_dbfs == pytest.approx(dbfs(loud), abs=0.1)
    assert not gate.judge(quiet, True)  # -28 dB: a talker across the room
    assert not gate.judge(loud, False)  # never turns non-speech into speech


@pytest.mark.parametrize("std", [30, 100, 300])
def test_webrtc_gate_vetoes_steady_noise_at_stream_start(std: float) -> None:
    pytest.importorskip("webrtcvad")
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(SAMPLE_RATE * 2) * std).astype(np.int16)
    vad = WebRtcVad(mode=2)
    flags = [vad.is_speech(hiss[i : i + FRAME_SAMPLES]) for i in range(0, len(hiss), FRAME_SAMPLES)]
    assert sum(flags) < 3  # fewer than the endpointer's start hysteresis
    ungated = WebRtcVad(mode=2, gate_db=None)
    flags = [
        ungated.is_speech(hiss[i : i + FRAME_SAMPLES]) for i in range(0, len(hiss), FRAME_SAMPLES)
    ]
    assert sum(flags) >= 3  # what the gate is for
