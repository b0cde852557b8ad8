"""The stage controller: pure and deterministic; picks each interviewer line from the answer."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from voice_coach.interview import followups as fu
from voice_coach.interview import language as lang
from voice_coach.interview.answers import Answerer, Reply, simplify
from voice_coach.interview.language import Command
from voice_coach.interview.scenario import Scenario, StageSpec, render
from voice_coach.interview.stages import STAGE_ORDER, Stage
from voice_coach.interview.understanding import (
    Act,
    Analysis,
    Analyzer,
    Phrase,
    PhraseKind,
    Tone,
    default_analyzer,
)

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
    phrase: str = ""
    """The user's phrase a follow-up echoes ("" when it echoes none)."""


Event = StageStart | Prompt


@dataclass(frozen=True)
class Step:
    """What the interviewer does next: enter stages and say lines, in order."""

    events: tuple[Event, ...] = ()
    command: Command | None = None
    """The hands-free command the utterance was, if any (then it was not an answer)."""
    finished: bool = False
    end_reason: EndReason | None = None
    act: Act | None = None
    """What the utterance did (statement, question, hedge...), as understood."""
    answer_source: str | None = None
    """Where an answer to the user's question came from ("bank:team", "facts", "honest")."""

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
    """Walks the five stages and replies to what the user said and meant.

    Pure and deterministic given the scenario, the seed and the analyser's results: the
    analyser (spaCy + embeddings by default, injected in tests) is the only thing that
    understands text, and it caches by text, so the session may call :meth:`prepare` while
    the user is still speaking and :meth:`respond` then only reads the cached analysis.
    """

    def __init__(
        self,
        scenario: Scenario,
        name: str = "friend",
        seed: int | None = None,
        briefing: bool = False,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.scenario = scenario
        self.name = name
        self.seed = seed if seed is not None else random.randrange(2**31)
        self._rng = random.Random(self.seed)
        self._briefing = briefing
        self._nlu = analyzer if analyzer is not None else default_analyzer()
        self._answerer = Answerer(scenario, self._nlu)
        self._acks = fu.Acknowledger(self._rng, scenario.acknowledgements)
        self._stage_index = -1
        self._state = _StageState()
        self._said: set[str] = set()
        self._question = ""  # the question the user is answering, for rephrases
        self._last_group: tuple[Prompt, ...] = ()
        self._answers: list[tuple[Stage, str]] = []
        self._analyses: list[tuple[Stage, Analysis]] = []
        self._asked: list[str] = []  # topics of the user's questions that got an answer
        self._honest_recent: list[str] = []
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

    def warm_up(self) -> None:
        """Start loading the language models (background) and embedding this scenario's bank."""
        self._nlu.warm_up(self._answerer.texts(), self._answerer.passages())

    def prepare(self, text: str) -> None:
        """Analyse an utterance ahead of :meth:`respond` (thread-safe; call it off the reply's
        critical path, e.g. on the speculative transcript during the endpoint wait)."""
        if text.strip() and lang.parse_command(text) is None:
            analysis = self._nlu.analyze(text)
            if analysis.question:
                self._answerer.match_bank(analysis.question)

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
        if not text:
            if stage is Stage.YOUR_QUESTIONS:
                return self._step(self._respond_questions(Analysis("", Act.STATEMENT)))
            if stage is Stage.WRAP_UP:
                return self._step(self._close(EndReason.COMPLETED))
            return self._step(self._rephrase_or_advance())
        analysis = self._nlu.analyze(text)
        self._answers.append((stage, text))
        self._analyses.append((stage, analysis))
        self._reply_source: str | None = None
        if stage is Stage.YOUR_QUESTIONS:
            events = self._respond_questions(analysis)
        elif stage is Stage.WRAP_UP:
            events = []
            if analysis.act is Act.QUESTION:
                events.append(self._answer(analysis, brief=False))
            events += self._close(EndReason.COMPLETED)
        else:
            events = self._respond_answer(analysis)
        return self._step(events, act=analysis.act)

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

    def _respond_answer(self, a: Analysis) -> list[Event]:
        act = a.act
        if act is Act.QUESTION:
            return self._question_in_passing(a)
        if act is Act.REPHRASE:
            return self._rephrase_simply()
        if act is Act.HEDGE:
            return self._after_hedge(a)
        if act is Act.DECLINE:
            return self._advance(self._pick(("Of course, no problem.", "Sure, that's fine.")))
        if act is Act.DISCLOSURE:
            return self._after_disclosure(a)
        followup = self._choose_followup(a)
        if followup is not None:
            self._state.followups_used += 1
            return [self._say(PromptKind.FOLLOW_UP, followup.text, phrase=followup.phrase)]
        return self._advance(self._ack(a))

    def _question_in_passing(self, a: Analysis) -> list[Event]:
        """A question in stages 1-3: one sentence of answer, then the conversation goes on."""
        answer = self._answer(a, brief=True)
        if a.has_statement and a.phrases:
            return [answer, *self._advance(None)]
        back = self._pick(("Anyway, back to you:", "But tell me:", "So, back to you:"))
        line = f"{back} {simplify(self._question)}" if self._question else ""
        if not line or line in self._said:
            return [answer, *self._advance(None)]
        return [answer, self._say(PromptKind.FOLLOW_UP, line, remember=False)]

    def _rephrase_simply(self) -> list[Event]:
        if not self._question:
            return self._advance(None)
        simple = simplify(self._question)
        lead = self._pick(("Sorry, let me put it more simply:", "I mean:", "In other words:"))
        return [self._say(PromptKind.FOLLOW_UP, f"{lead} {simple}", remember=False)]

    def _after_hedge(self, a: Analysis) -> list[Event]:
        ack = self._acks.pick(a.tone, hedge=True)
        if not self._state.rephrased and self._question and not a.phrases:
            self._state.rephrased = True
            simple = simplify(self._question)
            line = f"{ack} Take a guess - there's no wrong answer. {simple}"
            return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]
        return self._advance(f"{ack} Let's move on.")

    def _after_disclosure(self, a: Analysis) -> list[Event]:
        ack = self._acks.pick(a.tone if a.tone is not Tone.NEUTRAL else Tone.NEGATIVE)
        if a.name and self.stage is Stage.GREETING:
            ack = f"Nice to meet you, {a.name}. {ack}"
            if self._asks_name():
                return self._advance(ack)
        if a.tone is Tone.NERVOUS and not a.phrases and not self._state.rephrased and (
            self._question
        ):
            self._state.rephrased = True
            line = f"{ack} {simplify(self._question)}"
            return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]
        return self._advance(ack)

    def _asks_name(self) -> bool:
        q = self._question.lower()
        return "name" in q or "and you are" in q

    def _rephrase_or_advance(self) -> list[Event]:
        if not self._state.rephrased and self._question:
            self._state.rephrased = True
            template = self._pick(self.scenario.rephrases)
            line = self._fill(template, prompt=self._question)
            return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]
        return self._advance("Let's move on.")

    def _choose_followup(self, a: Analysis) -> fu.FollowUp | None:
        spec, stage = self._spec(), self.stage
        assert stage is not None
        if self._state.followups_used >= spec.max_followups:
            return None
        n_words = len(lang.words(a.text))
        if stage is Stage.GREETING and a.name and not [p for p in a.phrases if p.weight > 1.5]:
            if self._asks_name():
                return None  # they answered with their name: greet and move on
            line = self._fill("Nice to meet you, {user}! What do you do at the moment?",
                              user=a.name)
            return fu.FollowUp(line, "") if line not in self._said else None
        rule = fu.by_rules(a, spec.followups, self._state.used_rules, self._values())
        if rule is not None:
            line = rule.text
            if line not in self._said:
                assert rule.rule is not None
                self._state.used_rules.add(rule.rule)
                return fu.FollowUp(line, rule.phrase, rule.rule)
        # Probes ask for examples and detail: right for the discussion, odd after a "hello".
        if stage is Stage.DISCUSSION and (n_words < 4 or (lang.is_vague(a.text)
                                                          and not a.phrases)):
            probe = self._pick_unsaid(self.scenario.probes)
            if probe:
                return fu.FollowUp(probe, "")
        kind = fu.by_kind(a, stage, self._rng, self._said, self._values())
        if kind is not None:
            return kind
        if stage is Stage.DISCUSSION or n_words < 10:
            return fu.generic(stage, self._rng, self._said)
        return None

    def _respond_questions(self, a: Analysis) -> list[Event]:
        spec, state = self._spec(), self._state
        text = a.text
        if not text:
            if not state.rephrased:
                state.rephrased = True
                return [self._say(PromptKind.FOLLOW_UP, "Any questions at all? It's fine if not.")]
            return self._enter_next_stage("No problem.")
        if a.act is Act.QUESTION:
            state.questions += 1
            events: list[Event] = [self._answer(a, brief=False)]
            if state.questions >= spec.max_questions:
                return events + self._enter_next_stage("I'm afraid that's all we have time for.")
            events.append(self._say(PromptKind.FOLLOW_UP, self._anything_else()))
            return events
        if a.act is Act.DECLINE:
            return self._enter_next_stage(self._pick(("Great.", "Sure.", "No problem.")))
        if lang.is_affirmation(text):
            return [self._say(PromptKind.FOLLOW_UP, "Of course, go ahead.", remember=False)]
        if a.act in (Act.HEDGE, Act.REPHRASE) and not state.rephrased:
            state.rephrased = True
            line = ("No problem. You could ask me about the team, what a typical day looks "
                    "like, or what happens next.")
            return [self._say(PromptKind.FOLLOW_UP, line, remember=False)]
        state.statements += 1
        if state.statements >= 2 or a.act is Act.HEDGE:
            return self._enter_next_stage("Thanks.")
        ack = self._acks.pick(a.tone) if a.act is Act.DISCLOSURE else ""
        line = self._fill("Is there anything you'd like to ask me about {company} or the role?")
        return [self._say(PromptKind.FOLLOW_UP, f"{ack} {line}".strip(), remember=False)]

    def _answer(self, a: Analysis, brief: bool) -> Prompt:
        reply: Reply = self._answerer.answer(a, self._pick_fresh_honest, brief=brief)
        self._reply_source = reply.source
        if reply.source.startswith("bank:") or reply.source == "honest":
            topic = reply.source[5:] if reply.source.startswith("bank:") else ""
            if not topic or topic.endswith("?") or len(topic.split()) > 4:
                # An entry without a topic is named by its whole question: use what was asked.
                topic = a.topic if a.topic and a.topic != "that" else ""
            if topic:
                self._asked.append(topic)
        return self._say(PromptKind.ANSWER, self._fill(reply.text), remember=False)

    def _pick_fresh_honest(self, options: Sequence[str]) -> str:
        fresh = [o for o in options if o not in self._honest_recent[-2:]] or list(options)
        choice = self._rng.choice(fresh)
        self._honest_recent.append(choice)
        return choice

    def _anything_else(self) -> str:
        options = list(self._spec().anything_else)
        # Rotate through the pool so consecutive invitations differ.
        return self._fill(options[(self._state.questions - 1) % len(options)])

    # --- the wrap-up --------------------------------------------------------------------

    def _summary(self, spec: StageSpec) -> str:
        points = self._summary_points()
        if self._asked:
            points.append(f"your question about {_topic_words(self._asked[0])}")
        if len(points) < 2:
            return self._fill(spec.summary_empty)
        return self._fill(spec.summary, points=lang.join_points(points[:4]))

    def _summary_points(self) -> list[str]:
        """Two or three of the user's own points, discussion first, well-formed."""
        chosen: list[str] = []
        heads: set[str] = set()
        for stage in SUMMARY_ORDER:
            per_answer = [a for s, a in self._analyses if s is stage
                          and a.act in (Act.STATEMENT, Act.QUESTION)]
            for a in per_answer:
                best = next((p for p in a.phrases if _summarisable(p, stage)
                             and p.head not in heads), None)
                if best is None:
                    continue
                heads.add(best.head)
                chosen.append(_summary_form(best, stage))
                if len(chosen) >= 3:
                    return chosen
        return chosen

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
            return Step(events=self.repeat_last().events, command=command, act=Act.COMMAND)
        if command is Command.SKIP:
            if self.stage is Stage.WRAP_UP:
                return self._step(self._close(EndReason.COMPLETED), command, Act.COMMAND)
            if self.stage is Stage.YOUR_QUESTIONS:
                return self._step(self._enter_next_stage("Sure."), command, Act.COMMAND)
            return self._step(self._advance("Sure, let's move on."), command, Act.COMMAND)
        if command is Command.END:
            return self._step(self._close(EndReason.STOPPED), command, Act.COMMAND)
        # pause / resume / slower / faster are for the session loop; nothing to say here.
        return Step(command=command, act=Act.COMMAND)

    # --- helpers ------------------------------------------------------------------------

    def _step(self, events: list[Event], command: Command | None = None,
              act: Act | None = None) -> Step:
        group = tuple(e for e in events if isinstance(e, Prompt))
        if group:
            self._last_group = group
        source = getattr(self, "_reply_source", None)
        self._reply_source = None
        return Step(tuple(events), command, self.finished, self.end_reason, act, source)

    def _say(
        self, kind: PromptKind, text: str, remember: bool = True, question: str | None = None,
        phrase: str = "",
    ) -> Prompt:
        text = lang.tidy(text)
        text = text[:1].upper() + text[1:]
        self._said.add(text)
        if remember and kind in (PromptKind.MAIN, PromptKind.FOLLOW_UP, PromptKind.SUMMARY):
            self._question = question or text
        return Prompt(self.stage, kind, text, phrase=phrase)

    def _values(self) -> dict[str, str]:
        """The scenario's own placeholder values."""
        s = self.scenario
        return {"name": self.name, "interviewer": s.interviewer, "company": s.company,
                "role": s.role}

    def _fill(self, template: str, **extra: str) -> str:
        # One pass over the scenario's template: values (the name, the user's words) are data.
        return render(template, **self._values(), **extra)

    def _ack(self, a: Analysis) -> str:
        return self._acks.pick(a.tone)

    def _with_ack(self, ack: str | None, text: str) -> str:
        return f"{ack} {text}" if ack else text

    def _pick(self, options: tuple[str, ...]) -> str:
        return self._rng.choice(options)

    def _pick_unsaid(self, options: tuple[str, ...]) -> str | None:
        fresh = [o for o in options if self._fill(o) not in self._said]
        return self._fill(self._rng.choice(fresh)) if fresh else None


def _summarisable(p: Phrase, stage: Stage) -> bool:
    if p.kind in (PhraseKind.PERSON, PhraseKind.PLACE, PhraseKind.ROLE) or p.weight < 1.5:
        return False
    return stage is not Stage.GREETING or p.kind is not PhraseKind.EVENT


def _summary_form(p: Phrase, stage: Stage) -> str:
    """How the summary names a point: "your work with Kafka", "your bouldering"."""
    first = p.text.split()[0].lower()
    bare = first not in ("the", "your", "this", "that")
    if p.kind is PhraseKind.TECHNOLOGY and bare:
        return f"your work with {p.text}"
    if (p.kind is PhraseKind.HOBBY or stage is Stage.ICEBREAKERS) and bare:
        return f"your {p.text}"
    return p.text


def _topic_words(topic: str) -> str:
    return topic.replace("_", " ").replace("work life", "work-life")
