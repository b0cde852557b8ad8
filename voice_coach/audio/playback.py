"""Playing the interviewer's voice: a PortAudio Player, and a NullPlayer when there is no speaker.

Both queue clips back to back (sentence by sentence, no gaps), start without blocking, and report
when each clip's first sample was handed to the device, for latency measurements.

A Player whose device fails or vanishes raises DeviceError from ``play``/``wait``; it never
falls back silently. The caller (the session loop) decides: ``open_player`` picks a NullPlayer
only when no output device exists at the start.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from voice_coach.audio.devices import load_sounddevice, require_output
from voice_coach.audio.format import SAMPLE_RATE, Pcm, resample, write_wav
from voice_coach.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

FirstSampleCallback = Callable[["Playback"], None]


@dataclass
class Playback:
    """One queued clip and what happened to it (times are ``time.monotonic()`` seconds)."""

    seconds: float
    """Duration of the clip."""
    queued_at: float
    first_sample_at: float | None = None
    """When its first sample was handed to PortAudio (or would have been, for NullPlayer)."""
    audible_at: float | None = None
    """Estimated time the first sample left the speaker (adds the output latency)."""
    ends_at: float | None = None
    """Estimated time the last sample left the speaker."""
    stopped: bool = False
    """True when ``stop`` cut it short."""
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        """True once the clip was fully handed over or stopped."""
        return self._done.is_set()


class AudioSink(Protocol):
    """What the session loop needs from a player."""

    def play(
        self, samples: Pcm, rate: int, on_first_sample: FirstSampleCallback | None = None
    ) -> Playback:
        """Queue a clip after the ones already queued; return at once."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been heard; False on timeout."""
        ...

    def stop(self) -> None:
        """Cut the current clip and drop the queued ones (the user interrupted)."""
        ...

    @property
    def playing(self) -> bool:
        """True while a clip is queued or sounding."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


@dataclass
class _Clip:
    samples: Pcm
    playback: Playback
    on_first: FirstSampleCallback | None
    pos: int = 0


@dataclass(frozen=True)
class PlaybackSettings:
    """How the output stream is opened."""

    device: str | int | None = None
    """Index, name substring, or None for the system default output."""
    latency: str | float = 0.1
    """Seconds of audio buffered ahead of the speaker. The callback runs in Python: when other
    threads hold the interpreter (language analysis, synthesis), a "low" 9 ms buffer ran dry
    (a 2 s line took 9 s to play, 180 underflows, PulseAudio's virtual devices); 0.1 s played
    it in 2.1 s, and the echo then comes back where the timeline says it was played."""
    stall_timeout: float = 2.0
    """Seconds with no callback while audio is queued after which the device counts as failed."""


class Player:
    """Plays int16 clips through one long-lived PortAudio output stream at the device's rate."""

    def __init__(self, settings: PlaybackSettings | None = None, **overrides: Any) -> None:
        base = settings or PlaybackSettings()
        if overrides:
            base = PlaybackSettings(**{**base.__dict__, **overrides})
        self.settings = base
        self._sd: Any = None
        self._stream: Any = None
        self._lock = threading.Lock()
        self._clips: collections.deque[_Clip] = collections.deque()
        self._last: Playback | None = None
        self._last_callback = 0.0
        self._closing = False
        self._restarting = False
        self._failed: str | None = None
        self.rate = 0
        """Rate the device is opened at; clips are resampled to it."""
        self.channels = 1
        self.device_name = ""
        self.underflows = 0
        self._nominal_latency = 0.0

    def open(self) -> Player:
        """Open and start the output stream (silence until a clip is queued)."""
        if self._stream is not None:
            return self
        sd = load_sounddevice()
        self._sd = sd
        info = require_output(self.settings.device)
        self.device_name = info.name
        rate = int(info.default_samplerate)
        last_error: Exception | None = None
        for channels in (1, 2):
            try:
                self._stream = sd.OutputStream(
                    samplerate=rate,
                    device=info.index,
                    channels=channels,
                    dtype="int16",
                    latency=self.settings.latency,
                    callback=self._callback,
                    finished_callback=self._finished,
                )
            except (sd.PortAudioError, ValueError) as exc:
                last_error = exc
                continue
            self.rate, self.channels = rate, channels
            break
        else:
            raise DeviceError(f"cannot open audio output {info.name!r}: {last_error}")
        try:
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream.close(ignore_errors=True)
            self._stream = None
            raise DeviceError(f"cannot start audio output {info.name!r}: {exc}") from exc
        self._last_callback = time.monotonic()
        self._nominal_latency = float(self._stream.latency)
        _LOGGER.info(
            "audio output %r open at %d Hz x%d (latency %.3f s)",
            info.name,
            rate,
            self.channels,
            float(self._stream.latency),
        )
        return self

    def __enter__(self) -> Player:
        return self.open()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop queued clips and close the stream; safe to call twice."""
        self._closing = True
        self._drop_all()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            except Exception as exc:  # a vanished device must not mask the caller's error
                _LOGGER.debug("closing audio output: %s", exc)

    # -- PortAudio thread --------------------------------------------------------------------

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_callback = now
        if status.output_underflow:
            self.underflows += 1
        try:
            dac = float(time_info.outputBufferDacTime)
            latency = dac - float(time_info.currentTime) if dac > 0 else -1.0
        except Exception:
            latency = -1.0
        if not 0.0 < latency < 5.0:  # ALSA often reports 0; fall back to the nominal latency
            latency = self._nominal_latency
        filled = 0
        with self._lock:
            while filled < frames and self._clips:
                clip = self._clips[0]
                pb = clip.playback
                if clip.pos == 0:
                    pb.first_sample_at = now
                    pb.audible_at = now + latency + filled / self.rate
                    if clip.on_first is not None:
                        try:
                            clip.on_first(pb)
                        except Exception:  # a buggy observer must not kill the audio thread
                            _LOGGER.exception("on_first_sample callback failed")
                n = min(frames - filled, len(clip.samples) - clip.pos)
                outdata[filled : filled + n, :] = clip.samples[clip.pos : clip.pos + n, None]
                clip.pos += n
                filled += n
                if clip.pos >= len(clip.samples):
                    pb.ends_at = now + latency + filled / self.rate
                    pb._done.set()
                    self._clips.popleft()
        if filled < frames:
            outdata[filled:, :] = 0

    def _finished(self) -> None:
        if not self._closing and not self._restarting:
            self._failed = "the output stream stopped"
        self._drop_all()

    # -- caller thread -----------------------------------------------------------------------

    def _check_failed(self) -> None:
        if self._failed:
            raise DeviceError(f"audio output failed: {self._failed}")

    def play(
        self, samples: Pcm, rate: int, on_first_sample: FirstSampleCallback | None = None
    ) -> Playback:
        """Queue a mono int16 clip at ``rate`` Hz; returns at once with its Playback record.

        ``on_first_sample`` runs on the audio thread when the first sample is handed over:
        keep it short (set an event, note a time).
        """
        if self._stream is None:
            self.open()
        self._check_failed()
        data = resample(np.asarray(samples, dtype=np.int16), rate, self.rate)
        pb = Playback(seconds=len(data) / self.rate, queued_at=time.monotonic())
        with self._lock:
            if not self._clips:
                # the callback may have been idle; do not count that as a stall
                self._last_callback = max(self._last_callback, time.monotonic())
            self._clips.append(_Clip(data, pb, on_first_sample))
            self._last = pb
        return pb

    @property
    def playing(self) -> bool:
        """True while clips are queued or the last one is still sounding."""
        with self._lock:
            if self._clips:
                return True
        last = self._last
        return bool(last and last.ends_at and time.monotonic() < last.ends_at)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued clip has left the speaker; False on timeout.

        Raises DeviceError when the device stops delivering (vanished, stream died).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._check_failed()
            with self._lock:
                pending = bool(self._clips)
            if not pending:
                break
            if time.monotonic() - self._last_callback > self.settings.stall_timeout:
                self._failed = f"no progress for {self.settings.stall_timeout:.1f} s"
                self._drop_all()
                self._check_failed()
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        last = self._last
        if last is not None and last.ends_at is not None and not last.stopped:
            remaining = last.ends_at - time.monotonic()
            if deadline is not None:
                remaining = min(remaining, deadline - time.monotonic())
            if remaining > 0:
                time.sleep(remaining)
            if deadline is not None and time.monotonic() < last.ends_at:
                return False
        return True

    def _drop_all(self) -> None:
        with self._lock:
            for clip in self._clips:
                clip.playback.stopped = True
                clip.playback._done.set()
            self._clips.clear()
            if self._last is not None and self._last.ends_at is not None:
                self._last.ends_at = min(self._last.ends_at, time.monotonic())

    def stop(self) -> None:
        """Cut the current clip and drop the queued ones; also discards PortAudio's buffer."""
        self._drop_all()
        stream = self._stream
        if stream is None:
            return
        self._restarting = True
        try:
            # abort() throws away what PortAudio has buffered, so the voice stops at once
            stream.abort(ignore_errors=True)
            stream.start()
            self._last_callback = time.monotonic()
        except Exception as exc:
            self._failed = f"cannot restart the output stream: {exc}"
            raise DeviceError(f"audio output failed: {self._failed}") from exc
        finally:
            self._restarting = False


@dataclass(frozen=True)
class PlayedClip:
    """What a NullPlayer would have played, resampled to 16 kHz, and when."""

    samples: Pcm
    playback: Playback


class NullPlayer:
    """A player with no device: records clips and their (simulated) timing.

    With ``realtime=True`` ``wait`` takes as long as the audio would have; with False it
    returns at once. ``recording`` gives everything played, back to back, at 16 kHz.
    """

    def __init__(self, realtime: bool = False, keep_clips: int | None = None) -> None:
        self.realtime = realtime
        # Long runs (demo --fast, benchmarks) keep only the last few clips: memory stays flat.
        self.clips: collections.deque[PlayedClip] = collections.deque(maxlen=keep_clips)
        self._busy_until = 0.0
        self.rate = SAMPLE_RATE
        self.device_name = "none"

    def open(self) -> NullPlayer:
        """Nothing to open."""
        return self

    def __enter__(self) -> NullPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def play(
        self, samples: Pcm, rate: int, on_first_sample: FirstSampleCallback | None = None
    ) -> Playback:
        """Record a clip; it 'starts' when the previous one would have ended."""
        data = resample(np.asarray(samples, dtype=np.int16), rate, SAMPLE_RATE)
        now = time.monotonic()
        start = max(now, self._busy_until)
        pb = Playback(seconds=len(data) / SAMPLE_RATE, queued_at=now)
        pb.first_sample_at = pb.audible_at = start
        pb.ends_at = self._busy_until = start + pb.seconds
        pb._done.set()
        self.clips.append(PlayedClip(data, pb))
        if on_first_sample is not None:
            on_first_sample(pb)
        return pb

    @property
    def playing(self) -> bool:
        """True until the simulated end of the last clip (always False when not real time)."""
        return self.realtime and time.monotonic() < self._busy_until

    def wait(self, timeout: float | None = None) -> bool:
        """In real-time mode, sleep until the simulated end of the queued clips."""
        if not self.realtime:
            return True
        remaining = self._busy_until - time.monotonic()
        if timeout is not None and remaining > timeout:
            time.sleep(max(0.0, timeout))
            return False
        if remaining > 0:
            time.sleep(remaining)
        return True

    def stop(self) -> None:
        """Cut the simulated playback short."""
        now = time.monotonic()
        for clip in self.clips:
            pb = clip.playback
            if pb.ends_at is not None and pb.ends_at > now:
                pb.stopped = True
                pb.ends_at = max(now, pb.first_sample_at or now)
        self._busy_until = min(self._busy_until, now)

    def close(self) -> None:
        """Nothing to release."""

    def recording(self) -> Pcm:
        """Every clip played, back to back, at 16 kHz."""
        if not self.clips:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([c.samples for c in self.clips])

    def write_wav(self, path: Path) -> None:
        """Write ``recording()`` to a 16 kHz WAV file."""
        write_wav(path, self.recording())


def open_player(
    device: str | int | None = None, *, null_realtime: bool = True
) -> Player | NullPlayer:
    """A started Player on the chosen output, or a NullPlayer when no output device exists."""
    from voice_coach.audio.devices import has_output

    if device is None and not has_output():
        _LOGGER.warning("no audio output device found: the interviewer's lines are shown, "
                        "not heard")
        return NullPlayer(realtime=null_realtime)
    return Player(device=device).open()
