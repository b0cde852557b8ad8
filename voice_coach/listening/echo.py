"""Is that the user, or the interviewer's own voice coming back from the loudspeakers?

While a reply plays, the microphone keeps listening (the user may go on with their answer),
but it also hears the reply. This residual-energy gate compares each microphone frame with
what was played in the last ``max_delay`` seconds (the reference): a frame counts as the user
only when it is ``margin_db`` louder than the echo the reference can explain. How loud the echo
is (the coupling from speaker to microphone) is learnt from the lines the user listens
through, or in the first ``calibrate`` seconds of the first reply when its envelope follows the
line (a user talking over it is not learnt as echo). Pure: times are plain numbers given by
the caller.
With headphones there is no echo: the session does not use the gate at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voice_coach.listening.vad import dbfs

_LOGGER = logging.getLogger(__name__)

_FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
_QUIET_DBFS = -55.0
"""Reference frames below this level explain no echo."""


@dataclass(frozen=True)
class EchoSettings:
    """How the gate judges frames; levels in dB."""

    margin_db: float = 8.0
    """How much louder than the explained echo the user must be."""
    max_delay: float = 2.0
    """Longest speaker-to-microphone delay: device buffers and sound servers add far more
    than the room (measured ~1 s through PulseAudio's virtual devices)."""
    lead: float = 0.25
    """How far the two clocks (microphone, speaker) may disagree the other way."""
    calibrate: float = 2.0
    """Seconds at the start of the first reply used to learn the coupling (it is kept) when
    no line listened through measured it."""
    min_level_dbfs: float = -60.0
    """Quieter microphone frames teach nothing about the echo (it has not arrived yet)."""
    default_coupling_db: float = 0.0
    """Coupling assumed before any was measured: the echo as loud as what was played."""
    max_search: float = 5.0
    """Longest speaker-to-microphone delay the envelope cross-correlation looks for."""
    tolerance: float = 0.25
    """Once the delay is measured, reference frames this far either side of it still count."""
    min_correlation: float = 0.5
    """A weaker envelope match measures no delay (the room was noisy, or nothing came back)."""
    calibration_correlation: float = 0.7
    """The match the calibration window's 2 s must reach to be taken for the echo: over so
    few syllables a voice of its own matched the line at r >= 0.5 one time in four (at 0.7,
    one in sixty), and the echo alone matches at 0.9 and more."""
    snug: float = 0.09
    """Reference frames this far either side of the measured delay explain a frame's echo
    when judging how much louder than its typical echo it is (``excess_db``)."""
    history: float = 120.0
    """Seconds of played audio kept. Frames are judged in capture order, on a busy machine up
    to tens of seconds after they were captured, against what was playing *then* (a reply
    stopped 28 s before the frame was read once lost its reference, and its echo barged in)."""


class EchoGate:
    """Feed it what is played (``add_reference``) and ask it about each microphone frame."""

    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self.coupling_db: float | None = None
        """Measured echo level minus reference level (None until measured)."""
        self._refs: list[tuple[float, np.ndarray]] = []
        self._reply_start = 0.0
        self._measured: list[float] = []
        self._calibrating = True
        self.delay: float | None = None
        """Measured speaker-to-microphone delay in seconds (None until measured)."""
        self._observed: list[tuple[float, float]] = []
        self.typical_db: float | None = None
        """Median echo level minus reference level at the measured delay (None until then):
        the coupling is the 95th percentile, a bound for the gate."""
        self.last = (-96.0, -96.0, 0.0)
        """(microphone dBFS, reference dBFS, seconds into the reply) of the last frame judged."""

    def start_reply(self, now: float, learn: bool = True) -> None:
        """A reply starts playing at monotonic time ``now``: calibrate again, drop old audio.

        ``learn`` False: a sound too short to learn the coupling from (the bridge's "Mm.":
        its quiet echo once set the coupling 12 dB low, and the next reply's echo passed
        for the user); until one is learnt, its echo is taken as loud as what was played.
        """
        if self._calibrating and self._measured:
            self._end_calibration()  # the last reply was shorter than the window
        self._reply_start = now
        self._measured = []
        # Learn the coupling once: later replies are judged from their first frame.
        self._calibrating = learn and self.coupling_db is None
        keep = max(self.settings.max_delay, self.settings.max_search, self.settings.history)
        self._refs = [(t, lv) for t, lv in self._refs if t + len(lv) * _FRAME_S > now - keep]

    def stop_reference(self, at: float) -> None:
        """Playback was cut at monotonic time ``at``: nothing of it sounds after that."""
        kept = []
        for start, levels in self._refs:
            n = max(0, min(len(levels), int(np.ceil((at - start) / _FRAME_S))))
            if n:
                kept.append((start, levels[:n]))
        self._refs = kept

    def add_reference(self, start: float, pcm: Pcm) -> None:
        """``pcm`` (16 kHz) is heard from the speaker from monotonic time ``start`` on."""
        n = len(pcm) // FRAME_SAMPLES
        if n == 0:
            return
        levels = np.array([dbfs(pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
                           for i in range(n)])
        self._refs.append((start, levels))

    def observe(self, frame: Pcm, t: float) -> None:
        """A microphone frame captured at ``t`` while a line plays and nobody answers."""
        self._observed.append((t, dbfs(frame)))

    def forget_observed(self) -> None:
        """The user spoke over the line: what was observed is not the echo alone."""
        self._observed = []

    @property
    def learnt(self) -> bool:
        """True once the coupling or the delay was measured."""
        return self.coupling_db is not None or self.delay is not None

    def _levels_at(self, times: np.ndarray) -> np.ndarray:
        """The reference level played at each of ``times`` (-96 where nothing was)."""
        out = np.full(times.shape, -96.0)
        for start, levels in self._refs:
            i = np.floor((times - start) / _FRAME_S).astype(np.int64)
            inside = (i >= 0) & (i < len(levels))
            out[inside] = levels[i[inside]]
        return out

    def estimate_delay(self) -> float | None:
        """Cross-correlate the observed microphone envelope with the played one.

        The delay with the best match (Pearson, above ``min_correlation``) is kept, and the
        coupling is measured at it: the echo is then gated where it really arrives, however
        late the sound server delivers it.
        """
        if self._calibrating and self._measured:
            self._end_calibration()  # the line was shorter than the calibration window
        obs, self._observed = self._observed, []
        self._learn_from(obs, self.settings.min_correlation)
        return self.delay

    def _match(self, obs: list[tuple[float, float]]
               ) -> tuple[float, float, np.ndarray, np.ndarray] | None:
        """(best r, its delay, the reference at it, the microphone) for ``obs``; None when
        there is nothing to match (too few frames, a flat microphone or reference)."""
        if len(obs) < 20:
            return None
        times = np.array([t for t, _ in obs])
        mic = np.array([lv for _, lv in obs])
        if mic.std() < 1.0:
            return None  # nothing came back (silence): nothing to measure
        delays = np.arange(0.0, self.settings.max_search, _FRAME_S)
        refs = self._levels_at(times[None, :] - delays[:, None])  # one row per delay
        usable = refs.std(axis=1) >= 1.0
        if not usable.any():
            return None
        dm = mic - mic.mean()
        dr = refs - refs.mean(axis=1, keepdims=True)
        spread = np.sqrt((dr**2).sum(axis=1)) * np.sqrt((dm**2).sum())
        r = np.where(usable, (dr @ dm) / np.where(spread > 0, spread, 1.0), -1.0)
        k = int(np.argmax(r))
        return float(r[k]), float(delays[k]), refs[k], mic

    def _learn_from(self, obs: list[tuple[float, float]], min_r: float) -> bool | None:
        """Measure the delay and coupling from ``obs`` when their envelope follows the line
        (r >= ``min_r``): True when it did, False when not, None when nothing to match."""
        cfg = self.settings
        match = self._match(obs)
        if match is None:
            return None
        best, best_d, ref, mic = match
        _LOGGER.info("echo path: best envelope match r=%.2f at %.0f ms", best, best_d * 1000)
        if best < min_r:
            return False
        self.delay = best_d
        loud = (ref > _QUIET_DBFS) & (mic > cfg.min_level_dbfs)
        if loud.sum() >= 10:
            self.coupling_db = float(np.percentile((mic - ref)[loud], 95))
            self.typical_db = float(np.median((mic - ref)[loud]))
        return True

    def _end_calibration(self) -> None:
        """The calibration window is over: keep its coupling only if it heard the echo.

        A user who talked over the start of the first reply was learnt as its echo, and then
        never heard over the next lines (the coupling came out as loud as their voice). Their
        words do not follow the line's envelope: then nothing is learnt, and the next reply
        tries again. A steady sound matches nothing either way: its loudest frame is kept.
        """
        self._calibrating = False
        if self.delay is not None:
            return  # a line listened through measured the path meanwhile
        start, end = self._reply_start, self._reply_start + self.settings.calibrate
        heard = [(t, lv) for t, lv in self._observed if start <= t < end]
        followed = self._learn_from(heard, self.settings.calibration_correlation)
        if followed is None and self._measured:
            self.coupling_db = max(self._measured)
        elif followed is False:
            _LOGGER.info("the first reply's start did not follow the line: the user talked "
                         "over it; its level is not the echo's")

    def echo_dbfs(self) -> float | None:
        """How loud the interviewer's echo typically is at the microphone while a line plays:
        the median of the lines' sounding frames plus the measured coupling (None until the
        coupling is measured)."""
        coupling = self.typical_db if self.typical_db is not None else self.coupling_db
        if coupling is None:
            return None
        loud = [levels[levels > _QUIET_DBFS] for _, levels in self._refs]
        frames = np.concatenate(loud) if loud else np.zeros(0)
        if len(frames) < 10:
            return None
        return float(np.median(frames)) + coupling

    def reference_db(self, t: float) -> float:
        """Loudest reference frame that can still be echoing at time ``t``."""
        if self.delay is not None:
            lo = t - self.delay - self.settings.tolerance - _FRAME_S
            hi = t - self.delay + self.settings.tolerance
        else:
            lo = t - self.settings.max_delay - _FRAME_S
            hi = t + self.settings.lead
        best = -96.0
        for start, levels in self._refs:
            end = start + len(levels) * _FRAME_S
            if end < lo or start > hi:
                continue
            i0 = max(0, int((lo - start) / _FRAME_S))
            i1 = min(len(levels), int((hi - start) / _FRAME_S) + 1)
            if i1 > i0:
                best = max(best, float(levels[i0:i1].max()))
        return best

    def excess_db(self, frame: Pcm, t: float) -> float | None:
        """How many dB the frame captured at ``t`` is louder than the echo expected in it
        (None: nothing played can be echoing then).

        Looser than ``is_user`` (for finding where a user who is already known to talk over
        the echo began): with the delay measured, the echo is expected at its typical level
        from what played ``delay`` (+-``snug``) before; without, at the gate's bound.
        """
        ref = self.reference_db(t)
        if ref < _QUIET_DBFS:
            return None
        level = dbfs(frame)
        if self.delay is not None and self.typical_db is not None:
            snug = self.settings.snug
            near = self._levels_at(t - self.delay + np.arange(-snug, snug + 1e-9, _FRAME_S))
            return level - max(float(near.max()), _QUIET_DBFS) - self.typical_db
        coupling = self.coupling_db
        if coupling is None:
            coupling = self.settings.default_coupling_db
        return level - ref - coupling

    def is_user(self, frame: Pcm, t: float) -> bool:
        """True when the frame captured at monotonic time ``t`` is louder than any echo."""
        ref = self.reference_db(t)
        level = dbfs(frame)
        self.last = (level, ref, t - self._reply_start)
        if ref < _QUIET_DBFS:
            return True
        cfg = self.settings
        if self._calibrating and self.delay is None:
            if t - self._reply_start < cfg.calibrate:
                # The user is listening to the start of the reply: what comes in is echo.
                if level > cfg.min_level_dbfs:
                    self._measured.append(level - ref)
                return False
            self._end_calibration()
        coupling = cfg.default_coupling_db if self.coupling_db is None else self.coupling_db
        return level >= ref + coupling + cfg.margin_db


def voice_short_of_echo_db(voice_dbfs: float | None, echo: float | None,
                           margin_db: float = EchoSettings.margin_db) -> float | None:
    """How many dB the user's typical voiced frame falls short of being heard over the
    interviewer's typical echo (``margin_db`` above it, as the gate wants: the gate's own
    bound, on the loudest echo near each frame, is higher still); None when either level is
    unknown or the voice is loud enough."""
    if voice_dbfs is None or echo is None or voice_dbfs >= echo + margin_db:
        return None
    return echo + margin_db - voice_dbfs
