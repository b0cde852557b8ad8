"""Advice from the metrics: each tip names the turn it comes from; the most useful come first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voice_coach.feedback import thresholds as th
from voice_coach.feedback.verdicts import Tip, Verdict
from voice_coach.interview.stages import Stage

if TYPE_CHECKING:
    from voice_coach.feedback.metrics import AnswerMetrics, Report

_SMALL_TALK = (Stage.GREETING, Stage.ICEBREAKERS)


def _tip(metric: str, text: str, say: str, priority: float,
         answer: AnswerMetrics | None = None) -> Tip:

    return Tip(metric=metric, text=text, say=say, turn=answer.turn if answer else None,
               stage=answer.stage if answer else None, priority=round(priority, 3))


def _worst(answers: Sequence[AnswerMetrics],
           key: Callable[[AnswerMetrics], float]) -> AnswerMetrics | None:
    """The answer with the highest ``key`` (the first one on a tie)."""
    best: AnswerMetrics | None = None
    for a in answers:
        if best is None or key(a) > key(best):
            best = a
    return best


def _quoted(top: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f'"{w}" ({n})' for w, n in top[:3])


def _pace_tips(report: Report) -> list[Tip]:

    low, high = th.PACE_WPM
    pace = report.pace
    out: list[Tip] = []
    judged = [a for a in report.answers if a.turn in pace.judged_turns and a.wpm is not None]
    if pace.fast_turns:
        worst = _worst(judged, lambda a: a.wpm or 0.0)
        assert worst is not None and worst.wpm is not None
        overall = pace.verdict is Verdict.HIGH
        out.append(_tip(
            "pace",
            f"you spoke at {worst.wpm:.0f} words a minute, above the comfortable {low:.0f}-"
            f"{high:.0f}: slow down and pause between ideas"
            + (f" (overall {pace.wpm:.0f} wpm)" if overall and pace.wpm else ""),
            "You sometimes spoke quickly; slow down a little and pause between ideas.",
            (3.0 if overall else 1.6) + (worst.wpm - high) / high, worst))
    if pace.slow_turns:
        worst = _worst(judged, lambda a: -(a.wpm or 0.0))
        assert worst is not None and worst.wpm is not None
        overall = pace.verdict is Verdict.LOW
        out.append(_tip(
            "pace",
            f"you spoke at {worst.wpm:.0f} words a minute, below the comfortable {low:.0f}-"
            f"{high:.0f}: keep the sentences moving once you know what you want to say",
            "Some answers were slow; once you know your point, keep the sentences moving.",
            (2.6 if overall else 1.4) + (low - worst.wpm) / low, worst))
    return out


def _word_tips(report: Report) -> list[Tip]:
    out: list[Tip] = []
    f = report.fillers
    if f.per_100 is not None and f.per_100 > th.FILLER_PER_100[1]:
        worst = _worst(report.answers, lambda a: len(a.fillers) / max(1, a.words))
        out.append(_tip(
            "fillers",
            f"{f.per_100:.1f} fillers per 100 words (typical {th.FILLER_PER_100[0]:.0f}-"
            f"{th.FILLER_PER_100[1]:.0f}), mostly {_quoted(f.top)}: a short silent pause "
            "works better than a filler",
            "Try replacing filler words with a short silent pause.",
            2.5 + (f.per_100 - th.FILLER_PER_100[1]) / th.FILLER_PER_100[1], worst))
    h = report.hedges
    if h.per_100 is not None and h.per_100 > th.HEDGE_PER_100_MAX and h.count >= 2:
        worst = _worst(report.answers, lambda a: len(a.hedges) / max(1, a.words))
        out.append(_tip(
            "hedges",
            f"{h.per_100:.1f} hedges per 100 words, mostly {_quoted(h.top)}: say what you did "
            "and what you think plainly",
            "State what you did plainly, with fewer hedges like maybe or I guess.",
            1.5 + (h.per_100 - th.HEDGE_PER_100_MAX) / th.HEDGE_PER_100_MAX, worst))
    return out


def _hesitation_tips(report: Report) -> list[Tip]:
    out: list[Tip] = []
    hs = report.hesitations
    if hs.filled_per_min is not None and hs.filled_per_min > th.FILLED_PAUSES_PER_MIN_MAX:
        worst = _worst(report.answers, lambda a: float(a.filled_pauses or 0))
        out.append(_tip(
            "hesitations",
            f"{hs.filled_pauses} filled pauses (\"um\", \"uh\"), {hs.filled_per_min:.1f} a "
            "minute: pause silently while you think",
            "You often said um or uh; a silent pause sounds more confident.",
            2.2 + (hs.filled_per_min - th.FILLED_PAUSES_PER_MIN_MAX) / 4.0, worst))
    if hs.long_pauses:
        worst = _worst(report.answers, lambda a: a.longest_pause_s or 0.0)
        longest = worst.longest_pause_s if worst else None
        out.append(_tip(
            "pauses",
            f"{hs.long_pauses} long pause{'s' if hs.long_pauses > 1 else ''} (over "
            f"{th.LONG_PAUSE_S:.0f} s) inside answers"
            + (f", the longest {longest:.1f} s" if longest else "")
            + ": if you need time, say so (\"let me think for a second\")",
            "When you need time to think, say so rather than going quiet.",
            1.4 + 0.2 * hs.long_pauses, worst))
    sd = report.start_delay
    if sd.slow_turns and sd.max_s is not None:
        worst = next((a for a in report.answers if a.turn == sd.max_turn), None)
        out.append(_tip(
            "start",
            f"you took {sd.max_s:.1f} s to start answering (median {sd.median_s:.1f} s; "
            f"{len(sd.slow_turns)} answer{'s' if len(sd.slow_turns) > 1 else ''} over "
            f"{th.SLOW_START_S:.0f} s): a short bridge (\"good question - ...\") buys time",
            "If a question needs thought, start with a short bridge while you think.",
            1.5 + 0.2 * len(sd.slow_turns), worst))
    return out


def _length_tips(report: Report) -> list[Tip]:

    out: list[Tip] = []
    short = [a for a in report.answers if a.stage == Stage.DISCUSSION and a.length is Verdict.LOW]
    if short:
        worst = _worst(short, lambda a: -a.words)
        assert worst is not None
        out.append(_tip(
            "length",
            f"a discussion answer of only {worst.words} words (aim for {worst.length_words[0]}+"
            "): develop an example - the situation, what you did, the result",
            "In the discussion, develop each answer with a concrete example: the situation, "
            "what you did and the result.",
            2.8 + 0.2 * (len(short) - 1), worst))
    long_small = [a for a in report.answers
                  if a.stage in _SMALL_TALK and a.length is Verdict.HIGH]
    if long_small:
        worst = _worst(long_small, lambda a: a.words)
        assert worst is not None
        out.append(_tip(
            "length",
            f"a small-talk answer of {worst.words} words"
            + (f" ({worst.seconds:.0f} s)" if worst.seconds else "")
            + ": keep small talk short and friendly, save detail for the discussion",
            "Keep small talk short, and save the detail for the discussion.",
            1.8, worst))
    long_disc = [a for a in report.answers
                 if a.stage == Stage.DISCUSSION and a.length is Verdict.HIGH]
    if long_disc:
        worst = _worst(long_disc, lambda a: a.seconds or a.words)
        assert worst is not None
        out.append(_tip(
            "length",
            f"a discussion answer of {worst.words} words"
            + (f" ({worst.seconds:.0f} s)" if worst.seconds else "")
            + ": land the point within two minutes and let the interviewer ask more",
            "Keep discussion answers under two minutes and let the interviewer ask more.",
            1.7, worst))
    return out


def _stage_tips(report: Report) -> list[Tip]:

    out: list[Tip] = []
    q = report.questions
    first_q = next((a for a in report.answers if a.stage == Stage.YOUR_QUESTIONS), None)
    if q.reached and q.asked == 0:
        out.append(_tip(
            "questions",
            "you asked no questions: prepare two or three about the team, the work or what "
            "success looks like",
            "Prepare two or three questions for the interviewer; it shows interest.",
            3.2, first_q))
    elif q.reached and q.asked < th.QUESTIONS_MIN:
        out.append(_tip(
            "questions",
            f"you asked {q.asked} question; one or two more (about the team, the work, what "
            "success looks like) show real interest",
            "Ask one or two more questions; it shows real interest.", 1.6, first_q))
    elif q.ratio is not None and q.asked < q.statements:
        out.append(_tip(
            "questions",
            f"{q.statements} statements against {q.asked} questions in your questions stage: "
            "keep the set-up short and ask",
            "When it is your turn to ask, keep the set-up short and ask.", 1.2, first_q))
    w = report.wrap_up
    last = next((a for a in reversed(report.answers) if a.stage == Stage.WRAP_UP), None)
    if w.thanked is False:
        out.append(_tip(
            Stage.WRAP_UP, "you did not thank the interviewer at the end: a short thank-you "
            "leaves a warm last impression",
            "End with a short thank-you; it leaves a warm last impression.", 2.0, last))
    if w.used_name is False and w.interviewer_name:
        first = w.interviewer_name.split()[0]
        out.append(_tip(
            Stage.WRAP_UP, f"you did not use the interviewer's name ({first}) when saying "
            "goodbye: it makes the thanks personal",
            f"Use the interviewer's name, {first}, when you say goodbye.", 1.1, last))
    t = report.talk
    if t.verdict is Verdict.LOW and t.user_share is not None:
        out.append(_tip(
            "talk", f"you spoke {t.user_share:.0%} of the time: let your answers run longer, "
            "the interview is about you",
            "Let your answers run longer; the interview is about you.", 1.5))
    elif t.verdict is Verdict.HIGH and t.user_share is not None:
        out.append(_tip(
            "talk", f"you spoke {t.user_share:.0%} of the time: leave room for the "
            "interviewer to tell you about the role",
            "Leave room for the interviewer to tell you about the role.", 1.0))
    return out


def make_tips(report: Report) -> list[Tip]:
    """Every tip for a report, most useful first; a single encouragement when none applies."""
    if not report.answers:
        return [_tip("answers", "no answers were recorded, so there is nothing to measure "
                     "yet: try a full practice session",
                     "There were no answers to give feedback on yet.", 5.0)]
    tips = [*_pace_tips(report), *_word_tips(report), *_hesitation_tips(report),
            *_length_tips(report), *_stage_tips(report)]
    if not tips:
        tips = [_tip("overall", "nothing stood out: pace, fillers and answer lengths were all "
                     "in the usual ranges; keep practising with other scenarios",
                     "Nothing stood out; your pace and answers were in a good range.", 0.0)]
    return sorted(tips, key=lambda t: -t.priority)
