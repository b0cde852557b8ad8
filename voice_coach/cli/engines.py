"""Engines and set-up: ``models [list] [--json]``, ``models download``, ``transcribe``, ``say``,
``devices`` and ``doctor``."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import click

from voice_coach import doctor as doctor_mod
from voice_coach.audio.devices import list_devices
from voice_coach.errors import DeviceError, StorageError, UsageError
from voice_coach.tts.base import Speech
from voice_coach.tts.registry import create_speaker, engine_names

_LOGGER = logging.getLogger(__name__)


@click.command()
@click.argument("audio", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--engine", "-e", default="auto", show_default=True,
              help="auto, moonshine, vosk, whisper or sphinx.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model folder for the engine (a vosk model folder, for example).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with word timings.")
def transcribe(audio: tuple[Path, ...], engine: str, model_path: Path | None,
               as_json: bool) -> None:
    """Transcribe WAV/FLAC files (any rate or channel count)."""
    from voice_coach.audio.format import read_audio
    from voice_coach.stt.registry import create_recognizer

    for path in audio:
        if not path.is_file():
            raise UsageError(f"no such audio file: {path}")
    if model_path is not None and not model_path.exists():
        raise UsageError(f"no such model folder: {model_path}")
    recognizer = create_recognizer(engine, model_path)
    results: list[dict[str, Any]] = []
    try:
        for path in audio:
            try:
                samples = read_audio(path)
            except Exception as exc:  # soundfile raises its own error types for bad files
                raise UsageError(f"cannot read audio {path}: {exc}") from exc
            began = time.perf_counter()
            result = recognizer.transcribe(samples)
            seconds = time.perf_counter() - began
            if as_json:
                results.append(
                    {
                        "file": str(path),
                        "text": result.text,
                        "words": [dataclasses.asdict(w) for w in result.words],
                        "engine": result.engine,
                        "model": result.model,
                        "seconds": round(seconds, 3),
                    }
                )
            else:
                click.echo(f"{path}: {result.text}")
    finally:
        recognizer.close()
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (when listing).")
@click.pass_context
def models(ctx: click.Context, as_json: bool = False) -> None:
    """Speech engines and models: list them (default) or download a vosk model."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list, as_json=as_json)
    elif as_json and ctx.invoked_subcommand != "list":
        raise UsageError(f"--json applies to listing, not to 'models {ctx.invoked_subcommand}'")


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_list(ctx: click.Context, as_json: bool = False) -> None:
    """Show installed engines, vosk models found, and what auto picks."""
    from voice_coach.stt.models import list_models

    infos = list_models()
    parent = ctx.parent.params.get("as_json", False) if ctx.parent else False
    if as_json or parent:
        click.echo(json.dumps([dataclasses.asdict(i) for i in infos], indent=2))
        return
    for info in infos:
        mark = "*" if info.auto else ("+" if info.available else "-")
        where = f" ({info.path})" if info.path else ""
        click.echo(f"{mark} {info.kind:<10} {info.name:<12} {info.detail}{where}")
    if not any(i.kind == "vosk-model" for i in infos):
        click.echo("no vosk model found: 'voice-coach models download small-en' gets one")


@models.command("download")
@click.argument("name")
@click.option("--url", "base_url", default=None,
              help="Base URL to download from (default: the vosk project, or "
                   "$VOICE_COACH_MODEL_URL).")
def models_download(name: str, base_url: str | None) -> None:
    """Download a vosk model (small-en, lgraph-en) or the smart-turn model into the home."""
    from voice_coach.stt.models import CATALOGUE, download_model

    if name == "smart-turn":
        from voice_coach.listening import turn_model

        click.echo(f"downloading {turn_model.WHEEL_REQUIREMENT} from PyPI (no dependencies) "
                   f"for its {turn_model.MODEL_FILE}", err=True)
        click.echo(f"installed smart-turn in {turn_model.download_model()}")
        return
    if name not in CATALOGUE:
        choices = ", ".join([*CATALOGUE, "smart-turn"])
        raise UsageError(f"unknown model {name!r}: choose one of {choices}")
    state = {"last": -1}

    def progress(done: int, total: int | None) -> None:
        # Percent steps (or whole megabytes) on stderr so stdout stays clean.
        step = done * 100 // total if total else done >> 20
        if step != state["last"]:
            state["last"] = step
            text = f"{step}%" if total else f"{step} MB"
            click.echo(f"\rdownloading {name}: {text}", nl=False, err=True)

    path = download_model(name, base_url=base_url, progress=progress)
    if state["last"] >= 0:
        click.echo("", err=True)
    click.echo(f"installed {name} in {path}")


_NO_DEVICE_HINT = "use -o out.wav to write the speech to a file instead"


def play(speech: Speech) -> None:
    """Play a clip on the default output device and wait until it ends."""
    if len(speech.samples) == 0:
        return
    from voice_coach.audio.devices import load_sounddevice

    try:
        sounddevice = load_sounddevice()
    except DeviceError as exc:  # "PortAudio library not found"
        raise DeviceError(f"cannot play audio ({exc}); {_NO_DEVICE_HINT}") from exc
    try:
        sounddevice.play(speech.samples, speech.rate)
        sounddevice.wait()
    except (sounddevice.PortAudioError, OSError) as exc:
        raise DeviceError(f"cannot play audio ({exc}); {_NO_DEVICE_HINT}") from exc


@click.command()
@click.argument("text")
@click.option(
    "--engine",
    default="espeak",
    show_default=True,
    metavar="NAME",
    help=f"Voice engine: {', '.join(engine_names())}.",
)
@click.option("--voice", default=None, help="Voice id or name part (espeak: en-us, english...).")
@click.option("--rate", type=click.IntRange(60, 450), default=None, help="Words a minute.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a WAV file instead of playing.",
)
def say(text: str, engine: str, voice: str | None, rate: int | None, output: Path | None) -> None:
    """Say TEXT with the interviewer's voice (handy to pick a voice and rate)."""
    speaker = create_speaker(engine, voice=voice, rate_wpm=rate)
    try:
        speech = speaker.synth(text)
    finally:
        speaker.close()
    if output is not None:
        # Same private mode (0600) as every other file voice-coach writes; chmod it to share.
        from voice_coach.audio.format import wav_bytes
        from voice_coach.fileio import write_output

        try:
            write_output(output, wav_bytes(speech.samples, speech.rate))
        except OSError as exc:
            raise StorageError(f"cannot write {output}: {exc.strerror or exc}") from exc
        click.echo(f"wrote {output} ({speech.seconds:.1f} s at {speech.rate} Hz)", err=True)
        return
    if len(speech.samples) == 0:
        click.echo(text)  # text-only engine: show the line instead
        return
    play(speech)



@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
def devices(as_json: bool) -> None:
    """List audio input and output devices; '*' marks the defaults."""
    found = list_devices()
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in found], indent=2))
        return
    for title, attr, default_attr in (
        ("Input devices", "inputs", "is_default_input"),
        ("Output devices", "outputs", "is_default_output"),
    ):
        rows = [d for d in found if getattr(d, attr) > 0]
        click.echo(f"{title}:")
        if not rows:
            click.echo("  (none)")
        for d in rows:
            mark = "*" if getattr(d, default_attr) else " "
            click.echo(
                f" {mark}{d.index:>3}  {d.name}  ({getattr(d, attr)} ch,"
                f" {d.default_samplerate:.0f} Hz" + (f", {d.hostapi})" if d.hostapi else ")")
            )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check speech engines, audio devices and folders; print how to fix each problem."""
    results = doctor_mod.run_checks()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "status": r.status.value,
                        "detail": r.detail,
                        "fix": r.fix,
                        "essential": r.essential,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        click.echo(doctor_mod.report(results))
    ctx.exit(doctor_mod.exit_code(results))


COMMANDS = (models, transcribe, say, devices, doctor)
