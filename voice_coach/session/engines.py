"""Speech engines for a spoken session: chosen once, loaded in the background."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_coach.session.loading import Deferred
from voice_coach.stt.base import Recognizer
from voice_coach.tts.base import Speaker


@dataclass(frozen=True)
class EngineChoice:
    """Speech settings chosen on the command line."""

    engine: str = "auto"
    model: Path | None = None
    tts: str = "espeak"
    voice: str | None = None
    rate: int | None = None


def resolve_engine(choice: EngineChoice) -> str:
    """The engine that will run (fails fast, before any audio, when none is usable)."""
    from voice_coach.errors import EngineUnavailable
    from voice_coach.stt.registry import auto_choice, available_engines, choose_engine

    if choice.engine == "auto":
        return auto_choice(choice.model)[0]
    name = choose_engine(choice.engine)[0]  # a known name, or a UsageError
    status = {s.name: s for s in available_engines(choice.model)}[name]
    if not status.ready:
        raise EngineUnavailable(f"{name}: {status.detail} (see: voice-coach models)")
    return name


def load_recognizer_async(choice: EngineChoice) -> concurrent.futures.Future[Recognizer]:
    """Start loading the recognizer in the background now (benchmarks that time no greeting)."""
    from voice_coach.stt.registry import create_recognizer

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt-load")
    future = pool.submit(create_recognizer, choice.engine, choice.model)
    pool.shutdown(wait=False)
    return future


def deferred_recognizer(choice: EngineChoice) -> Deferred[Recognizer]:
    """The recognizer, built in the background once started (the session starts it as the
    greeting begins to play: loading sooner slowed the greeting on two cores)."""
    from voice_coach.stt.registry import create_recognizer

    return Deferred(lambda: create_recognizer(choice.engine, choice.model), "recognizer")


@dataclass
class SpeechEngines:
    """The engines of one spoken session, assembled once for practice, demo and benchmarks."""

    engine: str
    """The speech-to-text engine that runs (never ``auto``)."""
    recognizer: Deferred[Recognizer]
    """Not loading yet: the session starts it once the greeting plays."""
    speaker: Speaker
    choice: EngineChoice

    def meta(self, **extra: Any) -> dict[str, Any]:
        """The session_start fields that say which engines ran."""
        c = self.choice
        return {"engine": self.engine, "tts": c.tts, "voice": c.voice, "rate": c.rate, **extra}


def start_engines(choice: EngineChoice) -> SpeechEngines:
    """Resolve the engine once (failing before any audio), open the voice; the recognizer is
    built later, in the background (``recognizer.start()``, or the session's first listen)."""
    from voice_coach.tts.registry import create_speaker

    engine = resolve_engine(choice)
    # The resolved name, not "auto": the loader must not choose again (and maybe differently).
    # A model folder chosen for auto is a vosk folder: it means nothing to the other engines.
    model = choice.model if choice.engine != "auto" or engine == "vosk" else None
    recognizer = deferred_recognizer(EngineChoice(engine, model))
    speaker = create_speaker(choice.tts, choice.voice, choice.rate)
    return SpeechEngines(engine, recognizer, speaker, choice)
