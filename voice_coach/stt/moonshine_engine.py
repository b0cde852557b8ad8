"""Moonshine base (English) recognizer: segments decoded at pauses in a child process.

The segmenting (VAD-gated segments cut at pauses, decoded in one background worker while
the user speaks, a speculative tail when silence begins) is the whisper recognizer's; this
class swaps in Moonshine, also cuts long segments at short word gaps, caps them at 30 s
(Moonshine takes at most 64 s), keeps a speculation already being decoded as a segment when
the user goes on (nothing decoded is thrown away), and decodes in a child process, so the
session's audio path and UI never wait for its GIL.

For the session loop: ``finish_async()`` returns a future of the transcript at once (wait on
it with a timeout to show "thinking..." or bridge with "Mm."; ``start()`` for the next
utterance does not cancel it); ``busy`` says whether decoding is queued or running, and
``on_busy`` (called from the worker thread) tells when it starts and stops.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_coach.audio.format import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voice_coach.stt.base import Transcript, Word
from voice_coach.stt.moonshine_child import MoonshineProcess
from voice_coach.stt.moonshine_model import MAX_SECONDS, MoonshineModel, spread_words, voiced_spans
from voice_coach.stt.whisper_engine import (
    SpeechTest,
    WhisperRecognizer,
    WhisperSettings,
    _Job,
    _webrtc_speech_test,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoonshineSettings:
    """How the Moonshine recognizer runs and cuts an utterance into segments."""

    threads: int = 2
    """onnxruntime intra-op threads; 2 measured twice as fast as 1 on 2 cores."""
    process: bool = True
    """Decode in a child process: in a thread, the decoder's Python loop shares the GIL with
    the session loop, and on a busy machine a descheduled GIL holder froze the session's
    audio reading for up to 1.9 s."""
    nice: int = 0
    """Niceness added to the decoder (its process, or its thread). 0: the reply waits on the
    decoder, so starving it starves the reply; measured beside two busy loops (load ~9), a
    3.8 s answer took 1.5 s at nice 0 and 2.7 s at nice 2. The audio path is safe without
    it: the session loop is another process, mostly asleep, and wakes ahead of busy loops."""
    vad_mode: int = 2
    """webrtcvad aggressiveness, 0..3."""
    pause_ms: int = 300
    """A pause this long after speech ends a segment, which is decoded in the background."""
    min_segment_ms: int = 1500
    """Shorter segments are not cut: short audio has little context."""
    soft_segment_s: float = 2.0
    """A segment this long is cut at a short pause too (``short_pause_ms``), so while the user
    speaks on, most of the answer is decoded and the tail left at the end stays short (at
    4 s and 120 ms, espeak answers of 5-8 s were one segment, all of it decoded after the
    endpoint: 2-3.5 s beside busy programs)."""
    short_pause_ms: int = 120
    """A gap between words long enough to cut a long segment at."""
    firm_segment_s: float = 3.5
    """A segment this long is cut even at a shorter gap (``firm_pause_ms``). Two steps because
    every cut costs context: on the bench's espeak answers, cutting from 1.5 s at any 60 ms
    gap raised the streaming WER from 12.9 to 18.2 %."""
    firm_pause_ms: int = 60
    """The shorter gap (the VAD's hangover leaves 60 ms of a comma's ~150 ms pause)."""
    max_segment_s: float = 30.0
    """A segment this long is cut even without a pause (Moonshine takes at most 64 s, and
    its cost per second grows with the length)."""
    min_voiced_ms: int = 150
    """A segment with less voiced audio is noise (a click, a breath) and is never decoded."""
    lead_ms: int = 200
    """Silence kept before the first voiced frame."""
    split_silence_ms: int = 800
    """Silence after a scrap of speech (``scrap_ms``) at which a segment is decoded as two:
    Moonshine drops the speech after ~1 s of silence that follows the end of a word (at
    0.6 s it still heard it). After more speech, a pause costs nothing and is kept: splitting
    there lost context ("the string of hope")."""
    max_lead_ms: int = 450
    """Silence before the first speech that is left in (more is cut to ``lead_ms``): from
    0.5 s of quiet noise on, Moonshine heard nothing after it."""
    scrap_ms: int = 450
    """Speech spanning less than this is a scrap (a word's end left by a cut, a click)."""
    spec_pause_ms: int = 120
    """Silence (by this recognizer's own VAD) before a requested speculative tail starts: the
    tail then ends in a gap between words, so if the user goes on, the decode already under
    way is kept as a segment instead of being thrown away (a thrown-away decode holds the
    single worker up: on a busy machine the real tail then waited seconds behind it)."""
    min_kept_s: float = 1.0
    """A speculation shorter than this is dropped, not kept, when the user goes on: very
    short segments lose context (dropping it wastes little: it is short)."""

    def segmenting(self) -> WhisperSettings:
        """The settings the shared segmenting logic reads."""
        return WhisperSettings(
            vad_mode=self.vad_mode,
            pause_ms=self.pause_ms,
            min_segment_ms=self.min_segment_ms,
            min_voiced_ms=self.min_voiced_ms,
            lead_ms=self.lead_ms,
        )


def speech_parts(voiced: list[bool], keep: int, gap: int, scrap: int,
                 max_lead: int | None = None) -> list[tuple[int, int]]:
    """Frame ranges to decode apart, each from ``keep`` frames before its first voiced frame
    (the last to the end): a scrap of speech (spanning under ``scrap`` frames) followed by
    ``gap`` unvoiced frames or more is split from what follows; longer speech keeps its
    context across pauses."""
    parts: list[list[int]] = []  # [first voiced frame, last voiced frame]
    for i, v in enumerate(voiced):
        if not v:
            continue
        if not parts or (i - parts[-1][1] > gap and parts[-1][1] - parts[-1][0] < scrap):
            parts.append([i, i])
        parts[-1][1] = i
    if not parts:
        return [(0, len(voiced))]
    ends = [min(len(voiced), p[1] + 1 + keep) for p in parts[:-1]] + [len(voiced)]
    # A lead of up to ``max_lead`` frames (default twice ``keep``) is left as it is: a few
    # frames more or less of it change words ("spring" heard as "string").
    max_lead = 2 * keep if max_lead is None else max_lead
    starts = [0 if parts[0][0] <= max_lead else parts[0][0] - keep,
              *(p[0] - keep for p in parts[1:])]
    return list(zip(starts, ends, strict=True))


Progress = Callable[[bool], None]
"""Called from the worker with True when it starts decoding and False when it goes idle."""


class MoonshineRecognizer(WhisperRecognizer):
    """Moonshine base-en with background segment decoding, a speculative tail and priority."""

    name = "moonshine"

    def __init__(
        self,
        model_path: Path | str | None = None,
        settings: MoonshineSettings | None = None,
        model: MoonshineModel | None = None,
        is_speech: SpeechTest | None = None,
    ) -> None:
        self.moonshine = settings or MoonshineSettings()
        # The parent starts the worker; the model is then loaded on it (see _load).
        segmenting = self.moonshine.segmenting()
        super().__init__(model_path, segmenting, model=object(), is_speech=is_speech)
        self.model_name = "moonshine-base-en"
        self._given_model = model
        self._cache = Path(model_path) if model_path else None
        self._worker_speech = is_speech or _webrtc_speech_test(self.moonshine.vad_mode)
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.on_busy: Progress | None = None
        """Optional callback told when decoding starts and when the worker goes idle."""
        self.decode_seconds = 0.0
        """Worker time spent decoding so far (for metrics)."""
        self.last_tail: dict[str, float] = {}
        """Where the last ``finish_async`` stood: audio seconds still to decode (``tail_audio_s``,
        of which ``tail_wasted_s`` was a discarded speculation still running), decodes queued
        (``tail_jobs``), and audio decoded for nothing during the utterance (``wasted_s``)."""
        self._audio_s: dict[int, float] = {}
        self._wasted: list[concurrent.futures.Future[list[Word]]] = []
        self._tail_wanted = False
        # Wait for the load here: a missing package or failed conversion is a creation error.
        self._model = self._worker.submit(self._load).result()

    def _load(self) -> MoonshineModel | MoonshineProcess:
        """Start the decoder process, or lower this worker thread's priority and load here
        (onnxruntime's threads inherit the niceness of the thread that creates them)."""
        if self._given_model is None and self.moonshine.process:
            from voice_coach.stt.moonshine_convert import ensure_converted

            found = ensure_converted(self._cache)
            settings = self.moonshine
            return MoonshineProcess(
                found.encoder, found.decoder, found.tokenizer, settings.threads, settings.nice
            )
        if self.moonshine.nice > 0 and hasattr(os, "setpriority"):
            try:
                tid = threading.get_native_id()
                niceness = os.getpriority(os.PRIO_PROCESS, tid) + self.moonshine.nice
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except OSError as exc:  # not fatal: only the priority is lost
                _LOGGER.debug("cannot lower the recognizer's priority: %s", exc)
        if self._given_model is not None:
            return self._given_model
        from voice_coach.stt.moonshine_convert import ensure_converted

        found = ensure_converted(self._cache)
        began = time.perf_counter()
        threads = self.moonshine.threads
        model = MoonshineModel(found.encoder, found.decoder, found.tokenizer, threads)
        _LOGGER.info("Moonshine loaded from %s in %.2fs", found.folder, time.perf_counter() - began)
        return model

    def _reset(self) -> None:
        """Forget the current utterance (and a speculation asked for but not started)."""
        super()._reset()
        self._tail_wanted = False

    # -- worker side -------------------------------------------------------------------------

    def _set_busy(self, delta: int) -> None:
        """Count queued decodes and tell the listener when the worker starts or idles."""
        with self._busy_lock:
            before = self._busy
            self._busy += delta
            now = self._busy
        if self.on_busy is not None and (before == 0) != (now == 0):
            self.on_busy(now > 0)

    @property
    def busy(self) -> bool:
        """True while segments are queued or being decoded."""
        return self._busy > 0

    def _submit_counted(self, samples: Pcm, offset: float) -> list[Word]:
        """Decode on the worker, keeping the busy count."""
        try:
            return self._decode(samples, offset)
        finally:
            self._set_busy(-1)

    def _submit(self, samples: Pcm, start: int) -> _Job:
        """Queue a segment that begins at sample ``start`` of the utterance."""
        offset = start / SAMPLE_RATE
        self._set_busy(+1)
        future = self._worker.submit(self._submit_counted, samples, offset)
        future.add_done_callback(lambda f: self._set_busy(-1) if f.cancelled() else None)
        self._audio_s[id(future)] = len(samples) / SAMPLE_RATE
        return _Job(future, offset)

    def _decode(self, samples: Pcm, offset: float) -> list[Word]:
        """Run Moonshine on one segment (worker thread); word times estimated, see spread_words."""
        with self._lock:
            self.model_calls += 1
        began = time.perf_counter()
        words: list[Word] = []
        for start in range(0, len(samples), int(MAX_SECONDS * SAMPLE_RATE)):
            piece = samples[start : start + int(MAX_SECONDS * SAMPLE_RATE)]
            voiced = [
                self._worker_speech(piece[i : i + FRAME_SAMPLES])
                for i in range(0, len(piece) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
            ]
            # Moonshine returns nothing at all for speech that follows 0.5-1 s of silence or
            # quiet noise, alone or after a scrap of a word (seen live: a segment cut inside
            # "ill-disposed," kept the word's last 150 ms, then a 2 s thinking pause, then a
            # whole sentence: all lost). So speech is decoded from just before it, and a scrap
            # before a long pause apart from what follows.
            for a, b in speech_parts(voiced, self.moonshine.lead_ms // FRAME_MS,
                                     self.moonshine.split_silence_ms // FRAME_MS,
                                     self.moonshine.scrap_ms // FRAME_MS,
                                     self.moonshine.max_lead_ms // FRAME_MS):
                part = piece[a * FRAME_SAMPLES : b * FRAME_SAMPLES if b < len(voiced) else None]
                text = self._model.transcribe(part)
                spans = voiced_spans(voiced[a:b], FRAME_MS / 1000)
                shift = offset + (start + a * FRAME_SAMPLES) / SAMPLE_RATE
                words.extend(
                    Word(w.text, round(w.start + shift, 3), round(w.end + shift, 3))
                    for w in spread_words(text, spans, len(part) / SAMPLE_RATE)
                )
        self.decode_seconds += time.perf_counter() - began
        return words

    # -- streaming ---------------------------------------------------------------------------

    def prepare_tail(self) -> bool:
        """Silence began: speculate on the tail once this recognizer hears ``spec_pause_ms`` of
        it (at once if it already has); True when started or armed."""
        if self._spec is not None or not self._seg_voiced:
            return False
        self._tail_wanted = True
        if self._silent_frames * FRAME_MS >= self.moonshine.spec_pause_ms:
            self._tail_wanted = False
            return super().prepare_tail()
        return True

    def _drop_spec(self) -> None:
        """The user went on after a speculation: keep it as a segment if it is already being
        decoded (it ends in a gap between words), else cancel it."""
        assert self._spec is not None
        spec, future = self._spec, self._spec.job.future
        self._spec = None
        if future.cancel():
            return  # not started: forgetting it costs nothing
        if (spec.end - spec.start) / SAMPLE_RATE < self.moonshine.min_kept_s:
            self._wasted.append(future)  # short: decoded again with what follows
            return
        _LOGGER.debug("speech resumed: the speculated tail becomes a segment")
        self._jobs.append(spec.job)
        self._seg_start = spec.end
        self._seg_voiced_frames = 0

    def _on_frame(self, voiced: bool) -> None:
        """Cut at pauses as whisper does, and also when a segment reaches its length cap."""
        super()._on_frame(voiced)
        if (
            not voiced
            and self._tail_wanted
            and self._silent_frames * FRAME_MS >= self.moonshine.spec_pause_ms
        ):
            self._tail_wanted = False
            if self._spec is None and self._seg_voiced:
                super().prepare_tail()
        length = self._samples - self._seg_start
        if not voiced and self._seg_voiced and self._soft_cut_due(length):
            self._cut(self._samples)
        elif length >= self.moonshine.max_segment_s * SAMPLE_RATE:
            if self._seg_voiced:
                self._cut(self._samples)
            else:  # a long stretch of noise: start the next segment here
                self._seg_start = self._samples
                self._seg_voiced_frames = 0

    def _soft_cut_due(self, length: int) -> bool:
        """Whether the silence so far is a gap to cut a segment of ``length`` samples at."""
        settings, silent_ms = self.moonshine, self._silent_frames * FRAME_MS
        if length >= settings.firm_segment_s * SAMPLE_RATE:
            return silent_ms >= settings.firm_pause_ms
        soft = length >= settings.soft_segment_s * SAMPLE_RATE
        return soft and silent_ms >= settings.short_pause_ms

    def finish_async(self) -> concurrent.futures.Future[Transcript]:
        """End the utterance now and return a future of its transcript.

        The session loop can wait on it with a timeout (show "thinking...", bridge with a
        short "Mm.") and start the next utterance meanwhile: this utterance's segments are
        already handed to the worker and ``start`` does not cancel them.
        """
        if len(self._pending):
            padded = np.zeros(FRAME_SAMPLES, np.int16)
            padded[: len(self._pending)] = self._pending
            self._samples += len(self._pending)
            self._pending = padded[:0]
            self._on_frame(self._is_speech(padded))
        if self._spec is not None:
            self._jobs.append(self._spec.job)
        elif self._seg_voiced:
            self._jobs.append(self._submit(self._utterance()[self._lead() :], self._lead()))
        jobs = self._jobs
        self._jobs = []
        self._note_tail(jobs)
        self._reset()

        def join() -> Transcript:
            words: list[Word] = []
            for job in jobs:
                words.extend(job.future.result())
            return self._transcript(words)

        # The single worker runs jobs in order: by the time join runs, every segment is done.
        return self._worker.submit(join)

    def finish(self) -> Transcript:
        """Decode what is left (or reuse the speculation) and join the segments in order."""
        return self.finish_async().result()

    def _note_tail(self, jobs: list[_Job]) -> None:
        """Record in ``last_tail`` how much decoding is left at the end of the utterance."""
        audio = self._audio_s
        pending = [j.future for j in jobs if not j.future.done()]
        wasted_running = [f for f in self._wasted if not f.done()]
        self.last_tail = {
            "tail_jobs": float(len(pending) + len(wasted_running)),
            "tail_audio_s": round(sum(audio.get(id(f), 0.0)
                                      for f in pending + wasted_running), 2),
            "tail_wasted_s": round(sum(audio.get(id(f), 0.0) for f in wasted_running), 2),
            "wasted_s": round(sum(audio.get(id(f), 0.0) for f in self._wasted), 2),
            "decoded_s": round(sum(audio.get(id(j.future), 0.0) for j in jobs), 2),
        }
        self._wasted = []
        self._audio_s = {id(f): audio[id(f)] for f in pending + wasted_running if id(f) in audio}

    def close(self) -> None:
        """Stop the worker thread and the decoder process."""
        super().close()
        if isinstance(self._model, MoonshineProcess):
            self._model.close()

    def _transcript(self, words: list[Word]) -> Transcript:
        """A Transcript from Moonshine words (carrying their own punctuation)."""
        return self.from_words(words)
