"""Practising: ``practice`` (voice or --text), ``demo`` and the ``scenarios`` list."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from voice_coach.cli.views import TerminalUI, TerminalVoiceUI, show_result, speech_options
from voice_coach.errors import ScenarioError
from voice_coach.textsafe import printable


def _sigterm_as_interrupt() -> None:
    """Make SIGTERM end a session like Ctrl-C does (saved as interrupted)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@click.command()
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
@click.option("--headphones", is_flag=True,
              help="No echo from the speaker: hear the user over the interviewer without "
                   "the echo gate.")
@speech_options
def practice(text_mode: bool, scenario: str | None, name: str, seed: int | None,
             briefing: bool, input_device: str | None, save_interviewer_audio: bool,
             spoken_feedback: bool, headphones: bool,
             engine: str, model: Path | None, tts: str, voice: str | None, rate: int | None,
             output_device: str | None, no_audio: bool) -> None:
    """Run a practice interview: spoken and hands-free by default, --text to type."""
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.textsafe import valid_unicode
    from voice_coach.transcripts.store import SessionStore

    name = valid_unicode(name)  # an undecodable byte in argv is stored as U+FFFD
    spec = load_scenario(scenario)
    _sigterm_as_interrupt()
    if text_mode:
        from voice_coach.session.text import run_text_session

        ui = TerminalUI(spec.interviewer, name)
        result = run_text_session(spec, ui, SessionStore(), name=name, seed=seed,
                                  briefing=briefing)
    else:
        from voice_coach.audio.capture import Microphone
        from voice_coach.audio.devices import require_input
        from voice_coach.audio.playback import open_player
        from voice_coach.session.engines import EngineChoice, start_engines
        from voice_coach.session.voice import VoiceOptions, VoiceSession

        require_input(input_device)
        engines = start_engines(EngineChoice(engine, model, tts, voice, rate))
        options = VoiceOptions(
            name=name, seed=seed, briefing=briefing, save_audio=not no_audio,
            save_interviewer_audio=save_interviewer_audio and not no_audio,
            spoken_feedback=spoken_feedback, turn_model=True, prompted_look=True,
            headphones=headphones,
            remember_patience=True,
            meta=engines.meta(),
        )
        voice_ui = TerminalVoiceUI(spec.interviewer, name)
        with open_player(output_device) as player, Microphone(device=input_device) as mic:
            session = VoiceSession(spec, mic, player, engines.speaker, engines.recognizer,
                                   SessionStore(), voice_ui, options)
            result = session.run()
    show_result(result)


@click.command()
@click.option("--scenario", "-s", default=None, help="Scenario id or file (default coffee-chat).")
@click.option("--text", "text_mode", is_flag=True, help="Print the conversation, no audio.")
@click.option("--fast", is_flag=True, help="Feed the candidate faster than real time, silently.")
@click.option("--seed", type=int, default=1, show_default=True, help="Interviewer's choices.")
@click.option("--spoken-feedback", is_flag=True, help="End with spoken coaching feedback.")
@speech_options
def demo(scenario: str | None, text_mode: bool, fast: bool, seed: int, spoken_feedback: bool,
         engine: str,
         model: Path | None, tts: str, voice: str | None, rate: int | None,
         output_device: str | None, no_audio: bool) -> None:
    """Watch (and hear) a scripted candidate go through a whole spoken interview."""
    from voice_coach.interview.candidate import load_candidate
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.transcripts.store import SessionStore

    spec = load_scenario(scenario)
    candidate = load_candidate(spec.id)
    _sigterm_as_interrupt()
    if text_mode:
        from voice_coach.session.demo import ScriptedUI
        from voice_coach.session.text import run_text_session

        display = TerminalUI(spec.interviewer, candidate.name)
        result = run_text_session(spec, ScriptedUI(display, candidate), SessionStore(),
                                  name=candidate.name, seed=seed, mode="demo-text")
    else:
        from voice_coach.session.demo import run_demo
        from voice_coach.session.engines import EngineChoice

        choice = EngineChoice(engine, model, tts, voice, rate)
        result = run_demo(spec, candidate, choice, fast, seed, output_device,
                          save_audio=not no_audio, spoken_feedback=spoken_feedback,
                          ui=TerminalVoiceUI(spec.interviewer, candidate.name))
    show_result(result)
    click.echo(f"Read it again with: voice-coach show {result.session_id}")


@click.group(invoke_without_command=True)
@click.pass_context
def scenarios(ctx: click.Context) -> None:
    """List the scenarios (shipped and your own)."""
    if ctx.invoked_subcommand is not None:
        return
    from voice_coach.interview.scenario import load_scenario_file, scenario_files

    for sid, path in scenario_files().items():
        try:
            spec = load_scenario_file(path)
            line = f"{sid:26} {spec.title} - {spec.description}".rstrip(" -")
        except ScenarioError as exc:
            line = f"{sid:26} (broken: {exc})"
        click.echo(printable(line))


@scenarios.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def scenarios_check(file: Path) -> None:
    """Validate one scenario file."""
    from voice_coach.interview.scenario import load_scenario_file

    spec = load_scenario_file(file)
    click.echo(printable(f"{file}: ok ({spec.title}, interviewer {spec.interviewer})"))


COMMANDS = (practice, demo, scenarios)
