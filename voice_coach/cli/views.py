"""Terminal views shared by the commands: the conversation on a terminal, shared options."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from voice_coach.interview.stages import Stage
from voice_coach.session.text import SessionResult
from voice_coach.textsafe import printable, valid_unicode


class TerminalUI:
    """Text-mode conversation on a terminal or a pipe."""

    def __init__(self, interviewer: str, name: str, stdin: TextIO | None = None) -> None:
        self.interviewer_name = interviewer
        self.name = name
        self.stdin = stdin if stdin is not None else sys.stdin
        self.tty = self.stdin.isatty()
        reconfigure = getattr(self.stdin, "reconfigure", None)
        if reconfigure is not None:
            # An undecodable byte must not end the session: it arrives as a lone surrogate
            # and is stored as U+FFFD (valid_unicode below).
            reconfigure(errors="surrogateescape")

    def heading(self, title: str) -> None:
        """Show a stage heading."""
        click.echo()
        click.secho(f"== {printable(title)} ==", bold=True)

    def interviewer(self, text: str) -> None:
        """Show an interviewer line."""
        click.echo(f"{printable(self.interviewer_name)}: {printable(text)}")

    def note(self, text: str) -> None:
        """Show a side note."""
        click.secho(printable(text), dim=True)

    def answer(self, text: str) -> None:
        """Show an answer that was not typed on this terminal (piped, or scripted)."""
        click.echo(f"{printable(self.name)}: {printable(text)}")

    def read_answer(self, stage: Stage | None) -> str | None:
        """Read one line; None at end of input."""
        if self.tty:
            try:
                return valid_unicode(input(f"{printable(self.name)}: "))
            except EOFError:
                click.echo()
                return None
        line = self.stdin.readline()
        if not line:
            return None
        text = valid_unicode(line.rstrip("\r\n"))
        # Echo piped answers so the output reads as a conversation.
        self.answer(text)
        return text


class TerminalVoiceUI:
    """Shows a spoken session: headings, lines, a listening meter with the partial text."""

    def __init__(self, interviewer: str, name: str) -> None:
        self.interviewer_name = interviewer
        self.name = name
        self.tty = sys.stdout.isatty()
        self._meter_shown = False

    def _clear(self) -> None:
        if self._meter_shown:
            click.echo("\r\033[K", nl=False)
            self._meter_shown = False

    def heading(self, title: str) -> None:
        """A stage begins."""
        self._clear()
        click.echo()
        click.secho(f"== {printable(title)} ==", bold=True)

    def interviewer(self, text: str) -> None:
        """The interviewer's line."""
        self._clear()
        click.echo(f"{printable(self.interviewer_name)}: {printable(text)}")

    def listening(self, level: float, partial: str) -> None:
        """A one-line meter, redrawn in place (terminals only)."""
        if not self.tty:
            return
        width = shutil.get_terminal_size((80, 20)).columns
        bars = round(level * 10)
        line = f"  listening [{'#' * bars}{' ' * (10 - bars)}] {printable(partial)}"
        if len(line) > width - 1:
            line = line[: 22] + "..." + line[-(width - 27):]
        click.echo("\r\033[K" + line, nl=False)
        self._meter_shown = True

    def answer(self, text: str) -> None:
        """The final text of what the user said."""
        self._clear()
        click.echo(f"{printable(self.name)}: {printable(text)}")

    def note(self, text: str) -> None:
        """A side note."""
        self._clear()
        click.secho(printable(text), dim=True)




def speech_options(f: Any) -> Any:
    """Options shared by the spoken commands."""
    for option in reversed([
        click.option("--engine", default="auto", show_default=True,
                     help="Speech-to-text engine: auto, moonshine, vosk, whisper or sphinx."),
        click.option("--model", type=click.Path(path_type=Path), default=None,
                     help="A vosk model folder."),
        click.option("--tts", default="espeak", show_default=True,
                     help="The interviewer's voice engine: espeak, piper or silent."),
        click.option("--voice", default=None, help="The interviewer's voice (e.g. en-us)."),
        click.option("--rate", type=click.IntRange(80, 400), default=None,
                     help="The interviewer's speech rate in words a minute."),
        click.option("--output-device", default=None, help="Speaker: index or name."),
        click.option("--no-audio", is_flag=True, help="Do not save the audio of answers."),
    ]):
        f = option(f)
    return f


def show_result(result: SessionResult) -> None:
    """The closing lines of a session: the feedback summary and where it was saved."""
    from voice_coach.feedback.metrics import analyse
    from voice_coach.feedback.report import summary_lines
    from voice_coach.transcripts.store import SessionStore

    click.echo()
    if result.answers:
        for line in summary_lines(analyse(SessionStore().load(result.session_id))):
            click.echo(printable(line))
    click.echo(f"Session {result.session_id} {result.reason.value}: saved in {result.folder}")
