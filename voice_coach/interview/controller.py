"""The stage controller: pure and deterministic; picks each interviewer line from the answer."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from enum import StrEnum

from voice_coach.interview import language as lang
from voice_coach.interview.language import Command
from voice_coach.interview.scenario import Scenario, StageSpec, render
from voice_coach.interview.stages import STAGE_ORDER, Stage

_LOGGER = logging.getLogger(__name__)

SUMMARY_ORDER = (Stage.DISCUSSION, Stage.GREETING, Stage.ICEBREAKERS)
"""Stages whose answers feed the wrap-up summary, in the order their key points are sought:
the discussion says most about the candidate; small talk only fills in."""


class PromptKind(StrEnum):
    """What an interviewer line does in the conversation."""

    BRIEFING = "briefing"
    MAIN = "main"
    FOLLOW_UP = "follow_up"
    ANSWER = "answer"
    SUMMARY = "summary"
    CLOSING = "closing"
    FEEDBACK = "feedback"
    """Coaching feedback said after the interview (``--spoken-feedback``)."""


class EndReason(StrEnum):
    """Why a session ended."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True)
class StageStart:
    """The conversation enters a stage."""

    stage: Stage
    title: str


@dataclass(frozen=True)
class Prompt:
    """One interviewer line."""

    stage: Stage | None
    kind: PromptKind
    text: str
    repeat: bool = False


Event = StageStart | Prompt


@dataclass(frozen=True)
class Step:
    """What the interviewer does next: enter stages and say lines, in order."""

    events: tuple[Event, ...] = ()
    command: Command | None = None
    """The hands-free command the utterance was, if any (then it was not an answer)."""
    finished: bool = False
    end_reason: EndReason | None = None

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        """Only the lines to say."""
        return tuple(e for e in self.events if isinstance(e, Prompt))


@dataclass
class _StageState:
    mains: list[str] = field(default_factory=list)
    followups_used: int = 0
    used_rules: set[int] = field(default_factory=set)
    rephrased: bool = False
    questions: int = 0
    statements: int = 0
    summary_given: bool = False


class Controller:
    """Walks the five stages and chooses follow-ups from what the user just said."""

    def __init__(
        self,
        scenario: Scenario,
        name: str = "friend",
        seed: int | None = None,
        briefing: bool = False,
    ) -> None:
        self.scenario = scenario
        self.name = name
        self.seed = seed if seed is not None else random.randrange(2**31)
        self._rng = random.Random(self.seed)
        self._briefing = briefing
        self._stage_index = -1
        self._state = _StageState()
        self._said: set[str] = set()
        self._question = ""  # the question the user is answering, for rephrases
        self._last_group: tuple[Prompt, ...] = ()
        self._answers: list[tuple[Stage, str]] = []
        self.finished = False
        self.end_reason: EndReason | None = None

    # --- public API ---------------------------------------------------------------------

    @property
    def stage(self) -> Stage | None:
        """The current stage (None before the interview starts)."""
        return STAGE_ORDER[self._stage_index] if self._stage_index >= 0 else None

    @property
    def answers(self) -> list[tuple[Stage, str]]:
        """The user's answers so far, with their stage."""
        return list(self._answers)

    def start(self) -> Step:
        """The opening: an optional briefing, then the greeting stage."""
        events: list[Event] = []
        if self._briefing:
            events.append(Prompt(None, PromptKind.BRIEFING, self._fill(self.scenario.briefing)))
        events.extend(self._enter_next_stage(ack=None))
        return self._step(events)

    def respond(self, text: str) -> Step:
        """React to one utterance of the user (an answer or a whole-utterance command)."""
        if self.finished:
            return Step(finished=True, end_reason=self.end_reason)
        command = lang.parse_command(text)
        if command is not None:
            return self._command(command)
        stage = self.stage
        assert stage is not None, "start() must be called first"
        text = text.strip()
        if text:
            self._answers.append((stage, text))
        if stage is Stage.YOUR_QUESTIONS:
            return self._step(self._respond_questions(text))
        if stage is Stage.WRAP_UP:
            return self._step(self._close(EndReason.COMPLETED))
        return self._step(self._respond_answer(text))

    def repeat_last(self) -> Step:
        """The last group of lines again (for "repeat that", "slower", "resume")."""
        again = tuple(Prompt(p.stage, p.kind, p.text, repeat=True) for p in self._last_group)
        return Step(events=again, finished=self.finished, end_reason=self.end_reason)

    # --- stages -------------------------------------------------------------------------

    def _spec(self) -> StageSpec:
        stage = self.stage
        assert stage is not None
        return self.scenario.stage(stage)

    def _enter_next_stage(self, ack: str | None) -> list[Event]:
        self._stage_index += 1
        self._state = _StageState()
        stage = self.stage
        assert stage is not None
        spec = self._spec()
        events: list[Event] = [StageStart(stage, spec.title)]
        mains = list(spec.prompts)
        if spec.shuffle:
            self._rng.shuffle(mains)
        mains = mains[: spec.ask]
        if stage is Stage.DISCUSSION:
            intro = f"Let me tell you a little about the role: {self.scenario.role_description}"
            mains[0] = f"{intro} {mains[0]}"
            mains.append(self._pick(spec.fit_questions))
        if stage is Stage.WRAP_UP:
            events.append(self._say(PromptKind.SUMMARY, self._with_ack(ack, self._summary(spec))))
            self._question = ""
            return events
        self._state.mains = mains
        first = self._fill(mains.pop(0))
        events.append(self._say(PromptKind.MAIN, self._with_ack(ack, first), question=first))
        return events

    def _advance(self, ack: str | None) -> list[Event]:
        if self._state.mains:
            text = self._fill(self._state.mains.pop(0))
            return [self._say(PromptKind.MAIN, self._with_ack(ack, text), question=text)]
        return self._enter_next_stage(ack)

    def _respond_answer(self, text: str) -> list[Event]:
        if not text:
            return self._rephrase_or_advance()
        followup = self._choose_followup(text)
        if followup is not None:
            self._state.followups_used += 1
            return [self._say(PromptKind.FOLLOW_UP, followup)]
        return self._advance(self._ack())

    def _rephrase_or_advance(self) -> list[Event]:
        if not self._state.rephrased and self._question:
            self._state.rephrased = True
            template = self._pick(self.scenario.rephrases)
            line = self._fill(template, prompt=self._question)
            return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]
        return self._advance("Let's move on.")

    def _choose_followup(self, text: str) -> str | None:
        spec = self._spec()
        if self._state.followups_used >= spec.max_followups:
            return None
        for i, rule in enumerate(spec.followups):
            if i in self._state.used_rules:
                continue
            for keyword in rule.keywords:
                phrase = lang.echo_phrase(text, keyword)
                if phrase:
                    line = self._fill(rule.prompt, phrase=phrase)
                    if line not in self._said:
                        self._state.used_rules.add(i)
                        return line
        short = len(lang.words(text)) < 4
        if short or (self.stage is not Stage.ICEBREAKERS and lang.is_vague(text)):
            probe = self._pick_unsaid(self.scenario.probes)
            if probe:
                return probe
        if spec.generic_followups:
            points = lang.key_points([text], limit=1)
            if points:
                template = self._pick(spec.generic_followups)
                line = self._fill(template, phrase=points[0].phrase)
                if line not in self._said:
                    return line
        return None

    def _respond_questions(self, text: str) -> list[Event]:
        spec, state = self._spec(), self._state
        if not text:
            if not state.rephrased:
                state.rephrased = True
                return [self._say(PromptKind.FOLLOW_UP, "Any questions at all? It's fine if not.")]
            return self._enter_next_stage("No problem.")
        if lang.is_question(text):
            state.questions += 1
            events: list[Event] = [self._say(PromptKind.ANSWER, self._answer_from_bank(text))]
            if state.questions >= spec.max_questions:
                return events + self._enter_next_stage("I'm afraid that's all we have time for.")
            events.append(self._say(PromptKind.FOLLOW_UP, self._anything_else()))
            return events
        if lang.is_decline(text):
            return self._enter_next_stage("Great.")
        if lang.is_affirmation(text):
            return [self._say(PromptKind.FOLLOW_UP, "Of course, go ahead.", remember=False)]
        state.statements += 1
        if state.statements >= 2:
            return self._enter_next_stage("Thanks.")
        line = self._fill("Is there anything you'd like to ask me about {company} or the role?")
        return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]

    def _answer_from_bank(self, question: str) -> str:
        spec = self._spec()
        best, best_score = None, 0.0
        for entry in spec.answers:
            score = lang.match_score(question, entry.keywords, entry.question)
            if score > best_score:
                best, best_score = entry, score
        if best is None or best_score < 1.3:
            return self._fill(spec.generic_answer)
        return self._fill(best.answer)

    def _anything_else(self) -> str:
        options = list(self._spec().anything_else)
        # Rotate through the pool so consecutive invitations differ.
        return self._fill(options[(self._state.questions - 1) % len(options)])

    def _summary(self, spec: StageSpec) -> str:
        points = [p.phrase for p in lang.key_points(self._summary_answers(), limit=3)]
        if not points:
            return self._fill(spec.summary_empty)
        return self._fill(spec.summary, points=lang.join_points(points))

    def _summary_answers(self) -> list[str]:
        return [t for st in SUMMARY_ORDER for s, t in self._answers if s is st]

    def _close(self, reason: EndReason) -> list[Event]:
        spec = self.scenario.stage(Stage.WRAP_UP)
        if reason is EndReason.COMPLETED:
            text = self._fill(f"{spec.next_steps} {spec.closing}")
        else:
            text = self._fill("Of course, let's stop here. Thank you for your time, {name}.")
        self.finished, self.end_reason = True, reason
        return [self._say(PromptKind.CLOSING, text)]

    # --- commands -----------------------------------------------------------------------

    def _command(self, command: Command) -> Step:
        if command is Command.REPEAT:
            return Step(events=self.repeat_last().events, command=command)
        if command is Command.SKIP:
            if self.stage is Stage.WRAP_UP:
                return self._step(self._close(EndReason.COMPLETED), command)
            if self.stage is Stage.YOUR_QUESTIONS:
                return self._step(self._enter_next_stage("Sure."), command)
            return self._step(self._advance("Sure, let's move on."), command)
        if command is Command.END:
            return self._step(self._close(EndReason.STOPPED), command)
        # pause / resume / slower / faster are for the session loop; nothing to say here.
        return Step(command=command)

    # --- helpers ------------------------------------------------------------------------

    def _step(self, events: list[Event], command: Command | None = None) -> Step:
        group = tuple(e for e in events if isinstance(e, Prompt))
        if group:
            self._last_group = group
        return Step(tuple(events), command, self.finished, self.end_reason)

    def _say(
        self, kind: PromptKind, text: str, remember: bool = True, question: str | None = None
    ) -> Prompt:
        text = lang.tidy(text)
        text = text[:1].upper() + text[1:]
        self._said.add(text)
        if remember and kind in (PromptKind.MAIN, PromptKind.FOLLOW_UP, PromptKind.SUMMARY):
            self._question = question or text
        return Prompt(self.stage, kind, text)

    def _fill(self, template: str, **extra: str) -> str:
        # One pass over the scenario's template: values (the name, the user's words) are data.
        s = self.scenario
        return render(template, name=self.name, interviewer=s.interviewer,
                      company=s.company, role=s.role, **extra)

    def _ack(self) -> str:
        return self._pick(self.scenario.acknowledgements)

    def _with_ack(self, ack: str | None, text: str) -> str:
        return f"{ack} {text}" if ack else text

    def _pick(self, options: tuple[str, ...]) -> str:
        return self._rng.choice(options)

    def _pick_unsaid(self, options: tuple[str, ...]) -> str | None:
        fresh = [o for o in options if self._fill(o) not in self._said]
        return self._fill(self._rng.choice(fresh)) if fresh else None
