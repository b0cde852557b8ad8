"""Player (with a fake sounddevice) and NullPlayer."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.fake_sounddevice import FakeSoundDevice, device
from voice_coach.audio import devices, playback
from voice_coach.audio.format import read_wav
from voice_coach.audio.playback import NullPlayer, Player, open_player
from voice_coach.errors import DeviceError


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    sd = FakeSoundDevice(devices=[device(0, "speaker", 0, 2, 48000.0)], default=(-1, 0))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(playback, "load_sounddevice", lambda: sd)
    return sd


def test_player_resamples_and_queues_clips_back_to_back(fake_sd: FakeSoundDevice) -> None:
    firsts: list[float] = []
    with Player() as player:
        stream = fake_sd.streams[0]
        assert player.rate == 48000 and stream.kwargs["channels"] == 1
        a = player.play(np.full(1600, 1000, dtype=np.int16), 16000, lambda pb: firsts.append(1))
        b = player.play(np.full(800, 2000, dtype=np.int16), 16000)
        assert player.playing
        out = np.concatenate([stream.pull(1000)[:, 0] for _ in range(8)])
        # 4800 + 2400 samples at 48 kHz, no gap between the clips, then silence
        assert (out[100:4700] == 1000).all()
        assert (out[4900:7100] == 2000).all()
        assert (out[7300:] == 0).all()
        assert firsts == [1]
        assert a.done and b.done and not a.stopped
        assert a.first_sample_at is not None and b.first_sample_at is not None
        assert a.first_sample_at <= b.first_sample_at
        assert a.audible_at == pytest.approx(a.first_sample_at + 0.01, abs=1e-6)  # nominal latency
        assert player.wait(timeout=1.0)


def test_player_stop_cuts_the_queue(fake_sd: FakeSoundDevice) -> None:
    with Player() as player:
        stream = fake_sd.streams[0]
        a = player.play(np.full(16000, 1000, dtype=np.int16), 16000)
        b = player.play(np.full(16000, 1000, dtype=np.int16), 16000)
        stream.pull(1000)
        player.stop()
        assert a.stopped and b.stopped and not player.playing
        assert (stream.pull(1000) == 0).all()
        assert stream.active  # restarted, ready for the next clip
        assert player.wait(timeout=0.1)


def test_player_device_vanishing_raises_device_error(fake_sd: FakeSoundDevice) -> None:
    with Player() as player:
        stream = fake_sd.streams[0]
        pb = player.play(np.full(16000, 1000, dtype=np.int16), 16000)
        stream.die()
        assert pb.stopped
        with pytest.raises(DeviceError, match="audio output failed"):
            player.wait(timeout=1.0)
        with pytest.raises(DeviceError):
            player.play(np.zeros(10, dtype=np.int16), 16000)


def test_player_stall_raises_device_error(fake_sd: FakeSoundDevice) -> None:
    with Player(stall_timeout=0.05) as player:
        player.play(np.full(16000, 1000, dtype=np.int16), 16000)
        with pytest.raises(DeviceError, match="no progress"):
            player.wait(timeout=1.0)  # the fake never pulls: like a hung device


def test_open_player_falls_back_to_null_player_without_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = FakeSoundDevice(devices=[device(0, "mic", 1, 0)], default=(0, -1))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    assert isinstance(open_player(), NullPlayer)


def test_null_player_records_timing_and_audio(tmp_path: Path) -> None:
    player = NullPlayer(realtime=False)
    seen: list[float] = []
    a = player.play(np.full(22050, 500, dtype=np.int16), 22050, lambda pb: seen.append(pb.seconds))
    b = player.play(np.full(8000, 700, dtype=np.int16), 16000)
    assert seen == [pytest.approx(1.0)]
    assert a.first_sample_at is not None and b.first_sample_at is not None
    assert b.first_sample_at == pytest.approx(a.first_sample_at + 1.0)  # queued after a
    assert player.wait() and not player.playing
    rec = player.recording()
    assert len(rec) == pytest.approx(16000 + 8000, abs=2)
    player.write_wav(tmp_path / "out.wav")
    data, rate = read_wav(tmp_path / "out.wav")
    assert rate == 16000 and len(data) == len(rec)


def test_null_player_real_time_wait_and_stop() -> None:
    player = NullPlayer(realtime=True)
    player.play(np.zeros(1600, dtype=np.int16), 16000)  # 0.1 s
    t0 = time.monotonic()
    assert player.playing
    assert player.wait()
    assert 0.07 < time.monotonic() - t0 < 0.3
    pb = player.play(np.zeros(16000, dtype=np.int16), 16000)
    player.stop()
    assert pb.stopped and not player.playing
