"""Spoken commands: ``practice`` (voice) and ``demo`` (the spoken pipeline with no microphone)."""

from __future__ import annotations

import concurrent.futures
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, resample
from voice_coach.interview.candidate import PAUSE_MARK, ScriptedCandidate, plain
from voice_coach.interview.scenario import Scenario
from voice_coach.interview.stages import Stage
from voice_coach.interview.text_session import SessionResult
from voice_coach.interview.voice_session import VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker

_LOGGER = logging.getLogger(__name__)

CANDIDATE_PAUSE = 1.0
"""Seconds of a ``[pause]`` in a scripted answer: a thinking pause that must not end it."""
CANDIDATE_REACTION = 0.4
"""Silence before the scripted candidate starts answering."""


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
        click.secho(f"== {title} ==", bold=True)

    def interviewer(self, text: str) -> None:
        """The interviewer's line."""
        self._clear()
        click.echo(f"{self.interviewer_name}: {text}")

    def listening(self, level: float, partial: str) -> None:
        """A one-line meter, redrawn in place (terminals only)."""
        if not self.tty:
            return
        width = shutil.get_terminal_size((80, 20)).columns
        bars = round(level * 10)
        line = f"  listening [{'#' * bars}{' ' * (10 - bars)}] {partial}"
        if len(line) > width - 1:
            line = line[: 22] + "..." + line[-(width - 27):]
        click.echo("\r\033[K" + line, nl=False)
        self._meter_shown = True

    def answer(self, text: str) -> None:
        """The final text of what the user said."""
        self._clear()
        click.echo(f"{self.name}: {text}")

    def note(self, text: str) -> None:
        """A side note."""
        self._clear()
        click.secho(text, dim=True)


@dataclass(frozen=True)
class EngineChoice:
    """Speech settings chosen on the command line."""

    engine: str = "auto"
    model: Path | None = None
    tts: str = "espeak"
    voice: str | None = None
    rate: int | None = None


def load_recognizer_async(choice: EngineChoice) -> concurrent.futures.Future[Recognizer]:
    """Start loading the recognizer in the background (it loads while the greeting plays)."""
    from voice_coach.stt.registry import create_recognizer

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt-load")
    future = pool.submit(create_recognizer, choice.engine, choice.model)
    pool.shutdown(wait=False)
    return future


def resolve_engine(choice: EngineChoice) -> str:
    """The engine that will run (fails fast, before any audio, when none is usable)."""
    from voice_coach.errors import EngineUnavailable
    from voice_coach.stt.registry import auto_choice, available_engines, choose_engine

    if choice.engine == "auto":
        return auto_choice(choice.model)[0]
    name = choose_engine(choice.engine, False, False, False)[0]
    status = {s.name: s for s in available_engines(choice.model)}[name]
    if not status.ready:
        raise EngineUnavailable(f"{name}: {status.detail} (see: voice-coach models)")
    return name


def candidate_audio(candidate: ScriptedCandidate, speaker: Speaker, text: str) -> Pcm:
    """Synthesise a scripted answer at 16 kHz, with its thinking pauses as silence."""
    pieces: list[Pcm] = [np.zeros(int(CANDIDATE_REACTION * SAMPLE_RATE), np.int16)]
    for i, part in enumerate(text.split(PAUSE_MARK)):
        if i:
            pieces.append(np.zeros(int(CANDIDATE_PAUSE * SAMPLE_RATE), np.int16))
        if part.strip():
            speech = speaker.synth(part.strip())
            pieces.append(trim_silence(resample(speech.samples, speech.rate)))
    return np.concatenate(pieces)


def trim_silence(samples: Pcm, threshold: int = 300) -> Pcm:
    """Cut a clip's leading and trailing silence (espeak-ng adds ~0.3 s), so pauses are exact."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


def run_demo(
    scenario: Scenario,
    candidate: ScriptedCandidate,
    choice: EngineChoice,
    fast: bool,
    seed: int | None,
    output_device: str | None,
    save_audio: bool = True,
    ui: TerminalVoiceUI | None = None,
    spoken_feedback: bool = False,
) -> SessionResult:
    """The whole spoken pipeline with a synthesised candidate instead of a microphone."""
    from voice_coach.audio.capture import PcmSource
    from voice_coach.audio.playback import NullPlayer, open_player
    from voice_coach.tts.registry import create_speaker

    engine = resolve_engine(choice)
    recognizer = load_recognizer_async(choice)
    speaker = create_speaker(choice.tts, choice.voice, choice.rate)
    voice_of_candidate = create_speaker("espeak", candidate.voice, 165)
    source = PcmSource(realtime=not fast)
    player = (NullPlayer(realtime=False, keep_clips=8) if fast
              else open_player(output_device))
    ui = ui or TerminalVoiceUI(scenario.interviewer, candidate.name)
    spoken_aloud = not isinstance(player, NullPlayer)
    if not spoken_aloud and save_audio:
        ui.note("(the interviewer's voice is saved in the session folder as prompt-NNN.wav)")

    def on_listen(stage: Stage | None, line: str) -> None:
        text = candidate.answer(stage, line)
        ui.note(f"  ({candidate.name} says: {plain(text)})")
        source.feed(candidate_audio(candidate, voice_of_candidate, text))

    options = VoiceOptions(
        name=candidate.name, seed=seed, save_audio=save_audio,
        save_interviewer_audio=save_audio and not spoken_aloud,
        mode="demo", spoken_feedback=spoken_feedback,
        meta={"engine": engine, "tts": choice.tts, "voice": choice.voice, "rate": choice.rate,
              "fast": fast},
    )
    session = VoiceSession(scenario, source, player, speaker, recognizer, SessionStore(), ui,
                           options, on_listen=on_listen)
    try:
        return session.run()
    finally:
        player.close()
        source.close()
