"""PocketSphinx recognizer: one decoder kept alive and fed frame by frame."""

from __future__ import annotations

import enum
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.errors import EngineUnavailable
from voice_coach.stt.base import Recognizer, Transcript, Word

_LOGGER = logging.getLogger(__name__)

INSTALL_HINT = "pip install pocketsphinx"
_FRAMES_PER_SECOND = 100  # pocketsphinx frames are 10 ms
_FILLERS = {"<s>", "</s>", "<sil>"}
_ALTERNATE = re.compile(r"\(\d+\)$")


class SphinxModel(enum.Enum):
    """Which English model files the decoder loads."""

    POCKETSPHINX = "pocketsphinx"
    """en-us shipped inside the pocketsphinx wheel (measured slightly better here)."""
    SPEECH_RECOGNITION = "speech_recognition"
    """en-US shipped inside SpeechRecognition, as ``recognize_sphinx`` loads it."""


@dataclass(frozen=True)
class SphinxSettings:
    """Model choice for the pocketsphinx decoder."""

    model: SphinxModel = SphinxModel.POCKETSPHINX


def model_files(model: SphinxModel) -> dict[str, str]:
    """Decoder arguments (hmm, lm, dict) for one of the bundled English models."""
    if model is SphinxModel.SPEECH_RECOGNITION:
        try:
            import speech_recognition
        except ImportError as exc:
            raise EngineUnavailable("SpeechRecognition is not installed: pip install "
                                    "SpeechRecognition") from exc
        base = Path(speech_recognition.__file__).parent / "pocketsphinx-data" / "en-US"
        files = {
            "hmm": base / "acoustic-model",
            "lm": base / "language-model.lm.bin",
            "dict": base / "pronounciation-dictionary.dict",
        }
    else:
        import pocketsphinx

        base = Path(pocketsphinx.get_model_path()) / "en-us"
        files = {"hmm": base / "en-us", "lm": base / "en-us.lm.bin",
                 "dict": base / "cmudict-en-us.dict"}
    for path in files.values():
        if not path.exists():
            raise EngineUnavailable(f"pocketsphinx model file missing: {path}")
    return {key: str(path) for key, path in files.items()}


def clean_word(word: str) -> str | None:
    """Spoken word of a segment, or None for silence and noise markers; drops "(2)"."""
    if word in _FILLERS or (word.startswith("[") and word.endswith("]")):
        return None
    if word.startswith("<") or word.startswith("++"):
        return None
    return _ALTERNATE.sub("", word)


class SphinxRecognizer(Recognizer):
    """Streaming pocketsphinx: start_utt / process_raw per frame / end_utt on one decoder."""

    name = "sphinx"

    def __init__(self, model_path: Path | str | None = None,
                 settings: SphinxSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or SphinxSettings()
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise EngineUnavailable(f"pocketsphinx is not installed: {INSTALL_HINT}") from exc
        if model_path:
            # A folder holding an acoustic model dir plus .lm.bin and .dict files.
            args = self._files_in(Path(model_path))
            self.model_name = Path(model_path).name
        else:
            args = model_files(self.settings.model)
            self.model_name = f"{self.settings.model.value}-en-us"
        self._decoder: Any = Decoder(logfn=os.devnull, **args)
        self._in_utt = False

    @staticmethod
    def _files_in(folder: Path) -> dict[str, str]:
        """Find hmm/lm/dict inside a user-supplied model folder."""
        lms = sorted(folder.glob("*.lm.bin")) or sorted(folder.glob("*.lm"))
        dicts = sorted(folder.glob("*.dict"))
        hmms = [p for p in folder.iterdir() if p.is_dir() and (p / "mdef").exists()]
        if not (lms and dicts and hmms):
            raise EngineUnavailable(
                f"{folder} is not a pocketsphinx model folder (needs an acoustic model folder, "
                "a .lm.bin and a .dict)"
            )
        return {"hmm": str(hmms[0]), "lm": str(lms[0]), "dict": str(dicts[0])}

    def start(self) -> None:
        """Begin a new utterance on the same decoder."""
        if self._in_utt:
            self._decoder.end_utt()
        self._decoder.start_utt()
        self._in_utt = True

    def accept(self, frame: Pcm) -> None:
        """Feed audio; live cepstral normalisation keeps it streaming."""
        if not self._in_utt:
            self.start()
        self._decoder.process_raw(frame.tobytes(), False, False)

    def partial(self) -> str:
        """Current best hypothesis."""
        if not self._in_utt:
            return ""
        hyp = self._decoder.hyp()
        return str(hyp.hypstr) if hyp is not None else ""

    def finish(self) -> Transcript:
        """End the utterance and read the words from the segmentation."""
        if not self._in_utt:
            self.start()
        self._decoder.end_utt()
        self._in_utt = False
        words: list[Word] = []
        logmath = self._decoder.get_logmath()
        for seg in self._decoder.seg():
            text = clean_word(str(seg.word))
            if text is None:
                continue
            words.append(
                Word(
                    text=text,
                    start=seg.start_frame / _FRAMES_PER_SECOND,
                    end=(seg.end_frame + 1) / _FRAMES_PER_SECOND,
                    # prob stays 0 (log 1.0) unless posteriors are computed: report unknown.
                    confidence=round(float(logmath.exp(seg.prob)), 3) if seg.prob else None,
                )
            )
        return self.from_words(words)

    def transcribe(self, samples: Pcm) -> Transcript:
        """Recognise one whole utterance."""
        self.start()
        step = SAMPLE_RATE // 10
        for i in range(0, len(samples), step):
            self._decoder.process_raw(samples[i : i + step].tobytes(), False, False)
        return self.finish()

    def close(self) -> None:
        """End any open utterance."""
        if self._in_utt:
            self._decoder.end_utt()
            self._in_utt = False
