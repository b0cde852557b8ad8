"""The spoken, hands-free interview: the one module that wires devices, engines and the store."""

from __future__ import annotations

import collections
import concurrent.futures
import copy
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from voice_coach.audio.capture import AudioSource
from voice_coach.audio.format import SAMPLE_RATE, AudioChunk, frames, resample
from voice_coach.audio.playback import AudioSink, Playback
from voice_coach.errors import CoachError, DeviceError, Interrupted, StorageError
from voice_coach.interview.controller import (
    Controller,
    EndReason,
    Prompt,
    PromptKind,
    StageStart,
    Step,
)
from voice_coach.interview.expectations import expected_words
from voice_coach.interview.language import Command, parse_command
from voice_coach.interview.scenario import Scenario
from voice_coach.interview.stages import Stage
from voice_coach.listening.echo import EchoGate, voice_short_of_echo_db
from voice_coach.listening.endpointer import (
    EndpointConfig,
    Endpointer,
    EndpointState,
    EventKind,
)
from voice_coach.listening.turn_model import TurnChecker, TurnModel, load_turn_model
from voice_coach.listening.vad import Vad, create_vad, level_meter
from voice_coach.session.clock import AudioClock, source_speed, wait_first_sample
from voice_coach.session.loading import Deferred
from voice_coach.session.patience import load_patience, save_patience
from voice_coach.session.recorder import Recorder
from voice_coach.session.second_look import (
    PROMPTED_LOOK_WORDS,
    SECOND_LOOK_ENGINES,
    SECOND_LOOK_WORDS,
    PromptedDecoder,
    SecondLook,
    load_prompted,
    needs_second_look,
)
from voice_coach.session.text import SessionResult
from voice_coach.session.turns import Heard, record_heard, record_prompt
from voice_coach.stt.base import Recognizer, Transcript
from voice_coach.transcripts.store import SessionStore
from voice_coach.tts.base import Speaker, Speech

_LOGGER = logging.getLogger(__name__)
_FULL_SCALE_DB = 20 * math.log10(32768)
"""``frame_level`` minus this is dBFS."""

THINKING_SECONDS: dict[Stage, float] = {
    Stage.GREETING: 3.5,
    Stage.ICEBREAKERS: 3.5,
    Stage.DISCUSSION: 3.5,
    Stage.YOUR_QUESTIONS: 3.5,
    Stage.WRAP_UP: 3.5,
}
"""Pause that ends an answer that still sounds unfinished: longer than the 3 s thinking pauses
people take in every stage (it costs nothing for an answer that sounds finished)."""

COMMAND_PAUSE = 0.8
"""Pause that ends an utterance whose words so far are a whole command, when the end-of-turn
model calls it unfinished (it is weak on one- or two-word commands); otherwise the neutral
pause (``EndpointConfig.end_silence``) applies."""

SILENT_TURNS_TO_PAUSE = 2
"""Turns in a row with nothing heard before the interviewer pauses by itself."""

THINKING_AFTER = 1.0
"""Seconds the recognition tail may take before the screen says "thinking..." and the
interviewer bridges with a short "Mm." (a frozen meter reads as a hang)."""

BRIDGE_TEXT = "Mm."
"""The bridge: synthesised once at the start, never stored as a prompt."""

PAUSED_HINT = "say 'resume' or 'let's continue' to go on, or 'end the interview' to stop"
PAUSED_NOTE = f"(paused: {PAUSED_HINT})"
"""What the screen says when the interview pauses: that it is paused, and what resumes it."""
PAUSED_STATUS = "(paused: say 'resume') "
"""Shown before the partial text on the listening meter for as long as the pause lasts."""

RATE_STEP = 30
"""Words a minute that "slower" / "faster" change the interviewer's speech rate by."""
DEFAULT_RATE = 175


class VoiceUI(Protocol):
    """What a spoken session shows on the terminal."""

    def heading(self, title: str) -> None:
        """A stage begins."""

    def interviewer(self, text: str) -> None:
        """The interviewer says a line."""

    def listening(self, level: float, partial: str) -> None:
        """Listening: the input level (0..1) and the partial transcript."""

    def answer(self, text: str) -> None:
        """The final text of an answer (or a command)."""

    def note(self, text: str) -> None:
        """A side note (paused, rate changed, model loading...)."""


class QuietUI:
    """A VoiceUI that shows nothing (benchmarks, batch runs)."""

    def heading(self, title: str) -> None:
        """Nothing."""

    def interviewer(self, text: str) -> None:
        """Nothing."""

    def listening(self, level: float, partial: str) -> None:
        """Nothing."""

    def answer(self, text: str) -> None:
        """Nothing."""

    def note(self, text: str) -> None:
        """Nothing."""


@dataclass(frozen=True)
class VoiceOptions:
    """Settings of one spoken session."""

    name: str = "friend"
    seed: int | None = None
    briefing: bool = False
    save_audio: bool = True
    save_interviewer_audio: bool = False
    mute_tail: float = 0.25
    """Seconds the microphone stays muted after the interviewer stops (room echo; none with
    headphones)."""
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    turn_model: bool = False
    """Ask the smart-turn audio model at pauses (when installed); off keeps tests exact."""
    prompted_look: bool = False
    """Decode a short utterance that was no command again with whisper tiny.en told the
    command words (when installed; see session/second_look.py); off keeps tests exact."""
    barge_in: bool = True
    """Keep listening while a reply plays: if the user goes on, stop and join the answer."""
    headphones: bool = False
    """No echo from the speaker into the microphone: no echo gate during replies."""
    measure_echo: bool = True
    """Measure the echo path (delay, coupling) on the first lines (the greeting), with the
    microphone open: the first reply is then gated where its echo really arrives, and a user
    who goes on over it is heard. (On one timeline the envelope match is strong here:
    r 0.92-0.99 at 90-120 ms on PulseAudio's virtual devices.)"""
    remember_patience: bool = False
    """Start from, and store, this user's learnt patience (``turn-taking.json`` in the home)."""
    vad: str = "auto"
    mode: str = "voice"
    partial_interval: float = 0.3
    spoken_feedback: bool = False
    """Say two or three sentences of coaching feedback after the closing line."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Extra fields for the session_start event (engine, voice, rate...)."""


ListenHook = Callable[[Stage | None, str], None]
"""Called when listening begins, with the stage and the interviewer's last line (the demo)."""


def _heard_end(playbacks: list[Playback]) -> float | None:
    """When the last of a line's clips left the speaker (None: not known)."""
    ends = [pb.ends_at for pb in playbacks if pb.ends_at is not None and not pb.stopped]
    return max(ends) if ends else None


def snapshot(controller: Controller) -> Controller | None:
    """The controller's conversation state, to go back to if the user goes on (barge-in).

    Its language engines (models, locks) are shared, not copied; its own state objects, the
    random generator and the lists it appends to are copied. None if that is not possible.
    """
    twin = copy.copy(controller)
    try:
        for name, value in vars(controller).items():
            if isinstance(value, list | set | dict):
                setattr(twin, name, copy.copy(value))
            elif isinstance(value, random.Random) or (
                    type(value).__module__ == type(controller).__module__):
                setattr(twin, name, copy.deepcopy(value))
    except (TypeError, copy.Error) as exc:
        _LOGGER.warning("no barge-in for this reply: %s", exc)
        return None
    return twin


class VoiceSession:
    """Runs one spoken interview; every finished turn is on disk as the reply starts.

    The greeting needs only the scenario and the voice: the recognizer, the VAD, the
    end-of-turn model and the language models start loading at the greeting's first sample
    (on two cores, loading sooner delayed it by seconds) and the first listen waits for them.
    """

    vad: Vad
    """Set by the first listen (``_ready``), once the background load is done."""

    def __init__(
        self,
        scenario: Scenario,
        source: AudioSource,
        player: AudioSink,
        speaker: Speaker,
        recognizer: Deferred[Recognizer] | concurrent.futures.Future[Recognizer] | Recognizer,
        store: SessionStore,
        ui: VoiceUI,
        options: VoiceOptions | None = None,
        on_listen: ListenHook | None = None,
    ) -> None:
        self.scenario = scenario
        self.source = source
        self.player = player
        self.speaker = speaker
        self._recognizer = recognizer
        self.store = store
        self.ui = ui
        self.options = options or VoiceOptions()
        self.on_listen = on_listen
        self.controller = Controller(scenario, name=self.options.name, seed=self.options.seed,
                                     briefing=self.options.briefing)
        self._analysing: concurrent.futures.ThreadPoolExecutor | None = None
        self._analysed = ""
        self.endpointer = Endpointer(self.options.endpoint)
        if self.options.remember_patience:
            load_patience(self.endpointer)
        self.echo: EchoGate | None = None if self.options.headphones else EchoGate()
        self._told_voice_under_echo = False
        self._listen_t0 = 0.0
        self._listen_mono0: float | None = None
        """Monotonic capture time of the answer's first frame (its stream time 0)."""
        self._listen_from = 0.0
        """Monotonic time the interviewer's last line (and its echo) ended: frames captured
        before it are no answer's, and the no-speech timeout counts from it."""
        self._refs_due: list[tuple[Playback, np.ndarray]] = []
        """Played clips (16 kHz) not yet given to the echo gate: their start is not known yet."""
        self._pending: tuple[Heard, Stage | None, Command | None] | None = None
        # Built in the background from the greeting's first sample (see _start_loading).
        self.turns = TurnChecker(None)
        # Not at a lower priority: on a busy machine (load 8-12) loads at nice +10 were still
        # running when the first answer came (the reply waited 0.8-1.6 s for the language
        # models), and what the first listen waits for must not starve.
        self._turn_model: Deferred[TurnModel | None] | None = (
            Deferred(load_turn_model, "turn-model") if self.options.turn_model else None)
        self._prompted: Deferred[PromptedDecoder | None] | None = (
            Deferred(load_prompted, "whisper-look") if self.options.prompted_look else None)
        self._looks: SecondLook | None = None
        vad_kind = self.options.vad
        self._vad: Deferred[Vad] = Deferred(lambda: create_vad(vad_kind), "vad")
        self._language: Deferred[None] = Deferred(self.controller.warm_up, "language")
        self._loading = False
        self._loaded = False
        self.recorder: Recorder | None = None
        # A source faster than real time gets a session timeline that follows the audio,
        # so timings, pace and replay mean the same as in a real-time session.
        self._audio_clock = AudioClock() if not getattr(source, "realtime", True) else None
        self._last_line = ""
        self._status = ""
        """Shown on the listening meter before the partial text (the pause)."""
        self._command_hint: Command | None = None
        self._command_hint_text = ""
        self._prompt_count = 0
        self._held: collections.deque[AudioChunk] = collections.deque()
        """Frames read while waiting for a slow recognition tail, in order: the next reader
        (the reply's barge-in watch, or the next answer) takes them first."""
        self._bridge: list[Speech] | None = None
        """Rendered while the first line plays, off the greeting's path (see _play_line)."""
        self._echo_until = 0.0
        """Monotonic time until which captured frames may hold the last line's echo (judged
        only once the echo path is learnt)."""
        self._bridge_echo_until = 0.0
        """Monotonic time until which captured frames may hold the bridge's echo (judged
        always: the bridge is too short to learn from)."""
        self._recent_voiced: collections.deque[bool] = collections.deque(maxlen=5)
        """Whether the user's voice was in each of the last frames watched during a reply."""
        self.bridges = 0
        """How many times the interviewer bridged a slow recognition tail."""
        self._echo_lessons = 0
        self.unsaid_replies = 0
        """Replies not started because the user went on before their first sample."""

    # --- the whole session ------------------------------------------------------------------

    def run(self) -> SessionResult:
        """Speak, listen, reply until the interview ends; map failures to a saved end reason."""
        opts = self.options
        writer = self.store.create(
            self.scenario.id, opts.name, mode=opts.mode, seed=self.controller.seed,
            clock=self._audio_clock.now if self._audio_clock else None,
            interviewer=self.scenario.interviewer, company=self.scenario.company, **opts.meta,
        )
        self.recorder = Recorder(writer)
        try:
            reason = self._loop()
        except KeyboardInterrupt:
            self._stop_audio()
            self._store_pending()
            self._end_quietly(EndReason.INTERRUPTED)
            raise Interrupted(
                f"interrupted; session {writer.id} saved in {writer.folder}") from None
        except (DeviceError, StorageError) as exc:
            self._stop_audio()
            self._store_pending()
            self._end_quietly(EndReason.ERROR, error=str(exc))
            raise type(exc)(f"{exc} (session {writer.id} saved in {writer.folder})") from None
        except CoachError as exc:
            self._stop_audio()
            self._end_quietly(EndReason.ERROR, error=str(exc))
            raise
        finally:
            self.turns.close()
            if self.options.remember_patience:
                save_patience(self.endpointer)
        if opts.spoken_feedback and self.recorder.answers:
            self._say_feedback()
        self.recorder.end(reason.value)
        return SessionResult(writer.id, reason, self.recorder.answers, str(writer.folder))

    def _say_feedback(self) -> None:
        from voice_coach.feedback.metrics import analyse
        from voice_coach.feedback.report import spoken_feedback

        assert self.recorder is not None
        text = spoken_feedback(analyse(self.store.load(self.recorder.session_id)))
        self._speak(Step(events=(Prompt(Stage.WRAP_UP, PromptKind.FEEDBACK, text),)))

    def _loop(self) -> EndReason:
        self._speak(self.controller.start())
        silent_turns = 0
        while not self.controller.finished:
            heard = self._listen()
            if heard is None:
                return EndReason.STOPPED  # the source ended (a scripted demo ran out)
            heard = self._second_look(heard)
            self._tell_voice_under_echo()
            stage = self.controller.stage
            silent_turns = silent_turns + 1 if not heard.text else 0
            if silent_turns >= SILENT_TURNS_TO_PAUSE:
                # Nobody is answering (stepped away?): wait instead of running on alone.
                silent_turns = 0
                self._pause(stage, "I'll pause here. Say 'resume' when you're ready.")
                continue
            command = parse_command(heard.text)
            if command is not None or not heard.text:
                self.endpointer.not_an_answer()  # a new user stays new until they answer
            if command in (Command.PAUSE, Command.SLOWER, Command.FASTER, Command.RESUME):
                self._meta_command(command, heard, stage)
                continue
            while True:
                # Kept to decide again if the user goes on while the reply plays (barge-in).
                before = snapshot(self.controller) if self._can_barge_in(heard) else None
                began = time.monotonic()
                step = self.controller.respond(heard.text)
                self.ui.answer(heard.text or "(no answer heard)")
                heard.timings["controller_s"] = time.monotonic() - began
                if not self._speak(step, pending=(heard, stage, step.command),
                                   watch=before is not None):
                    break
                assert before is not None
                self.controller = before  # the same answer goes on: decide on all of it
                resumed = self._listen(resume=True)
                if resumed is None:
                    return EndReason.STOPPED
                heard = resumed
        return self.controller.end_reason or EndReason.COMPLETED

    def _tell_voice_under_echo(self) -> None:
        """Through loudspeakers, say once when the user's voice is too quiet to be heard over
        the interviewer's echo: whatever they say while it speaks is then lost (live, a reader
        whose voice came to the microphone 5 dB over the echo lost a sentence she went on
        with under the reply)."""
        if self.echo is None or self._told_voice_under_echo:
            return
        voice = self.endpointer.voice_level
        voice_dbfs = None if voice is None else voice - _FULL_SCALE_DB
        echo = self.echo.echo_dbfs()
        _LOGGER.debug("voice %s dBFS, the interviewer's echo %s dBFS", voice_dbfs, echo)
        short = voice_short_of_echo_db(voice_dbfs, echo, self.echo.settings.margin_db)
        if short is None:
            return
        self._told_voice_under_echo = True
        _LOGGER.info("the user's voice is %.1f dB short of being heard over the interviewer's "
                     "echo", short)
        self.ui.note("(while the interviewer talks, your voice is too quiet to be heard over "
                     "its sound from the speaker: turn the speaker down, come closer to the "
                     "microphone, or use headphones with --headphones)")

    def _can_barge_in(self, heard: Heard) -> bool:
        """Whether the reply to this answer is spoken with the microphone open."""
        ep = self.endpointer
        # A source faster than real time has no "meanwhile": its audio does not wait for us.
        realtime = getattr(self.source, "realtime", True) and source_speed(self.source) <= 1.0
        return (self.options.barge_in and realtime and bool(heard.text)
                and ep.speech_start is not None and ep.state is EndpointState.ENDED)

    # --- speaking ---------------------------------------------------------------------------

    def _speak(self, step: Step,
               pending: tuple[Heard, Stage | None, Command | None] | None = None,
               watch: bool = False) -> bool:
        """Say a step's lines; the pending answer is stored the moment the reply starts.

        With ``watch`` the microphone stays open: the answer is stored once the reply has
        played, and if the user goes on meanwhile (barge-in) the reply stops and nothing of
        this step is stored: returns True, and the answer continues.
        """
        # The first lines said with loudspeakers measure the echo path (delay, coupling):
        # the microphone stays open, and what it hears is compared with what was played.
        learn = (not watch and self.options.measure_echo
                 and self.echo is not None and self.echo.delay is None
                 and getattr(self.source, "realtime", True) and source_speed(self.source) <= 1.0
                 and self._echo_lessons < 2)
        if not watch and not learn:
            self.source.mute()
        said: list[tuple[Prompt, list[Speech], list[Playback]]] = []
        reply: Playback | None = None
        self._pending = pending if watch else None
        try:
            deferred: list[StageStart] = []
            for event in step.events:
                if isinstance(event, StageStart):
                    # A stage change after an answer is stored after that answer.
                    if pending is None:
                        self._enter_stage(event)
                    else:
                        deferred.append(event)
                    continue
                if watch and not said and self._went_on_before_reply():
                    self.ui.note("(go on)")
                    return True
                clips, playbacks = self._play_line(
                    event, pending[0].timings if pending is not None else None)
                if pending is not None and not watch:
                    self._store_heard(*pending, playbacks[0] if playbacks else None)
                    pending = None
                    for stage_start in deferred:
                        self._enter_stage(stage_start)
                self.ui.interviewer(event.text)
                if watch:
                    reply = reply or (playbacks[0] if playbacks else None)
                    said.append((event, clips, playbacks))
                    if self._watch_reply(clips, playbacks):
                        self.ui.note("(go on)")
                        return True
                else:
                    self._record_prompt(event, clips, playbacks)
                    if learn:
                        self._learn_echo(clips, playbacks)
                    else:
                        self.player.wait()
                self._last_line = event.text
                if self._audio_clock is not None:
                    self._audio_clock.advance(sum(c.seconds for c in clips))
            if watch and said and self._watch_tail(_heard_end(said[-1][2])):
                self.ui.note("(go on)")
                return True
            if pending is not None:  # nothing to say back, or the reply was listened through
                self._store_heard(*pending, reply)
                self._pending = None
                for stage_start in deferred:
                    self._enter_stage(stage_start)
            for prompt, clips, playbacks in said:
                self._record_prompt(prompt, clips, playbacks)
        finally:
            if not watch:
                self._listen_from = time.monotonic() + self._echo_tail()
            if not watch and not learn:
                self.source.unmute(self._echo_tail())
        return False

    def _echo_tail(self) -> float:
        """How long after the interviewer stops its echo can still arrive."""
        echo = self.echo
        if echo is None:
            # Headphones: no room echo, and the line ends where the player says it does; a
            # quarter second more muted cut the first syllable of an answer begun at once.
            return 0.0
        if echo.delay is None:
            return self.options.mute_tail
        return max(self.options.mute_tail, echo.delay + echo.settings.tolerance + 0.1)

    def _learn_echo(self, clips: list[Speech], playbacks: list[Playback]) -> None:
        """Play a line with the microphone open, and measure the echo path from it.

        What the microphone hears meanwhile is kept for the next answer, in order (frames
        from before the line and its echo ended are then no answer's, as with a muted line).
        """
        echo = self.echo
        assert echo is not None
        self._echo_lessons += 1
        if not playbacks:
            return
        self._echo_reference(echo, clips, playbacks)
        # Until the echo of the line's end can have arrived (a generous 0.5 s: the match
        # itself looks for delays up to max_search within what was heard during the line).
        until: float | None = None
        while True:
            self._feed_references()
            if until is None and not self.player.playing:
                until = time.monotonic() + 0.5
            chunk = self.source.read(timeout=0.03)
            if chunk is not None:
                self._held.append(chunk)
                at = self._frame_time(chunk)
                if until is not None and at >= until:
                    break
                echo.observe(chunk.samples, at)
            elif getattr(self.source, "finished", False) or (
                    until is not None and time.monotonic() > until + 1.0):
                break
        delay = echo.estimate_delay()
        _LOGGER.info("echo path: delay %s, coupling %s dB",
                     "unknown" if delay is None else f"{delay * 1000:.0f} ms", echo.coupling_db)

    def _store_pending(self) -> None:
        """A failure while a reply plays: the answer it replies to is stored all the same."""
        if self._pending is not None and self.recorder is not None:
            pending, self._pending = self._pending, None
            try:
                self._store_heard(*pending, None)
            except CoachError as exc:
                _LOGGER.debug("storing the pending answer: %s", exc)

    def _frame_time(self, chunk: AudioChunk) -> float:
        """Monotonic time a captured frame was spoken: the source's capture timeline.

        (A source that does not know, e.g. one faster than real time, is taken as read at once.)
        """
        return chunk.at if chunk.at is not None else time.monotonic() - chunk.seconds

    def _session_time(self, mono: float) -> float:
        """Session time of monotonic time ``mono`` (in the past)."""
        assert self.recorder is not None
        return self.recorder.now() - max(0.0, time.monotonic() - mono)

    def _echo_reference(self, echo: EchoGate, clips: list[Speech],
                        playbacks: list[Playback]) -> None:
        """Tell the echo gate a line starts: each clip is given when it is heard."""
        wait_first_sample(playbacks[0])
        start = playbacks[0].audible_at or playbacks[0].first_sample_at or time.monotonic()
        echo.start_reply(start)
        sounding = [c for c in clips if len(c.samples)]
        self._refs_due = [(pb, resample(c.samples, c.rate))
                          for c, pb in zip(sounding, playbacks, strict=False)]
        self._feed_references()

    def _feed_references(self) -> None:
        """Give the echo gate the clips whose first sample reached the device."""
        if self.echo is None or not self._refs_due:
            return
        due = []
        for pb, pcm in self._refs_due:
            start = pb.audible_at or pb.first_sample_at
            if start is not None:
                # Each clip from its own start: a slow synthesis leaves gaps between sentences.
                self.echo.add_reference(start, pcm)
            elif not pb.stopped:
                due.append((pb, pcm))
        self._refs_due = due

    def _watch_reply(self, clips: list[Speech], playbacks: list[Playback]) -> bool:
        """Listen while a line plays; True (and the line stopped) when the user goes on."""
        if self.echo is not None and playbacks:
            self._echo_reference(self.echo, clips, playbacks)
        self._recent_voiced.clear()
        while True:
            self._feed_references()
            if not self.player.playing:
                return False
            chunk = self._read(timeout=0.03)
            if chunk is not None:
                if self._watch_frame(chunk):
                    return True
            elif getattr(self.source, "finished", False):
                self.player.wait()
                return False

    def _went_on(self, chunk: AudioChunk) -> bool:
        """Give a frame heard after the endpoint to the endpointer; True on a barge-in."""
        frame, at = chunk.samples, self._frame_time(chunk)
        voiced = self.vad.is_speech(frame)
        excess = None if self.echo is None else self.echo.excess_db(frame, at)
        if voiced and self.echo is not None:
            voiced = self.echo.is_user(frame, at)
        events = self.endpointer.process(frame, voiced, excess)
        return any(e.kind is EventKind.BARGE_IN for e in events)

    def _went_on_before_reply(self) -> bool:
        """Read what the microphone heard since the endpoint (recognition, the controller and
        synthesis took that long); True if the user went on: the reply is not started at all,
        so a pause the endpointer took for the end costs the user nothing audible."""
        while True:
            chunk = self._read(timeout=0.0)
            if chunk is None:
                return False
            if self._went_on(chunk):
                _LOGGER.info("the user went on before the reply started: saying nothing")
                self.unsaid_replies += 1
                return True

    def _watch_tail(self, heard_end: float | None = None) -> bool:
        """The reply was played: judge every frame captured until its echo has died away.

        The frames are judged in capture order, however late they are read (a busy machine):
        a user who went on over the reply is heard even when the reply has already ended.
        The first frame past the echo is kept for the next answer. True on a barge-in.

        ``heard_end``: when the reply's last sample left the speaker. With headphones, a user
        silent then who speaks after it answers the question just asked: from that frame on,
        everything is kept for the next answer. (With loudspeakers the tail is judged as
        before: a user talking over the line can be taken for its echo until it ends, and
        would then look like one who starts afresh: an e2e run saw that split an answer.)
        """
        until = time.monotonic() + self._echo_tail()
        self._listen_from = until
        if not getattr(self.source, "realtime", True):
            return False
        # Headphones only: there the line's end is where the player says it is.
        answers_from = heard_end if self.echo is None else None
        while True:
            chunk = self._read(timeout=0.05)
            if chunk is None:
                if getattr(self.source, "finished", False) or time.monotonic() > until + 1.0:
                    break
                continue
            at = self._frame_time(chunk)
            if at >= until:
                self._held.appendleft(chunk)
                break
            if answers_from is not None and at >= answers_from and not any(self._recent_voiced):
                # 120 ms of a quick answer here once counted as the last answer going on:
                # the two were joined, and the question, said in full, was dropped.
                self._held.appendleft(chunk)
                self._listen_from = answers_from
                break
            if self._watch_frame(chunk):
                return True
        echo = self.echo
        if echo is not None:
            # The user listened through the line: what came back measures the echo path.
            delay = echo.estimate_delay()
            # Echo may still arrive after the line and its measured tail: judge it while
            # the answer starts (a wide window while the delay is unknown).
            self._echo_until = max(self._echo_until, time.monotonic() + (
                self._echo_tail() if delay is not None else echo.settings.max_delay))
        return False

    def _watch_frame(self, chunk: AudioChunk) -> bool:
        """One frame captured while the reply (or its echo) sounds; True on a barge-in."""
        ep, echo = self.endpointer, self.echo
        frame, at = chunk.samples, self._frame_time(chunk)
        voiced = self.vad.is_speech(frame)
        excess = None
        if echo is not None:
            echo.observe(frame, at)
            excess = echo.excess_db(frame, at)
            if voiced:
                voiced = echo.is_user(frame, at)
        self._recent_voiced.append(voiced)
        if not any(e.kind is EventKind.BARGE_IN for e in ep.process(frame, voiced, excess)):
            return False
        if echo is not None:
            echo.forget_observed()
        stopped_at = time.monotonic()
        self.player.stop()
        _LOGGER.info("barge-in: the reply stopped after %.0f ms; the frame was read %.3f s "
                     "after it was captured", (time.monotonic() - stopped_at) * 1000,
                     time.monotonic() - self._frame_time(chunk))
        if echo is not None:
            # (What was buffered is thrown away: the line is silent from now on.)
            echo.stop_reference(time.monotonic())
            level, ref, into = echo.last
            _LOGGER.info("echo gate: mic %.1f dBFS, reference %.1f dBFS, coupling %s dB, "
                         "%.2f s into the line", level, ref, echo.coupling_db, into)
        return True

    def _enter_stage(self, event: StageStart) -> None:
        assert self.recorder is not None
        self.recorder.event(event)
        self.ui.heading(event.title)

    def _play_line(self, prompt: Prompt, timings: dict[str, float] | None = None,
                   ) -> tuple[list[Speech], list[Playback]]:
        """Synthesise sentence by sentence; the first plays while the rest are made.

        ``timings`` (an answer's) gets the synthesis time of the first sentence and the wait
        for its first sample to reach the device.
        """
        clips: list[Speech] = []
        playbacks: list[Playback] = []
        began = time.monotonic()
        for speech in self.speaker.synth_sentences(prompt.text):
            clips.append(speech)
            if len(speech.samples):
                queued = time.monotonic()
                pb = self.player.play(speech.samples, speech.rate)
                playbacks.append(pb)
                if len(playbacks) == 1:
                    wait_first_sample(pb)
                    self._start_loading()  # the greeting is audible: now the models load
                    if timings is not None:
                        timings["synth_s"] = queued - began
                        first = pb.first_sample_at or time.monotonic()
                        timings["playback_start_s"] = max(0.0, first - queued)
        if self._bridge is None:
            # The first line is queued and plays on: render the bridge on this thread (a
            # speaker need not be thread-safe) while it does, not before the greeting.
            self._bridge = self._render_bridge()
        return clips, playbacks

    def _record_prompt(self, prompt: Prompt, clips: list[Speech],
                       playbacks: list[Playback]) -> None:
        assert self.recorder is not None
        self._prompt_count += 1
        save = self.options.save_interviewer_audio
        record_prompt(self.recorder, prompt, clips, playbacks,
                      f"prompt-{self._prompt_count:03d}.wav" if save else None)

    def _store_heard(self, heard: Heard, stage: Stage | None, command: Command | None,
                     reply: Playback | None) -> None:
        assert self.recorder is not None
        record_heard(self.recorder, heard, stage, command, reply, self.options.save_audio)

    # --- listening --------------------------------------------------------------------------

    def _start_loading(self) -> None:
        """Start the background loads (at most once): the first line is playing."""
        if self._loading:
            return
        self._loading = True
        self._language.start()
        if isinstance(self._recognizer, Deferred):
            self._recognizer.start()
        self._vad.start()
        if self._turn_model is not None:
            self._turn_model.start()

    def _ready(self) -> None:
        """Wait for what listening needs (the first time); a load's error is raised here."""
        if self._loaded:
            return
        self._start_loading()
        recognizer = self.recognizer()
        if self._prompted is not None and recognizer.name in SECOND_LOOK_ENGINES:
            # Whisper for second looks loads during the first answer: loaded beside the
            # recogniser, it would delay the first listen.
            self._prompted.start()
        self.vad = self._vad.result()
        if self._turn_model is not None:
            self.turns = TurnChecker(self._turn_model.result())
            self.endpointer.use_turn_model(self.turns.enabled)
        self._loaded = True
        _LOGGER.debug("ready to listen (recognizer %s, VAD %s, turn model %s)",
                      recognizer.name, self.vad.name, self.turns.enabled)

    def recognizer(self) -> Recognizer:
        """The recognizer, waiting for the background load the first time."""
        if isinstance(self._recognizer, Deferred | concurrent.futures.Future):
            if not self._recognizer.done():
                self.ui.note("(loading the speech model...)")
            self._recognizer = self._recognizer.result()
        return self._recognizer

    def _prepare(self, text: str) -> None:
        """Let the controller analyse the answer so far while the endpoint wait runs."""
        if text == self._analysed:
            return
        self._analysed = text
        if self._analysing is None:
            self._analysing = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="analyse")
        self._analysing.submit(self.controller.prepare, text)

    def _listen(self, resume: bool = False) -> Heard | None:
        """Wait for one answer: endpointing, streaming recognition; None if the source ended.

        ``resume``: the user went on after the endpoint (barge-in): the same answer continues,
        on the same timeline, and is recognised again as a whole.
        """
        rec = self.recorder
        assert rec is not None
        waited_from = time.monotonic()
        self._ready()
        recognizer = self.recognizer()
        # A load still running when the line ended ("loading the speech model..."): the
        # user was told to wait, so the no-speech timeout counts from when listening began.
        ready_at = time.monotonic() if time.monotonic() - waited_from > 0.2 else None
        ep, vad = self.endpointer, self.vad
        if resume:
            recognizer.start()
            for f in frames(ep.utterance(), pad=False):
                recognizer.accept(f)
            t0 = self._listen_t0
        else:
            if self.on_listen is not None:
                self.on_listen(self.controller.stage, self._last_line)
            ep.reset()
            stage = self.controller.stage or Stage.GREETING
            ep.expect(self._expected_words(), THINKING_SECONDS.get(stage))
            self._command_hint, self._command_hint_text = None, ""
            vad.reset()
            recognizer.start()
            t0 = self._listen_t0 = rec.now()
            self._listen_mono0 = None
        if resume:
            _LOGGER.info("the answer goes on (stage %s): listening again", self.controller.stage)
        else:
            _LOGGER.info("listening for an answer (stage %s)", self.controller.stage)
        speaking = resume
        next_partial = 0.0
        endpoint_mono: float | None = None
        fresh = not resume
        while True:
            chunk = self._read(timeout=0.2)
            if chunk is None:
                if getattr(self.source, "finished", False):
                    if not speaking:
                        return None
                    endpoint_mono = time.monotonic()  # the audio ended: so did the answer
                    break
                continue
            if fresh and chunk.at is not None:
                if chunk.at + chunk.seconds <= self._listen_from:
                    continue  # captured while the question (or its echo) was still playing
                if self._audio_clock is None:
                    # The answer's timeline starts where its first frame was spoken, however
                    # late it is read: a slow decode does not move it.
                    t0 = self._listen_t0 = self._session_time(chunk.at)
                    self._listen_mono0 = chunk.at
                if ready_at is not None:
                    ep.restart_no_speech_timer(max(0.0, ready_at - chunk.at))
            fresh = False
            frame = chunk.samples
            is_speech = vad.is_speech(frame)
            if self.echo is not None and is_speech:
                at = self._frame_time(chunk)
                if (at < self._echo_until and self.echo.learnt) or at < self._bridge_echo_until:
                    # The echo of the last line (or of the bridge) is still arriving. An
                    # unlearnt path is judged only near the bridge: there the gate takes the
                    # echo as loud as what was played, which a voice at a normal level never
                    # beats, and once that window also covered every line after a bridge,
                    # each answer's first second was taken for echo and lost.
                    is_speech = self.echo.is_user(frame, at)
            events = ep.process(frame, is_speech)
            self.turns.handle(ep, events)
            kinds = {e.kind for e in events}
            if EventKind.SPEECH_START in kinds:
                speaking = True
                for f in frames(ep.utterance(), pad=False):
                    recognizer.accept(f)
            elif speaking:
                recognizer.accept(frame)
            if EventKind.SILENCE_START in kinds:
                recognizer.prepare_tail()
            if EventKind.ENDPOINT in kinds or EventKind.NO_SPEECH in kinds:
                endpoint_mono = time.monotonic()
                if self._audio_clock is not None:
                    self._audio_clock.set(t0 + ep.now)
                break
            # While the user pauses, check every frame: a finished transcript shortens the wait.
            if ep.now >= next_partial or ep.state is EndpointState.STOPPING:
                # Asked before the text: a decode that lands in between is then in the text.
                decoding = speaking and recognizer.decoding
                partial = recognizer.partial() if speaking else ""
                ep.set_hint(partial, decoding)
                self._expect_command(partial)
                if ep.state is EndpointState.STOPPING and partial:
                    self._prepare(partial)
                if ep.now >= next_partial:
                    next_partial = ep.now + self.options.partial_interval
                    self.ui.listening(level_meter(frame), self._status + partial)
        if not speaking:
            recognizer.finish()
            _LOGGER.info("no speech in this turn (stage %s)", self.controller.stage)
            return Heard(Transcript("", engine=recognizer.name), t0 + ep.now, t0 + ep.now,
                         t0 + ep.now, np.zeros(0, np.int16), None, None)
        finish_began = time.monotonic()
        timings: dict[str, float] = {}
        transcript = self._finish_tail(recognizer, finish_began, timings)
        tail_s = time.monotonic() - finish_began
        timings.update(getattr(recognizer, "last_tail", {}))  # where the tail went, if known
        speech_start = ep.speech_start or 0.0
        last_voice = ep.last_voice_time if ep.last_voice_time is not None else ep.now
        utt_start = ep.utterance_start or 0.0
        if self._listen_mono0 is not None:
            last_voice_mono = self._listen_mono0 + last_voice  # on the capture timeline
        else:
            # Stream time runs with the audio; the last voiced frame was (now - last_voice) ago.
            last_voice_mono = endpoint_mono - (ep.now - last_voice) / source_speed(self.source)
        timings.update({"endpoint_s": ep.now - last_voice, "tail_s": tail_s,
                        "silence_needed_s": ep.silence_needed()})
        return Heard(transcript, t0 + speech_start, t0 + last_voice, t0 + utt_start,
                     ep.utterance(), endpoint_mono, last_voice_mono, timings)

    def _expect_command(self, partial: str) -> None:
        """A pause after a whole command ("pause", "slower, please") ends it quickly.

        A command is short for any question, so the stage's long thinking wait would keep
        the user waiting ~3 s after "pause"; it gets the short wait instead (and the stage's
        wait comes back if the words go on and stop being a command).
        """
        if partial == self._command_hint_text:
            return
        self._command_hint_text = partial
        command = parse_command(partial) if partial else None
        if (command is None) == (self._command_hint is None):
            return
        self._command_hint = command
        if command is not None:
            self.endpointer.expect(0, COMMAND_PAUSE, command=True)
        else:
            stage = self.controller.stage or Stage.GREETING
            self.endpointer.expect(self._expected_words(), THINKING_SECONDS.get(stage))

    def _expected_words(self) -> int:
        """Words an answer to the last line should have before it may sound finished."""
        return expected_words(self._last_line, self.controller.stage or Stage.GREETING)

    def _read(self, timeout: float) -> AudioChunk | None:
        """The next captured frame: those held during a slow tail first, in order."""
        if self._held:
            return self._held.popleft()
        return self.source.read(timeout=timeout)

    def _finish_tail(self, recognizer: Recognizer, began: float,
                     timings: dict[str, float]) -> Transcript:
        """End the utterance; past ``THINKING_AFTER`` s say "thinking..." and bridge ("Mm.").

        The microphone is read meanwhile (a real-time source): the frames are held, in order,
        for whatever listens next, so speech during the wait is neither lost nor given to the
        wrong turn, and the sound device's queue does not overflow.
        """
        future = recognizer.finish_async()
        try:
            return future.result(timeout=THINKING_AFTER)
        except concurrent.futures.TimeoutError:
            pass
        self.ui.note("thinking...")
        self._play_bridge()
        timings["bridge_s"] = time.monotonic() - began
        _LOGGER.info("bridge: the recognition tail took over %.1f s (\"%s\" said, not stored)",
                     THINKING_AFTER, BRIDGE_TEXT)
        realtime = getattr(self.source, "realtime", True)
        while realtime and not future.done():
            try:
                chunk = self.source.read(timeout=0.03)
            except CoachError:
                break  # the device failed: the next reader reports it
            if chunk is not None:
                self._held.append(chunk)
            elif getattr(self.source, "finished", False):
                break
        return future.result()

    def _render_bridge(self) -> list[Speech]:
        """Synthesise the bridge once (a failure means no bridge, not a failed session)."""
        try:
            return [s for s in self.speaker.synth_sentences(BRIDGE_TEXT) if len(s.samples)]
        except CoachError as exc:
            _LOGGER.warning("no bridge for slow recognition: %s", exc)
            return []

    def _play_bridge(self) -> None:
        """Play the pre-rendered "Mm." with the microphone open; its echo is gated."""
        if self._bridge is None:  # no line was said yet (never in a session): render it now
            self._bridge = self._render_bridge()
        if not self._bridge:
            return
        self.bridges += 1
        playbacks = [self.player.play(c.samples, c.rate) for c in self._bridge]
        seconds = sum(c.seconds for c in self._bridge)
        # (A source faster than real time has no timeline shared with the speaker to gate.)
        if self.echo is not None and playbacks and getattr(self.source, "realtime", True):
            wait_first_sample(playbacks[0])
            start = playbacks[0].audible_at or playbacks[0].first_sample_at or time.monotonic()
            self.echo.start_reply(start, learn=False)
            t = start
            for clip in self._bridge:
                self.echo.add_reference(t, resample(clip.samples, clip.rate))
                t += clip.seconds
            self._bridge_echo_until = t + self.echo.settings.max_delay
        if self._audio_clock is not None:
            self._audio_clock.advance(seconds)

    # --- hands-free commands that steer the session, not the conversation -------------------

    def _meta_command(self, command: Command, heard: Heard, stage: Stage | None) -> None:
        rec = self.recorder
        assert rec is not None
        self.ui.answer(heard.text)
        if command is Command.RESUME:
            self._store_heard(heard, stage, command, None)
            self.ui.note("(not paused: answer when you're ready, or say 'repeat that')")
            return
        if command is Command.PAUSE:
            self._store_heard(heard, stage, command, None)
            self._pause(stage, "Okay, paused. Say 'resume' when you're ready.")
            return
        current = self.speaker.rate_wpm or DEFAULT_RATE
        delta = -RATE_STEP if command is Command.SLOWER else RATE_STEP
        new_rate = max(80, min(400, current + delta))
        self.speaker.set_rate(new_rate)
        self._store_heard(heard, stage, command, None)
        self.ui.note(f"(speech rate {new_rate} words a minute)")
        self._say_aside("Sure, I'll speak more slowly." if delta < 0 else "Sure, a bit faster.")
        self._speak(self.controller.repeat_last())

    def _second_look(self, heard: Heard, likely: Command | None = None) -> Heard:
        """A short utterance that is no command, decoded again (see session/second_look.py):
        whisper told the command words, or other margins of silence ("pause" heard as "Oz,").

        Short real answers ("No.", "Jane.") stay answers. The ``likely`` command (resuming,
        while paused: nothing else acts then) needs less agreement.
        """
        text = heard.text
        recognizer = self.recognizer()
        if recognizer.name not in SECOND_LOOK_ENGINES or not len(heard.audio):
            return heard
        # Cheap checks first: most answers are long, and must not wait for whisper's load.
        widest = PROMPTED_LOOK_WORDS if self._prompted is not None else SECOND_LOOK_WORDS
        if not needs_second_look(text, heard.end - heard.start, widest):
            return heard
        if self._looks is None:
            prompted = None
            if self._prompted is not None:
                prompted = self._prompted.result()
            self._looks = SecondLook(lambda clip: recognizer.transcribe(clip).text, prompted)
        if not needs_second_look(text, heard.end - heard.start, self._looks.max_words):
            return heard
        first = max(0, round((heard.start - heard.audio_start) * SAMPLE_RATE))
        last = round((heard.end - heard.audio_start) * SAMPLE_RATE)
        verdict = self._looks.look(heard.audio, first, last, likely, heard=text)
        _LOGGER.info("second look at %r: %s (%s)", text,
                     f"{verdict.command} by {verdict.by}" if verdict else "no command",
                     self._looks.last)
        if verdict is None:
            return heard
        transcript = Transcript(verdict.text, engine=heard.transcript.engine,
                                model=heard.transcript.model,
                                extra={**heard.transcript.extra, "first_heard": text,
                                       "second_look": verdict.by})
        return dataclasses.replace(heard, transcript=transcript)

    def _pause(self, stage: Stage | None, announcement: str) -> None:
        """Wait for "resume" (or "end the interview"); nothing else acts while paused."""
        self._say_aside(announcement)
        self.ui.note(PAUSED_NOTE)
        self._status = PAUSED_STATUS
        try:
            while True:
                again = self._listen()
                if again is None:
                    return
                again = self._second_look(again, likely=Command.RESUME)
                self.endpointer.not_an_answer()  # what is said while paused is no answer
                command = parse_command(again.text)
                if command is Command.RESUME:
                    self.ui.answer(again.text)
                    self._store_heard(again, stage, Command.RESUME, None)
                    break
                if command is Command.END:
                    self.ui.answer(again.text)
                    self._status = ""
                    self._speak(self.controller.respond(again.text),
                                pending=(again, stage, Command.END))
                    return
                if again.text:
                    # Heard, and shown, but it does nothing: the user sees why.
                    self.ui.note(f"(paused; heard \"{again.text}\") - {PAUSED_HINT}")
        finally:
            self._status = ""
        self._say_aside("Welcome back.")
        self._speak(self.controller.repeat_last())

    def _say_aside(self, text: str) -> None:
        """Say something outside the conversation (shown, not recorded as a prompt)."""
        self.ui.interviewer(text)
        self.source.mute()
        try:
            seconds = 0.0
            for speech in self.speaker.synth_sentences(text):
                if len(speech.samples):
                    self.player.play(speech.samples, speech.rate)
                    seconds += speech.seconds
            self.player.wait()
            if self._audio_clock is not None:
                self._audio_clock.advance(seconds)
        finally:
            tail = self._echo_tail()
            self._listen_from = time.monotonic() + tail
            self.source.unmute(tail)

    # --- failure paths ----------------------------------------------------------------------

    def _stop_audio(self) -> None:
        try:
            self.player.stop()
        except Exception as exc:
            _LOGGER.debug("stopping playback: %s", exc)

    def _end_quietly(self, reason: EndReason, **extra: Any) -> None:
        if self.recorder is not None:
            self.recorder.end_quietly(reason, **extra)
