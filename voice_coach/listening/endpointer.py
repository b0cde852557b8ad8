"""When has the user started and finished answering? A pure state machine over VAD decisions.

No I/O and no clocks: stream time is counted from the samples fed in, so a test can replay
any sequence of frames and get the same events. Other evidence comes in as plain values: the
partial transcript (``set_hint``), how long an answer the question wants (``expect``) and the
audio end-of-turn model's verdict (``set_turn_probability``, asked for by a TURN_CHECK event).

The pause that ends an answer follows the evidence: short (0.7 s) when the words and the sound
agree the answer is finished and it is long enough for the question; long (up to ~3.5 s) when
it sounds unfinished, ends on "and"/"so"/"um", is short for the question, or the user asked for
time ("let me think"). The microphone is never deaf: after the endpoint the endpointer keeps
the audio, and speech that resumes (barge-in) reopens the *same* answer and makes it more
patient with this user for the rest of the session.
"""

from __future__ import annotations

import enum
import logging
import math
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

HOLD_CUES = (
    "let me think", "let me see", "let me just think", "give me a second", "give me a sec",
    "give me a moment", "give me a minute", "just a second", "just a moment", "one second",
    "one moment", "good question", "great question", "interesting question",
    "that's a tough one", "that's a good one", "how do i put this", "hmm", "hm", "mmm",
)  # fmt: skip
"""Phrases that ask for time to think: when the answer so far ends with one, wait longest."""

_WORD = re.compile(r"[a-z']+")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s*$")
_TRAILING_OFF = re.compile(r"(\.\.\.|\u2026)[\"')\]]*\s*$")
"""Whisper writes "so..." when the voice trails off mid-thought: that is no sentence end."""
_CLAUSE_END = re.compile(r"[,;:\u2014-][\"')\]]*\s*$")
"""A partial ending on a comma stops mid-sentence."""
_FILLERS = frozenset({"um", "uh", "er", "erm", "hmm", "hm", "mmm", "so", "and", "well", "okay"})
"""Words that may follow a hold phrase ("good question, um, so") without cancelling it."""
_THINKING_SOUNDS = frozenset({"hmm", "hm", "mmm", "um", "uh", "erm"})
_VOICE_FRAMES = 300
"""Voiced frames (~9 s of speech) the user's level is taken from."""


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
    """ENDPOINT or NO_SPEECH was emitted. Frames are still kept: speech reopens the answer
    (BARGE_IN) until ``reset()`` starts the next turn."""


class EventKind(enum.Enum):
    """What an :class:`EndpointEvent` reports."""

    SPEECH_START = "speech_start"
    SILENCE_START = "silence_start"
    """A pause began: a good moment to decode speculatively."""
    TURN_CHECK = "turn_check"
    """Ask the end-of-turn model about ``utterance()`` now and give its verdict to
    ``set_turn_probability`` (only when ``use_turn_model(True)``)."""
    SPEECH_RESUME = "speech_resume"
    """Speech came back after a pause: discard the speculative result."""
    ENDPOINT = "endpoint"
    NO_SPEECH = "no_speech"
    BARGE_IN = "barge_in"
    """Speech after the endpoint: the answer goes on (stop talking, keep listening)."""


class EndReason(enum.Enum):
    """Why an ENDPOINT happened."""

    SILENCE = "silence"
    MAX_LENGTH = "max_length"


class Verdict(enum.Enum):
    """What the evidence says about the answer at a pause (for logs and the benchmark)."""

    FINISHED = "finished"
    """Words and sound agree it is finished and long enough: the short wait."""
    NEUTRAL = "neutral"
    """No strong evidence either way: the normal wait."""
    THINKING = "thinking"
    """Sounds unfinished, ends on a continuation cue, or is short for the question."""
    HOLD = "hold"
    """The user asked for time ("let me think", "good question"): the longest wait."""


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
    barge_in_window: int = 6
    """Frames in the window that decides speech resumed after the endpoint."""
    barge_in_voiced: int = 4
    """Voiced frames in that window for a barge-in: stricter than a resume, since the
    interviewer's residual echo may be in the frames (0 turns barge-in off)."""
    barge_in_level_db: float = 10.0
    """A frame after the endpoint counts toward a barge-in only when it is at most this many
    dB below the user's voice in this answer (its median voiced frame; 0: any level). Silero
    calls background talkers speech: in a cafe or at an event they are ~20 dB below a voice
    at the desk, and without this they "went on" after one answer in five (bench/turns.py,
    babble at -20 dB), stopping the interviewer mid-reply."""
    pause_level_db: float = 10.0
    """In a pause, voiced frames resume the answer only when at most this many dB below the
    user's voice in this answer (the median of its recent voiced frames; 0: any level).
    Silero calls background talkers speech, and each of their words reopened the pause: with
    babble 20 dB under piper's voice (bench/turns.py) 43 of 100 answers had no reply within
    6 s of the last word; 12 with this."""
    start_level_db: float = 10.0
    """Once an answer of this session is heard, voiced frames before the next one start it only
    when at most this many dB below the quietest of the user's last answers (0: any level).
    Talk before the user's first word started the answer and set their level at the talk's,
    which then held the pause open: with babble 20 dB under piper's voice, 1.7-8.3 % of the
    answers at each pause length had no reply within 6 s of the last word (bench/turns.py);
    none with this but a session's first answers."""
    quiet_run: float = 0.6
    """...and while the user speaks, this long a run of voiced frames all that far below
    their voice is a pause that began after their last frame at their level (talk behind
    them right after their last word). Shorter runs are the dips between words."""
    pre_roll: float = 0.6
    """Audio kept from before the first voiced frame, so the first syllable is not lost (a
    quiet onset - "h", "f", a soft vowel - is voiced 0.3-0.5 s before the VAD says so)."""
    barge_in_pre_roll: float = 0.06
    """Audio kept from before the user's onset in a barge-in over the interviewer's echo;
    the echo before it joins the answer as silence. Kept echo is heard as words: 0.09 s of
    it as "Like" in a live recording, 0.2 s as "What" in one of 23 simulated continuations,
    0.6 s as "of work" live; the onset is found by level, so a soft first sound needs little."""
    barge_in_onset_db: float = 3.0
    """Where the interviewer's line sounds, frames at least this much louder than the echo
    expected in them (``echo_excess_db``) are taken as the user's when looking back from a
    barge-in for its onset: the gate's margin hears a user who starts under the echo late,
    by 0.2 s to seconds (soft syllables, loud echo)."""
    barge_in_echo_floor_db: float = -10.0
    """Frames more than this below the echo expected in them hold no echo (a pause of both)."""
    barge_in_onset_gap: float = 0.4
    """Looking back stops after this long a run of frames that sound like the echo alone..."""
    barge_in_onset_pause: float = 0.8
    """...or this long without a frame of the user's at all."""
    end_silence: float = 1.2
    """Pause that ends an answer when the evidence is neutral."""
    finished_silence: float = 0.7
    """Pause that ends an answer that sounds finished and is long enough. At 0.6 s it cut
    12 % of bench/turns.py's answers whose sentences were 0.6 s apart (7 % now); at 0.65 s,
    11 %. At 0.75 s, once a new user's first answer waits (``cold_start_silence``), piper's
    reply p50 was 0.92 s, over the 0.9 s target (0.90 s now)."""
    thinking_silence: float = 2.5
    """Pause that ends an answer that sounds unfinished (``expect`` may raise it per stage)."""
    hold_extra: float = 1.5
    """Added to the thinking pause after a hold cue ("let me think")."""
    finished_min_words: int = 6
    """Words a partial needs before it can count as finished."""
    finished_probability: float = 0.5
    """End-of-turn model probability from which the sound counts as finished."""
    turn_check_delay: float = 0.2
    """Silence before the end-of-turn model is asked (it was trained on ~200 ms of it)."""
    patience_margin: float = 0.4
    """After a barge-in, the short wait for this user becomes their pause plus this..."""
    max_patience: float = 3.8
    """...up to this (above the 3 s thinking pauses people take, with the VAD's lag)."""
    patience_floors_finished: bool = False
    """Whether the learnt patience also floors the short wait of a FINISHED verdict. Off: an
    answer whose words and sound agree it is finished, and that has the words this user's
    answers need (``patience_words``), ends after ``finished_silence`` - the patience only
    lengthens the neutral and thinking waits, so a finished answer is answered quickly."""
    model_unfinished_thinking: bool = True
    """Whether the model's "unfinished" makes a long, complete-sounding answer THINKING (the
    long wait); off, it only makes it NEUTRAL (an experiment: smart-turn calls some readers'
    sentence ends unfinished)."""
    words_overrule_model: float = 1.0
    """When > 0: an answer that ends a sentence, is long enough for this user, and has at
    least this many times the words the question wants (or ``finished_min_words``) counts as
    finished even when the end-of-turn model hears it unfinished (0: the model can veto).
    Some voices keep a rising or reading tune at every sentence end: smart-turn scored 50 %
    of one LibriVox reader's finished answers below 0.5, which made her wait 3.5 s."""
    patience_words: float = 1.25
    """...and an answer needs this many times the words it had when it was cut to sound
    finished (people who pause after a complete sentence go on to develop it)."""
    learn_pause: float = 0.9
    """A pause at least this long after a complete sentence, that the user then went on from
    (waited through, not cut), teaches the same as a barge-in: this user thinks between
    sentences, so their patience and words needed rise (0: learn from barge-ins only). At
    1.0 s, a second of silence between the words measured just under it (the VAD hears a
    voice end late) and taught nothing: 10.8 % of bench/turns.py's answers with 1 s pauses
    were cut, 6.8 % at 0.9 s. The cost is that user's replies: p50 1.44 s, was 0.84 s (over
    all answers 0.83 s both), since what such a pause teaches makes more of them wait."""
    learn_pause_words: float = 1.1
    """...the words needed becoming this many times the words before that pause."""
    paused_answer_share: float = 0.85
    """After an answer in which the user went on from such a pause (or barged in), the next
    answers need this many times its words to sound finished, until another such answer sets
    it anew (0: off). People who think between sentences give answers of a like length: the
    user who took two sentences and a pause to greet was cut after two sentences of three in
    the next answer, since the words before the pause alone set the floor (bench/turns.py,
    7200 answers: 5.9 / 6.0 / 5.7 / 4.9 % of the answers with 1.0-2.5 s pauses cut, 4.3 / 4.6 /
    4.4 / 4.1 % with this; reply p50 0.83 s both). From the last such answer, not the longest:
    one long answer would slow every shorter reply for the rest of the session. Not stored
    for the next session, whose first answers (a greeting) are shorter."""
    cold_start_answers: int = 2
    """Answers the endpointer hears before it trusts the question's length alone...
    """
    cold_start_words: float = 1.6
    """...until then an answer must be this many times as long to sound finished. Nothing is
    known of a new user yet, and a cut on the first answer costs the most: in the benchmark,
    two thirds of the cuts were each session's first (the greeting and the first small talk)."""
    cold_start_silence: float = 3.0
    """A pause shorter than this never ends a new user's first answers, whatever the verdict
    (0: off). Nothing is known of their pauses yet, and over a third of the benchmark's cuts
    were each session's first answer (bench/turns.py: 34 of the 93 answers cut at pauses up
    to 2.5 s; none with this). The cost is one slow reply per new user."""
    cold_start_silence_answers: int = 1
    """Answers ``cold_start_silence`` applies to: at 2 (with 2.7 s) the reply to a finished
    answer came after 2.3 s (p50) for two of the three voices, not 0.9 s; at 1 it stays 0.9 s."""
    no_speech_timeout: float = 8.0
    """Silence before any speech after which the turn gives up (NO_SPEECH)."""
    max_length: float = 120.0
    """Longest answer; the endpoint is forced after this much time since speech started."""
    continuation_cues: frozenset[str] = field(default=CONTINUATION_CUES)
    hold_cues: tuple[str, ...] = HOLD_CUES
    sample_rate: int = SAMPLE_RATE


def frame_level(frame: Pcm) -> float:
    """A frame's level in dB (RMS of int16 samples; 0 for digital silence)."""
    if len(frame) == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
    return 20.0 * math.log10(rms + 1.0)


def _ends_with_hold(words: list[str], cues: tuple[str, ...]) -> bool:
    """True when the words end with a hold phrase, maybe followed by fillers ("um", "so")."""
    end = len(words)
    while end > 0 and words[end - 1] in _FILLERS:
        end -= 1
    for cue in cues:
        cue_words = cue.split()
        n = len(cue_words)
        if n <= end and words[end - n : end] == cue_words:
            return True
    # A lone filler run with nothing before it ("hmm... um") asks for time too.
    return end == 0 and bool(words) and words[-1] in _THINKING_SOUNDS


def judge(
    hint: str,
    config: EndpointConfig,
    expected_words: int = 0,
    probability: float | None = None,
    min_words: int = 0,
) -> Verdict:
    """What the partial transcript ``hint`` and the model's ``probability`` say at a pause.

    Without a model verdict (``probability`` None) the words decide alone. An answer sounds
    finished when it ends a sentence (or, from engines that give no punctuation, does not end
    on a continuation cue), the model agrees, and it is at least as long as the question wants
    (``expected_words``): a one-sentence start to a discussion answer is followed by a thinking
    pause more often than by silence. ``min_words`` is this user's own floor (see barge-in).
    """
    words = _WORD.findall(hint.lower())
    model_unfinished = probability is not None and probability < config.finished_probability
    if words and _ends_with_hold(words, config.hold_cues):
        # Only at the end: "Good question. We used Kafka." is an answer, not a request for time.
        return Verdict.HOLD
    if not words:
        return Verdict.THINKING if model_unfinished else Verdict.NEUTRAL
    ends_sentence = bool(_SENTENCE_END.search(hint)) and not _TRAILING_OFF.search(hint)
    if (
        (words[-1] in config.continuation_cues and not ends_sentence)
        or _TRAILING_OFF.search(hint)
        or _CLAUSE_END.search(hint)
    ):
        return Verdict.THINKING
    long_enough = len(words) >= max(config.finished_min_words, expected_words, min_words)
    if model_unfinished and config.words_overrule_model and ends_sentence and long_enough and (
            len(words) >= config.words_overrule_model
            * max(config.finished_min_words, expected_words)):
        # A complete sentence well past what the question wants: the words outweigh the
        # sound (some voices keep a reading or "listing" tune to the end of every sentence).
        model_unfinished = False
    if model_unfinished and (config.model_unfinished_thinking or not ends_sentence):
        return Verdict.THINKING
    if expected_words and len(words) < expected_words:
        return Verdict.THINKING  # short for the question: a thinking pause, most likely
    if model_unfinished:
        return Verdict.NEUTRAL
    unpunctuated = not re.search(r"[.!?,;]", hint)
    if long_enough and (ends_sentence or unpunctuated):
        return Verdict.FINISHED
    return Verdict.NEUTRAL


def wait_for(
    verdict: Verdict, config: EndpointConfig, thinking: float | None = None, patience: float = 0.0
) -> float:
    """The pause that ends an answer with this verdict; ``patience`` floors the short waits."""
    long_wait = thinking if thinking is not None else config.thinking_silence
    if verdict is Verdict.HOLD:
        return long_wait + config.hold_extra
    if verdict is Verdict.THINKING:
        return max(long_wait, patience)
    if verdict is Verdict.NEUTRAL:
        return max(config.end_silence, patience)
    short = min(config.finished_silence, config.end_silence)
    return max(short, patience) if config.patience_floors_finished else short


def required_silence(
    hint: str,
    config: EndpointConfig,
    expected_words: int = 0,
    probability: float | None = None,
    thinking: float | None = None,
    patience: float = 0.0,
) -> float:
    """Pause needed to end an answer whose partial transcript is ``hint``."""
    verdict = judge(hint, config, expected_words, probability)
    return wait_for(verdict, config, thinking, patience)


class Endpointer:
    """Feed it each frame with its VAD decision; it returns the events that frame caused."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.patience = 0.0
        """Floor on the pause that ends this user's answers, raised by barge-ins (seconds)."""
        self.min_words = 0
        """Words this user's answers need before they can sound finished, raised likewise."""
        self.barge_ins = 0
        """Barge-ins seen since the endpointer was made (the session)."""
        self.answers = 0
        """Answers begun since the endpointer was made, the current one included."""
        self._answer_levels: dict[int, float] = {}
        """The user's voice level in the session's last five answers (by answer number: an
        answer ended again after a barge-in counts once)."""
        self._session_level: float | None = None
        self._uses_model = False
        self.paused_answer_words = 0
        """Words of this user's last answer that they went on in after a thinking pause (or
        barged into), from the next turn on (``reset``)."""
        self._paused_pending: int | None = None
        """This turn's words for it: taken only when the next turn starts, so the verdict that
        ended this answer stays what it was, and a command (``not_an_answer``) sets nothing."""
        self.reset()

    def reset(self) -> None:
        """Forget the turn: the next frame starts a new turn at time 0 (patience is kept)."""
        if self._paused_pending is not None:
            self.paused_answer_words = self._paused_pending
            self._paused_pending = None
        self.state = EndpointState.QUIET
        self._samples_seen = 0
        self._hint = ""
        self._hint_decoding = False
        self._expected_words = 0
        self._thinking: float | None = None
        self._command = False
        self._probability: float | None = None
        self._checked = False
        self._no_speech_from = 0.0
        self._unheard = 0
        """Samples of speech before the answer taken for someone else (``_near_session``)."""
        # Recent frames before speech (pre-roll plus the start window), with their flags.
        self._recent: deque[tuple[Pcm, bool, float]] = deque()
        self._utterance: list[Pcm] = []
        self._after_end: list[tuple[Pcm, float, float | None]] = []
        """Frames fed since the endpoint: (samples, stream time, ``echo_excess_db``)."""
        self._barge: deque[tuple[bool, float]] = deque()
        self._voice_levels: deque[float] = deque(maxlen=_VOICE_FRAMES)
        self._voice_frames = 0
        """Voiced frames at the user's level in this answer (``_voice_levels`` keeps the last)."""
        self._voice_ref: float | None = None
        self._level_ref: tuple[int, float | None] = (0, None)
        """The user's voice level in this answer: (``_voice_frames`` when taken, dB)."""
        self._last_near = 0.0
        """Stream time just after the last voiced frame at the user's level."""
        self._resume_run = 0
        self._resume_from = 0.0
        self._pause_start = 0.0
        self.speech_start: float | None = None
        """Stream time of the first voiced frame of the answer."""
        self._counted = False
        """Whether this turn's speech was counted in ``answers`` (``not_an_answer``)."""
        self._length_from = 0.0
        """Where ``max_length`` counts from: the speech start, or a barge-in after it."""
        self.utterance_start: float | None = None
        """Stream time of the first sample of ``utterance()`` (speech start minus pre-roll)."""
        self.last_voice_time: float | None = None
        """Stream time just after the last voiced frame."""
        self.end_time: float | None = None
        """Stream time of the last ENDPOINT (None while the answer is open)."""
        self._end_words = 0
        self._went_on = False
        """Whether the user went on in this answer after a pause that taught (or barged in)."""
        self._too_long = False
        """Whether this answer reached ``max_length`` (going on after that is no thinker's)."""

    @property
    def now(self) -> float:
        """Stream time after the frames fed so far."""
        return self._samples_seen / self.config.sample_rate

    @property
    def hint(self) -> str:
        """The partial transcript the verdict is based on."""
        return self._hint

    def set_hint(self, text: str, decoding: bool = False) -> None:
        """Give the current partial transcript, so the pause needed can adapt to it;
        ``decoding``: words already spoken are still being decoded, so it may miss some."""
        self._hint = text
        self._hint_decoding = decoding

    def expect(self, words: int, thinking: float | None = None, command: bool = False) -> None:
        """How long an answer this question wants, in words (0: none), and its thinking pause;
        ``command``: the words so far are a command ("pause"), which a new user's long first
        wait does not hold either."""
        self._expected_words = words
        self._thinking = thinking
        self._command = command

    def use_turn_model(self, on: bool = True) -> None:
        """Emit TURN_CHECK at pauses and wait (up to the neutral pause) for the verdict."""
        self._uses_model = on

    def set_turn_probability(self, probability: float | None) -> None:
        """The end-of-turn model's verdict for the current pause (cleared when speech resumes)."""
        if self.state is EndpointState.STOPPING:
            self._probability = probability

    def set_patience(self, seconds: float, min_words: int = 0, heard: bool = False) -> None:
        """Start from a stored per-user patience (from an earlier session that ``heard``
        answers: the user is not new, even when nothing was learnt of their pauses)."""
        self.patience = max(0.0, min(self.config.max_patience, seconds))
        self.min_words = max(0, min_words)
        if self.patience or self.min_words or heard:
            # A user heard in an earlier session is no longer new.
            cfg = self.config
            self.answers = max(self.answers,
                               max(cfg.cold_start_answers, cfg.cold_start_silence_answers) + 1)

    def not_an_answer(self) -> None:
        """The turn just heard was no answer (a command, or sound with no words in it): it
        does not count toward the answers that make a user known."""
        if self._counted and self.answers > 0:
            self.answers -= 1
        self._counted = False
        self._paused_pending = None

    def restart_no_speech_timer(self, at: float | None = None) -> None:
        """Count the no-speech timeout from stream time ``at`` (default: now)."""
        self._no_speech_from = self.now if at is None else at

    @property
    def probability(self) -> float | None:
        """The model verdict in use for the current pause."""
        return self._probability

    @property
    def expected_words(self) -> int:
        """Words the answer needs to sound finished: the question's, more for a new user."""
        if self.answers <= self.config.cold_start_answers:
            return math.ceil(self._expected_words * self.config.cold_start_words)
        return self._expected_words

    def verdict(self) -> Verdict:
        """What the evidence says now."""
        return judge(self._hint, self.config, self.expected_words, self._probability,
                     max(self.min_words,
                         math.ceil(self.paused_answer_words * self.config.paused_answer_share)))

    def silence_needed(self) -> float:
        """The pause that would end the answer now."""
        needed = wait_for(self.verdict(), self.config, self._thinking, self.patience)
        if self.answers <= self.config.cold_start_silence_answers and not self._command:
            needed = max(needed, self.config.cold_start_silence)
        if self._uses_model and self._probability is None:
            # The model's verdict is on its way: do not end on the words alone too soon.
            needed = max(needed, self.config.end_silence)
        if self._hint_decoding:
            # The words before the pause are still being decoded (a busy machine, or audio fed
            # faster than real time): without them an answer short for its question looks
            # like none, and a thinking pause was cut at 1.2 s. Wait for them, at most as long
            # as for an unfinished answer.
            needed = max(needed, wait_for(Verdict.THINKING, self.config, self._thinking))
        return needed

    def utterance(self) -> Pcm:
        """Audio of the answer so far: pre-roll, speech and trailing silence."""
        if not self._utterance:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._utterance)

    def after_end(self) -> Pcm:
        """Audio fed since the endpoint (joins the answer if the user barges in)."""
        if not self._after_end:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([frame for frame, _, _ in self._after_end])

    def process(self, frame: Pcm, is_speech: bool,
                level_db: float | None = None,
                echo_excess_db: float | None = None) -> list[EndpointEvent]:
        """Advance by one frame; returns the events it caused (usually none).

        ``level_db``: the frame's level (``frame_level``), when the frame given is a stand-in.
        ``echo_excess_db``: None when no interviewer line (nor its echo) can be in the frame;
        else how many dB louder the frame is than the echo expected in it (``EchoGate``).
        """
        start = self.now
        self._samples_seen += len(frame)
        if self.state is EndpointState.ENDED:
            if is_speech and not self._near(frame, level_db):
                is_speech = False  # speech, but far below this user's voice: someone else
            return self._after_endpoint(frame, is_speech, start, echo_excess_db)
        if self.state in (EndpointState.QUIET, EndpointState.STARTING):
            if is_speech and not self._near_session(frame, level_db):
                is_speech = False  # talk far below this user's voice does not start an answer
                self._unheard += len(frame)
            return self._before_speech(frame, is_speech, start)
        self._utterance.append(frame)
        cfg = self.config
        far = False
        if is_speech and (cfg.barge_in_level_db or cfg.pause_level_db):
            level = frame_level(frame) if level_db is None else level_db
            voice = self._voice_level()
            far = bool(cfg.pause_level_db) and voice is not None and (
                level < voice - cfg.pause_level_db)
            if self.state is EndpointState.SPEAKING and not far:
                # Not the frames far under the voice: talk behind the user would drag the
                # level down until it passed for the user's own.
                self._voice_levels.append(level)
                self._voice_frames += 1
        return self._during_speech(is_speech, start, far)

    def _voice_level(self) -> float | None:
        """The user's voice (median of the last voiced frames at their level), once 10 are
        heard; recent, so that a user who steps back from the microphone stays the user."""
        n = self._voice_frames
        if n < 10:
            return None
        counted, level = self._level_ref
        if level is None or n - counted >= 10:  # (a median per frame costs for nothing)
            level = float(np.median(self._voice_levels))
            self._level_ref = (n, level)
        return level

    @property
    def voice_level(self) -> float | None:
        """The user's voice in the answer that last ended (dB, as ``frame_level``; None when
        too short to tell)."""
        return self._voice_ref

    @property
    def session_level(self) -> float | None:
        """The user's voice in this session: the quietest of their last five answers (dB).

        The quietest, not the typical: with two readers 11 dB apart taking turns
        (bench/live_pauses.py), the typical level took the quieter one's words for talk
        behind the user, and her answers started late.
        """
        return self._session_level

    def _near_session(self, frame: Pcm, level_db: float | None) -> bool:
        """Whether a voiced frame before the answer could be this user (``start_level_db``)."""
        voice = self.session_level
        if not self.config.start_level_db or voice is None:
            return True
        level = frame_level(frame) if level_db is None else level_db
        return level >= voice - self.config.start_level_db

    def _near(self, frame: Pcm, level_db: float | None) -> bool:
        """Whether a voiced frame after the endpoint is loud enough to be this user."""
        margin = self.config.barge_in_level_db
        if not margin or self._voice_ref is None:
            return True
        level = frame_level(frame) if level_db is None else level_db
        return level >= self._voice_ref - margin

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
        if self.now - self._no_speech_from >= cfg.no_speech_timeout:
            if self._unheard >= cfg.sample_rate // 2:
                # Maybe the user, far quieter than before (they leaned back, the input gain
                # changed): forget their level, or they would never be heard again.
                _LOGGER.info("no answer, but %.1f s of quiet speech: forgetting the user's "
                             "voice level", self._unheard / cfg.sample_rate)
                self._answer_levels.clear()
                self._session_level = None
            self.state = EndpointState.ENDED
            self.end_time = self.now
            return [EndpointEvent(EventKind.NO_SPEECH, self.now)]
        return []

    def _start_speech(self, first_voiced: float) -> EndpointEvent:
        cfg = self.config
        kept = [item for item in self._recent if item[2] >= first_voiced - cfg.pre_roll - 1e-9]
        self._utterance = [item[0] for item in kept]
        self.utterance_start = kept[0][2]
        self.speech_start = self._length_from = first_voiced
        self.answers += 1
        self._counted = True
        self._went_on = self._too_long = False
        self.last_voice_time = self._last_near = self.now
        self._recent.clear()
        self.state = EndpointState.SPEAKING
        _LOGGER.debug("speech started at %.2f s", first_voiced)
        return EndpointEvent(EventKind.SPEECH_START, first_voiced)

    def _during_speech(self, is_speech: bool, start: float,
                       far: bool = False) -> list[EndpointEvent]:
        """``far``: the frame is voiced but far below the user's voice (``pause_level_db``)."""
        cfg = self.config
        events: list[EndpointEvent] = []
        assert self.speech_start is not None
        if self.state is EndpointState.SPEAKING:
            quiet_run = far and self.now - self._last_near >= cfg.quiet_run - 1e-9
            if is_speech and not quiet_run:
                self.last_voice_time = self.now
                if not far:
                    self._last_near = self.now
            else:
                self.state = EndpointState.STOPPING
                self._pause_start = start
                if is_speech:  # talk far under the voice: the pause began after its last frame
                    self._pause_start = self.last_voice_time = self._last_near
                self._resume_run = 0
                self._probability = None
                self._checked = False
                events.append(EndpointEvent(EventKind.SILENCE_START, self._pause_start))
        elif is_speech and not far:
            # One voiced frame in a pause is usually a click or a breath: need a short run.
            if self._resume_run == 0:
                self._resume_from = start
            self._resume_run += 1
            if self._resume_run >= cfg.resume_voiced:
                self._learn_from_pause(self._resume_from - self._pause_start)
                self.state = EndpointState.SPEAKING
                self.last_voice_time = self._last_near = self.now
                self._probability = None
                events.append(EndpointEvent(EventKind.SPEECH_RESUME, self._resume_from))
        else:
            self._resume_run = 0
        if (
            self.state is EndpointState.STOPPING
            and self._uses_model
            and not self._checked
            and self.now - self._pause_start >= cfg.turn_check_delay - 1e-9
        ):
            self._checked = True
            events.append(EndpointEvent(EventKind.TURN_CHECK, self.now))
        if self.now - self._length_from >= cfg.max_length - 1e-9:
            self._too_long = True
            self._end()
            _LOGGER.info("endpoint: the answer went on for the longest allowed (%.0f s)",
                         cfg.max_length)
            events.append(EndpointEvent(EventKind.ENDPOINT, self.now, EndReason.MAX_LENGTH))
        elif (
            self.state is EndpointState.STOPPING
            and self.now - self._pause_start >= self.silence_needed() - 1e-9
        ):
            self._end()
            _LOGGER.debug("endpoint after %.2f s of silence (%s, p=%s)",
                          self.now - self._pause_start, self.verdict().value, self._probability)
            events.append(EndpointEvent(EventKind.ENDPOINT, self.now, EndReason.SILENCE))
        return events

    def _learn_from_pause(self, gap: float) -> None:
        """The user went on after ``gap`` s: after a complete sentence, a thinker's pause."""
        cfg = self.config
        if not cfg.learn_pause or gap < cfg.learn_pause:
            return
        words = _WORD.findall(self._hint.lower())
        if len(words) < cfg.finished_min_words or not _SENTENCE_END.search(self._hint):
            return  # mid-sentence or after "and": any speaker pauses there
        self.patience = min(cfg.max_patience, max(self.patience, gap + cfg.patience_margin))
        self.min_words = max(self.min_words, math.ceil(len(words) * cfg.learn_pause_words))
        self._went_on = True
        _LOGGER.debug("went on after a %.2f s pause after a sentence: patience %.2f s, %d words",
                      gap, self.patience, self.min_words)

    def _end(self) -> None:
        # Too few voiced frames to know the voice (a one-word answer): any level counts.
        levels = self._voice_levels
        self._voice_ref = float(np.median(levels)) if len(levels) >= 10 else None
        if self._voice_ref is not None:
            answers = self._answer_levels
            answers[self.answers] = self._voice_ref
            for old in sorted(answers)[:-5]:
                del answers[old]
            self._session_level = min(answers.values())
        self.state = EndpointState.ENDED
        self.end_time = self.now
        self._end_words = len(_WORD.findall(self._hint.lower()))
        # The answer's last end decides (a cut, then the whole answer after the barge-in).
        self._paused_pending = self._end_words if (
            self._went_on and not self._too_long
            and self._end_words >= self.config.finished_min_words) else None
        self._after_end = []
        self._barge.clear()

    def _after_endpoint(self, frame: Pcm, is_speech: bool, start: float,
                        echo: float | None) -> list[EndpointEvent]:
        """Keep listening after the endpoint: resumed speech reopens the same answer."""
        cfg = self.config
        if self.speech_start is None or cfg.barge_in_voiced <= 0:
            return []  # NO_SPEECH (the next turn starts with reset) or barge-in turned off
        self._after_end.append((frame, start, echo))
        self._barge.append((is_speech, start))
        while len(self._barge) > cfg.barge_in_window:
            self._barge.popleft()
        voiced = [t for flag, t in self._barge if flag]
        if len(voiced) < cfg.barge_in_voiced:
            return []
        resumed_at = voiced[0]
        gap = resumed_at - (self.last_voice_time or resumed_at)
        # The user paused longer than we waited: wait at least that long for them from now on.
        self.patience = min(cfg.max_patience, max(self.patience, gap + cfg.patience_margin))
        self.min_words = max(self.min_words, math.ceil(self._end_words * cfg.patience_words))
        self.barge_ins += 1
        self._went_on = True
        onset = self._onset_under_echo(resumed_at)
        silenced = self._join_after_end(onset - cfg.barge_in_pre_roll)
        _LOGGER.info("barge-in %.2f s after the last word; patience now %.2f s, %d words; "
                     "onset %.2f s before it; %.2f s of echo before that kept as silence",
                     gap, self.patience, self.min_words, resumed_at - onset, silenced)
        self._barge.clear()
        self.state = EndpointState.SPEAKING
        if self.now - self._length_from >= cfg.max_length - 1e-9:
            # Going on after the longest answer was cut: it may go on as long again (from its
            # old start it would end at once, and each word would stop the reply anew).
            self._length_from = resumed_at
        self.end_time = None
        self.last_voice_time = self._last_near = self.now
        self._probability = None
        self._hint = ""  # the old partial no longer describes the answer's end
        return [EndpointEvent(EventKind.BARGE_IN, resumed_at)]

    def _onset_under_echo(self, resumed_at: float) -> float:
        """Where the user went on: back from the barge-in while frames louder than the echo
        expected in them keep coming (the echo alone, or a long pause, ends the search)."""
        cfg = self.config
        onset = resumed_at
        echo_run = pause = 0.0
        for frame, start, excess in reversed(self._after_end):
            if start >= onset:
                continue
            if excess is not None and excess >= cfg.barge_in_onset_db:
                onset, echo_run, pause = start, 0.0, 0.0
                continue
            seconds = len(frame) / cfg.sample_rate
            pause += seconds  # (where nothing played, frames tell nothing either way)
            if excess is not None and excess >= cfg.barge_in_echo_floor_db:
                echo_run += seconds
            if (echo_run > cfg.barge_in_onset_gap + 1e-9
                    or pause > cfg.barge_in_onset_pause + 1e-9):
                break
        return onset

    def _join_after_end(self, keep_from: float) -> float:
        """Join the frames since the endpoint to the answer; returns the seconds silenced.

        Frames that may hold the interviewer's voice and end before ``keep_from`` are kept
        as silence: they are the reply's echo before the user went on, which the recogniser
        would join to the answer. The timeline stays whole (word times, the WAV's length).
        """
        silenced = 0
        for frame, start, echo in self._after_end:
            end = start + len(frame) / self.config.sample_rate
            if echo is not None and end <= keep_from + 1e-9:
                frame = np.zeros_like(frame)
                silenced += len(frame)
            self._utterance.append(frame)
        self._after_end = []
        return silenced / self.config.sample_rate
