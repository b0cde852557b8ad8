"""Render a stored session for people: text, Markdown, JSON, WebVTT, SubRip and HTML.

Renderers are pure (a LoadedSession in, a string out); only :func:`embed_answer_audio`
reads files, so the HTML export gets its audio from the caller.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voice_coach.textsafe import json_safe, printable, printable_block
from voice_coach.transcripts.events import (
    AnswerEvent,
    CommandEvent,
    PromptEvent,
    Spoken,
    StageEvent,
    audio_path,
)
from voice_coach.transcripts.store import LoadedSession

_LOGGER = logging.getLogger(__name__)


def clock(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    if seconds is None:
        return "--:--"
    s = int(max(0.0, seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def speaker_of(event: Spoken, session: LoadedSession) -> str:
    """Who said an event's text."""
    if isinstance(event, PromptEvent):
        return str(session.start.get("interviewer") or "Interviewer")
    return str(session.start.get("name") or "You")


def _event_time(event: Spoken) -> float | None:
    return event.t if isinstance(event, PromptEvent) else event.start


def to_text(session: LoadedSession, timestamps: bool = False) -> str:
    """The conversation as plain text with stage headings."""
    lines: list[str] = []
    for e in session.typed:
        if isinstance(e, StageEvent):
            lines += ["", f"== {printable(e.heading)} =="]
        elif isinstance(e, PromptEvent | AnswerEvent):
            stamp = f"[{clock(_event_time(e))}] " if timestamps else ""
            text = printable(e.text)
            if isinstance(e, AnswerEvent) and not text:
                text = "(no answer)"
            lines.append(f"{stamp}{printable(speaker_of(e, session))}: {text}")
        elif isinstance(e, CommandEvent):
            stamp = f"[{clock(_event_time(e))}] " if timestamps else ""
            lines.append(f"{stamp}({printable(speaker_of(e, session))} said "
                         f"'{printable(e.text)}': {printable(str(e.command))})")
    lines.append("")
    if session.cut_short:
        lines.append("(this session was cut short; every complete turn is shown)")
    else:
        lines.append(f"(session {printable(session.end_reason)})")
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
        f"- Ended: {_md(session.end_reason)}" + (" (cut short)" if session.cut_short else ""),
    ]
    for e in session.typed:
        if isinstance(e, StageEvent):
            out += ["", f"## {_md(e.heading)}", ""]
        elif isinstance(e, PromptEvent | AnswerEvent):
            t = clock(_event_time(e))
            text = _md(e.text) or "_(no answer)_"
            out.append(f"**{_md(speaker_of(e, session))}** ({t}): {text}  ")
        elif isinstance(e, CommandEvent):
            out.append(f"_({_md(speaker_of(e, session))}: {_md(str(e.command))})_  ")
    note = _cut_note(session)
    if note:
        out += ["", f"> {note}"]
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


# -- timed cues (WebVTT, SubRip) --------------------------------------------------------------

MIN_CUE = 0.5
"""Shortest cue in seconds, so a one-word line stays readable."""
_WORDS_PER_SECOND = 2.5
"""Reading/speaking pace (150 wpm) used to estimate how long an untimed line lasts."""


@dataclass(frozen=True)
class Cue:
    """One line of speech on the session timeline."""

    start: float
    end: float
    speaker: str
    text: str
    role: str
    """"interviewer", "user" or "command"."""


def _estimate(text: str) -> float:
    return max(1.0, len(text.split()) / _WORDS_PER_SECOND)


def cues(session: LoadedSession) -> list[Cue]:
    """Every line of speech as a cue: in order, non-overlapping, at least MIN_CUE long."""
    raw: list[tuple[float, float | None, Cue]] = []
    for e in session.typed:
        if not isinstance(e, PromptEvent | AnswerEvent | CommandEvent):
            continue
        text = " ".join(e.text.split())
        if isinstance(e, PromptEvent):
            start = e.speech_start or e.t
            end = e.speech_end
            role = "interviewer"
        else:
            start, end = e.start, e.end
            role = "user" if isinstance(e, AnswerEvent) else "command"
            if isinstance(e, AnswerEvent) and not text:
                text = "(no answer)"
        if start is None:
            continue
        # One cue is one line: a line break or a control character in a name or an answer
        # must not start another cue (SRT) or break the voice tag (VTT).
        raw.append((start, end, Cue(start, start, printable(" ".join(
            speaker_of(e, session).split())), printable(text), role)))
    raw.sort(key=lambda r: r[0])
    out: list[Cue] = []
    for i, (start, end, cue) in enumerate(raw):
        nxt = raw[i + 1][0] if i + 1 < len(raw) else None
        estimated = end is None or end <= start
        if end is None or end <= start:
            end = start + _estimate(cue.text)
            # an untimed line lasts until the next one, unless they all share one instant
            if nxt is not None and nxt >= start + MIN_CUE:
                end = min(end, nxt)
        if out and start < out[-1].end:
            shift = out[-1].end - start
            start += shift
            if estimated:
                end += shift
        end = max(end, start + MIN_CUE)
        out.append(Cue(round(start, 3), round(end, 3), cue.speaker, cue.text, cue.role))
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = round(max(0.0, seconds) * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut_note(session: LoadedSession) -> str | None:
    if session.cut_short:
        return "This session was cut short; every complete turn is included."
    return None


def to_vtt(session: LoadedSession) -> str:
    """WebVTT subtitles: one cue per line of speech, voice-tagged with the speaker."""
    out = ["WEBVTT", "", "NOTE", _vtt_escape(printable(
        f"voice-coach session {session.id} ({session.scenario}, {session.started_at})"))]
    note = _cut_note(session)
    if note:
        out.append(note)
    out.append("")
    for n, cue in enumerate(cues(session), start=1):
        out += [
            str(n),
            f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}",
            f"<v {_vtt_escape(cue.speaker)}>{_vtt_escape(cue.text)}",
            "",
        ]
    return "\n".join(out)


def to_srt(session: LoadedSession) -> str:
    """SubRip subtitles: one numbered cue per line of speech, "Speaker: text"."""
    out: list[str] = []
    for n, cue in enumerate(cues(session), start=1):
        text = f"{cue.speaker}: {cue.text}".replace("-->", "->")
        out += [str(n), f"{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}", text, ""]
    return "\n".join(out)


# -- JSON ---------------------------------------------------------------------------------------

JSON_FORMAT = "voice-coach-session"
JSON_VERSION = 1


def to_json(session: LoadedSession) -> str:
    """The session as one JSON document: summary, warnings and every stored event."""
    summary = {k: v for k, v in session.summary().items() if k != "path"}
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION, **summary,
           "warnings": session.warnings, "events": session.events}
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


# -- HTML ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedAudio:
    """An audio file to embed in the HTML export."""

    mime: str
    data: bytes
    seconds: float


AudioMap = Mapping[int, EmbeddedAudio | str]
"""Event index -> audio to embed, or a short note when the file cannot be used."""


def embed_answer_audio(
    session: LoadedSession, codec: str = "flac"
) -> dict[int, EmbeddedAudio | str]:
    """Read every answer's audio for :func:`to_html` (FLAC is lossless and half the size)."""
    import soundfile  # lazy: only this export needs libsndfile

    from voice_coach.audio.format import SAMPLE_RATE, read_audio

    found: dict[int, EmbeddedAudio | str] = {}
    for i, e in enumerate(session.typed):
        if not isinstance(e, AnswerEvent) or not e.audio:
            continue
        path = audio_path(session.folder, e.audio)
        if path is None:
            found[i] = "audio path refused"
            continue
        if not path.is_file():  # soundfile reports a missing file as a generic error
            found[i] = f"audio {path.name} is missing"
            continue
        try:
            samples = read_audio(path)
        except (OSError, RuntimeError, ValueError) as exc:
            _LOGGER.warning("cannot read %s: %s", path, exc)
            found[i] = f"audio {path.name} is unreadable"
            continue
        buf = io.BytesIO()
        if codec == "flac":
            soundfile.write(buf, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
            mime = "audio/flac"
        else:
            soundfile.write(buf, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
            mime = "audio/wav"
        found[i] = EmbeddedAudio(mime, buf.getvalue(), len(samples) / SAMPLE_RATE)
    return found


_CSS = """
:root{color-scheme:light dark;--bg:#fafaf8;--fg:#1d1d1f;--muted:#666;--you:#e3f0ff;--them:#fff;
--line:#ddd;--accent:#2358a8}
@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#eee;--muted:#aaa;--you:#1e3550;
--them:#24262a;--line:#3a3c40;--accent:#8db4f0}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.6rem;margin:0 0 .3rem}
h2{font-size:1.15rem;margin:2rem 0 .8rem;padding-bottom:.3rem;border-bottom:2px solid var(--line);
color:var(--accent)}
.meta{color:var(--muted);margin:0 0 1rem;padding:0;list-style:none}
.meta li{display:inline-block;margin-right:1.2rem}
.notice{border-left:4px solid #c77700;background:rgba(199,119,0,.12);padding:.5rem .8rem;
margin:1rem 0}
.turn{margin:.6rem 0;padding:.6rem .9rem;border-radius:12px;border:1px solid var(--line);
max-width:90%;background:var(--them)}
.turn.you{margin-left:auto;background:var(--you)}
.turn.command{font-style:italic;color:var(--muted);background:transparent}
.who{font-weight:600}
.time{color:var(--muted);font-size:.85em;margin-left:.5rem;font-variant-numeric:tabular-nums}
.text{margin:.2rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere}
audio{display:block;width:100%;margin-top:.5rem}
.missing{color:var(--muted);font-size:.9em}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.25rem .9rem .25rem 0;border-bottom:1px solid var(--line)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; media-src data:; img-src data:"


def _when(iso: str) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (as recorded, in the session's own offset)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso or "?"


def _h(value: Any) -> str:
    return html.escape(printable_block(str(value)), quote=True)


def _feedback_table(feedback: Mapping[str, Any]) -> list[str]:
    rows = []
    for key, value in feedback.items():
        shown = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else value
        rows.append(f"<tr><th scope=\"row\">{_h(str(key).replace('_', ' '))}</th>"
                    f"<td class=\"num\">{_h(shown)}</td></tr>")
    return ['<section id="feedback"><h2>Feedback</h2>', "<table>", *rows, "</table></section>"]


def to_html(session: LoadedSession, feedback: Mapping[str, Any] | None = None,
            audio: AudioMap | None = None, chart_svg: str | None = None) -> str:
    """One self-contained HTML page: headings, the conversation, answer audio, feedback numbers.

    ``audio`` maps event indexes to embedded audio (see :func:`embed_answer_audio`);
    ``feedback`` (metric name -> number) is rendered as a small table when given.
    Every piece of session text is escaped; the page allows no scripts at all.
    """
    start = session.start
    audio = audio or {}
    title = f"Practice interview: {start.get('scenario', '?')}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)} ({_h(session.started_at)})</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{_h(title)}</h1>",
        '<ul class="meta">',
        f"<li>Started {_h(_when(session.started_at))}</li>",
        f"<li>Candidate: {_h(start.get('name', ''))}</li>",
        f"<li>Interviewer: {_h(start.get('interviewer', ''))}</li>",
        f"<li>Ended: {_h(session.end_reason)}</li>",
        f"<li>Session <code>{_h(session.id)}</code></li>",
        "</ul>",
    ]
    note = _cut_note(session)
    if note:
        out.append(f'<p class="notice" role="note">{_h(note)}</p>')
    if feedback:
        out += _feedback_table(feedback)
    open_section = False
    for i, e in enumerate(session.typed):
        if isinstance(e, StageEvent):
            if open_section:
                out.append("</section>")
            out.append(f'<section><h2>{_h(e.heading)}</h2>')
            open_section = True
        elif isinstance(e, PromptEvent | AnswerEvent | CommandEvent):
            role = ("them" if isinstance(e, PromptEvent)
                    else "you" if isinstance(e, AnswerEvent) else "command")
            text = e.text
            if isinstance(e, AnswerEvent) and not text:
                text = "(no answer)"
            if isinstance(e, CommandEvent):
                text = f"({text}: {e.command})"
            out.append(f'<div class="turn {role}"><span class="who">'
                       f"{_h(speaker_of(e, session))}</span>"
                       f'<span class="time">{_h(clock(_event_time(e)))}</span>'
                       f'<p class="text">{_h(text)}</p>')
            clip = audio.get(i)
            if isinstance(clip, EmbeddedAudio):
                b64 = base64.b64encode(clip.data).decode("ascii")
                out.append(f'<audio controls preload="metadata" data-seconds="{clip.seconds:.3f}"'
                           f' src="data:{clip.mime};base64,{b64}"></audio>')
            elif isinstance(clip, str):
                out.append(f'<p class="missing">({_h(clip)})</p>')
            out.append("</div>")
    if open_section:
        out.append("</section>")
    if chart_svg and "<script" not in chart_svg.lower():
        # Made by voice_coach.feedback.progress, which escapes every text it draws.
        out += ['<section><h2>Progress across sessions</h2>', chart_svg, "</section>"]
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
