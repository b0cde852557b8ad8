"""Shared fixtures: every test gets its own VOICE_COACH_HOME."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def coach_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the whole run: converted models (Moonshine) are built once, not per test."""
    return tmp_path_factory.mktemp("coach-cache")


@pytest.fixture(autouse=True)
def coach_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, coach_cache: Path) -> Path:
    """Point voice-coach's user folder at a fresh temporary folder (and share the cache)."""
    home = tmp_path / "coach-home"
    monkeypatch.setenv("VOICE_COACH_HOME", str(home))
    monkeypatch.setenv("VOICE_COACH_CACHE", str(coach_cache))
    return home


def cli_env(home: Path) -> dict[str, str]:
    """Environment for running voice-coach in a subprocess."""
    env = dict(os.environ)
    env["VOICE_COACH_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cli_cmd(*args: str) -> list[str]:
    """The command line for ``python -m voice_coach ARGS``."""
    return [sys.executable, "-m", "voice_coach", *args]

pytest_plugins = ["tests.support.audio_fixtures"]
