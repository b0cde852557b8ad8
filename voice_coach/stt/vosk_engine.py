"""Vosk (Kaldi) streaming recognizer; finds a model folder on disk, never downloads one."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from voice_coach import config
from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.errors import EngineUnavailable
from voice_coach.stt.base import Recognizer, Transcript, Word

_LOGGER = logging.getLogger(__name__)

MODEL_ENV = "VOICE_COACH_VOSK_MODEL"
"""Environment variable naming a vosk model folder."""

NO_MODEL_HINT = (
    "no vosk model found: run 'voice-coach models download small-en', "
    f"put a vosk model folder in {{models}} or set {MODEL_ENV}"
)


def looks_like_vosk_model(folder: Path) -> bool:
    """True when ``folder`` has the layout of a vosk model (am/, conf/ or final.mdl)."""
    return folder.is_dir() and (
        (folder / "am").is_dir() or (folder / "conf").is_dir() or (folder / "final.mdl").is_file()
    )


def _models_in(folder: Path) -> list[Path]:
    """Vosk model folders directly inside ``folder``, sorted by name."""
    if not folder.is_dir():
        return []
    if looks_like_vosk_model(folder):
        return [folder]
    return sorted(p for p in folder.iterdir() if looks_like_vosk_model(p))


def model_dirs() -> list[Path]:
    """Folders searched for vosk models: the user's (``models download``), then the checkout's."""
    return [config.user_models_dir(), config.checkout_root() / "models"]


def find_vosk_models(dirs: Sequence[Path] | None = None) -> list[Path]:
    """Every vosk model folder in ``dirs`` (default: the folders searched for one)."""
    return [m for d in (model_dirs() if dirs is None else dirs) for m in _models_in(d)]


def find_vosk_model(
    explicit: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    user_dir: Path | None = None,
    checkout_dir: Path | None = None,
) -> Path | None:
    """First vosk model found: explicit path, $VOICE_COACH_VOSK_MODEL, home models, checkout models.

    An explicit path or environment variable that is not a model is returned anyway so the
    caller can report it; the folders are searched only when neither is given.
    """
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ if env is None else env
    if env.get(MODEL_ENV):
        return Path(env[MODEL_ENV]).expanduser()
    default_user, default_checkout = model_dirs()
    for folder in (
        default_user if user_dir is None else user_dir,
        default_checkout if checkout_dir is None else checkout_dir,
    ):
        found = _models_in(folder)
        if found:
            return found[0]
    return None


def _words(result: dict[str, Any], offset: float) -> list[Word]:
    """Word list from a vosk result dict, with times shifted by ``offset`` seconds."""
    return [
        Word(
            text=str(w["word"]),
            start=round(max(0.0, float(w["start"]) + offset), 3),
            end=round(max(0.0, float(w["end"]) + offset), 3),
            confidence=float(w["conf"]) if "conf" in w else None,
        )
        for w in result.get("result", [])
    ]


class VoskRecognizer(Recognizer):
    """Streaming vosk recognizer: one model and one KaldiRecognizer reused across utterances."""

    name = "vosk"

    def __init__(self, model_path: Path | str | None = None) -> None:
        super().__init__()
        try:
            import vosk
        except ImportError as exc:
            raise EngineUnavailable("vosk is not installed: pip install vosk") from exc
        path = find_vosk_model(model_path)
        if path is None:
            raise EngineUnavailable(NO_MODEL_HINT.format(models=config.user_models_dir()))
        if not looks_like_vosk_model(path):
            raise EngineUnavailable(
                f"{path} is not a vosk model folder (no am/, conf/ or final.mdl)"
            )
        vosk.SetLogLevel(-1)
        _LOGGER.info("loading vosk model %s", path)
        try:
            self._model = vosk.Model(str(path))
        except Exception as exc:  # vosk raises a bare Exception on a bad folder
            raise EngineUnavailable(f"cannot load vosk model {path}: {exc}") from exc
        # Packaged models live in a folder called "model"; the parent names them better.
        self.model_name = path.parent.name if path.name == "model" else path.name
        self._rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        self._rec.SetWords(True)
        self._rec.SetPartialWords(False)  # partial() only needs text; word lists cost time
        # Vosk may close a segment mid-utterance; keep finished pieces here.
        self._done: list[dict[str, Any]] = []
        # Reset() keeps vosk's clock running, so word times count from the first sample ever
        # fed; remember where this utterance began to make its times utterance-relative.
        self._fed = 0
        self._base = 0.0

    def start(self) -> None:
        """Begin a new utterance on the same recognizer."""
        self._rec.Reset()
        self._done = []
        self._base = self._fed / SAMPLE_RATE

    def accept(self, frame: Pcm) -> None:
        """Feed one frame; vosk may finish a segment at an internal endpoint."""
        self._fed += len(frame)
        if self._rec.AcceptWaveform(frame.tobytes()):
            self._done.append(json.loads(self._rec.Result()))

    def partial(self) -> str:
        """Text of finished segments plus the current partial hypothesis."""
        current = str(json.loads(self._rec.PartialResult()).get("partial", ""))
        return " ".join(t for t in [*(str(d.get("text", "")) for d in self._done), current] if t)

    def finish(self) -> Transcript:
        """Flush the recognizer and return the whole utterance."""
        results = [*self._done, json.loads(self._rec.FinalResult())]
        self._done = []
        words: list[Word] = []
        for result in results:
            words.extend(_words(result, -self._base))
        text = " ".join(t for t in (str(r.get("text", "")).strip() for r in results) if t)
        self._rec.Reset()
        self._base = self._fed / SAMPLE_RATE
        return self.from_words(words, text)

    def transcribe(self, samples: Pcm) -> Transcript:
        """Recognise one whole utterance."""
        self.start()
        step = SAMPLE_RATE // 5  # 200 ms chunks: fewer calls than 30 ms frames, same result
        for i in range(0, len(samples), step):
            self.accept(samples[i : i + step])
        return self.finish()

    def close(self) -> None:
        """Drop the recognizer and model so their memory can be freed."""
        self._rec = None
        self._model = None
