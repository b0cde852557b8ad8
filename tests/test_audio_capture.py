"""Microphone (with a fake sounddevice), the streaming resampler and PcmSource."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.support.fake_sounddevice import FakeSoundDevice, FakeStream, device
from voice_coach.audio import capture, devices
from voice_coach.audio.capture import (
    AfterEnd,
    AudioSource,
    Microphone,
    MuteMode,
    PcmSource,
    StreamResampler,
)
from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, resample, rms
from voice_coach.errors import DeviceError


def tone(seconds: float, rate: int, freq: float = 440.0, amp: float = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize("rate", [48000, 44100, 22050, 8000])
def test_stream_resampler_is_seamless(rate: int) -> None:
    x = tone(1.0, rate)
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.integers(1, len(x) - 1, size=40))
    rs = StreamResampler(rate)
    y = np.concatenate([rs.process(part) for part in np.split(x, cuts)])
    whole = StreamResampler(rate).process(x)
    assert np.array_equal(y, whole)  # block boundaries change nothing
    assert 0 <= SAMPLE_RATE - len(y) <= 32 * SAMPLE_RATE / rate + 3  # the filter holds some back
    # same signal as the one-shot resampler (away from the edges)
    ref = resample(x, rate)
    n = min(len(ref), len(y)) - 100
    err = y[100:n].astype(float) - ref[100:n].astype(float)
    assert np.sqrt(np.mean(err**2)) < 0.02 * rms(ref)


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    sd = FakeSoundDevice(devices=[device(0, "mic", 1, 2, 48000.0)], default=(0, 0))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(capture, "load_sounddevice", lambda: sd)
    return sd


def _push_frames(stream: FakeStream, samples: np.ndarray, block: int) -> None:
    for i in range(0, len(samples), block):
        stream.push(samples[i : i + block])


def test_microphone_opens_at_16k_and_yields_frames(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        assert stream.kwargs["samplerate"] == 16000 and stream.kwargs["blocksize"] == 480
        assert stream.kwargs["dtype"] == "int16" and stream.kwargs["channels"] == 1
        x = tone(0.3, 16000)
        _push_frames(stream, x, 480)
        chunks = [mic.read(timeout=0.1) for _ in range(10)]
        assert all(c is not None for c in chunks)
        assert [c.start for c in chunks if c] == pytest.approx([i * 0.03 for i in range(10)])
        assert np.array_equal(np.concatenate([c.samples for c in chunks if c]), x)
        assert mic.read(timeout=0.05) is None
    assert stream.closed
    assert isinstance(mic, AudioSource)


def test_microphone_falls_back_to_device_rate_and_resamples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = FakeSoundDevice(devices=[device(0, "mic", 2, 0, 44100.0)], supported_rates=(44100,))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(capture, "load_sounddevice", lambda: sd)
    with Microphone() as mic:
        assert mic.rate == 44100
        stream = sd.streams[-1]
        assert stream.kwargs["blocksize"] == 1323  # 30 ms at 44.1 kHz
        _push_frames(stream, tone(1.0, 44100), 1323)
        frames = []
        while (c := mic.read(timeout=0.05)) is not None:
            frames.append(c)
        assert all(len(c.samples) == FRAME_SAMPLES for c in frames)
        assert 32 <= len(frames) <= 34
        assert rms(np.concatenate([c.samples for c in frames[2:]])) == pytest.approx(
            8000 / np.sqrt(2), rel=0.05
        )


def test_overflows_are_counted_not_fatal(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        stream.push(tone(0.03, 16000), flags=2)
        stream.push(tone(0.03, 16000), flags=2)
        assert mic.read(timeout=0.1) is not None
        assert mic.read(timeout=0.1) is not None
        assert mic.overflows == 2


def test_mute_drops_frames_captured_while_muted(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        stream.push(tone(0.03, 16000))
        mic.mute()
        time.sleep(0.04)  # blocks carry the time they arrived: make them clearly "during" the mute
        stream.push(tone(0.03, 16000))
        stream.push(tone(0.03, 16000))
        mic.unmute(tail=0.05)
        stream.push(tone(0.03, 16000))  # inside the tail: dropped
        time.sleep(0.12)
        stream.push(tone(0.03, 16000))  # after the tail: delivered
        got = []
        while (c := mic.read(timeout=0.05)) is not None:
            got.append(c)
        assert [round(c.start / 0.03) for c in got] == [0, 4]


def test_mute_silence_mode_keeps_the_stream_continuous(fake_sd: FakeSoundDevice) -> None:
    with Microphone(mute_mode=MuteMode.SILENCE) as mic:
        stream = fake_sd.streams[0]
        mic.mute()
        time.sleep(0.04)
        stream.push(tone(0.03, 16000))
        c = mic.read(timeout=0.1)
        assert c is not None and not c.samples.any()


def test_flush_discards_queued_audio_but_keeps_the_clock(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        _push_frames(stream, tone(0.09, 16000), 480)
        mic.flush()
        assert mic.read(timeout=0.05) is None
        stream.push(tone(0.03, 16000))
        c = mic.read(timeout=0.1)
        assert c is not None and c.start == pytest.approx(0.09)


def test_stream_that_stops_surfaces_as_device_error(fake_sd: FakeSoundDevice) -> None:
    with Microphone() as mic:
        stream = fake_sd.streams[0]
        stream.push(tone(0.03, 16000))
        stream.die()
        assert mic.read(timeout=0.1) is not None  # audio captured before the failure still comes
        with pytest.raises(DeviceError, match="microphone failed"):
            mic.read(timeout=0.1)


def test_stalled_device_surfaces_as_device_error(fake_sd: FakeSoundDevice) -> None:
    with Microphone(stall_timeout=0.1) as mic, pytest.raises(DeviceError, match="no audio for"):
        mic.read(timeout=0.5)


def test_no_microphone_is_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = FakeSoundDevice(devices=[device(0, "speaker", 0, 2)], default=(-1, 0))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(capture, "load_sounddevice", lambda: sd)
    with pytest.raises(DeviceError, match="no microphone found"):
        Microphone().open()


# -- PcmSource ------------------------------------------------------------------------------


def test_pcm_source_as_fast_as_possible() -> None:
    x = tone(0.1, 16000)
    src = PcmSource(x, realtime=False, after_end=AfterEnd.STOP)
    frames = []
    while (c := src.read()) is not None:
        frames.append(c)
    assert len(frames) == 4  # 1600 samples -> 3 full frames and a zero-padded one
    assert np.array_equal(np.concatenate([c.samples for c in frames])[:1600], x)
    assert src.finished
    assert isinstance(src, AudioSource)


def test_pcm_source_silence_after_end_and_feed() -> None:
    src = PcmSource(realtime=False)
    c = src.read()
    assert c is not None and not c.samples.any()
    src.feed(tone(0.03, 16000))
    c = src.read()
    assert c is not None and c.samples.any() and c.start == pytest.approx(0.03)
    assert src.pending_seconds == 0


def test_pcm_source_script_waits_while_muted() -> None:
    src = PcmSource(realtime=False)
    src.mute()
    src.feed(tone(0.06, 16000))
    assert src.read() is None  # muted: nothing can come, and no busy loop
    src.unmute(tail=0.06)
    c = src.read()
    # the tail passes as dropped silence, then the script starts from its first sample
    assert c is not None and c.start == pytest.approx(0.06)
    assert np.array_equal(c.samples, tone(0.06, 16000)[:480])


def test_pcm_source_silence_mode_while_muted() -> None:
    src = PcmSource(tone(0.03, 16000), realtime=False, mute_mode=MuteMode.SILENCE)
    src.mute()
    c = src.read()
    assert c is not None and not c.samples.any()
    src.unmute(tail=0.0)
    c = src.read()
    assert c is not None and c.samples.any()


def test_pcm_source_speed_factor() -> None:
    src = PcmSource(tone(0.6, 16000), realtime=True, speed=4.0, after_end=AfterEnd.STOP)
    t0 = time.monotonic()
    n = 0
    while src.read(timeout=1.0) is not None:
        n += 1
    wall = time.monotonic() - t0
    assert n == 20
    assert 0.12 <= wall < 0.25  # 0.6 s of audio at 4x


def test_pcm_source_timeout_returns_none() -> None:
    src = PcmSource(realtime=True)
    src.read(timeout=0.0)
    t0 = time.monotonic()
    assert src.read(timeout=0.005) is None
    assert time.monotonic() - t0 < 0.05
