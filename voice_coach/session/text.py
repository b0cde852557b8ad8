"""The typed-answer interview: the controller, the store and a terminal, no audio."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from voice_coach.errors import Interrupted, StorageError
from voice_coach.interview.controller import Controller, EndReason, Prompt, StageStart, Step
from voice_coach.interview.language import Command, parse_command
from voice_coach.interview.scenario import Scenario
from voice_coach.interview.stages import Stage
from voice_coach.session.recorder import Recorder
from voice_coach.transcripts.store import SessionStore

_LOGGER = logging.getLogger(__name__)


class TextUI(Protocol):
    """What a text session needs from its terminal."""

    def heading(self, title: str) -> None:
        """Show a stage heading."""

    def interviewer(self, text: str) -> None:
        """Show an interviewer line."""

    def note(self, text: str) -> None:
        """Show a side note (not part of the conversation)."""

    def read_answer(self, stage: Stage | None) -> str | None:
        """Read one answer to a line of ``stage``; None at end of input."""


@dataclass(frozen=True)
class SessionResult:
    """How a session went."""

    session_id: str
    reason: EndReason
    answers: int
    folder: str


def show_step(step: Step, ui: TextUI) -> None:
    """Print a step's headings and lines."""
    for event in step.events:
        if isinstance(event, StageStart):
            ui.heading(event.title)
        elif isinstance(event, Prompt):
            ui.interviewer(event.text)


def run_text_session(
    scenario: Scenario,
    ui: TextUI,
    store: SessionStore,
    name: str = "friend",
    seed: int | None = None,
    briefing: bool = False,
    mode: str = "text",
) -> SessionResult:
    """Run a whole typed interview; every finished turn is on disk before the next prompt."""
    controller = Controller(scenario, name=name, seed=seed, briefing=briefing)
    controller.warm_up()  # language models load while the first line is read
    writer = store.create(scenario.id, name, mode=mode, seed=controller.seed,
                          interviewer=scenario.interviewer, company=scenario.company)
    recorder = Recorder(writer)
    reason = EndReason.STOPPED
    try:
        step = controller.start()
        recorder.step(step)
        show_step(step, ui)
        while not controller.finished:
            start = recorder.now()
            text = ui.read_answer(controller.stage)
            if text is None:
                reason = EndReason.STOPPED
                break
            end = recorder.now()
            stage = controller.stage
            if parse_command(text) is None:
                # On disk before the interviewer thinks about it (understanding takes time).
                recorder.answer(stage, text.strip(), start, end)
            step = controller.respond(text)
            if step.command is not None:
                recorder.command(stage, step.command, text, start, end)
                if step.command in (Command.PAUSE, Command.RESUME, Command.SLOWER,
                                    Command.FASTER):
                    ui.note(f"('{step.command.value}' only applies to spoken sessions)")
            recorder.step(step)
            show_step(step, ui)
            if step.finished and step.end_reason is not None:
                reason = step.end_reason
    except KeyboardInterrupt:
        recorder.end_quietly(EndReason.INTERRUPTED)
        raise Interrupted(f"interrupted; session {writer.id} saved in {writer.folder}") from None
    except StorageError:
        recorder.end_quietly(EndReason.ERROR)
        raise
    recorder.end(reason.value)
    return SessionResult(writer.id, reason, recorder.answers, str(writer.folder))

