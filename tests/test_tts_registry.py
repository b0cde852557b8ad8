"""Choosing a speaker by name; the silent (text-only) speaker."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from voice_coach.errors import EngineUnavailable, UsageError
from voice_coach.tts.registry import create_speaker, engine_names
from voice_coach.tts.silent import SilentSpeaker


def test_engine_names() -> None:
    assert engine_names() == ["espeak", "piper", "silent"]


def test_unknown_engine_lists_names() -> None:
    with pytest.raises(UsageError, match="espeak, piper, silent"):
        create_speaker("festival")


def test_silent_speaker() -> None:
    speaker = create_speaker("silent", rate_wpm=150)
    assert isinstance(speaker, SilentSpeaker)
    speech = speaker.synth("Hello there.")
    assert speech.rate == 16000 and len(speech.samples) == 0 and speech.seconds == 0.0
    assert [s.seconds for s in speaker.synth_sentences("One. Two.")] == [0.0, 0.0]


def test_piper_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_piper(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "piper" or name.startswith("piper."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_piper)
    with pytest.raises(EngineUnavailable, match=r"pip install 'voice-coach\[piper\]'"):
        create_speaker("piper")
