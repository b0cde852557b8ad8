"""Audio sources giving 30 ms 16 kHz frames: the microphone and a PCM array (demo, tests).

The PortAudio callback only copies bytes into a queue; resampling, rechunking, muting and error
checks happen in the consumer thread that calls ``read``, so slow consumers never cause overflows
beyond the queue's bound.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from voice_coach.audio.devices import load_sounddevice, require_input
from voice_coach.audio.format import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, AudioChunk, Pcm
from voice_coach.audio.timeline import CaptureClock
from voice_coach.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

_OVERFLOW_LOG_INTERVAL = 5.0
"""Seconds between two overflow warnings (overflows come in bursts)."""


class MuteMode(enum.Enum):
    """What ``read`` does with frames captured while muted."""

    DROP = "drop"
    """Skip them: the next frame returned has a later ``start`` (a gap on the stream clock)."""
    SILENCE = "silence"
    """Return them as zeros, so the stream stays continuous."""


@runtime_checkable
class AudioSource(Protocol):
    """Anything that yields 30 ms 16 kHz mono frames and can be muted while the coach speaks."""

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next frame, or None when none came within ``timeout`` s (or the source ended)."""
        ...

    def mute(self) -> None:
        """Stop delivering what is captured from now on (the interviewer is speaking)."""
        ...

    def unmute(self, tail: float = 0.25) -> None:
        """Deliver again, after ``tail`` more seconds (the room's echo and device latency)."""
        ...

    def flush(self) -> None:
        """Discard everything captured but not read yet."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class _MuteClock:
    """Mute intervals on some clock: [start, end) pairs, the last one open while muted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intervals: list[tuple[float, float]] = []
        self._muted = False

    @property
    def muted(self) -> bool:
        return self._muted

    def mute(self, now: float) -> None:
        with self._lock:
            if not self._muted:
                self._muted = True
                self._intervals.append((now, float("inf")))

    def unmute(self, now: float, tail: float) -> None:
        with self._lock:
            if self._muted:
                start, _ = self._intervals[-1]
                self._intervals[-1] = (start, now + max(0.0, tail))
                self._muted = False

    def covers(self, start: float, end: float) -> bool:
        """True when [start, end) overlaps a mute interval."""
        with self._lock:
            return any(a < end and start < b for a, b in self._intervals)

    def prune(self, before: float) -> None:
        """Forget intervals that ended before ``before``."""
        with self._lock:
            self._intervals = [(a, b) for a, b in self._intervals if b >= before]


class StreamResampler:
    """Resample a stream block by block to 16 kHz with no seams between blocks.

    Same method as ``voice_coach.audio.format.resample`` (windowed-sinc low-pass, then linear
    interpolation), but stateful: per-block calls to ``resample`` would click at every edge.
    """

    def __init__(self, rate: int, target: int = SAMPLE_RATE, taps: int = 63) -> None:
        self.rate = rate
        self.target = target
        self._step = rate / target
        if target < rate:
            cutoff = 0.5 * target / rate
            n = np.arange(taps) - (taps - 1) / 2
            h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
            self._h: npt.NDArray[np.float32] | None = (h / h.sum()).astype(np.float32)
            self._hist = np.zeros(taps - 1, dtype=np.float32)
            # the causal filter delays by half its length: read that much later to cancel it
            self._delay = (taps - 1) / 2
        else:
            self._delay = 0.0
            self._h = None
            self._hist = np.zeros(0, dtype=np.float32)
        self._buf = np.zeros(0, dtype=np.float32)  # filtered input not consumed yet
        self._base = 0  # global input index of _buf[0]
        self._next = 0  # global index of the next output sample

    def process(self, block: Pcm) -> Pcm:
        """Feed input samples at ``rate``; returns the output samples they complete."""
        if self.rate == self.target:
            return block
        if len(block) == 0:
            return np.zeros(0, dtype=np.int16)
        x = block.astype(np.float32)
        if self._h is not None:
            joined = np.concatenate([self._hist, x])
            self._hist = joined[len(joined) - len(self._hist) :]
            x = np.convolve(joined, self._h, mode="valid").astype(np.float32)
        self._buf = np.concatenate([self._buf, x])
        last = self._base + len(self._buf) - 1  # last input index available
        # output j sits at input position j*step; it needs samples floor(p) and floor(p)+1
        count = int(np.floor((last - 1 - self._delay) / self._step)) - self._next + 1
        if count <= 0:
            return np.zeros(0, dtype=np.int16)
        j = np.arange(self._next, self._next + count, dtype=np.float64)
        pos = j * self._step + self._delay - self._base
        i0 = np.floor(pos).astype(np.int64)
        frac = (pos - i0).astype(np.float32)
        y = self._buf[i0] * (1 - frac) + self._buf[i0 + 1] * frac
        self._next += count
        # drop input no future output needs (never past what we have: base must stay exact)
        needed = int(np.floor(self._next * self._step + self._delay))
        keep_from = min(needed - self._base, len(self._buf))
        self._buf = self._buf[keep_from:]
        self._base += keep_from
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class CaptureSettings:
    """How the microphone stream is opened."""

    device: str | int | None = None
    """Index, name substring, or None for the system default input."""
    prefer_rate: int = SAMPLE_RATE
    """Capture rate tried first; the device's default rate is the fallback."""
    latency: str | float = "low"
    """PortAudio's suggested input latency ('low', 'high' or seconds)."""
    mute_mode: MuteMode = MuteMode.DROP
    queue_seconds: float = 180.0
    """Audio kept for a consumer that is not reading (a long prompt, a slow decode). On a
    machine at load 6-14 the session once read a frame 75 s after it was captured: a 60 s
    queue would have dropped the user's words. (180 s of 16 kHz mono is 5.8 MB.)"""
    stall_timeout: float = 3.0
    """Seconds with no callback after which the device counts as failed."""


_Block = tuple[bytes, float, int, int]
"""(raw bytes, monotonic time its first sample was captured, status flags, index of its first
sample on the device's stream)."""

_INPUT_OVERFLOW = 2
"""paInputOverflow in PortAudio's callback flags: samples were lost before the callback."""


def block_lag(frames: int, rate: int, time_info: Any) -> float:
    """Seconds between a block's first sample being captured and its callback running.

    At least the block's own length; more when PortAudio reports an older ADC time for it
    (its clock may be the wall clock: only the difference of its two times is used).
    """
    lag = frames / rate if rate else 0.0
    try:
        reported = float(time_info.currentTime) - float(time_info.inputBufferAdcTime)
    except (AttributeError, TypeError, ValueError):
        return lag
    return max(lag, reported) if 0.0 < reported < 1.0 else lag


class Microphone:
    """The system microphone as an AudioSource: 30 ms 16 kHz int16 frames with stream timestamps."""

    def __init__(self, settings: CaptureSettings | None = None, **overrides: Any) -> None:
        base = settings or CaptureSettings()
        if overrides:
            base = CaptureSettings(**{**base.__dict__, **overrides})
        self.settings = base
        self._sd: Any = None
        self._stream: Any = None
        self._queue: queue.Queue[_Block | None] = queue.Queue()
        self._mute = _MuteClock()
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, dtype=np.int16)
        self._pending_mask = np.zeros(0, dtype=bool)
        self._emitted = 0  # 16 kHz samples produced on the stream clock (kept or dropped)
        self._captured = 0  # device samples the callback saw (counted on the PortAudio thread)
        self._ingested = 0  # device samples ingested, including silence put in for lost blocks
        self.clock = CaptureClock()
        """Stream time -> monotonic time, anchored on the capture callback's stamps."""
        self._closing = False
        self._failed: str | None = None
        self._last_callback = 0.0
        self._last_overflow_log = 0.0
        self._overflows_logged = 0
        self.overflows = 0
        """Blocks PortAudio reported as overflowed, plus blocks dropped on a full queue."""
        self.rate = 0
        """The rate the device is actually opened at."""
        self.channels = 1
        self.device_name = ""

    @property
    def started_at(self) -> float:
        """Estimated monotonic time of stream time 0 (0.0 before the first block)."""
        return self.clock.offset

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> Microphone:
        """Open and start the input stream (16 kHz if the device accepts it, else its own rate)."""
        sd = load_sounddevice()
        self._sd = sd
        info = require_input(self.settings.device)
        self.device_name = info.name
        attempts: list[tuple[int, int]] = [(self.settings.prefer_rate, 1)]
        native = int(info.default_samplerate)
        if native != self.settings.prefer_rate:
            attempts.append((native, 1))
        if info.inputs >= 2:
            attempts.append((native, 2))
        self._queue = queue.Queue(
            maxsize=max(1, int(self.settings.queue_seconds * 1000 / FRAME_MS))
        )
        last_error: Exception | None = None
        for rate, channels in attempts:
            try:
                self._stream = sd.RawInputStream(
                    samplerate=rate,
                    blocksize=rate * FRAME_MS // 1000,
                    device=info.index,
                    channels=channels,
                    dtype="int16",
                    latency=self.settings.latency,
                    callback=self._callback,
                    finished_callback=self._finished,
                )
            except (sd.PortAudioError, ValueError) as exc:
                _LOGGER.debug("input %s refused %d Hz x%d: %s", info.name, rate, channels, exc)
                last_error = exc
                continue
            self.rate, self.channels = rate, channels
            break
        else:
            raise DeviceError(f"cannot open microphone {info.name!r}: {last_error}")
        self._resampler = StreamResampler(self.rate) if self.rate != SAMPLE_RATE else None
        try:
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream.close(ignore_errors=True)
            raise DeviceError(f"cannot start microphone {info.name!r}: {exc}") from exc
        self._last_callback = time.monotonic()
        _LOGGER.info(
            "microphone %r open at %d Hz x%d (latency %.3f s)",
            info.name,
            self.rate,
            self.channels,
            float(self._stream.latency),
        )
        return self

    def close(self) -> None:
        """Stop and close the stream; safe to call twice."""
        self._closing = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            except Exception as exc:  # closing a vanished device must not mask the real error
                _LOGGER.debug("closing microphone: %s", exc)

    def __enter__(self) -> Microphone:
        return self.open()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- PortAudio thread: copy and enqueue, nothing else -------------------------------------

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_callback = now
        first = self._captured
        self._captured += frames
        # Stamped here, where time runs true: the consumer may read this block much later.
        captured_at = now - block_lag(frames, self.rate, time_info)
        try:
            self._queue.put_nowait(
                (bytes(indata), captured_at, int(getattr(status, "_flags", 0)), first))
        except queue.Full:
            self.overflows += 1

    def _finished(self) -> None:
        # The sentinel lets read() deliver what was captured before the failure first.
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            if not self._closing:
                self._failed = "the microphone stream stopped"

    # -- consumer thread ---------------------------------------------------------------------

    def mute(self) -> None:
        """Drop what is captured from now on (the interviewer is speaking)."""
        self._mute.mute(time.monotonic())

    def unmute(self, tail: float = 0.25) -> None:
        """Deliver again after ``tail`` seconds (echo, device latency)."""
        self._mute.unmute(time.monotonic(), tail)

    @property
    def muted(self) -> bool:
        """True between ``mute`` and ``unmute``."""
        return self._mute.muted

    def flush(self) -> None:
        """Discard captured audio not read yet (the stream clock still counts it)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put_nowait(None)  # keep the failure visible to read()
                break
            self._ingest(item, keep=False)
        dropped = len(self._pending) - len(self._pending) % FRAME_SAMPLES
        self._emitted += dropped
        self._pending = self._pending[dropped:]
        self._pending_mask = self._pending_mask[dropped:]

    def _check_failed(self) -> None:
        if self._failed:
            raise DeviceError(f"microphone failed: {self._failed}")
        stream = self._stream
        if stream is None:
            raise DeviceError("microphone is not open")
        stalled = time.monotonic() - self._last_callback
        if stalled > self.settings.stall_timeout:
            active = False
            try:
                active = bool(stream.active)
            except Exception:
                active = False
            self._failed = (
                f"no audio for {stalled:.1f} s" if active else "the microphone stream stopped"
            )
            raise DeviceError(f"microphone failed: {self._failed}")

    def _ingest(self, item: _Block, keep: bool = True) -> None:
        raw, captured_at, flags, first = item
        data = np.frombuffer(raw, dtype="<i2").astype(np.int16)
        if self.channels > 1:
            data = data.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
        if flags and self._sd is not None:
            self._note_status(flags)
        if flags & _INPUT_OVERFLOW:
            self.clock.reanchor()  # the device lost samples: counting alone is off now
        if first > self._ingested:
            # Blocks dropped on a full queue: masked silence keeps the stream clock whole.
            self._append(np.zeros(first - self._ingested, dtype=np.int16), masked=True)
        self._ingested = first + len(data)
        self.clock.stamp(first / self.rate, captured_at)
        duration = len(data) / self.rate
        muted = self._mute.covers(captured_at, captured_at + duration)
        self._append(data, masked=muted or not keep)
        self._mute.prune(captured_at - 10.0)

    def _append(self, data: Pcm, masked: bool) -> None:
        if self._resampler is not None:
            data = self._resampler.process(data)
        self._pending = np.concatenate([self._pending, data])
        self._pending_mask = np.concatenate([self._pending_mask, np.full(len(data), masked)])

    def _note_status(self, flags: int) -> None:
        # paInputOverflow = 2 in PortAudio's callback flags; other flags are logged at debug.
        if flags & _INPUT_OVERFLOW:
            self.overflows += 1
            now = time.monotonic()
            if now - self._last_overflow_log >= _OVERFLOW_LOG_INTERVAL:
                _LOGGER.warning(
                    "microphone input overflow (%d so far): audio was lost", self.overflows
                )
                self._last_overflow_log = now
        else:
            _LOGGER.debug("microphone callback status flags %#x", flags)

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next 30 ms frame, or None after ``timeout`` s; DeviceError if the device failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            while len(self._pending) >= FRAME_SAMPLES:
                frame = self._pending[:FRAME_SAMPLES]
                masked = bool(self._pending_mask[:FRAME_SAMPLES].any())
                self._pending = self._pending[FRAME_SAMPLES:]
                self._pending_mask = self._pending_mask[FRAME_SAMPLES:]
                start = self._emitted / SAMPLE_RATE
                self._emitted += FRAME_SAMPLES
                at = self.clock.time_of(start)
                if not masked:
                    return AudioChunk(frame, start, at)
                if self.settings.mute_mode is MuteMode.SILENCE:
                    return AudioChunk(np.zeros(FRAME_SAMPLES, dtype=np.int16), start, at)
            self._check_failed()
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                return None
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                continue
            if item is None:
                self._failed = self._failed or "the microphone stream stopped"
                self._check_failed()
                continue
            self._ingest(item)


class AfterEnd(enum.Enum):
    """What a PcmSource does when its script runs out."""

    SILENCE = "silence"
    """Yield silent frames forever, like a quiet room."""
    STOP = "stop"
    """``read`` returns None and ``finished`` becomes True."""


class PcmSource:
    """Feeds Pcm audio frame by frame, in real time (times ``speed``) or as fast as possible.

    Mute semantics match Microphone's, with one deliberate difference for scripted candidates:
    audio queued with ``feed`` is not consumed while muted or during the unmute tail, so a
    scripted answer fed right after the interviewer finishes is heard from its first word.
    """

    def __init__(
        self,
        samples: Pcm | None = None,
        *,
        realtime: bool = True,
        speed: float = 1.0,
        after_end: AfterEnd = AfterEnd.SILENCE,
        mute_mode: MuteMode = MuteMode.DROP,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.realtime = realtime
        self.speed = speed
        self.after_end = after_end
        self.mute_mode = mute_mode
        self._lock = threading.Lock()
        self._script: list[Pcm] = []
        self._offset = 0  # samples of _script[0] already consumed
        self._pos = 0  # samples emitted on the stream clock
        self._t0: float | None = None
        self._muted = False
        self._muted_until = 0.0  # stream seconds
        self._closed = False
        self.finished = False
        if samples is not None:
            self.feed(samples)

    def feed(self, samples: Pcm) -> None:
        """Queue more 16 kHz mono int16 audio after what is already queued."""
        with self._lock:
            if len(samples):
                self._script.append(np.asarray(samples, dtype=np.int16))
                self.finished = False

    @property
    def pending_seconds(self) -> float:
        """Seconds of fed audio not yet read."""
        with self._lock:
            return (sum(len(s) for s in self._script) - self._offset) / SAMPLE_RATE

    def _now(self) -> float:
        """The current stream time in seconds."""
        if self.realtime and self._t0 is not None:
            return (time.monotonic() - self._t0) * self.speed
        return self._pos / SAMPLE_RATE

    def mute(self) -> None:
        """Drop frames from now on; the script waits."""
        self._muted = True

    def unmute(self, tail: float = 0.25) -> None:
        """Deliver again after ``tail`` seconds of stream time."""
        if self._muted:
            self._muted_until = max(self._muted_until, self._now() + max(0.0, tail))
        self._muted = False

    def flush(self) -> None:
        """Forget the queued script (what the candidate was going to say)."""
        with self._lock:
            self._script.clear()
            self._offset = 0

    def close(self) -> None:
        """End the source: read returns None from now on."""
        self._closed = True

    def __enter__(self) -> PcmSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take(self) -> Pcm | None:
        """The next frame of script, zero-padded; None when the script is empty."""
        with self._lock:
            out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
            if not self._script:
                return None
            filled = 0
            while self._script and filled < FRAME_SAMPLES:
                head = self._script[0]
                n = min(FRAME_SAMPLES - filled, len(head) - self._offset)
                out[filled : filled + n] = head[self._offset : self._offset + n]
                filled += n
                self._offset += n
                if self._offset >= len(head):
                    self._script.pop(0)
                    self._offset = 0
            return out

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next frame when it is due (real time), or None after ``timeout`` / at the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._t0 is None:
            self._t0 = time.monotonic()
        while not self._closed:
            start = self._pos / SAMPLE_RATE
            if self.realtime:
                # a frame is available once its last sample has "happened"
                due = self._t0 + (start + FRAME_MS / 1000) / self.speed
                now = time.monotonic()
                if deadline is not None and due > deadline:
                    time.sleep(max(0.0, deadline - now))
                    return None
                if due > now:
                    time.sleep(due - now)
            if self._muted and not self.realtime and self.mute_mode is MuteMode.DROP:
                return None  # nothing can come until unmute: do not spin
            muted = self._muted or start < self._muted_until
            frame = None if muted else self._take()
            if frame is None and not muted and self.after_end is AfterEnd.STOP:
                self.finished = True
                return None
            self._pos += FRAME_SAMPLES
            if frame is None:
                frame = np.zeros(FRAME_SAMPLES, dtype=np.int16)
            if muted and self.mute_mode is MuteMode.DROP:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            at = self._t0 + start / self.speed if self.realtime else None
            return AudioChunk(frame, start, at)
        return None
