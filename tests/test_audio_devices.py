"""Device listing and choosing, with a fake sounddevice and in a process that has no devices."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_sounddevice import FakeSoundDevice, device
from voice_coach.audio import devices
from voice_coach.errors import DeviceError

pytest_plugins = ["tests.support.audio_fixtures"]


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    sd = FakeSoundDevice(
        devices=[
            device(0, "USB Mic", 1, 0, 44100),
            device(1, "Speakers", 0, 2),
            device(2, "pulse", 32, 32),
            device(3, "default", 32, 32),
        ],
        default=(3, 3),
    )
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    return sd


def test_missing_portaudio_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DeviceError) as err:
        devices.load_sounddevice()
    assert str(err.value) == "PortAudio is missing: sudo apt-get install libportaudio2"
    assert err.value.exit_code == 3


def test_list_devices_marks_defaults(fake_sd: FakeSoundDevice) -> None:
    found = devices.list_devices()
    assert [d.name for d in found] == ["USB Mic", "Speakers", "pulse", "default"]
    assert [d.index for d in found if d.is_default_input] == [3]
    assert found[0].inputs == 1 and found[0].outputs == 0
    assert found[0].default_samplerate == 44100
    assert found[0].as_dict()["hostapi"] == "Fake"


def test_resolve_device_by_index_name_and_default(fake_sd: FakeSoundDevice) -> None:
    assert devices.resolve_device(None, "input") is None
    assert devices.resolve_device("", "output") is None
    assert devices.resolve_device(0, "input") == 0
    assert devices.resolve_device("2", "input") == 2
    assert devices.resolve_device("usb", "input") == 0
    assert devices.resolve_device("speak", "output") == 1
    assert devices.resolve_device("DEFAULT", "input") == 3  # exact name beats substring


def test_resolve_device_errors(fake_sd: FakeSoundDevice) -> None:
    with pytest.raises(DeviceError, match="no input device matches 'speak'"):
        devices.resolve_device("speak", "input")  # Speakers has no inputs
    with pytest.raises(DeviceError, match="no output device with index 0"):
        devices.resolve_device(0, "output")
    with pytest.raises(DeviceError, match="several input devices"):
        devices.resolve_device("u", "input")  # USB Mic, pulse, default


def test_require_input_returns_device(fake_sd: FakeSoundDevice) -> None:
    info = devices.require_input("usb")
    assert info.index == 0 and info.inputs == 1
    assert devices.require_input().name == "default"


def test_require_input_without_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = FakeSoundDevice(devices=[], default=(-1, -1))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    with pytest.raises(DeviceError) as err:
        devices.require_input()
    assert str(err.value) == devices.NO_MICROPHONE
    assert err.value.exit_code == 3
    with pytest.raises(DeviceError, match=r"^no microphone found"):
        devices.require_input("usb")
    assert not devices.has_output()


def test_require_input_without_devices_is_one_line(no_audio_env: dict[str, str]) -> None:
    code = (
        "from voice_coach.audio.devices import require_input\n"
        "from voice_coach.errors import DeviceError\n"
        "try:\n    require_input()\n"
        "except DeviceError as e:\n    print(e); raise SystemExit(e.exit_code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=no_audio_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    assert proc.stdout.strip() == (
        "no microphone found: try `voice-coach practice --text` or `voice-coach demo`"
    )


def test_capture_child_reports_no_microphone(no_audio_env: dict[str, str]) -> None:
    child = Path(__file__).resolve().parent / "support" / "audio_child.py"
    proc = subprocess.run(
        [sys.executable, str(child), "capture", '{"seconds": 1}'],
        env=no_audio_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["error"].startswith("no microphone found")
