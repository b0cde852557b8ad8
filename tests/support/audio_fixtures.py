"""Pytest fixtures for audio tests: a private virtual PulseAudio daemon and synthesised speech.

Load with ``pytest_plugins = ["tests.support.audio_fixtures"]`` (tests/conftest.py does):
pytest registers the plugin once, so the session-scoped daemon starts at most once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.virtual_audio import VirtualAudio, pulseaudio_available

REPO = Path(__file__).resolve().parents[2]
AUDIO_CHILD = Path(__file__).resolve().parent / "audio_child.py"


@pytest.fixture(scope="session")
def virtual_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualAudio]:
    """A running private PulseAudio daemon with a virtual mic and speaker (skips if unavailable)."""
    reason = pulseaudio_available()
    if reason:
        pytest.skip(reason)
    # a short base path: the unix socket path must stay under ~108 bytes
    va = VirtualAudio(Path(tmp_path_factory.mktemp("va")))
    try:
        va.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        va.stop()
        pytest.skip(f"virtual audio did not start: {exc}")
    try:
        yield va
    finally:
        va.stop()


@pytest.fixture(scope="session")
def audio_env(virtual_audio: VirtualAudio) -> dict[str, str]:
    """Environment for a child process that must see the virtual devices and this checkout."""
    env = dict(virtual_audio.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.fixture(scope="session")
def no_audio_env() -> dict[str, str]:
    """Environment in which PortAudio finds no device at all (no PulseAudio server, no card)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env["PULSE_SERVER"] = "unix:/nonexistent/voice-coach-test.sock"
    env["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def synth_speech(path: Path, text: str) -> Path:
    """Write espeak-ng speech for ``text`` to ``path`` (skips the test if espeak-ng is missing)."""
    exe = shutil.which("espeak-ng")
    if not exe:
        pytest.skip("espeak-ng is not installed: sudo apt-get install espeak-ng")
    subprocess.run([exe, "-w", str(path), "-v", "en-us", text], check=True, timeout=30)
    return path


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 3 s of English speech at 22050 Hz, made by espeak-ng."""
    out = tmp_path_factory.mktemp("speech") / "speech.wav"
    return synth_speech(out, "Hello, this is a virtual microphone test, one two three.")


ChildRunner = Callable[[str, str, dict[str, str]], "subprocess.Popen[str]"]


def run_child(action: str, args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start tests/support/audio_child.py ACTION ARGS in a fresh interpreter (one JSON line out)."""
    return subprocess.Popen(
        [sys.executable, str(AUDIO_CHILD), action, args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def audio_child() -> ChildRunner:
    """``audio_child(action, json_args, env)``: tests/support/audio_child.py in a fresh process."""
    return run_child
