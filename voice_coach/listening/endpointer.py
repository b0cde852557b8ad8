"""When has the user started and finished answering? A pure state machine over VAD decisions.

No I/O and no clocks: stream time is counted from the samples fed in, so a test can replay
any sequence of frames and get the same events.
"""

from __future__ import annotations

import enum
import logging
import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm

_LOGGER = logging.getLogger(__name__)

CONTINUATION_CUES = frozenset(
    {
        "and", "so", "but", "because", "um", "uh", "er", "erm", "hmm", "like", "or", "then",
        "the", "a", "an", "to", "of", "with", "which", "that", "if", "when", "while", "my",
        "i", "we", "also", "actually", "basically", "since", "although", "for", "in", "on",
    }
)  # fmt: skip
"""Last words that mean more is coming: wait longer before ending the answer."""

_WORD = re.compile(r"[a-z']+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s*$")
_TRAILING_OFF = re.compile(r"(\.\.\.|\u2026)[\"')\]]*\s*$")
"""Whisper writes "so..." when the voice trails off mid-thought: that is no sentence end."""


class EndpointState(enum.Enum):
    """Where the endpointer is in one turn."""

    QUIET = "quiet"
    """No speech yet."""
    STARTING = "starting"
    """Some voiced frames, not enough to call it speech."""
    SPEAKING = "speaking"
    """The user is talking."""
    STOPPING = "stopping"
    """The user paused; the endpoint comes if the pause lasts."""
    ENDED = "ended"
    """ENDPOINT or NO_SPEECH was emitted; call ``reset()`` for the next turn."""


class EventKind(enum.Enum):
    """What an :class:`EndpointEvent` reports."""

    SPEECH_START = "speech_start"
    SILENCE_START = "silence_start"
    """A pause began: a good moment to decode speculatively."""
    SPEECH_RESUME = "speech_resume"
    """Speech came back after a pause: discard the speculative result."""
    ENDPOINT = "endpoint"
    NO_SPEECH = "no_speech"


class EndReason(enum.Enum):
    """Why an ENDPOINT happened."""

    SILENCE = "silence"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True)
class EndpointEvent:
    """Something that happened at stream time ``time`` (seconds since the last reset)."""

    kind: EventKind
    time: float
    reason: EndReason | None = None


@dataclass(frozen=True)
class EndpointConfig:
    """Endpointing settings; times in seconds, relaxed for interview answers."""

    start_window: int = 10
    """Frames in the sliding window that decides speech has started."""
    start_voiced: int = 3
    """Voiced frames in that window needed to call it speech (a lone click is ignored)."""
    resume_voiced: int = 2
    """Consecutive voiced frames needed to resume after a pause."""
    pre_roll: float = 0.3
    """Audio kept from before the first voiced frame, so the first syllable is not lost."""
    end_silence: float = 1.2
    """Pause that ends an answer."""
    continuation_extra: float = 0.8
    """Added to ``end_silence`` when the partial transcript ends on a continuation cue."""
    finished_silence: float = 0.7
    """Shorter pause when the partial transcript looks like a finished answer."""
    finished_min_words: int = 6
    """Words a partial needs before it can count as finished."""
    no_speech_timeout: float = 8.0
    """Silence before any speech after which the turn gives up (NO_SPEECH)."""
    max_length: float = 120.0
    """Longest answer; the endpoint is forced after this much time since speech started."""
    continuation_cues: frozenset[str] = field(default=CONTINUATION_CUES)
    sample_rate: int = SAMPLE_RATE


def required_silence(hint: str, config: EndpointConfig, expected_words: int = 0) -> float:
    """Pause needed to end an answer whose partial transcript is ``hint``.

    An answer sounds finished when it ends a sentence (or, from engines that give no
    punctuation, does not end on a continuation cue) and is at least as long as the question
    wants (``expected_words``): a one-sentence start to a discussion answer is followed by a
    thinking pause more often than by silence.
    """
    words = _WORD.findall(hint.lower())
    if not words:
        return config.end_silence
    ends_sentence = bool(_SENTENCE_END.search(hint)) and not _TRAILING_OFF.search(hint)
    if words[-1] in config.continuation_cues and not ends_sentence:
        return config.end_silence + config.continuation_extra
    unpunctuated = not re.search(r"[.!?,;]", hint)
    long_enough = len(words) >= max(config.finished_min_words, expected_words)
    if long_enough and (ends_sentence or unpunctuated):
        return min(config.finished_silence, config.end_silence)
    return config.end_silence


class Endpointer:
    """Feed it each frame with its VAD decision; it returns the events that frame caused."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frame starts a new turn at time 0."""
        self.state = EndpointState.QUIET
        self._samples_seen = 0
        self._hint = ""
        self._expected_words = 0
        # Recent frames before speech (pre-roll plus the start window), with their flags.
        self._recent: deque[tuple[Pcm, bool, float]] = deque()
        self._utterance: list[Pcm] = []
        self._resume_run = 0
        self._resume_from = 0.0
        self._pause_start = 0.0
        self.speech_start: float | None = None
        """Stream time of the first voiced frame of the answer."""
        self.utterance_start: float | None = None
        """Stream time of the first sample of ``utterance()`` (speech start minus pre-roll)."""
        self.last_voice_time: float | None = None
        """Stream time just after the last voiced frame."""

    @property
    def now(self) -> float:
        """Stream time after the frames fed so far."""
        return self._samples_seen / self.config.sample_rate

    def set_hint(self, text: str) -> None:
        """Give the current partial transcript, so the pause needed can adapt to it."""
        self._hint = text

    def expect(self, words: int) -> None:
        """How long an answer this question wants, in words (0: no expectation)."""
        self._expected_words = words

    def silence_needed(self) -> float:
        """The pause that would end the answer now."""
        return required_silence(self._hint, self.config, self._expected_words)

    def utterance(self) -> Pcm:
        """Audio of the answer so far: pre-roll, speech and trailing silence."""
        if not self._utterance:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._utterance)

    def process(self, frame: Pcm, is_speech: bool) -> list[EndpointEvent]:
        """Advance by one frame; returns the events it caused (usually none)."""
        if self.state is EndpointState.ENDED:
            return []
        start = self.now
        self._samples_seen += len(frame)
        if self.state in (EndpointState.QUIET, EndpointState.STARTING):
            return self._before_speech(frame, is_speech, start)
        self._utterance.append(frame)
        return self._during_speech(is_speech, start)

    def _before_speech(self, frame: Pcm, is_speech: bool, start: float) -> list[EndpointEvent]:
        cfg = self.config
        self._recent.append((frame, is_speech, start))
        # Keep the start window plus enough earlier frames to cover the pre-roll.
        keep_before = cfg.pre_roll * cfg.sample_rate
        while len(self._recent) > cfg.start_window:
            head_start = self._recent[0][2]
            window_start = self._recent[-cfg.start_window][2]
            if (window_start - head_start) * cfg.sample_rate <= keep_before:
                break
            self._recent.popleft()
        window = list(self._recent)[-cfg.start_window :]
        voiced = [item for item in window if item[1]]
        if len(voiced) >= cfg.start_voiced:
            return [self._start_speech(voiced[0][2])]
        self.state = EndpointState.STARTING if voiced else EndpointState.QUIET
        if self.now >= cfg.no_speech_timeout:
            self.state = EndpointState.ENDED
            return [EndpointEvent(EventKind.NO_SPEECH, self.now)]
        return []

    def _start_speech(self, first_voiced: float) -> EndpointEvent:
        cfg = self.config
        kept = [item for item in self._recent if item[2] >= first_voiced - cfg.pre_roll - 1e-9]
        self._utterance = [item[0] for item in kept]
        self.utterance_start = kept[0][2]
        self.speech_start = first_voiced
        self.last_voice_time = self.now
        self._recent.clear()
        self.state = EndpointState.SPEAKING
        _LOGGER.debug("speech started at %.2f s", first_voiced)
        return EndpointEvent(EventKind.SPEECH_START, first_voiced)

    def _during_speech(self, is_speech: bool, start: float) -> list[EndpointEvent]:
        cfg = self.config
        events: list[EndpointEvent] = []
        assert self.speech_start is not None
        if self.state is EndpointState.SPEAKING:
            if is_speech:
                self.last_voice_time = self.now
            else:
                self.state = EndpointState.STOPPING
                self._pause_start = start
                self._resume_run = 0
                events.append(EndpointEvent(EventKind.SILENCE_START, start))
        elif is_speech:
            # One voiced frame in a pause is usually a click or a breath: need a short run.
            if self._resume_run == 0:
                self._resume_from = start
            self._resume_run += 1
            if self._resume_run >= cfg.resume_voiced:
                self.state = EndpointState.SPEAKING
                self.last_voice_time = self.now
                events.append(EndpointEvent(EventKind.SPEECH_RESUME, self._resume_from))
        else:
            self._resume_run = 0
        if self.now - self.speech_start >= cfg.max_length - 1e-9:
            self.state = EndpointState.ENDED
            events.append(EndpointEvent(EventKind.ENDPOINT, self.now, EndReason.MAX_LENGTH))
        elif (
            self.state is EndpointState.STOPPING
            and self.now - self._pause_start >= self.silence_needed() - 1e-9
        ):
            self.state = EndpointState.ENDED
            events.append(EndpointEvent(EventKind.ENDPOINT, self.now, EndReason.SILENCE))
        return events
