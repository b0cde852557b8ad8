"""Audio layer on a private virtual PulseAudio daemon: capture, playback, mute, real-time pacing."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.virtual_audio import VirtualAudio
from voice_coach.audio.format import SAMPLE_RATE, read_audio, rms

if TYPE_CHECKING:
    from tests.support.audio_fixtures import ChildRunner

pytest_plugins = ["tests.support.audio_fixtures"]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _finish(proc: subprocess.Popen[str], timeout: float = 30) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"child failed ({proc.returncode}): {out}\n{err[-2000:]}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("rate", [SAMPLE_RATE, 48000], ids=["16k", "48k-resampled"])
def test_microphone_records_speech_played_into_virtual_mic(
    virtual_audio: VirtualAudio,
    audio_env: dict[str, str],
    speech_wav: Path,
    tmp_path: Path,
    rate: int,
    audio_child: ChildRunner,
) -> None:
    ref = read_audio(speech_wav)
    wav = tmp_path / "captured.wav"
    proc = audio_child(
        "capture", json.dumps({"seconds": 5, "rate": rate, "wav": str(wav)}), audio_env
    )
    virtual_audio.wait_recording(timeout=15)
    played_at = time.monotonic()
    virtual_audio.play_into_mic(speech_wav)
    result = _finish(proc)

    assert result["rate"] == rate
    # frames are contiguous 30 ms steps on the stream clock
    starts = result["starts"]
    assert all(abs((b - a) - 0.03) < 1e-9 for a, b in itertools.pairwise(starts))
    captured = read_audio(wav)
    loud = captured[abs(captured.astype(int)) > 300]
    # the speech arrived: similar level and about as long as what was played (not sample-exact)
    # same energy overall: rms scaled by the square root of the durations
    ratio = (rms(captured) ** 2 * len(captured)) / (rms(ref) ** 2 * len(ref))
    assert 0.5 < ratio < 2.0
    assert len(loud) > 0.3 * (abs(ref.astype(int)) > 300).sum()
    latency = result["first_loud"] - played_at
    print(f"capture latency (paplay start -> first loud frame read) at {rate} Hz: {latency:.3f} s")
    assert 0 < latency < 1.0
    assert result["overflows"] == 0


def _play_and_record(
    virtual_audio: VirtualAudio,
    audio_env: dict[str, str],
    wav: Path,
    cap: Path,
    audio_child: ChildRunner,
) -> dict[str, Any]:
    """Play ``wav`` in three queued clips through a Player while the speaker is recorded."""
    virtual_audio.record_speaker(cap)
    time.sleep(0.3)  # parecord attaches before the program plays
    try:
        args = {"wav": str(wav), "parts": 3, "settle": 0.5}
        return _finish(audio_child("play", json.dumps(args), audio_env))
    finally:
        time.sleep(0.3)
        virtual_audio.stop_recording(cap)


def test_player_plays_into_virtual_speaker(
    virtual_audio: VirtualAudio,
    audio_env: dict[str, str],
    speech_wav: Path,
    tmp_path: Path,
    audio_child: ChildRunner,
) -> None:
    # A starved sound server (a busy CI machine) can take a buffer faster than real time and
    # drop it: CI once saw 3.68 s of audio "played" in 2.59 s, a third of it missing from the
    # recording. No player can do that to an intact device, so such a run is tried again;
    # a player that loses audio on an intact device still fails below.
    for attempt in range(3):
        cap = tmp_path / f"speaker{attempt}.wav"
        result = _play_and_record(virtual_audio, audio_env, speech_wav, cap, audio_child)
        if result["wall"] >= result["seconds"] - 0.25:
            break
        print(f"the device took {result['seconds']:.2f} s of audio in {result['wall']:.2f} s "
              f"({result['underflows']} underflows): the sound server skipped; again")
    ref = read_audio(speech_wav)
    got = read_audio(cap)
    print(
        f"player: first buffer {result['queued_to_first'] * 1000:.1f} ms after play(), "
        f"nominal output latency {result['audible_latency'] * 1000:.1f} ms, "
        f"wall {result['wall']:.2f} s for {result['seconds']:.2f} s of audio in 3 clips"
    )
    assert result["queued_to_first"] < 0.5
    # three queued clips play back to back: no gaps beyond the output latency, and in real time
    assert result["seconds"] - 0.25 <= result["wall"] < result["seconds"] + 0.5
    loud_ref = (abs(ref.astype(int)) > 300).sum()
    loud_got = (abs(got.astype(int)) > 300).sum()
    assert 0.7 * loud_ref < loud_got < 1.3 * loud_ref
    assert rms(got[abs(got.astype(int)) > 300]) > 0.5 * rms(ref[abs(ref.astype(int)) > 300])


def test_mute_drops_audio_played_while_muted(
    virtual_audio: VirtualAudio,
    audio_env: dict[str, str],
    speech_wav: Path,
    tmp_path: Path,
    audio_child: ChildRunner,
) -> None:
    # the child mutes from the start for 4.5 s: the speech (~3.7 s) is played inside that window
    args = {
        "seconds": 6,
        "mute_at": 0.0,
        "unmute_at": 4.5,
        "tail": 0.25,
        "wav": str(tmp_path / "m.wav"),
    }
    proc = audio_child("capture", json.dumps(args), audio_env)
    virtual_audio.wait_recording(timeout=15)
    virtual_audio.play_into_mic(speech_wav)
    result = _finish(proc)
    assert result["first_loud"] is None, "speech played while muted came through"
    # frames resume after unmute + tail, with a gap on the stream clock
    assert result["starts"], "no frames after unmute"
    assert result["starts"][0] > 4.0
    assert result["rms"] < 50


def test_pcm_source_feeds_in_real_time(speech_wav: Path) -> None:
    from voice_coach.audio.capture import AfterEnd, PcmSource

    samples = read_audio(speech_wav)[: 2 * SAMPLE_RATE]
    src = PcmSource(samples, realtime=True, after_end=AfterEnd.STOP)
    t0 = time.monotonic()
    n = 0
    while src.read(timeout=1.0) is not None:
        n += 1
    wall = time.monotonic() - t0
    expected = n * 0.03
    print(f"PcmSource: {n} frames in {wall:.3f} s (audio {expected:.3f} s)")
    assert abs(wall - expected) <= 0.1 * expected


@pytest.mark.parametrize("action", ["capture", "play"])
def test_daemon_dying_mid_stream_is_a_device_error(
    tmp_path: Path, speech_wav: Path, audio_child: ChildRunner, action: str
) -> None:
    # a private daemon: killing the session one would break the other tests
    va = VirtualAudio(tmp_path / "va").start()
    try:
        env = dict(va.env, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        # (A fresh sink once drained the whole clip in 0.23 s, 340 underflows, before the
        # daemon died: the clip starts after the stream settles, as the player test's does.)
        args = {"seconds": 8} if action == "capture" else {"wav": str(speech_wav), "settle": 0.5}
        proc = audio_child(action, json.dumps(args), env)
        if action == "capture":
            va.wait_recording(timeout=15)
        else:
            va.wait_playing(timeout=15)
        time.sleep(0.3)
    finally:
        va.stop()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, f"{out}\n{err[-1500:]}"
    assert json.loads(out)["type"] == "DeviceError"
