"""espeak-ng through pyttsx3, made race-free: one worker thread owns the engine, one file per line.

pyttsx3's espeak driver synthesises asynchronously: ``runAndWait()`` can return before
``save_to_file`` wrote its file, a second save can receive the first line's audio, and a
later ``say()`` reuses the last save path. Here every request runs on a single worker
thread, waits for the ``finished-utterance`` callback, then checks the WAV is complete
before reading and deleting it.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import shutil
import struct
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from voice_coach.errors import CoachError, EngineUnavailable, UsageError
from voice_coach.tts.base import MAX_CHUNK, Speaker, Speech, chunk_text

_LOGGER = logging.getLogger(__name__)

ESPEAK_RATE = 22050
"""Sample rate of pyttsx3's espeak-ng output."""
DEFAULT_RATE_WPM = 175
"""espeak-ng's own default speaking rate."""
_INSTALL_HINT = "espeak-ng is not installed: sudo apt-get install espeak-ng"

T = TypeVar("T")


class SynthesisError(CoachError):
    """The speech engine did not produce a complete clip in time."""

    exit_code = 1


@dataclass(frozen=True)
class VoiceInfo:
    """One installed espeak-ng voice."""

    id: str
    """Identifier, e.g. ``gmw/en-us``."""
    name: str
    """Human name, e.g. ``English (America)``."""
    languages: tuple[str, ...] = ()


def wav_is_complete(path: Path) -> bool:
    """True when a RIFF/WAV file's header sizes agree with its length on disk."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(64)
    except OSError:
        return False
    if len(head) < 44 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return False
    (riff_size,) = struct.unpack_from("<I", head, 4)
    if riff_size + 8 != size:
        return False
    # Walk the chunks up to "data": its declared size must reach exactly the end of the file.
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (chunk_size,) = struct.unpack_from("<I", head, pos + 4)
        if chunk_id == b"data":
            return bool(pos + 8 + chunk_size == size)
        pos += 8 + chunk_size + (chunk_size & 1)
    return False


def _quiet_print(*args: object, **kwargs: Any) -> None:
    """Stand-in for ``print`` inside pyttsx3's espeak driver: log instead of writing stdout."""
    _LOGGER.debug("pyttsx3: %s", " ".join(str(a) for a in args))


class _EspeakWorker:
    """The one thread that owns the process-wide pyttsx3 engine; requests run in order."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._engine: Any = None
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._voice_now: str | None = None
        self._rate_now: int | None = None
        self._voices: list[VoiceInfo] | None = None
        self._synchronize: Callable[[], int] | None = None
        self._tmpdir = Path(tempfile.mkdtemp(prefix="voice-coach-tts-"))
        atexit.register(shutil.rmtree, self._tmpdir, True)
        self._thread = threading.Thread(target=self._loop, name="voice-coach-espeak", daemon=True)
        self._thread.start()
        self.call(self._init_engine, timeout=30.0)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on the worker thread and return its result."""
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        try:
            return future.result(timeout=timeout)
        except TimeoutError as exc:
            raise SynthesisError(f"espeak-ng did not answer within {timeout:.0f} s") from exc

    def _loop(self) -> None:
        while True:
            fn, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

    def _init_engine(self) -> None:
        try:
            import pyttsx3
        except ImportError as exc:
            raise EngineUnavailable("pyttsx3 is not installed: pip install pyttsx3") from exc
        try:
            engine = pyttsx3.init("espeak")
        except (ImportError, OSError, RuntimeError) as exc:
            # pyttsx3 raises these when libespeak-ng.so.1 cannot be loaded.
            raise EngineUnavailable(_INSTALL_HINT) from exc
        try:
            import pyttsx3.drivers.espeak as driver_module

            # The driver prints "Audio saved to ..." from espeak's own thread, possibly after
            # runAndWait returned; shadowing print in that module silences it without
            # redirecting the whole process's stdout (which would swallow the UI's output).
            driver_module.print = _quiet_print
        except ImportError:
            pass
        engine.connect("finished-utterance", self._on_finished)
        engine.connect("error", self._on_error)
        # A new proxy is "busy" and queues setProperty until runAndWait; one empty run leaves
        # it idle, so later property changes reach espeak-ng at once (see _apply_settings).
        engine.runAndWait()
        try:
            from pyttsx3.drivers import _espeak

            self._synchronize = _espeak.Synchronize
        except (ImportError, AttributeError):
            self._synchronize = None
        self._engine = engine

    def _on_finished(self, name: object = None, completed: object = True) -> None:
        self._finished.set()

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        self._error = exception or RuntimeError("espeak-ng reported an error")
        self._finished.set()

    def voices(self) -> list[VoiceInfo]:
        """Installed voices (cached)."""
        if self._voices is None:
            raw = self._engine.getProperty("voices")
            self._voices = [
                VoiceInfo(str(v.id), str(v.name), tuple(str(lang) for lang in v.languages or ()))
                for v in raw
            ]
        return self._voices

    def _apply_settings(self, voice_id: str | None, rate_wpm: int) -> None:
        """Set voice and rate so that they hold for the next line."""
        engine = self._engine
        changed = False
        if voice_id is not None and voice_id != self._voice_now:
            engine.setProperty("voice", voice_id)
            self._voice_now = voice_id
            self._rate_now = None  # a voice change may reset the rate: set it again
            changed = True
        if rate_wpm != self._rate_now:
            engine.setProperty("rate", int(rate_wpm))
            self._rate_now = rate_wpm
            changed = True
        if changed and self._synchronize is not None:
            # espeak-ng queues SetParameter in its own command FIFO, and runAndWait starts with
            # espeak_Cancel() while that FIFO is busy, which drops the pending rate change.
            # Wait for the FIFO to drain first.
            self._synchronize()

    def synth(self, text: str, voice_id: str | None, rate_wpm: int, timeout: float) -> Speech:
        """Synthesise one line to a private file; runs on the worker thread."""
        engine = self._engine
        self._apply_settings(voice_id, rate_wpm)
        fd, name = tempfile.mkstemp(prefix="line-", suffix=".wav", dir=self._tmpdir)
        os.close(fd)
        path = Path(name)
        try:
            self._finished.clear()
            self._error = None
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            if not self._finished.wait(timeout):
                raise SynthesisError(f"espeak-ng did not finish a line within {timeout:.0f} s")
            if self._error is not None:
                raise SynthesisError(f"espeak-ng failed: {self._error}")
            deadline = time.monotonic() + timeout
            while not wav_is_complete(path):
                if time.monotonic() > deadline:
                    raise SynthesisError("espeak-ng left an incomplete WAV file")
                time.sleep(0.002)
            with wave.open(str(path), "rb") as w:
                rate = w.getframerate()
                samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            return Speech(samples.astype(np.int16), rate)
        finally:
            path.unlink(missing_ok=True)


_WORKER: _EspeakWorker | None = None
_WORKER_LOCK = threading.Lock()


def _worker() -> _EspeakWorker:
    """The process-wide worker: espeak-ng can be initialised only once per process."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = _EspeakWorker()
        return _WORKER


def list_voices() -> list[VoiceInfo]:
    """Voices espeak-ng offers on this machine."""
    worker = _worker()
    return worker.call(worker.voices, timeout=10.0)


def find_voice(query: str, voices: list[VoiceInfo]) -> VoiceInfo:
    """Pick a voice by exact id, language code (``en-us``) or name substring (``english``)."""
    q = query.strip().lower()
    tests: list[Callable[[VoiceInfo], bool]] = [
        lambda v: v.id.lower() == q,
        lambda v: v.id.lower().rsplit("/", 1)[-1] == q,
        lambda v: v.name.lower() == q,
        lambda v: q in v.id.lower(),
        lambda v: q in v.name.lower(),
    ]
    for test in tests:
        # Shortest id first, so "english" finds plain "gmw/en" before regional variants.
        for voice in sorted(voices, key=lambda v: (len(v.id), v.id)):
            if test(voice):
                return voice
    examples = ", ".join(v.id.rsplit("/", 1)[-1] for v in voices[:8])
    raise UsageError(f"no espeak-ng voice matches {query!r} (try e.g. {examples})")


class EspeakSpeaker(Speaker):
    """espeak-ng voices through pyttsx3 (the default engine): fast, robotic, 22050 Hz."""

    name = "espeak"

    def __init__(
        self, voice: str | None = None, rate_wpm: int | None = None, timeout: float = 10.0
    ) -> None:
        super().__init__(voice, rate_wpm)
        self._timeout = timeout
        self._worker = _worker()
        self._voice_id: str | None = None
        if voice:
            # espeak-ng takes a variant after "+" ("en-us+f3": a female variant of en-us).
            base, _, variant = voice.partition("+")
            self._voice_id = find_voice(base, list_voices()).id
            if variant:
                self._voice_id += "+" + variant

    @property
    def voice_id(self) -> str | None:
        """The chosen voice's id, or None for espeak-ng's default."""
        return self._voice_id

    def synth(self, text: str) -> Speech:
        """Synthesise ``text`` to one clip (empty text gives an empty clip)."""
        if not text.strip():
            return Speech(np.zeros(0, dtype=np.int16), ESPEAK_RATE)
        rate = self.rate_wpm or DEFAULT_RATE_WPM
        worker = self._worker
        pieces = [text] if len(text) <= MAX_CHUNK else chunk_text(text)

        def once(piece: str) -> Speech:
            return worker.call(
                lambda: worker.synth(piece, self._voice_id, rate, self._timeout),
                # The worker enforces its own timeout; this one only catches a wedged thread.
                timeout=self._timeout * 2 + 5.0,
            )

        def one(piece: str) -> Speech:
            clip = once(piece)
            if not len(clip.samples) or not np.any(clip.samples):
                # Seen once in a full test run: a complete WAV with no sound for a real line.
                _LOGGER.warning("espeak-ng gave a silent clip for %r: synthesising it again",
                                piece[:40])
                clip = once(piece)
            return clip

        clips = [one(piece) for piece in pieces]
        if len(clips) == 1:
            return clips[0]
        return Speech(np.concatenate([c.samples for c in clips]).astype(np.int16),
                      clips[0].rate)

    def list_voices(self) -> list[VoiceInfo]:
        """Voices espeak-ng offers on this machine."""
        return list_voices()
