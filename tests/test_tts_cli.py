"""The ``say`` command through click's test runner (no sound card needed)."""

from __future__ import annotations

import wave
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from voice_coach.cli import CoachGroup
from voice_coach.cli.engines import play, say
from voice_coach.errors import DeviceError
from voice_coach.tts import base


@pytest.fixture
def group() -> click.Group:
    @click.group(cls=CoachGroup)
    def cli() -> None:
        """Test group."""

    cli.add_command(say)
    return cli


@pytest.mark.slow
def test_say_writes_a_playable_wav(group: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    result = CliRunner().invoke(group, ["say", "Hello, tell me about yourself.", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Audio saved" not in result.output  # pyttsx3's stray print is silenced
    with wave.open(str(out), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert len(samples) / rate > 0.8
    assert np.abs(samples).max() > 1000
    assert out.stat().st_mode & 0o777 == 0o600


def test_bad_engine_is_one_line_exit_2(group: click.Group) -> None:
    result = CliRunner().invoke(group, ["say", "hi", "--engine", "nope"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "nope" in lines[0] and "espeak, piper, silent" in lines[0]


def test_unwritable_output_is_one_line(group: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "a.wav"
    result = CliRunner().invoke(group, ["say", "hi", "--engine", "silent", "-o", str(out)])
    assert result.exit_code == 4
    assert result.output.strip().splitlines() == [
        f"voice-coach: cannot write {out}: No such file or directory"
    ]


def test_silent_engine_prints_the_text(group: click.Group) -> None:
    result = CliRunner().invoke(group, ["say", "Just text.", "--engine", "silent"])
    assert result.exit_code == 0
    assert result.output.strip() == "Just text."


def test_playback_errors_become_device_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    sounddevice = pytest.importorskip("sounddevice")

    def broken_play(*args: object, **kwargs: object) -> None:
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "play", broken_play)
    with pytest.raises(DeviceError, match=r"-o out\.wav"):
        play(base.Speech(np.zeros(1600, dtype=np.int16), 16000))


def test_no_device_is_one_line_exit_3(group: click.Group, monkeypatch: pytest.MonkeyPatch) -> None:
    import voice_coach.cli.engines as tts_cli

    def no_device(speech: base.Speech) -> None:
        raise DeviceError("cannot play audio (Error querying device -1); use -o out.wav")

    monkeypatch.setattr(tts_cli, "play", no_device)
    monkeypatch.setattr(tts_cli, "create_speaker", lambda *a, **k: _FakeSpeaker())
    result = CliRunner().invoke(group, ["say", "hi"])
    assert result.exit_code == 3
    assert len(result.output.strip().splitlines()) == 1


class _FakeSpeaker(base.Speaker):
    """A speaker that returns a short beep without any engine."""

    def synth(self, text: str) -> base.Speech:
        t = np.arange(1600) / 16000
        return base.Speech((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16), 16000)
