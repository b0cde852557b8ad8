"""Render a stored session for people: plain text and Markdown."""

from __future__ import annotations

import re
from typing import Any

from voice_coach.transcripts.store import LoadedSession


def clock(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    if seconds is None:
        return "--:--"
    s = int(max(0.0, seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text safe to print on a terminal: control characters (escape sequences, line breaks that
    would fake another speaker) are shown as ``\\xNN``, tabs and line breaks as spaces."""

    def visible(m: re.Match[str]) -> str:
        ch = m.group()
        return " " if ch in "\t\r\n" else f"\\x{ord(ch):02x}"

    return _CONTROL.sub(visible, text)


def speaker_of(event: dict[str, Any], session: LoadedSession) -> str:
    """Who said an event's text."""
    if event.get("type") == "prompt":
        return str(session.start.get("interviewer") or "Interviewer")
    return str(session.start.get("name") or "You")


def _event_time(event: dict[str, Any]) -> float | None:
    t = event.get("t", event.get("start"))
    return float(t) if isinstance(t, int | float) else None


def to_text(session: LoadedSession, timestamps: bool = False) -> str:
    """The conversation as plain text with stage headings."""
    lines: list[str] = []
    for e in session.events:
        kind = e.get("type")
        stamp = f"[{clock(_event_time(e))}] " if timestamps else ""
        if kind == "stage":
            lines += ["", f"== {printable(str(e.get('title', e.get('stage'))))} =="]
        elif kind in ("prompt", "answer"):
            text = printable(str(e.get("text", "")))
            if kind == "answer" and not text:
                text = "(no answer)"
            lines.append(f"{stamp}{printable(speaker_of(e, session))}: {text}")
        elif kind == "command":
            lines.append(f"{stamp}({printable(speaker_of(e, session))} said "
                         f"'{printable(str(e.get('text', '')))}': "
                         f"{printable(str(e.get('command')))})")
    lines.append("")
    if session.cut_short:
        lines.append("(this session was cut short; every complete turn is shown)")
    else:
        lines.append(f"(session {session.end_reason})")
    return "\n".join(lines).lstrip("\n")


def to_markdown(session: LoadedSession) -> str:
    """The conversation as Markdown: stage headings, who said what, timings."""
    start = session.start
    out = [
        f"# Practice interview: {_md(str(start.get('scenario', '?')))}",
        "",
        f"- Session: `{session.id}`",
        f"- Started: {_md(str(start.get('started_at', '?')))}",
        f"- Candidate: {_md(str(start.get('name', '')))}",
        f"- Interviewer: {_md(str(start.get('interviewer', '')))}",
        f"- Ended: {session.end_reason}" + (" (cut short)" if session.cut_short else ""),
    ]
    for e in session.events:
        kind = e.get("type")
        if kind == "stage":
            out += ["", f"## {_md(str(e.get('title', e.get('stage'))))}", ""]
        elif kind in ("prompt", "answer"):
            t = clock(_event_time(e))
            text = _md(str(e.get("text", ""))) or "_(no answer)_"
            out.append(f"**{_md(speaker_of(e, session))}** ({t}): {text}  ")
        elif kind == "command":
            out.append(f"_({_md(speaker_of(e, session))}: {_md(str(e.get('command')))})_  ")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Escape Markdown and HTML metacharacters in user text."""
    out = []
    for ch in text:
        if ch in "\\`*_[]|":
            out.append("\\" + ch)
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return printable("".join(out))
