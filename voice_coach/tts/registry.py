"""Speaker engines by name, imported only when chosen."""

from __future__ import annotations

import importlib
import logging

from voice_coach.errors import UsageError
from voice_coach.tts.base import Speaker

_LOGGER = logging.getLogger(__name__)

ENGINES: dict[str, tuple[str, str]] = {
    "espeak": ("voice_coach.tts.espeak", "EspeakSpeaker"),
    "piper": ("voice_coach.tts.piper_engine", "PiperSpeaker"),
    "silent": ("voice_coach.tts.silent", "SilentSpeaker"),
}
"""Engine name -> (module, class); the module is imported lazily."""


def engine_names() -> list[str]:
    """Names accepted by :func:`create_speaker`."""
    return list(ENGINES)


def create_speaker(
    name: str = "espeak", voice: str | None = None, rate_wpm: int | None = None
) -> Speaker:
    """Build the named speaker: UsageError if unknown, EngineUnavailable if not installed."""
    try:
        module_name, class_name = ENGINES[name]
    except KeyError:
        raise UsageError(
            f"unknown voice engine {name!r}; choose one of: {', '.join(ENGINES)}"
        ) from None
    cls: type[Speaker] = getattr(importlib.import_module(module_name), class_name)
    _LOGGER.debug("creating speaker %s", name)
    return cls(voice=voice, rate_wpm=rate_wpm)
