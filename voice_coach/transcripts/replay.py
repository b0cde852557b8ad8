"""Replaying a saved session: a pure plan of what to play, and the loop that plays it.

A *turn* is one interviewer line and the user's reply to it (plus any commands); turns are
numbered from 1 in the order they happened, and ``--from N`` / n / p move by turns.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio
from voice_coach.audio.playback import AudioSink, Playback
from voice_coach.errors import CoachError, UsageError
from voice_coach.textsafe import printable
from voice_coach.transcripts.events import (
    AnswerEvent,
    CommandEvent,
    PromptEvent,
    StageEvent,
    audio_path,
)
from voice_coach.transcripts.exports import clock, speaker_of
from voice_coach.transcripts.store import LoadedSession

_LOGGER = logging.getLogger(__name__)


class Who(enum.Enum):
    """Who said a line."""

    INTERVIEWER = "interviewer"
    USER = "user"


@dataclass(frozen=True)
class ReplayItem:
    """One line to show (and play, when it has audio or is the interviewer's)."""

    turn: int
    who: Who
    speaker: str
    text: str
    time: float | None
    """Session time the line began."""
    audio: Path | None = None
    """The saved audio file the event names (it may be missing on disk)."""
    heading: str | None = None
    """A stage title to show before this line."""
    command: str | None = None
    """For a spoken command ("repeat", "skip"...): shown, never played."""

    @property
    def playable(self) -> bool:
        """False for commands, which are only shown."""
        return self.command is None


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay goes through, in order."""

    items: tuple[ReplayItem, ...]
    turns: int
    """Number of turns in the whole session."""
    cut_short: bool
    end_reason: str


def plan_replay(session: LoadedSession, from_turn: int = 1,
                answers_only: bool = False) -> ReplayPlan:
    """Order the session's lines into a replay plan (pure: reads no audio)."""
    items: list[ReplayItem] = []
    turn = 0
    heading: str | None = None
    for e in session.typed:
        if isinstance(e, StageEvent):
            heading = e.heading
            continue
        if not isinstance(e, PromptEvent | AnswerEvent | CommandEvent):
            continue
        prompt = isinstance(e, PromptEvent)
        if prompt or turn == 0:
            turn += 1
        text = e.text
        if isinstance(e, AnswerEvent) and not text:
            text = "(no answer)"
        items.append(ReplayItem(
            turn=turn,
            who=Who.INTERVIEWER if prompt else Who.USER,
            speaker=speaker_of(e, session),
            text=text,
            time=e.t if isinstance(e, PromptEvent) else e.start,
            audio=(audio_path(session.folder, e.audio)
                   if isinstance(e, PromptEvent | AnswerEvent) else None),
            heading=heading,
            command=str(e.command) if isinstance(e, CommandEvent) else None,
        ))
        heading = None
    if from_turn < 1 or (turn and from_turn > turn):
        raise UsageError(f"--from {from_turn}: this session has turns 1 to {turn}")
    chosen = [i for i in items if i.turn >= from_turn]
    if answers_only:
        chosen = [i for i in chosen if i.who is Who.USER and i.command is None]
    # A heading belongs to the first line shown of its stage, even when earlier ones are skipped.
    shown: list[ReplayItem] = []
    pending: str | None = None
    chosen_ids = {id(i) for i in chosen}  # a set: linear in the events, not quadratic
    for item in items:
        pending = item.heading or pending
        if id(item) in chosen_ids:
            shown.append(_with_heading(item, pending))
            pending = None
    return ReplayPlan(tuple(shown), turn, session.cut_short, session.end_reason)


def _with_heading(item: ReplayItem, heading: str | None) -> ReplayItem:
    if item.heading == heading:
        return item
    return ReplayItem(item.turn, item.who, item.speaker, item.text, item.time, item.audio,
                      heading, item.command)


def line_text(item: ReplayItem) -> str:
    """One transcript line, e.g. ``[1:05] Jane: I built a pipeline.``."""
    speaker, text = printable(item.speaker), printable(item.text)
    if item.command is not None:
        return f"[{clock(item.time)}] ({speaker} said '{text}': {printable(item.command)})"
    return f"[{clock(item.time)}] {speaker}: {text}"


def ending_text(plan: ReplayPlan) -> str:
    """The closing remark of a replay."""
    if plan.cut_short:
        return "(this session was cut short; every complete turn is shown)"
    return f"(session {printable(plan.end_reason)})"


def render_text(plan: ReplayPlan) -> str:
    """The plan as text with turn numbers and timestamps (``replay --text``)."""
    out: list[str] = []
    last_turn = 0
    width = len(str(plan.turns))
    for item in plan.items:
        if item.heading:
            out += ["", f"== {printable(item.heading)} =="]
        number = str(item.turn) if item.turn != last_turn else ""
        last_turn = item.turn
        out.append(f"{number:>{width}} {line_text(item)}")
    out += ["", ending_text(plan)]
    return "\n".join(out).lstrip("\n")


# -- playing ------------------------------------------------------------------------------------


class Control(enum.Enum):
    """What the user asked for while a replay plays."""

    PAUSE = "pause"
    NEXT = "next"
    PREV = "previous"
    QUIT = "quit"


KEYS: dict[str, Control] = {" ": Control.PAUSE, "n": Control.NEXT, "p": Control.PREV,
                            "q": Control.QUIT, "N": Control.NEXT, "P": Control.PREV,
                            "Q": Control.QUIT}


class ReplayView(Protocol):
    """Where the replay shows its progress (the terminal, or a test's list)."""

    def start_line(self, item: ReplayItem) -> None:
        """A line begins playing (show its heading first when it has one)."""

    def end_line(self, item: ReplayItem) -> None:
        """The line finished or was skipped."""

    def note(self, text: str) -> None:
        """A side remark: paused, a missing file..."""


Synth = Callable[[str], tuple[Pcm, int] | None]
"""Text -> (samples, rate) for an interviewer line with no saved audio; None for no voice."""


@dataclass
class ReplayResult:
    """What happened during a replay."""

    played: list[ReplayItem] = field(default_factory=list)
    """Lines whose audio was played (in order, repeats included)."""
    shown: list[ReplayItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quit: bool = False


class _Jump(enum.Enum):
    DONE = "done"
    NEXT = "next"
    PREV = "previous"
    QUIT = "quit"


class Replayer:
    """Plays a ReplayPlan through an AudioSink, obeying controls from a queue."""

    def __init__(
        self,
        plan: ReplayPlan,
        player: AudioSink,
        view: ReplayView,
        synth: Synth | None = None,
        controls: queue.Queue[Control] | None = None,
        gap: float = 0.4,
        poll: float = 0.05,
    ) -> None:
        self.plan = plan
        self.player = player
        self.view = view
        self.synth = synth
        self.controls: queue.Queue[Control] = controls if controls is not None else queue.Queue()
        self.gap = gap
        self.poll = poll
        self.result = ReplayResult()
        self._noted_no_voice = False

    def run(self) -> ReplayResult:
        """Play every line in order; returns when done or when the user quits."""
        items = self.plan.items
        i = 0
        while i < len(items):
            item = items[i]
            self.view.start_line(item)
            self.result.shown.append(item)
            jump = self._play_item(item)
            self.view.end_line(item)
            if jump is _Jump.DONE and i + 1 < len(items):
                jump = self._pause_between(self.gap)
            if jump is _Jump.QUIT:
                self.result.quit = True
                break
            i = self._target(i, jump)
        return self.result

    def _target(self, i: int, jump: _Jump) -> int:
        items = self.plan.items
        turn = items[i].turn
        if jump is _Jump.NEXT:
            return next((k for k, it in enumerate(items) if it.turn > turn), len(items))
        if jump is _Jump.PREV:
            earlier = [it.turn for it in items[:i] if it.turn < turn]
            goal = earlier[-1] if earlier else turn
            return next(k for k, it in enumerate(items) if it.turn == goal)
        return i + 1

    def _note(self, text: str) -> None:
        self.result.notes.append(text)
        self.view.note(text)

    def _clip(self, item: ReplayItem) -> tuple[Pcm, int] | None:
        if not item.playable:
            return None
        if item.audio is not None:
            if not item.audio.is_file():
                self._note(f"audio {item.audio.name} is missing; showing the text")
            else:
                try:
                    return read_audio(item.audio), SAMPLE_RATE
                except (OSError, RuntimeError, ValueError) as exc:
                    _LOGGER.debug("cannot read %s: %s", item.audio, exc)
                    self._note(f"audio {item.audio.name} is unreadable; showing the text")
        if item.who is Who.INTERVIEWER and self.synth is not None:
            try:
                return self.synth(item.text)
            except CoachError as exc:
                if not self._noted_no_voice:
                    self._noted_no_voice = True
                    self._note(f"cannot speak the interviewer's lines ({exc}); showing the text")
                self.synth = None
        return None

    def _play_item(self, item: ReplayItem) -> _Jump:
        clip = self._clip(item)
        if clip is None or len(clip[0]) == 0:
            return self._check_controls()
        samples, rate = clip
        self.result.played.append(item)
        offset = 0
        while offset < len(samples):
            pb = self.player.play(samples[offset:], rate)
            control = self._wait_clip(pb)
            if control is None:
                return _Jump.DONE
            if control is not Control.PAUSE:
                self.player.stop()
                return _Jump(control.value)
            heard = self._heard(pb)
            self.player.stop()
            offset += int(heard * rate)
            self._note("paused (space resumes)")
            control = self._next_control()
            if control is not Control.PAUSE:
                return _Jump(control.value)
            self._note("resumed")
        return _Jump.DONE

    @staticmethod
    def _heard(pb: Playback) -> float:
        began = pb.audible_at or pb.first_sample_at
        if began is None:
            return 0.0
        return max(0.0, min(pb.seconds, time.monotonic() - began))

    def _wait_clip(self, pb: Playback) -> Control | None:
        """Wait for a clip to finish; a control that arrives first is returned."""
        while True:
            try:
                return self.controls.get_nowait()
            except queue.Empty:
                pass
            if self.player.wait(timeout=self.poll):
                return None

    def _check_controls(self) -> _Jump:
        try:
            control = self.controls.get_nowait()
        except queue.Empty:
            return _Jump.DONE
        if control is Control.PAUSE:
            self._note("paused (space resumes)")
            control = self._next_control()
            if control is Control.PAUSE:
                self._note("resumed")
                return _Jump.DONE
        return _Jump(control.value)

    def _next_control(self) -> Control:
        """Block until a control arrives (polling, so Ctrl-C still gets through)."""
        while True:
            try:
                return self.controls.get(timeout=0.2)
            except queue.Empty:
                continue

    def _pause_between(self, seconds: float) -> _Jump:
        deadline = time.monotonic() + seconds
        while True:
            jump = self._check_controls()
            if jump is not _Jump.DONE or time.monotonic() >= deadline:
                return jump
            time.sleep(min(self.poll, max(0.0, deadline - time.monotonic())))


# -- keys ---------------------------------------------------------------------------------------


class KeyReader:
    """Reads single keys from a terminal in cbreak mode on a thread; restores the terminal."""

    def __init__(self, controls: queue.Queue[Control], stream: TextIO | None = None) -> None:
        self.controls = controls
        self.stream = stream if stream is not None else sys.stdin
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: list[Any] | None = None
        self._fd = -1

    @staticmethod
    def usable(stream: TextIO | None = None) -> bool:
        """True when ``stream`` is a terminal we can read keys from."""
        stream = stream if stream is not None else sys.stdin
        try:
            return stream.isatty() and os.name == "posix"
        except (AttributeError, ValueError):
            return False

    def __enter__(self) -> KeyReader:
        import termios
        import tty

        self._fd = self.stream.fileno()
        self._saved = termios.tcgetattr(self._fd)
        # cbreak keeps ISIG, so Ctrl-C still raises KeyboardInterrupt in the main thread.
        tty.setcbreak(self._fd)
        self._thread = threading.Thread(target=self._loop, name="replay-keys", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._saved is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self._fd, 1)
            except OSError:
                return
            if not data:
                return
            control = KEYS.get(data.decode("latin-1"))
            if control is not None:
                self.controls.put(control)


@contextlib.contextmanager
def key_controls(controls: queue.Queue[Control],
                 stream: TextIO | None = None) -> Iterator[bool]:
    """Feed keys into ``controls`` while inside; yields False (and reads nothing) off a TTY."""
    if not KeyReader.usable(stream):
        yield False
        return
    with KeyReader(controls, stream):
        yield True

