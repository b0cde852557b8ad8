"""One turn on disk: the interviewer's line and the user's answer, with audio and latency."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voice_coach.audio.format import Pcm, resample
from voice_coach.audio.playback import Playback
from voice_coach.errors import StorageError
from voice_coach.interview.controller import Prompt
from voice_coach.interview.language import Command
from voice_coach.interview.stages import Stage
from voice_coach.session.recorder import Recorder, words_to_json
from voice_coach.stt.base import Transcript
from voice_coach.tts.base import Speech


@dataclass
class Heard:
    """One utterance of the user, on the session timeline."""

    transcript: Transcript
    start: float
    end: float
    audio_start: float
    audio: Pcm
    endpoint_mono: float | None
    last_voice_mono: float | None
    timings: dict[str, float] = field(default_factory=dict)
    """Where the reply's latency goes, in seconds (see :func:`record_heard`)."""

    @property
    def text(self) -> str:
        """The recognised text."""
        return self.transcript.text.strip()


def record_prompt(rec: Recorder, prompt: Prompt, clips: list[Speech],
                  playbacks: list[Playback], audio_name: str | None) -> None:
    """Store a line the interviewer said: when it was heard, and its audio when named."""
    extra: dict[str, Any] = {}
    seconds = sum(c.seconds for c in clips)
    if playbacks:
        first = playbacks[0].first_sample_at or time.monotonic()
        start = rec.now() - max(0.0, time.monotonic() - first)
        extra["speech_start"] = round(start, 3)
        extra["speech_end"] = round(start + seconds, 3)
    if audio_name is not None and clips and seconds > 0:
        audio = np.concatenate([resample(c.samples, c.rate) for c in clips])
        rec.writer.write_audio(audio_name, audio)
        extra["audio"] = audio_name
    rec.event(prompt, **extra)


def record_heard(rec: Recorder, heard: Heard, stage: Stage | None, command: Command | None,
                 reply: Playback | None, save_audio: bool) -> None:
    """Store what the user said (a command, or an answer with words, audio and latency)."""
    if command is not None:
        rec.command(stage, command, heard.text, heard.start, heard.end)
        return
    extra: dict[str, Any] = {"engine": heard.transcript.engine}
    if heard.transcript.words:
        extra["words"] = words_to_json(heard.transcript.words, heard.audio_start)
    audio_error: StorageError | None = None
    if save_audio and len(heard.audio):
        name = f"answer-{rec.answers + 1:03d}.wav"
        try:
            rec.writer.write_audio(name, heard.audio)
            extra["audio"] = name
            extra["audio_start"] = round(heard.audio_start, 3)
        except StorageError as exc:
            # Keep the words of this turn even when its audio cannot be saved.
            audio_error = exc
    if reply is not None and reply.first_sample_at and heard.endpoint_mono:
        latency = {"from_endpoint": round(reply.first_sample_at - heard.endpoint_mono, 3)}
        if heard.last_voice_mono is not None:
            latency["from_voice"] = round(reply.first_sample_at - heard.last_voice_mono, 3)
        # The split: endpointing wait, recognition tail (finish), controller, synthesis
        # of the first sentence, and the wait for its first sample to reach the device.
        latency.update({k: round(v, 4) for k, v in heard.timings.items()})
        extra["latency"] = latency
    rec.answer(stage, heard.text, heard.start, heard.end, **extra)
    if audio_error is not None:
        raise audio_error
