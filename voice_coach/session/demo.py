"""The demo: a scripted candidate answers, typed or spoken through the whole voice pipeline."""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm, resample
from voice_coach.interview.candidate import PAUSE_MARK, ScriptedCandidate, plain
from voice_coach.interview.scenario import Scenario
from voice_coach.interview.stages import Stage
from voice_coach.session.engines import EngineChoice, start_engines
from voice_coach.session.text import SessionResult
from voice_coach.session.voice import QuietUI, VoiceOptions, VoiceSession, VoiceUI
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker

_LOGGER = logging.getLogger(__name__)

CANDIDATE_PAUSE = 1.0
"""Seconds of a ``[pause]`` in a scripted answer: a thinking pause that must not end it."""
CANDIDATE_REACTION = 0.4
"""Silence before the scripted candidate starts answering."""
CANDIDATE_RATE = 165
"""Words a minute the candidate speaks at."""


class AnswerDisplay(Protocol):
    """A text-session display that can also show an answer typed by someone else."""

    def heading(self, title: str) -> None:
        """Show a stage heading."""

    def interviewer(self, text: str) -> None:
        """Show an interviewer line."""

    def note(self, text: str) -> None:
        """Show a side note."""

    def answer(self, text: str) -> None:
        """Show the candidate's answer."""


class ScriptedUI:
    """A text-session UI whose answers come from a scripted candidate."""

    def __init__(self, display: AnswerDisplay, candidate: ScriptedCandidate) -> None:
        self.display = display
        self.candidate = candidate
        self.last_line = ""

    def heading(self, title: str) -> None:
        """Show a stage heading."""
        self.display.heading(title)

    def interviewer(self, text: str) -> None:
        """Show an interviewer line (and remember it, for the candidate)."""
        self.last_line = text
        self.display.interviewer(text)

    def note(self, text: str) -> None:
        """Show a side note."""
        self.display.note(text)

    def read_answer(self, stage: Stage | None) -> str | None:
        """The candidate's next answer for this stage."""
        text = plain(self.candidate.answer(stage, self.last_line))
        self.display.answer(text)
        return text


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


def candidate_speaker(candidate: ScriptedCandidate) -> Speaker:
    """The candidate's voice: piper's natural one when it is installed, else espeak-ng's.

    A recogniser hears a natural voice as it would a person: Moonshine wrote the scripted
    answers with 4 % WER in piper's voice and 11 % in espeak's, whose errors ("a big engineer",
    "fixed monsters") then showed in the demo's follow-ups and summary as if the product made
    them up."""
    from voice_coach.errors import EngineUnavailable
    from voice_coach.tts.registry import create_speaker

    try:
        return create_speaker("piper", None, CANDIDATE_RATE)
    except EngineUnavailable as exc:
        _LOGGER.info("the candidate speaks with espeak-ng: %s", exc)
        return create_speaker("espeak", candidate.voice, CANDIDATE_RATE)


def run_demo(
    scenario: Scenario,
    candidate: ScriptedCandidate,
    choice: EngineChoice,
    fast: bool,
    seed: int | None,
    output_device: str | None,
    save_audio: bool = True,
    ui: VoiceUI | None = None,
    spoken_feedback: bool = False,
) -> SessionResult:
    """The whole spoken pipeline with a synthesised candidate instead of a microphone."""
    from voice_coach.audio.capture import PcmSource
    from voice_coach.audio.playback import NullPlayer, open_player

    engines = start_engines(choice)
    voice_of_candidate = candidate_speaker(candidate)
    source = PcmSource(realtime=not fast)
    player = (NullPlayer(realtime=False, keep_clips=8) if fast
              else open_player(output_device))
    shown: VoiceUI = ui or QuietUI()
    spoken_aloud = not isinstance(player, NullPlayer)
    if not spoken_aloud and save_audio:
        shown.note("(the interviewer's voice is saved in the session folder as prompt-NNN.wav)")

    def on_listen(stage: Stage | None, line: str) -> None:
        text = candidate.answer(stage, line)
        shown.note(f"  ({candidate.name} says: {plain(text)})")
        source.feed(candidate_audio(candidate, voice_of_candidate, text))

    options = VoiceOptions(
        name=candidate.name, seed=seed, save_audio=save_audio,
        save_interviewer_audio=save_audio and not spoken_aloud,
        mode="demo", spoken_feedback=spoken_feedback, meta=engines.meta(fast=fast),
    )
    session = VoiceSession(scenario, source, player, engines.speaker, engines.recognizer,
                           SessionStore(), shown, options, on_listen=on_listen)
    try:
        return session.run()
    finally:
        player.close()
        source.close()
