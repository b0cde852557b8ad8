"""Saved sessions: ``sessions`` (filters), ``show``, ``replay``, ``export`` and ``delete``."""

from __future__ import annotations

import json
import logging
import queue
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from voice_coach.errors import DeviceError, UsageError
from voice_coach.textsafe import json_safe, printable, printable_block
from voice_coach.transcripts.replay import ReplayItem
from voice_coach.transcripts.store import LoadedSession, SessionStore

_LOGGER = logging.getLogger(__name__)

EXPORT_FORMATS = ("markdown", "json", "vtt", "srt", "html")
_SUFFIX = {"markdown": ".md", "json": ".json", "vtt": ".vtt", "srt": ".srt", "html": ".html"}


class ExportError(UsageError):
    """An export file cannot be written."""


def _progress_chart(session: LoadedSession) -> str | None:
    """The progress chart over this scenario's sessions (text metrics only, to stay quick)."""
    from voice_coach.feedback.metrics import no_audio
    from voice_coach.feedback.progress import progress_rows, progress_svg

    rows = progress_rows(SessionStore().sessions(), scenario=session.scenario,
                         audio_loader=no_audio)
    return progress_svg(rows) if len(rows) >= 2 else None


def _warn_cut_short(session: Any) -> None:
    if session.cut_short and getattr(session, "live", False):
        click.echo(f"voice-coach: session {session.id} is still being recorded; every turn "
                   "saved so far is included", err=True)
    elif session.cut_short:
        click.echo(f"voice-coach: session {session.id} was cut short (the program stopped "
                   "mid-session); every complete turn is included", err=True)


# -- sessions -----------------------------------------------------------------------------------


@click.command("sessions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--scenario", "-s", default=None, help="Only sessions of this scenario id.")
@click.option("--since", default=None, metavar="DATE",
              help="Only sessions started on or after DATE (2024-05-31, today, yesterday, 7d).")
@click.option("--grep", default=None, metavar="TEXT",
              help="Only sessions where TEXT was said (any case).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None,
              help="At most this many (newest first).")
def sessions(as_json: bool, scenario: str | None, since: str | None, grep: str | None,
             limit: int | None) -> None:
    """List saved sessions, newest first."""
    from voice_coach.transcripts.query import filter_sessions, parse_since
    from voice_coach.transcripts.store import SessionStore

    since_at = parse_since(since) if since else None
    store = SessionStore()
    found = filter_sessions(store.sessions(), scenario=scenario, since=since_at, grep=grep,
                            limit=limit)
    rows = [s.summary() for s in found]
    if as_json:
        click.echo(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)))
        return
    if not rows:
        if any(v is not None for v in (scenario, since, grep)) and store.ids():
            click.echo("No session matches.")
        else:
            click.echo("No saved sessions yet. Try: voice-coach practice --text")
        return
    click.echo(f"{'ID':24} {'SCENARIO':24} {'STARTED':26} {'ANSWERS':>7}  END")
    for r in rows:
        # Scenario and start time come from the transcript: never let them drive the terminal.
        click.echo(f"{r['id']:24} {printable(str(r['scenario'])):24} "
                   f"{printable(str(r['started_at'])):26} {r['answers']:>7}  "
                   f"{printable(str(r['end_reason']))}")


# -- delete -------------------------------------------------------------------------------------


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the stored events as JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown.")
def show(session_id: str, as_json: bool, as_markdown: bool) -> None:
    """Show a saved session (ID, a unique prefix, or 'last')."""
    from voice_coach.transcripts import exports
    from voice_coach.transcripts.store import SessionStore

    if as_json and as_markdown:
        raise UsageError("choose one of --json and --markdown")
    session = SessionStore().load(session_id)
    if as_json:
        click.echo(json_safe(json.dumps({**session.summary(), "warnings": session.warnings,
                                         "events": session.events}, indent=2,
                                        ensure_ascii=False)))
    elif as_markdown:
        click.echo(exports.to_markdown(session), nl=False)
    else:
        click.echo(exports.to_text(session))


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Delete even a session that is still recording.")
def delete(session_id: str, yes: bool, force: bool) -> None:
    """Delete a saved session and its audio (ID, a unique prefix, or 'last').

    A damaged or unreadable session can be deleted too; one being recorded only with --force.
    """
    from voice_coach.errors import TranscriptError
    from voice_coach.transcripts.store import SessionStore

    store = SessionStore()
    sid = store.resolve(session_id)
    if store.is_live(sid) and not force:
        raise UsageError(f"session {sid} is being recorded right now; finish it first "
                         "(or use --force, and lose what it says next)")
    try:
        session = store.load(sid)
        about = (f"{printable(session.scenario)}, {printable(session.started_at)}, "
                 f"{len(session.answers())} answers")
    except TranscriptError as exc:
        about = f"unreadable: {printable(str(exc))}"
    if not yes:
        question = f"Delete session {sid} ({about}) and its audio?"
        try:
            confirmed = click.confirm(question, default=False, err=True)
        except click.Abort:
            confirmed = False
        if not confirmed:
            click.echo("Nothing deleted.", err=True)
            raise click.exceptions.Exit(1)
    store.delete(sid)
    click.echo(f"Deleted session {sid}.")


# -- export -------------------------------------------------------------------------------------


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--format", "-f", "fmt", type=click.Choice(EXPORT_FORMATS), default="markdown",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to FILE (private, 0600) instead of standard output.")
def export(session_id: str, fmt: str, output: Path | None) -> None:
    """Export a saved session as Markdown, JSON, WebVTT, SubRip or self-contained HTML."""
    from voice_coach.transcripts import exports
    from voice_coach.transcripts.store import SessionStore

    session = SessionStore().load(session_id)
    if fmt == "markdown":
        text = exports.to_markdown(session)
    elif fmt == "json":
        text = exports.to_json(session)
    elif fmt == "vtt":
        text = exports.to_vtt(session)
    elif fmt == "srt":
        text = exports.to_srt(session)
    else:
        audio = exports.embed_answer_audio(session)
        for note in audio.values():
            if isinstance(note, str):
                click.echo(f"voice-coach: {printable(note)}; the text is exported", err=True)
        from voice_coach.feedback.metrics import analyse
        from voice_coach.feedback.report import headline_numbers

        feedback = headline_numbers(analyse(session)) if session.answers() else None
        text = exports.to_html(session, feedback=feedback, audio=audio,
                               chart_svg=_progress_chart(session))
    _warn_cut_short(session)
    if output is None or str(output) == "-":
        click.echo(printable_block(text), nl=False)  # JSON is escaped already: unchanged
        return
    from voice_coach.fileio import write_private

    try:
        write_private(output, text)
    except OSError as exc:
        raise ExportError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {output}", err=True)


# -- replay -------------------------------------------------------------------------------------


class TerminalView:
    """Shows the transcript in step with the audio; the line playing is marked."""

    def __init__(self, tty: bool | None = None) -> None:
        out = sys.stdout
        self.tty = out.isatty() if tty is None else tty
        encoding = (getattr(out, "encoding", None) or "ascii").lower()
        self.mark = "▶ " if "utf" in encoding else "> "
        self._rows = 0
        """Terminal rows of the marked line, 0 once anything else was printed below it."""

    def start_line(self, item: ReplayItem) -> None:
        """Print the line (after its stage heading), marked."""
        from voice_coach.transcripts.replay import line_text

        if item.heading:
            click.echo()
            click.secho(f"== {printable(item.heading)} ==", bold=True)
        text = f"{self.mark}{line_text(item)}"
        click.secho(text, bold=self.tty)
        cols = shutil.get_terminal_size((80, 24)).columns
        self._rows = max(1, -(-len(text) // max(1, cols)))

    def end_line(self, item: ReplayItem) -> None:
        """Unmark the line on a terminal, if nothing was printed under it."""
        from voice_coach.transcripts.replay import line_text

        if self.tty and self._rows:
            # move up over the line, clear to the end of the screen, print it plain
            click.echo(f"\x1b[{self._rows}F\x1b[J{' ' * len(self.mark)}{line_text(item)}",
                       nl=True)
        self._rows = 0

    def note(self, text: str) -> None:
        """A dim side remark."""
        click.secho(f"  ({text})", dim=True, err=not self.tty)
        if self.tty:
            self._rows = 0


def _make_synth(start: dict[str, Any]) -> Any:
    """Text -> (samples, rate) with the session's voice, created on first use."""
    from voice_coach.tts.registry import create_speaker

    engine = str(start.get("engine") or "espeak")
    if engine == "silent":
        engine = "espeak"
    voice = start.get("voice")
    rate = start.get("rate")
    speaker: list[Any] = []

    def synth(text: str) -> tuple[Any, int] | None:
        if not speaker:
            speaker.append(create_speaker(engine, voice=str(voice) if voice else None,
                                          rate_wpm=int(rate) if isinstance(rate, int) else None))
        speech = speaker[0].synth(text)
        return speech.samples, int(speech.rate)

    synth.close = lambda: [s.close() for s in speaker]  # type: ignore[attr-defined]
    return synth


@click.command()
@click.argument("session_id", metavar="ID")
@click.option("--from", "from_turn", type=click.IntRange(min=1), default=1, show_default=True,
              help="Start at turn N (see the numbers in --text).")
@click.option("--answers-only", is_flag=True, help="Play only your recorded answers.")
@click.option("--text", "text_only", is_flag=True,
              help="Print the transcript with timestamps; play nothing.")
@click.option("--device", default=None, help="Output device (index or name part).")
def replay(session_id: str, from_turn: int, answers_only: bool, text_only: bool,
           device: str | None) -> None:
    """Play a saved session back: the interviewer, your answers, the transcript in step.

    Keys while it plays: space pauses/resumes, n / p next or previous turn, q quits.
    """
    from voice_coach.transcripts.replay import (
        Control,
        Replayer,
        ending_text,
        key_controls,
        plan_replay,
        render_text,
    )
    from voice_coach.transcripts.store import SessionStore

    session = SessionStore().load(session_id)
    plan = plan_replay(session, from_turn=from_turn, answers_only=answers_only)
    if text_only:
        click.echo(render_text(plan))
        return
    if not plan.items:
        click.echo("Nothing to play (no answers recorded).")
        return
    from voice_coach.audio.playback import Player

    try:
        # replay is not interactive speech: a larger buffer avoids dropouts on a busy machine
        player = Player(device=device, latency="high").open()
    except DeviceError as exc:
        raise DeviceError(f"{exc} (`voice-coach replay {session_id} --text` needs none)") from None
    synth = None if answers_only else _make_synth(session.start)
    controls: queue.Queue[Control] = queue.Queue()
    view = TerminalView()
    try:
        with key_controls(controls) as keys:
            if keys:
                click.secho("space: pause/resume   n/p: next/previous turn   q: quit", dim=True)
            result = Replayer(plan, player, view, synth=synth, controls=controls).run()
            if not result.quit:
                player.wait(timeout=5.0)
    except KeyboardInterrupt:
        player.stop()
        click.echo()
        click.echo("(replay stopped)")
        return
    finally:
        player.close()
        if synth is not None:
            synth.close()
    click.echo()
    click.echo("(replay stopped)" if result.quit else ending_text(plan))


COMMANDS = (sessions, show, replay, export, delete)
