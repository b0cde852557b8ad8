"""Answering the candidate's questions: the answer bank, the scenario's facts, small talk, or
an honest reply that names the topic; and saying a question again, more simply."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voice_coach.interview import language as lang
from voice_coach.interview.scenario import BankAnswer, Scenario, render
from voice_coach.interview.stages import Stage
from voice_coach.interview.understanding import Analysis, Analyzer

BANK_MIN = 0.87
"""Least score for a bank entry to answer a question: the mean of the best e5 cosine with the
entry's question and examples and the cosine with the entry as a passage, plus keywords."""
BANK_MARGIN = 0.01
"""How far the best entry must beat the best entry of another topic."""
FACT_MIN = 0.86
"""Least e5 query-to-passage cosine for a fact to answer a question."""
SMALL_TALK_MIN = 0.9
UNGROUNDED_PENALTY = 0.03
"""Taken off when the question's topic words appear nowhere in the entry."""
_VAGUE_TOPIC_WORDS = frozenset({"team", "company", "role", "job", "people", "work", "thing"})
KEYWORD_BONUS = 0.03
"""A bank keyword said in the question nudges its entry (meaning still decides)."""

HONEST_REPLIES = (
    "Good question about {topic}. I don't know that offhand, but I'll find out and put it "
    "in my follow-up email.",
    "Honestly, I'm not the right person to answer on {topic} - let me check with the team "
    "and get back to you.",
    "I'd rather not guess about {topic}. I'll ask around and let you know.",
    "That's a fair thing to ask. I don't have the details on {topic} with me, but I'll "
    "follow up on it.",
)
HONEST_LATER = (
    "Good question - let's come back to {topic} when it's your turn to ask me things.",
    "I'll tell you more about {topic} at the end, I promise.",
)


@dataclass(frozen=True)
class SmallTalk:
    """A personal small-talk question the interviewer can answer in any scenario."""

    examples: tuple[str, ...]
    answer: str


SMALL_TALK = (
    SmallTalk(("How are you?", "How about you, how's your day been?", "How's your week been?",
               "Have you been busy?", "How are things with you?", "And yours?"),
              "Pretty good, thanks for asking - busy, but the good kind of busy."),
    SmallTalk(("Do you run at all?", "Do you do any sports?", "Do you have any hobbies?",
               "Do you still go to those?", "Do you like hiking too?"),
              "Now and then - not as often as I'd like!"),
    SmallTalk(("What do you recommend here?", "What's good here?", "What are you having?"),
               "Honestly, everything I've had here has been good."),
    SmallTalk(("Have you been here before?", "Do you come to these often?",
               "Did you see the talk tonight?"),
              "A few times, yes - it's always a good crowd."),
)


@dataclass(frozen=True)
class Reply:
    """An answer to the candidate, and where it came from."""

    text: str
    source: str
    """"bank:TOPIC", "facts", "smalltalk" or "honest"."""


def entry_topic(entry: BankAnswer) -> str:
    """The bank entry's topic name (its ``topic`` or its question)."""
    return entry.topic or entry.question


def facts_of(scenario: Scenario) -> tuple[str, ...]:
    """Sentences the interviewer can answer from: the facts list, then the role description."""
    role = [s.strip() for s in re.split(r"(?<=[.!?])\s+", scenario.role_description)
            if s.strip()]
    return (*scenario.facts, *role)


class Answerer:
    """Matches a question to the bank, the facts or small talk, by meaning."""

    def __init__(self, scenario: Scenario, analyzer: Analyzer) -> None:
        self.scenario = scenario
        self.analyzer = analyzer
        self.bank = scenario.stage(Stage.YOUR_QUESTIONS).answers
        self._bank_texts: list[tuple[int, str]] = [
            (i, t) for i, e in enumerate(self.bank) for t in (e.question, *e.examples)
        ]
        self.facts = facts_of(scenario)
        self._small_texts = [(i, t) for i, s in enumerate(SMALL_TALK) for t in s.examples]

    def texts(self) -> list[str]:
        """Every text the answerer compares with as a question (embed them ahead of time)."""
        return ([t for _, t in self._bank_texts] + list(self.facts)
                + [t for _, t in self._small_texts])

    def passages(self) -> list[str]:
        """The bank entries and facts as passages to search (embed them ahead of time)."""
        return [f"{e.question} {e.answer}" for e in self.bank] + list(self.facts)

    def match_bank(self, question: str) -> tuple[BankAnswer | None, float, float]:
        """The best bank entry, its score and its margin over the best other topic."""
        if not self.bank or not question:
            return None, 0.0, 0.0
        if not getattr(self.analyzer, "meaning", False) or (
            getattr(self.analyzer, "_error", None) is not None
        ):
            return self._match_keywords(question)
        sims = self.analyzer.similarities(question, [t for _, t in self._bank_texts])
        as_question = [0.0] * len(self.bank)
        for (i, _), s in zip(self._bank_texts, sims, strict=True):
            as_question[i] = max(as_question[i], s)
        as_passage = self.analyzer.similarities(
            question, [f"{e.question} {e.answer}" for e in self.bank], passages=True)
        per_entry = [(a + p) / 2 for a, p in zip(as_question, as_passage, strict=True)]
        q_norm = f" {lang.normalise(question)} "
        for i, e in enumerate(self.bank):
            if any(f" {lang.normalise(k)} " in q_norm for k in e.keywords if k):
                per_entry[i] += KEYWORD_BONUS
        order = sorted(range(len(self.bank)), key=lambda i: -per_entry[i])
        best = order[0]
        topic = entry_topic(self.bank[best])
        runner = next((per_entry[i] for i in order[1:]
                       if entry_topic(self.bank[i]) != topic), 0.0)
        return self.bank[best], per_entry[best], per_entry[best] - runner

    def _grounded(self, topic: str, entry: BankAnswer) -> bool:
        """Whether the thing asked about is named anywhere in the entry (else it may only be
        near it in meaning: "free lunch at the office" is not "working from the office")."""
        words = {lang.stem(w) for w in lang.content_words(topic)} - _VAGUE_TOPIC_WORDS
        if not words:
            return True
        text = " ".join((entry.question, *entry.examples, *entry.keywords, entry.answer,
                         entry.topic))
        have = {lang.stem(w) for w in lang.words(text)}
        return bool(words & have)

    def _match_keywords(self, question: str) -> tuple[BankAnswer | None, float, float]:
        """Without a meaning model: keywords and shared words (scaled to the same scale)."""
        scores = [lang.match_score(question, e.keywords, e.question) for e in self.bank]
        order = sorted(range(len(self.bank)), key=lambda i: -scores[i])
        best = order[0]
        runner = scores[order[1]] if len(order) > 1 else 0.0
        ok = scores[best] >= 1.3
        return self.bank[best], (BANK_MIN if ok else 0.0), (BANK_MARGIN if ok and (
            scores[best] > runner) else 0.0)

    def answer(self, analysis: Analysis, pick: Callable[[Sequence[str]], str],
               brief: bool = False) -> Reply:
        """The best honest answer to the question in ``analysis``."""
        question = analysis.question or analysis.text
        entry, score, margin = self.match_bank(question)
        if entry is not None and not self._grounded(analysis.topic, entry):
            score -= UNGROUNDED_PENALTY
        if entry is not None and score >= BANK_MIN and margin >= BANK_MARGIN:
            text = self._fill(entry.answer)
            return Reply(first_sentence(text) if brief else text, f"bank:{entry_topic(entry)}")
        fact = self._best(question, list(self.facts), FACT_MIN, passages=True)
        if fact is not None:
            return Reply(self._fill(fact), "facts")
        # Small talk ("how's your day?") only before the candidate's turn to ask about the job.
        small = (self._best(question, [t for _, t in self._small_texts], SMALL_TALK_MIN)
                 if brief else None)
        if small is not None:
            idx = next(i for i, t in self._small_texts if t == small)
            return Reply(SMALL_TALK[idx].answer, "smalltalk")
        topic = analysis.topic or "that"
        if brief:
            return Reply(render(pick(HONEST_LATER), topic=topic), "honest")
        pool = [g for g in self.scenario.stage(Stage.YOUR_QUESTIONS).generic_answers
                if "{topic}" in g] or list(HONEST_REPLIES)
        return Reply(self._fill(render(pick(pool), topic=topic)), "honest")

    def _best(self, question: str, texts: list[str], least: float,
              passages: bool = False) -> str | None:
        if not texts:
            return None
        sims = self.analyzer.similarities(question, texts, passages=passages)
        order = sorted(range(len(texts)), key=lambda i: -sims[i])
        best = order[0]
        runner = sims[order[1]] if len(order) > 1 else 0.0
        if sims[best] >= least and sims[best] - runner >= 0.005:
            return texts[best]
        return None

    def _fill(self, template: str) -> str:
        s = self.scenario
        return render(template, interviewer=s.interviewer, company=s.company, role=s.role)


def first_sentence(text: str) -> str:
    """The first sentence of an answer (a question outside stage 4 gets a short reply);
    two when the first is only a few words ("Protected, honestly.")."""
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(parts) > 1 and len(parts[0].split()) < 6:
        return f"{parts[0]} {parts[1]}"
    return parts[0]


_LEADS = re.compile(
    r"^(?:so|and|well|okay|now|to start|before we dive in|from what i've described|"
    r"given what i've told you about the team|hearing that|but enough about me|"
    r"that's plenty from me|i've asked you plenty|i've done most of the talking about you)"
    r"\s*[,:\-–—]*\s*",
    re.IGNORECASE,
)


_ECHO = re.compile(r"^(?:you mentioned|oh,?|tell me more about) (.+?) - (.+)$", re.IGNORECASE)


def simplify(question: str) -> str:
    """A shorter, plainer form of an interviewer question, for "what do you mean?"."""
    m = _ECHO.match(question.strip())
    if m:
        # "You mentioned X - what was your part in it?" -> "What was your part in X?"
        thing, rest = m.group(1), m.group(2)
        rest = re.sub(r"\b(it|that|them)\b", thing, rest, count=1)
        return rest[:1].upper() + rest[1:]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", question) if s.strip()]
    asks = [s for s in sentences if s.endswith("?")] or sentences[-1:]
    core = asks[-1] if asks else question
    for _ in range(3):
        core = _LEADS.sub("", core)
    # Keep one question of a compound one: "which part ..., and where ...?" -> "which part ...?"
    core = re.split(r",\s*and\s+|\s+-\s+|;\s*", core)[0].rstrip("?.! ") + "?"
    core = core[:1].upper() + core[1:]
    if lang.normalise(core).startswith("tell me"):
        return core.rstrip("?") + "."
    return core
