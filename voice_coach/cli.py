"""The ``voice-coach`` command line: commands, logging, domain errors -> one-line messages."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import click

from voice_coach import __version__
from voice_coach.errors import CoachError, ScenarioError, UsageError
from voice_coach.interview.candidate import ScriptedCandidate, load_candidate, plain
from voice_coach.interview.stages import Stage
from voice_coach.interview.text_session import SessionResult

_LOGGER = logging.getLogger(__name__)


class CoachGroup(click.Group):
    """A click group that turns domain errors and Ctrl-C into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, mapping errors to messages."""
        try:
            return super().invoke(ctx)
        except CoachError as exc:
            click.echo(f"voice-coach: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("voice-coach: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): nothing more to say.
            sys.stderr.close()
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            _LOGGER.debug("internal error", exc_info=True)
            click.echo(f"voice-coach: internal error: {type(exc).__name__}: {exc} "
                       "(run with -vv for details)", err=True)
            sys.exit(1)


@click.group(cls=CoachGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voice-coach")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Practise informal interviews out loud, offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="voice-coach: %(levelname)s: %(message)s")


def _sigterm_as_interrupt() -> None:
    """Make SIGTERM end a session like Ctrl-C does (saved as interrupted)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class TerminalUI:
    """Text-mode conversation on a terminal or a pipe."""

    def __init__(self, interviewer: str, name: str, stdin: TextIO | None = None) -> None:
        self.interviewer_name = interviewer
        self.name = name
        self.stdin = stdin if stdin is not None else sys.stdin
        self.tty = self.stdin.isatty()

    def heading(self, title: str) -> None:
        """Show a stage heading."""
        click.echo()
        click.secho(f"== {title} ==", bold=True)

    def interviewer(self, text: str) -> None:
        """Show an interviewer line."""
        click.echo(f"{self.interviewer_name}: {text}")

    def note(self, text: str) -> None:
        """Show a side note."""
        click.secho(text, dim=True)

    def read_answer(self, stage: Stage | None) -> str | None:
        """Read one line; None at end of input."""
        if self.tty:
            try:
                return input(f"{self.name}: ")
            except EOFError:
                click.echo()
                return None
        line = self.stdin.readline()
        if not line:
            return None
        text = line.rstrip("\r\n")
        # Echo piped answers so the output reads as a conversation.
        click.echo(f"{self.name}: {text}")
        return text


def _speech_options(f: Any) -> Any:
    """Options shared by the spoken commands."""
    for option in reversed([
        click.option("--engine", default="auto", show_default=True,
                     help="Speech-to-text engine: auto, vosk, whisper or sphinx."),
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


@cli.command()
@click.option("--text", "text_mode", is_flag=True, help="Type answers instead of speaking.")
@click.option("--scenario", "-s", default=None, help="Scenario id or file (default coffee-chat).")
@click.option("--name", "-n", default="friend", show_default=True, help="Your first name.")
@click.option("--seed", type=int, default=None, help="Make the interviewer's choices repeatable.")
@click.option("--briefing/--no-briefing", default=False, show_default=True,
              help="Start with a short briefing on informal interviews.")
@click.option("--input-device", default=None, help="Microphone: index or name.")
@click.option("--save-interviewer-audio", is_flag=True,
              help="Also save the interviewer's lines as audio.")
@click.option("--spoken-feedback", is_flag=True,
              help="The interviewer ends with two or three sentences of feedback.")
@_speech_options
def practice(text_mode: bool, scenario: str | None, name: str, seed: int | None,
             briefing: bool, input_device: str | None, save_interviewer_audio: bool,
             spoken_feedback: bool,
             engine: str, model: Path | None, tts: str, voice: str | None, rate: int | None,
             output_device: str | None, no_audio: bool) -> None:
    """Run a practice interview: spoken and hands-free by default, --text to type."""
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.transcripts.store import SessionStore

    spec = load_scenario(scenario)
    _sigterm_as_interrupt()
    if text_mode:
        from voice_coach.interview.text_session import run_text_session

        ui = TerminalUI(spec.interviewer, name)
        result = run_text_session(spec, ui, SessionStore(), name=name, seed=seed,
                                  briefing=briefing)
    else:
        from voice_coach.audio.capture import Microphone
        from voice_coach.audio.devices import require_input
        from voice_coach.audio.playback import open_player
        from voice_coach.interview.voice_session import VoiceOptions, VoiceSession
        from voice_coach.tts.registry import create_speaker
        from voice_coach.voice_cli import (
            EngineChoice,
            TerminalVoiceUI,
            load_recognizer_async,
            resolve_engine,
        )

        require_input(input_device)
        choice = EngineChoice(engine, model, tts, voice, rate)
        engine_name = resolve_engine(choice)
        recognizer = load_recognizer_async(choice)
        speaker = create_speaker(tts, voice, rate)
        options = VoiceOptions(
            name=name, seed=seed, briefing=briefing, save_audio=not no_audio,
            save_interviewer_audio=save_interviewer_audio and not no_audio,
            spoken_feedback=spoken_feedback, turn_model=True,
            meta={"engine": engine_name, "tts": tts, "voice": voice, "rate": rate},
        )
        voice_ui = TerminalVoiceUI(spec.interviewer, name)
        with open_player(output_device) as player, Microphone(device=input_device) as mic:
            session = VoiceSession(spec, mic, player, speaker, recognizer, SessionStore(),
                                   voice_ui, options)
            result = session.run()
    _finish(result)


def _finish(result: SessionResult) -> None:
    """The closing lines of a session: the feedback summary and where it was saved."""
    from voice_coach.feedback.metrics import analyse
    from voice_coach.feedback.report import summary_lines
    from voice_coach.transcripts.store import SessionStore

    click.echo()
    if result.answers:
        for line in summary_lines(analyse(SessionStore().load(result.session_id))):
            click.echo(line)
    click.echo(f"Session {result.session_id} {result.reason.value}: saved in {result.folder}")


class ScriptedUI(TerminalUI):
    """The terminal, with a scripted candidate typing the answers."""

    def __init__(self, interviewer: str, candidate: ScriptedCandidate) -> None:
        super().__init__(interviewer, candidate.name)
        self.candidate = candidate
        self.last_line = ""

    def interviewer(self, text: str) -> None:
        """Show an interviewer line (and remember it, for the candidate)."""
        self.last_line = text
        super().interviewer(text)

    def read_answer(self, stage: Stage | None) -> str | None:
        """The candidate's next answer for this stage."""
        text = plain(self.candidate.answer(stage, self.last_line))
        click.echo(f"{self.name}: {text}")
        return text


@cli.command()
@click.option("--scenario", "-s", default=None, help="Scenario id or file (default coffee-chat).")
@click.option("--text", "text_mode", is_flag=True, help="Print the conversation, no audio.")
@click.option("--fast", is_flag=True, help="Feed the candidate faster than real time, silently.")
@click.option("--seed", type=int, default=1, show_default=True, help="Interviewer's choices.")
@click.option("--spoken-feedback", is_flag=True, help="End with spoken coaching feedback.")
@_speech_options
def demo(scenario: str | None, text_mode: bool, fast: bool, seed: int, spoken_feedback: bool,
         engine: str,
         model: Path | None, tts: str, voice: str | None, rate: int | None,
         output_device: str | None, no_audio: bool) -> None:
    """Watch (and hear) a scripted candidate go through a whole spoken interview."""
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.transcripts.store import SessionStore

    spec = load_scenario(scenario)
    candidate = load_candidate(spec.id)
    _sigterm_as_interrupt()
    if text_mode:
        from voice_coach.interview.text_session import run_text_session

        result = run_text_session(spec, ScriptedUI(spec.interviewer, candidate), SessionStore(),
                                  name=candidate.name, seed=seed, mode="demo-text")
    else:
        from voice_coach.voice_cli import EngineChoice, run_demo

        choice = EngineChoice(engine, model, tts, voice, rate)
        result = run_demo(spec, candidate, choice, fast, seed, output_device,
                          save_audio=not no_audio, spoken_feedback=spoken_feedback)
    _finish(result)
    click.echo(f"Read it again with: voice-coach show {result.session_id}")


@cli.group(invoke_without_command=True)
@click.pass_context
def scenarios(ctx: click.Context) -> None:
    """List the scenarios (shipped and your own)."""
    if ctx.invoked_subcommand is not None:
        return
    from voice_coach.interview.scenario import load_scenario_file, scenario_files

    for sid, path in scenario_files().items():
        try:
            spec = load_scenario_file(path)
            click.echo(f"{sid:26} {spec.title} - {spec.description}".rstrip(" -"))
        except ScenarioError as exc:
            click.echo(f"{sid:26} (broken: {exc})")


@scenarios.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def scenarios_check(file: Path) -> None:
    """Validate one scenario file."""
    from voice_coach.interview.scenario import load_scenario_file

    spec = load_scenario_file(file)
    click.echo(f"{file}: ok ({spec.title}, interviewer {spec.interviewer})")


@cli.command()
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
        click.echo(json.dumps({**session.summary(), "warnings": session.warnings,
                               "events": session.events}, indent=2, ensure_ascii=False))
    elif as_markdown:
        click.echo(exports.to_markdown(session), nl=False)
    else:
        click.echo(exports.to_text(session))


def _register_engine_commands() -> None:
    """Add the commands that live next to the engines and devices they drive."""
    from voice_coach.audio_cli import devices, doctor
    from voice_coach.feedback_cli import progress, report
    from voice_coach.replay_cli import COMMANDS as SESSION_COMMANDS
    from voice_coach.stt_cli import models, transcribe
    from voice_coach.tts_cli import say

    for command in (*SESSION_COMMANDS, report, progress, say, transcribe, models, devices,
                    doctor):
        cli.add_command(command)


_register_engine_commands()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="voice-coach")
