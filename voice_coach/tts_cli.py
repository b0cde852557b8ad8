"""The ``say`` command: speak a line with a chosen voice, or write it to a WAV file."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from voice_coach.audio.format import write_wav
from voice_coach.errors import DeviceError, StorageError
from voice_coach.tts.base import Speech
from voice_coach.tts.registry import create_speaker, engine_names

_LOGGER = logging.getLogger(__name__)

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
        try:
            write_wav(output, speech.samples, speech.rate)
        except OSError as exc:
            raise StorageError(f"cannot write {output}: {exc.strerror or exc}") from exc
        click.echo(f"wrote {output} ({speech.seconds:.1f} s at {speech.rate} Hz)")
        return
    if len(speech.samples) == 0:
        click.echo(text)  # text-only engine: show the line instead
        return
    play(speech)
