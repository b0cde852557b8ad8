"""How the feedback numbers move across sessions: rows, a text table with sparklines, an SVG."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voice_coach.feedback import thresholds as th
from voice_coach.feedback.metrics import (
    AudioLoader,
    Report,
    VadFactory,
    analyse,
    default_vad,
    read_answer_audio,
)
from voice_coach.transcripts.store import LoadedSession

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressRow:
    """The headline numbers of one session (None: not measured in that session)."""

    session_id: str
    started_at: str
    scenario: str
    mode: str
    answers: int
    cut_short: bool
    wpm: float | None
    fillers_per_100: float | None
    hedges_per_100: float | None
    filled_per_min: float | None
    long_pauses: int | None
    start_median_s: float | None
    user_share: float | None
    questions: int | None


@dataclass(frozen=True)
class MetricSpec:
    """How to show one metric: its row field, label, number format and target band."""

    key: str
    label: str
    fmt: str
    target: tuple[float, float] | None
    """The good band (an upper bound of ``inf``: "at least")."""
    resolution: float
    """Differences smaller than about this are noise: the sparkline does not magnify them."""


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("wpm", "Pace (wpm)", "{:.0f}", th.PACE_WPM, 20.0),
    MetricSpec("fillers_per_100", "Fillers / 100 words", "{:.1f}",
               (0.0, th.FILLER_PER_100[1]), 2.0),
    MetricSpec("hedges_per_100", "Hedges / 100 words", "{:.1f}",
               (0.0, th.HEDGE_PER_100_MAX), 1.0),
    MetricSpec("filled_per_min", "Filled pauses / min", "{:.1f}",
               (0.0, th.FILLED_PAUSES_PER_MIN_MAX), 1.0),
    MetricSpec("long_pauses", "Long pauses", "{:.0f}", None, 1.0),
    MetricSpec("start_median_s", "Start delay (s)", "{:.1f}", (0.0, th.SLOW_START_S), 1.0),
    MetricSpec("user_share", "Your talk share (%)", "{:.0f}",
               (th.USER_TALK_SHARE[0] * 100, th.USER_TALK_SHARE[1] * 100), 10.0),
    MetricSpec("questions", "Questions asked", "{:.0f}", (float(th.QUESTIONS_MIN), math.inf),
               1.0),
)


def value_of(row: ProgressRow, spec: MetricSpec) -> float | None:
    """A row's value for a metric, in the unit the metric is shown in."""
    raw = getattr(row, spec.key)
    if raw is None:
        return None
    return float(raw) * (100.0 if spec.key == "user_share" else 1.0)


def row_for(report: Report) -> ProgressRow:
    """The progress row of one analysed session."""
    return ProgressRow(
        session_id=report.session_id, started_at=report.started_at, scenario=report.scenario,
        mode=report.mode, answers=len(report.answers), cut_short=report.cut_short,
        wpm=report.pace.wpm, fillers_per_100=report.fillers.per_100,
        hedges_per_100=report.hedges.per_100, filled_per_min=report.hesitations.filled_per_min,
        long_pauses=report.hesitations.long_pauses, start_median_s=report.start_delay.median_s,
        user_share=report.talk.user_share,
        questions=report.questions.asked if report.questions.reached else None,
    )


def progress_rows(sessions: Iterable[LoadedSession], scenario: str | None = None,
                  audio_loader: AudioLoader = read_answer_audio,
                  vad_factory: VadFactory = default_vad) -> list[ProgressRow]:
    """Rows for the sessions with at least one answer (optionally one scenario), oldest first."""
    rows = []
    for session in sessions:
        if scenario is not None and session.scenario != scenario:
            continue
        if not session.answers():
            continue
        rows.append(row_for(analyse(session, audio_loader, vad_factory)))
    return sorted(rows, key=lambda r: r.session_id)


def sparkline(values: Sequence[float | None], resolution: float = 0.0) -> str:
    """A text sparkline: one glyph a value, a space where a value was not measured.

    The glyphs span at least ``resolution``, so tiny wobbles stay flat instead of filling the
    whole scale.
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    lo, hi = min(known), max(known)
    top = len(th.SPARK_CHARS) - 1
    spread = max(hi - lo, resolution)
    if spread > hi - lo:
        lo -= (spread - (hi - lo)) / 2  # centre a small wobble on the scale
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif spread == 0:
            out.append(th.SPARK_CHARS[top // 2])
        else:
            out.append(th.SPARK_CHARS[round((v - lo) / spread * top)])
    return "".join(out)


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def render_table(rows: Sequence[ProgressRow]) -> str:
    """A table of sessions (oldest first) and a sparkline per metric."""
    headers = ["session", "scenario", "answers", *(m.label for m in METRICS)]
    body = [[r.session_id + (" (cut)" if r.cut_short else ""), r.scenario, str(r.answers),
             *(_cell(value_of(r, m), m.fmt) for m in METRICS)] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(headers, widths, strict=True))).rstrip()]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(b, widths, strict=True))).rstrip()
              for b in body]
    lines += ["", "Trend (oldest to newest; blank: not measured)"]
    label_w = max(len(m.label) for m in METRICS)
    for m in METRICS:
        values = [value_of(r, m) for r in rows]
        known = [v for v in values if v is not None]
        change = (f"{_cell(known[0], m.fmt)} -> {_cell(known[-1], m.fmt)}" if known
                  else "not measured")
        target = "" if m.target is None else (
            f"target {m.fmt.format(m.target[0])}+" if math.isinf(m.target[1]) else
            f"target {m.fmt.format(m.target[0])}-{m.fmt.format(m.target[1])}")
        spark = sparkline(values, m.resolution)
        lines.append(f"  {m.label.ljust(label_w)}  {spark}  {change}  {target}"
                     .rstrip())
    return "\n".join(lines) + "\n"


_PANEL_W, _PANEL_H, _COLS = 340, 150, 2
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 44, 12, 26, 24


def _panel(spec: MetricSpec, values: Sequence[float | None], x0: float, y0: float) -> list[str]:
    known = [v for v in values if v is not None]
    title = html.escape(spec.label)
    out = [f'<g transform="translate({x0:.0f},{y0:.0f})">',
           f'<rect width="{_PANEL_W - 8}" height="{_PANEL_H - 8}" fill="#fff" stroke="#ddd"/>',
           f'<text x="8" y="17" font-size="13" font-weight="bold">{title}</text>']
    if not known:
        out += ['<text x="50%" y="55%" font-size="12" fill="#888" text-anchor="middle">'
                "not measured</text>", "</g>"]
        return out
    lo, hi = min(known), max(known)
    if spec.target is not None:
        lo = min(lo, spec.target[0])
        if not math.isinf(spec.target[1]):
            hi = max(hi, spec.target[1])
    if hi == lo:
        hi, lo = hi + 1.0, max(0.0, lo - 1.0)
    plot_w = _PANEL_W - 8 - _PAD_L - _PAD_R
    plot_h = _PANEL_H - 8 - _PAD_T - _PAD_B
    n = len(values)

    def x(i: int) -> float:
        return _PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return _PAD_T + plot_h * (1 - (v - lo) / (hi - lo))

    if spec.target is not None:
        top = y(min(spec.target[1], hi))
        bottom = y(max(spec.target[0], lo))
        out.append(f'<rect x="{_PAD_L}" y="{top:.1f}" width="{plot_w}" '
                   f'height="{max(0.0, bottom - top):.1f}" fill="#e3f4e3"/>')
    out += [f'<text x="{_PAD_L - 4}" y="{y(hi) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{html.escape(spec.fmt.format(hi))}</text>",
            f'<text x="{_PAD_L - 4}" y="{y(lo) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{html.escape(spec.fmt.format(lo))}</text>",
            f'<line x1="{_PAD_L}" y1="{_PAD_T + plot_h}" x2="{_PAD_L + plot_w}" '
            f'y2="{_PAD_T + plot_h}" stroke="#999"/>']
    segment: list[str] = []
    segments: list[list[str]] = [segment]
    for i, v in enumerate(values):
        if v is None:
            segment = []
            segments.append(segment)
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
        out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="#1f6feb">'
                   f"<title>session {i + 1}: {html.escape(spec.fmt.format(v))}</title></circle>")
    out += [f'<polyline points="{" ".join(s)}" fill="none" stroke="#1f6feb" stroke-width="2"/>'
            for s in segments if len(s) > 1]
    out += [f'<text x="{x(i):.1f}" y="{_PAD_T + plot_h + 15}" font-size="10" '
            f'text-anchor="middle">{i + 1}</text>' for i in range(n)]
    out.append("</g>")
    return out


def progress_svg(rows: Sequence[ProgressRow]) -> str:
    """An inline SVG chart: one small panel per metric, target bands shaded green."""
    panels = len(METRICS)
    rows_n = (panels + _COLS - 1) // _COLS
    width, height = _COLS * _PANEL_W + 8, rows_n * _PANEL_H + 40
    # Dates only: full session ids do not fit the chart's width.
    first = html.escape(rows[0].session_id[:8]) if rows else ""
    last = html.escape(rows[-1].session_id[:8]) if rows else ""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img" '
           f'aria-label="voice-coach progress over {len(rows)} sessions">',
           f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
           f'<text x="8" y="22" font-size="14" font-weight="bold">Progress: '
           f"{len(rows)} session{'s' if len(rows) != 1 else ''}"
           + (f" ({first} to {last})" if rows else "") + "</text>"]
    for k, spec in enumerate(METRICS):
        col, row = k % _COLS, k // _COLS
        out += _panel(spec, [value_of(r, spec) for r in rows], 8 + col * _PANEL_W,
                      34 + row * _PANEL_H)
    out.append("</svg>")
    return "\n".join(out) + "\n"
