"""Coaching metrics over a stored session: pure functions, so old sessions can be re-analysed.

``analyse(session)`` reads only the events (and, through an injectable loader, the answers'
WAVs) and returns a frozen ``Report``. A number that cannot be measured (a typed session has no
timings) is None and shown as "not measured", never invented.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from voice_coach.audio.format import Pcm
from voice_coach.feedback import thresholds as th
from voice_coach.feedback.hesitation import (
    Hesitations,
    find_hesitations,
    pauses_between,
    speaking_time,
)
from voice_coach.feedback.tips import make_tips
from voice_coach.feedback.verdicts import Tip, Verdict
from voice_coach.interview import language as lang
from voice_coach.interview.stages import Stage
from voice_coach.listening.vad import Vad, create_vad, webrtc_available
from voice_coach.transcripts.events import (
    AnswerEvent,
    CommandEvent,
    Event,
    PromptEvent,
    StageEvent,
    audio_path,
    num,
    parse_stage,
)
from voice_coach.transcripts.store import LoadedSession

_LOGGER = logging.getLogger(__name__)

AudioLoader = Callable[[Path], Pcm | None]
VadFactory = Callable[[], Vad]

SPOKEN_MODES = frozenset({"voice", "demo", "spoken"})
"""Session modes whose answers were spoken (their start/end are voice, not typing)."""

NOT_MEASURED = "not measured"


class TimingSource(StrEnum):
    """Where an answer's speaking time came from."""

    WORDS = "word timings"
    VAD = "voice activity"
    SPAN = "first to last voice"
    NONE = "not measured"


@dataclass(frozen=True)
class AnswerMetrics:
    """The numbers for one answer ("turn N" is the Nth answer of the session)."""

    turn: int
    stage: str | None
    text: str
    words: int
    seconds: float | None
    """Speaking time (gaps of ``PACE_GAP_S`` or more left out); None when not measured."""
    timing: TimingSource
    wpm: float | None
    pace: Verdict
    fillers: tuple[str, ...]
    hedges: tuple[str, ...]
    filled_pauses: int | None
    long_pauses: int | None
    longest_pause_s: float | None
    start_delay_s: float | None
    """Seconds from the end of the interviewer's speech to the first voice of the answer."""
    length: Verdict
    length_words: tuple[int, int]
    length_seconds: tuple[float, float]
    length_why: str


@dataclass(frozen=True)
class PaceSummary:
    """Words a minute over all measured answers, and over the answers long enough to judge."""

    words: int
    seconds: float | None
    wpm: float | None
    verdict: Verdict
    judged_turns: tuple[int, ...]
    slow_turns: tuple[int, ...]
    fast_turns: tuple[int, ...]
    target: tuple[float, float] = th.PACE_WPM


@dataclass(frozen=True)
class RateSummary:
    """A count of words of one kind, per 100 words."""

    count: int
    per_100: float | None
    verdict: Verdict
    top: tuple[tuple[str, int], ...]
    target: tuple[float, float]


@dataclass(frozen=True)
class HesitationSummary:
    """Hesitations found in the audio; None counts mean not measured."""

    filled_pauses: int | None
    filled_per_min: float | None
    long_pauses: int | None
    measured_turns: tuple[int, ...]
    unrecognised_stretches: int


@dataclass(frozen=True)
class StartSummary:
    """Time to start answering after the interviewer stops."""

    median_s: float | None
    max_s: float | None
    max_turn: int | None
    slow_turns: tuple[int, ...]
    measured: int
    human_gap_s: float = th.HUMAN_TURN_GAP_S


@dataclass(frozen=True)
class TalkSummary:
    """Speaking time of the user and the interviewer."""

    user_s: float | None
    interviewer_s: float | None
    user_share: float | None
    verdict: Verdict
    target: tuple[float, float] = th.USER_TALK_SHARE


@dataclass(frozen=True)
class QuestionSummary:
    """The user's questions in the "your questions" stage."""

    asked: int
    statements: int
    ratio: float | None
    """Questions per statement; None when there were no statements."""
    turns: tuple[int, ...]
    questions: tuple[str, ...]
    reached: bool
    """Whether the session reached the stage at all."""


@dataclass(frozen=True)
class WrapUpSummary:
    """How the user closed: thanks and the interviewer's name."""

    reached: bool
    thanked: bool | None
    used_name: bool | None
    interviewer_name: str
    turns: tuple[int, ...]


@dataclass(frozen=True)
class KeyPointRef:
    """A phrase the user's answers were about, and the turn it came from."""

    phrase: str
    turn: int
    stage: str | None


@dataclass(frozen=True)
class Report:
    """Everything the feedback says about one session."""

    session_id: str
    scenario: str
    mode: str
    started_at: str
    name: str
    interviewer: str
    end_reason: str
    cut_short: bool
    spoken: bool
    answers: tuple[AnswerMetrics, ...]
    pace: PaceSummary
    fillers: RateSummary
    hedges: RateSummary
    hesitations: HesitationSummary
    start_delay: StartSummary
    talk: TalkSummary
    questions: QuestionSummary
    wrap_up: WrapUpSummary
    key_points: tuple[KeyPointRef, ...]
    tips: tuple[Tip, ...]
    warnings: tuple[str, ...]


# --- word lists -------------------------------------------------------------------------------


def _find_phrases(tokens: list[str], phrases: Sequence[str],
                  skip_after: dict[str, frozenset[str]]) -> list[str]:
    """Occurrences of ``phrases`` in ``tokens`` (longest first, no overlaps), in order."""
    found: list[tuple[int, str]] = []
    used = [False] * len(tokens)
    for phrase in sorted(phrases, key=lambda p: -len(p.split())):
        parts = phrase.split()
        n = len(parts)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] != parts or any(used[i : i + n]):
                continue
            prev = tokens[i - 1] if i > 0 else ""
            if prev in skip_after.get(phrase, frozenset()):
                continue
            found.append((i, phrase))
            for k in range(i, i + n):
                used[k] = True
    return [p for _, p in sorted(found)]


_FILLER_CONTEXT = {"like": th.LIKE_NOT_FILLER_AFTER, "you know": th.YOU_KNOW_NOT_FILLER_AFTER}
_HEDGE_CONTEXT = {"kind of": th.KIND_OF_NOT_HEDGE_AFTER, "sort of": th.KIND_OF_NOT_HEDGE_AFTER}


def fillers_in(text: str) -> list[str]:
    """The filler words and phrases in a text, in order."""
    return _find_phrases(lang.words(text), th.FILLERS, _FILLER_CONTEXT)


def hedges_in(text: str) -> list[str]:
    """The hedges in a text, in order."""
    return _find_phrases(lang.words(text), th.HEDGES, _HEDGE_CONTEXT)


def _judge(value: float | None, low: float, high: float) -> Verdict:
    if value is None:
        return Verdict.NOT_MEASURED
    if value < low:
        return Verdict.LOW
    if value > high:
        return Verdict.HIGH
    return Verdict.OK


# --- audio ------------------------------------------------------------------------------------


def read_answer_audio(path: Path) -> Pcm | None:
    """Default audio loader: the WAV as 16 kHz mono int16, or None when missing or unreadable."""
    from voice_coach.audio.format import read_audio

    if not path.is_file():
        return None
    try:
        return read_audio(path)
    except (OSError, RuntimeError, ValueError) as exc:
        _LOGGER.warning("cannot read %s: %s", path, exc)
        return None


def no_audio(path: Path) -> Pcm | None:
    """An audio loader that never reads audio (faster; hesitations then come from timings)."""
    return None


def default_vad() -> Vad:
    """The VAD used on stored audio: webrtcvad when installed, else the energy gate."""
    # Pinned: the pause statistics were calibrated with webrtcvad (live listening uses silero).
    return create_vad("webrtc" if webrtc_available() else "energy")


# --- one answer -------------------------------------------------------------------------------


def _word_spans(answer: AnswerEvent) -> list[tuple[float, float]] | None:
    """Word (start, end) pairs on the session timeline, or None when the answer has none."""
    raw = answer.extra.get("words")
    if not isinstance(raw, list):
        return None
    spans = []
    for w in raw:
        if isinstance(w, dict):
            s, e = num(w.get("start")), num(w.get("end"))
            if s is not None and e is not None and e >= s:
                spans.append((s, e))
    return spans if spans or not raw else None


def _start_delay(events: list[Event], index: int,
                 answer_start: float | None) -> float | None:
    """Seconds from the last interviewer speech before ``events[index]`` to the answer's start."""
    if answer_start is None:
        return None
    for e in reversed(events[:index]):
        if isinstance(e, AnswerEvent | CommandEvent):
            return None
        if isinstance(e, PromptEvent):
            end = e.speech_end
            return None if end is None else round(max(0.0, answer_start - end), 3)
    return None


@dataclass(frozen=True)
class _Measured:
    metrics: AnswerMetrics
    hesitations: Hesitations | None
    voice_span_s: float | None


def _answer_metrics(session: LoadedSession, turn: int, index: int, spoken: bool,
                    audio_loader: AudioLoader, vad_factory: VadFactory,
                    warnings: list[str]) -> _Measured:
    answer = session.typed[index]
    assert isinstance(answer, AnswerEvent)
    text = answer.text
    # A stage key this version does not know (kept in extra) is still shown as stored.
    unknown = answer.extra.get("stage")
    stage = answer.stage.value if answer.stage else unknown if isinstance(unknown, str) else None
    n_words = len(lang.words(text))
    spans = _word_spans(answer) if spoken else None
    start, end = answer.start, answer.end
    voice_span = round(end - start, 3) if spoken and start is not None and end is not None \
        else None

    hes: Hesitations | None = None
    audio_name = answer.audio
    audio_start = answer.audio_start
    if spoken and audio_name:
        path = audio_path(session.folder, audio_name)
        if path is None:  # absolute, "..", a link or not a regular file
            warnings.append(f"turn {turn}: ignored an audio path outside the session folder")
        elif audio_start is None:
            warnings.append(f"turn {turn}: the audio has no audio_start; not analysed")
        else:
            samples = audio_loader(path)
            if samples is None:
                warnings.append(f"turn {turn}: audio {audio_name} is missing or unreadable")
            elif len(samples):
                hes = find_hesitations(samples, audio_start, vad_factory(), spans)

    seconds: float | None = None
    timing = TimingSource.NONE
    if spans:
        seconds, timing = round(speaking_time(spans), 3), TimingSource.WORDS
    elif hes is not None and hes.voiced_s > 0:
        seconds, timing = hes.voiced_s, TimingSource.VAD
    elif voice_span is not None and voice_span > 0 and n_words:
        seconds, timing = voice_span, TimingSource.SPAN

    wpm = round(n_words / seconds * 60.0, 1) if seconds and n_words else None
    if wpm is None:
        pace = Verdict.NOT_MEASURED
    elif n_words < th.PACE_MIN_WORDS or (seconds or 0.0) < th.PACE_MIN_SECONDS:
        pace = Verdict.UNJUDGED
    else:
        pace = _judge(wpm, *th.PACE_WPM)

    if hes is not None:
        long_pauses: tuple[Any, ...] | None = hes.long_pauses
        filled = None if hes.filled_pauses is None else len(hes.filled_pauses)
    elif spans:
        long_pauses, filled = pauses_between(spans), None
    else:
        long_pauses, filled = None, None

    known = parse_stage(stage)
    target = th.LENGTH_TARGETS.get(known, th.DEFAULT_LENGTH) if known else th.DEFAULT_LENGTH
    length = _judge(n_words, *target.words)
    if length is Verdict.OK and seconds is not None and seconds > target.seconds[1]:
        length = Verdict.HIGH
    metrics = AnswerMetrics(
        turn=turn, stage=stage, text=text, words=n_words, seconds=seconds, timing=timing,
        wpm=wpm, pace=pace, fillers=tuple(fillers_in(text)), hedges=tuple(hedges_in(text)),
        filled_pauses=filled,
        long_pauses=None if long_pauses is None else len(long_pauses),
        longest_pause_s=(round(max(p.seconds for p in long_pauses), 2)
                         if long_pauses else (None if long_pauses is None else 0.0)),
        start_delay_s=_start_delay(session.typed, index, start) if spoken else None,
        length=length, length_words=target.words, length_seconds=target.seconds,
        length_why=target.why,
    )
    return _Measured(metrics, hes, voice_span)


# --- session summaries ------------------------------------------------------------------------


def _pace_summary(answers: Sequence[AnswerMetrics]) -> PaceSummary:
    timed = [a for a in answers if a.seconds]
    judged = [a for a in answers if a.pace in (Verdict.LOW, Verdict.OK, Verdict.HIGH)]
    words = sum(a.words for a in timed)
    seconds = round(sum(a.seconds or 0.0 for a in timed), 3) if timed else None
    wpm = round(words / seconds * 60.0, 1) if seconds and words else None
    if wpm is None:
        verdict = Verdict.NOT_MEASURED
    elif not judged:
        verdict = Verdict.UNJUDGED
    else:
        # The overall verdict comes from the answers long enough to judge.
        jw = sum(a.words for a in judged)
        js = sum(a.seconds or 0.0 for a in judged)
        verdict = _judge(jw / js * 60.0, *th.PACE_WPM)
    return PaceSummary(
        words=words, seconds=seconds, wpm=wpm, verdict=verdict,
        judged_turns=tuple(a.turn for a in judged),
        slow_turns=tuple(a.turn for a in judged if a.pace is Verdict.LOW),
        fast_turns=tuple(a.turn for a in judged if a.pace is Verdict.HIGH),
    )


def _rate_summary(answers: Sequence[AnswerMetrics], found: Callable[[AnswerMetrics],
                  tuple[str, ...]], target: tuple[float, float]) -> RateSummary:
    total = sum(a.words for a in answers)
    counts = Counter(w for a in answers for w in found(a))
    count = sum(counts.values())
    per_100 = round(count / total * 100.0, 2) if total else None
    return RateSummary(count=count, per_100=per_100,
                       verdict=_judge(per_100, 0.0, target[1]) if per_100 is not None
                       else Verdict.NOT_MEASURED,
                       top=tuple(counts.most_common(5)), target=target)


def _hesitation_summary(measured: Sequence[_Measured]) -> HesitationSummary:
    with_filled = [m for m in measured if m.metrics.filled_pauses is not None]
    with_long = [m for m in measured if m.metrics.long_pauses is not None]
    filled = sum(m.metrics.filled_pauses or 0 for m in with_filled) if with_filled else None
    minutes = sum(m.metrics.seconds or 0.0 for m in with_filled) / 60.0
    return HesitationSummary(
        filled_pauses=filled,
        filled_per_min=round(filled / minutes, 2) if filled is not None and minutes > 0 else None,
        long_pauses=sum(m.metrics.long_pauses or 0 for m in with_long) if with_long else None,
        measured_turns=tuple(m.metrics.turn for m in with_long),
        unrecognised_stretches=sum(len(m.hesitations.unrecognised) for m in measured
                                   if m.hesitations is not None),
    )


def _start_summary(answers: Sequence[AnswerMetrics]) -> StartSummary:
    delays = [(a.start_delay_s, a.turn) for a in answers if a.start_delay_s is not None]
    if not delays:
        return StartSummary(None, None, None, (), 0)
    worst = max(delays)
    return StartSummary(
        median_s=round(statistics.median(d for d, _ in delays), 2),
        max_s=round(worst[0], 2), max_turn=worst[1],
        slow_turns=tuple(t for d, t in delays if d > th.SLOW_START_S), measured=len(delays),
    )


def _talk_summary(session: LoadedSession, measured: Sequence[_Measured]) -> TalkSummary:
    user = [m.voice_span_s for m in measured if m.voice_span_s is not None]
    spoken_prompts = [
        (e.speech_start, e.speech_end) for e in session.typed if isinstance(e, PromptEvent)
    ]
    inter = [e - s for s, e in spoken_prompts if s is not None and e is not None and e >= s]
    user_s = round(sum(user), 2) if user else None
    inter_s = round(sum(inter), 2) if inter else None
    share = None
    if user_s is not None and inter_s is not None and user_s + inter_s > 0:
        share = round(user_s / (user_s + inter_s), 3)
    return TalkSummary(user_s, inter_s, share,
                       _judge(share, *th.USER_TALK_SHARE))


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _is_thanks(sentence: str) -> bool:
    norm = lang.normalise(sentence)
    return any(f" {t} " in f" {norm} " for t in th.THANKS)


def _question_summary(session: LoadedSession, answers: Sequence[AnswerMetrics]) -> QuestionSummary:
    mine = [a for a in answers if a.stage == Stage.YOUR_QUESTIONS]
    reached = mine != [] or any(isinstance(e, StageEvent) and e.stage is Stage.YOUR_QUESTIONS
                                for e in session.typed)
    questions: list[str] = []
    statements = 0
    turns: list[int] = []
    for a in mine:
        asked_here = False
        for sentence in _SENTENCE.split(a.text.strip()):
            if not lang.words(sentence):
                continue
            if lang.is_question(sentence):
                questions.append(sentence.strip())
                asked_here = True
            elif not (lang.is_decline(sentence) or _is_thanks(sentence)
                      or lang.is_affirmation(sentence)):
                statements += 1
        if asked_here:
            turns.append(a.turn)
    ratio = round(len(questions) / statements, 2) if statements else None
    return QuestionSummary(len(questions), statements, ratio, tuple(turns), tuple(questions),
                           reached)


def _wrap_up_summary(session: LoadedSession, answers: Sequence[AnswerMetrics]) -> WrapUpSummary:
    mine = [a for a in answers if a.stage == Stage.WRAP_UP]
    interviewer = str(session.start.get("interviewer") or "")
    reached = mine != [] or any(isinstance(e, StageEvent) and e.stage is Stage.WRAP_UP
                                for e in session.typed)
    if not mine:
        return WrapUpSummary(reached, None, None, interviewer, ())
    text = " ".join(a.text for a in mine)
    names = [n for n in lang.words(interviewer) if len(n) > 1]
    used = any(n in lang.words(text) for n in names) if names else None
    return WrapUpSummary(reached, _is_thanks(text), used, interviewer,
                         tuple(a.turn for a in mine))


def _key_points(answers: Sequence[AnswerMetrics]) -> tuple[KeyPointRef, ...]:
    """The wrap-up summary's own extraction, over the answers in the order the summary uses."""
    from voice_coach.interview.controller import SUMMARY_ORDER

    chosen = [a for st in SUMMARY_ORDER for a in answers if a.stage == st.value]
    points = lang.key_points([a.text for a in chosen], limit=3)
    return tuple(KeyPointRef(p.phrase, chosen[p.answer_index].turn, chosen[p.answer_index].stage)
                 for p in points)


# --- the whole session ------------------------------------------------------------------------


def is_spoken(session: LoadedSession) -> bool:
    """Whether the session's answers were spoken (timings are voice, not typing)."""
    mode = str(session.start.get("mode", ""))
    if mode in SPOKEN_MODES:
        return True
    # Older or unknown modes: spoken answers carry words or audio.
    return mode not in ("text", "demo-text") and any(
        "words" in a.extra or a.audio is not None for a in session.answers())


def analyse(session: LoadedSession, audio_loader: AudioLoader = read_answer_audio,
            vad_factory: VadFactory = default_vad) -> Report:
    """Measure one stored session; complete turns of a cut-short session are analysed."""

    spoken = is_spoken(session)
    warnings = list(session.warnings)
    measured = [
        _answer_metrics(session, turn, index, spoken, audio_loader, vad_factory, warnings)
        for turn, index in enumerate(
            (i for i, e in enumerate(session.typed) if isinstance(e, AnswerEvent)), start=1)
    ]
    answers = tuple(m.metrics for m in measured)
    start = session.start
    report = Report(
        session_id=session.id,
        scenario=session.scenario,
        mode=str(start.get("mode", "")),
        started_at=session.started_at,
        name=str(start.get("name", "")),
        interviewer=str(start.get("interviewer", "")),
        end_reason=session.end_reason,
        cut_short=session.cut_short,
        spoken=spoken,
        answers=answers,
        pace=_pace_summary(answers),
        fillers=_rate_summary(answers, lambda a: a.fillers, th.FILLER_PER_100),
        hedges=_rate_summary(answers, lambda a: a.hedges, (0.0, th.HEDGE_PER_100_MAX)),
        hesitations=_hesitation_summary(measured),
        start_delay=_start_summary(answers),
        talk=_talk_summary(session, measured),
        questions=_question_summary(session, answers),
        wrap_up=_wrap_up_summary(session, answers),
        key_points=_key_points(answers),
        tips=(),
        warnings=tuple(warnings),
    )
    return replace(report, tips=tuple(make_tips(report)))
