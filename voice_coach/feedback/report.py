"""Render a feedback ``Report``: terminal tables, JSON, a printed summary and spoken feedback."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from voice_coach.feedback import thresholds as th
from voice_coach.feedback.metrics import NOT_MEASURED, AnswerMetrics, Report
from voice_coach.feedback.verdicts import Tip, Verdict
from voice_coach.interview.stages import Stage
from voice_coach.textsafe import printable
from voice_coach.transcripts.events import parse_stage

TOP_TIPS = 3
"""Tips shown first (the rest follow the tables)."""

_STAGE_SHORT = {
    Stage.GREETING: "greeting", Stage.ICEBREAKERS: "small talk", Stage.DISCUSSION: "discussion",
    Stage.YOUR_QUESTIONS: "your questions", Stage.WRAP_UP: "wrap-up",
}


def stage_label(stage: str | None) -> str:
    """A short human name for a stage key."""
    known = parse_stage(stage)
    return _STAGE_SHORT[known] if known else (stage or "briefing")


def pointer(tip: Tip) -> str:
    """Where a tip comes from: "turn 4 (discussion)", or "overall"."""
    if tip.turn is None:
        return "overall"
    return f"turn {tip.turn} ({stage_label(tip.stage)})"


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (same numbers as the text)."""
    data = dataclasses.asdict(report)
    data["tips"] = [{**t, "where": pointer(tip)} for t, tip in zip(data["tips"], report.tips,
                                                                    strict=True)]
    return data


def to_json(report: Report) -> str:
    """The report as indented JSON."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False)


def _f(value: float | None, fmt: str = "{:.0f}", unit: str = "") -> str:
    return NOT_MEASURED if value is None else fmt.format(value) + unit


def _mins(seconds: float | None) -> str:
    if seconds is None:
        return NOT_MEASURED
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _verdict(v: Verdict) -> str:
    return {Verdict.LOW: "low", Verdict.HIGH: "high", Verdict.OK: "ok"}.get(v, "")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _tip_line(n: int, tip: Tip) -> str:
    return f"{n}. {pointer(tip)}: {tip.text}"


def _overall_rows(r: Report) -> list[list[str]]:
    p, f, h, hs, sd, t, q, w = (r.pace, r.fillers, r.hedges, r.hesitations, r.start_delay,
                                r.talk, r.questions, r.wrap_up)
    pace_note = "" if p.wpm is None else {
        Verdict.UNJUDGED: "answers too short to judge",
    }.get(p.verdict, _verdict(p.verdict))
    if p.judged_turns and p.wpm is not None:
        many = len(p.judged_turns) > 1
        pace_note += (f" (judged on turn{'s' if many else ''} "
                      f"{', '.join(map(str, p.judged_turns))})")
    rows = [
        ["Pace", _f(p.wpm, unit=" wpm"), f"{th.PACE_WPM[0]:.0f}-{th.PACE_WPM[1]:.0f} wpm",
         pace_note.strip()],
        ["Fillers", _f(f.per_100, "{:.1f}", " per 100 words") + f" ({f.count})",
         f"{th.FILLER_PER_100[0]:.0f}-{th.FILLER_PER_100[1]:.0f}",
         (_verdict(f.verdict) + "  " + ", ".join(f'"{k}" {n}' for k, n in f.top)).strip()],
        ["Hedges", _f(h.per_100, "{:.1f}", " per 100 words") + f" ({h.count})",
         f"up to {th.HEDGE_PER_100_MAX:.0f}",
         (_verdict(h.verdict) + "  " + ", ".join(f'"{k}" {n}' for k, n in h.top)).strip()],
        ["Filled pauses (audio)",
         NOT_MEASURED if hs.filled_pauses is None else
         f"{hs.filled_pauses}" + (f" ({hs.filled_per_min:.1f} a minute)"
                                  if hs.filled_per_min is not None else ""),
         f"up to {th.FILLED_PAUSES_PER_MIN_MAX:.0f} a minute",
         "voiced, no recognised word"],
        ["Long pauses", _f(hs.long_pauses, "{}"), f"silences over {th.LONG_PAUSE_S:.0f} s",
         "inside answers"],
        ["Start after question",
         NOT_MEASURED if sd.median_s is None else
         f"median {sd.median_s:.1f} s, max {sd.max_s:.1f} s (turn {sd.max_turn})",
         f"up to {th.SLOW_START_S:.0f} s",
         f"conversation gap ~{th.HUMAN_TURN_GAP_S * 1000:.0f} ms"],
        ["Talk ratio",
         NOT_MEASURED if t.user_share is None else
         f"you {t.user_share:.0%} ({_mins(t.user_s)} vs {_mins(t.interviewer_s)})",
         f"{t.target[0]:.0%}-{t.target[1]:.0%}", _verdict(t.verdict)],
        ["Your questions",
         "stage not reached" if not q.reached else
         f"{q.asked} question{'s' if q.asked != 1 else ''}, {q.statements} "
         f"statement{'s' if q.statements != 1 else ''}"
         + (f" (ratio {q.ratio:.1f})" if q.ratio is not None else ""),
         f"{th.QUESTIONS_MIN}+ questions", ""],
        ["Wrap-up",
         "stage not reached" if not w.reached else
         "no answer" if w.thanked is None else
         f"thanked: {'yes' if w.thanked else 'no'}; used the name: "
         f"{'yes' if w.used_name else 'no' if w.used_name is False else '?'}",
         "thanks + name", w.interviewer_name],
    ]
    return rows


def _turn_row(a: AnswerMetrics) -> list[str]:
    def count(n: int | None) -> str:
        return "-" if n is None else str(n)

    pace = "" if a.wpm is None else _verdict(a.pace) or "short"
    return [
        str(a.turn), stage_label(a.stage), str(a.words), _f(a.seconds, "{:.1f}") if a.seconds
        is not None else "-", "-" if a.wpm is None else f"{a.wpm:.0f}", pace,
        str(len(a.fillers)), str(len(a.hedges)), count(a.filled_pauses), count(a.long_pauses),
        "-" if a.start_delay_s is None else f"{a.start_delay_s:.1f}",
        _verdict(a.length) + f" ({a.length_words[0]}-{a.length_words[1]})",
    ]


def render_text(report: Report) -> str:
    """The readable terminal report: top tips, overall table, per-turn table, the rest."""
    r = report
    out = [f"Feedback for session {r.session_id} ({printable(r.scenario)}, "
           f"{printable(r.mode) or 'unknown mode'}, {printable(r.end_reason)})"]
    if r.cut_short:
        out.append(f"This session was cut short: its {len(r.answers)} complete "
                   f"turn{'s are' if len(r.answers) != 1 else ' is'} analysed.")
    if not r.spoken and r.answers:
        out.append("A typed session: timings, pace, pauses and hesitations are not measured.")
    out += ["", "Top tips"]
    out += ["  " + _tip_line(i, t) for i, t in enumerate(r.tips[:TOP_TIPS], start=1)]
    out += ["", "Overall"]
    out += ["  " + line for line in _table(["metric", "value", "target", "note"],
                                            _overall_rows(r), set())]
    if r.key_points:
        out += ["", "Key points (what your answers were about)"]
        out += [f"  - {k.phrase} (turn {k.turn}, {stage_label(k.stage)})" for k in r.key_points]
    if r.answers:
        out += ["", "Turns (a turn is one of your answers)"]
        headers = ["#", "stage", "words", "secs", "wpm", "pace", "fillers", "hedges",
                   "ums", "pauses", "start", "length (words)"]
        out += ["  " + line for line in _table(headers, [_turn_row(a) for a in r.answers],
                                                {0, 2, 3, 4, 6, 7, 8, 9, 10})]
        if r.spoken:
            out.append("  secs: speaking time; ums: filled pauses found in the audio; pauses: "
                       f"silences over {th.LONG_PAUSE_S:.0f} s; start: seconds to start "
                       "answering; '-': not measured")
    if len(r.tips) > TOP_TIPS:
        out += ["", "More tips"]
        out += ["  " + _tip_line(i, t)
                for i, t in enumerate(r.tips[TOP_TIPS:], start=TOP_TIPS + 1)]
    if r.warnings:
        out += ["", "Notes"] + [f"  - {w}" for w in r.warnings]
    return "\n".join(out) + "\n"


def summary_lines(report: Report) -> list[str]:
    """A short printed summary for the end of a session (always shown)."""
    r = report
    lines = [f"Feedback ({len(r.answers)} answer{'s' if len(r.answers) != 1 else ''}"
             + (", cut short" if r.cut_short else "") + "):"]
    if r.pace.wpm is not None:
        lines.append(f"  pace {r.pace.wpm:.0f} wpm (comfortable {th.PACE_WPM[0]:.0f}-"
                     f"{th.PACE_WPM[1]:.0f})")
    if r.fillers.per_100 is not None:
        lines.append(f"  fillers {r.fillers.per_100:.1f} per 100 words, hedges "
                     f"{r.hedges.per_100 or 0.0:.1f} per 100 words")
    hs = r.hesitations
    if hs.filled_pauses is not None or hs.long_pauses is not None:
        lines.append(f"  filled pauses {_f(hs.filled_pauses, '{}')}, long pauses "
                     f"{_f(hs.long_pauses, '{}')}")
    if r.start_delay.median_s is not None:
        lines.append(f"  time to start answering: median {r.start_delay.median_s:.1f} s")
    if r.talk.user_share is not None:
        lines.append(f"  you spoke {r.talk.user_share:.0%} of the time")
    lines += [f"  {_tip_line(i, t)}" for i, t in enumerate(r.tips[:TOP_TIPS], start=1)]
    lines.append(f"  Full report: voice-coach report {r.session_id}")
    return lines


def headline_numbers(report: Report) -> dict[str, str]:
    """The main numbers as label -> text, for the HTML export's feedback table."""
    r = report
    hs = r.hesitations
    numbers = {
        "Answers": str(len(r.answers)),
        "Pace": _f(r.pace.wpm, "{:.0f}", " wpm") + f" (target {th.PACE_WPM[0]:.0f}-"
                f"{th.PACE_WPM[1]:.0f})",
        "Fillers": _f(r.fillers.per_100, "{:.1f}", " per 100 words"),
        "Hedges": _f(r.hedges.per_100, "{:.1f}", " per 100 words"),
        "Filled pauses (audio)": _f(hs.filled_pauses, "{}"),
        "Long pauses (> 2 s)": _f(hs.long_pauses, "{}"),
        "Time to start answering": _f(r.start_delay.median_s, "{:.1f}", " s (median)"),
        "Your share of talk": _f(r.talk.user_share * 100 if r.talk.user_share is not None
                                 else None, "{:.0f}", "%"),
        "Questions you asked": str(r.questions.asked),
        "Thanked by name": ("yes" if r.wrap_up.thanked and r.wrap_up.used_name else
                            "no" if r.wrap_up.reached else "not reached"),
    }
    for i, tip in enumerate(r.tips[:TOP_TIPS], start=1):
        numbers[f"Tip {i}"] = f"{pointer(tip)}: {tip.text}"
    return numbers


def _praise(r: Report) -> str | None:
    if r.pace.verdict is Verdict.OK:
        return "your pace was comfortable to follow"
    if r.questions.asked >= th.QUESTIONS_MIN:
        return "you asked good questions"
    if r.fillers.per_100 is not None and r.fillers.verdict is Verdict.OK and r.fillers.count:
        return "you kept filler words low"
    if r.wrap_up.thanked:
        return "you closed warmly"
    return None


def spoken_feedback(report: Report) -> str:
    """Two or three sentences the interviewer can say at the end of a spoken session."""
    r = report
    name = r.name if r.name and r.name != "friend" else ""
    praise = _praise(r)
    opening = "Thanks for practising" + (f", {name}" if name else "")
    first = f"{opening}: {praise}." if praise else f"{opening}."
    tips = [t.say for t in r.tips if t.priority > 0][:2]
    if not tips:
        tips = [r.tips[0].say] if r.tips else []
    return " ".join([first, *tips])
