"""Follow-ups grounded in what the user said, and acknowledgements that match its tone."""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voice_coach.interview import language as lang
from voice_coach.interview.scenario import FollowUpRule, render
from voice_coach.interview.stages import Stage
from voice_coach.interview.understanding import Analysis, Phrase, PhraseKind, Tone

KIND_TEMPLATES: dict[PhraseKind, tuple[str, ...]] = {
    PhraseKind.TECHNOLOGY: (
        "You mentioned {phrase} - what do you like about working with it?",
        "How did you end up working with {phrase}?",
    ),
    PhraseKind.WORK: (
        "You mentioned {phrase} - what was your part in it?",
        "Tell me more about {phrase} - what was the hardest part?",
    ),
    PhraseKind.EVENT: (
        "Oh, {phrase} - how did that go?",
        "What stood out for you about {phrase}?",
    ),
    PhraseKind.HOBBY: (
        "Oh, {phrase}! How did you get into that?",
        "{phrase} - what do you enjoy most about it?",
    ),
    PhraseKind.ROLE: (
        "How did you become {phrase}?",
        "What do you enjoy most about being {phrase}?",
    ),
    PhraseKind.PLACE: (
        "Oh, {phrase}! What's it like there?",
    ),
    PhraseKind.THING: (
        "You mentioned {phrase} - can you tell me more about that?",
        "Tell me a bit more about {phrase}.",
    ),
}
"""Follow-up templates by the kind of phrase they echo."""

GENERIC: dict[Stage, tuple[str, ...]] = {
    Stage.GREETING: ("What are you up to at the moment?",
                     "How did you get into that line of work?"),
    Stage.ICEBREAKERS: ("What do you enjoy most about that?", "How did you get into that?"),
    Stage.DISCUSSION: (
        "What was the hardest part of that?",
        "What would you do differently next time?",
        "What did you learn from that?",
    ),
}
"""Follow-ups that need no phrase, for answers with nothing safe to echo."""

NEUTRAL_ACKS = ("Thanks for sharing that.", "Interesting.", "I see.", "That makes sense.",
                "Got it.", "Okay, thanks.")
POSITIVE_ACKS = ("That's great.", "Nice.", "That sounds great.", "Love that.")
NEGATIVE_ACKS = ("I'm sorry to hear that.", "That sounds hard.", "Oh no, that's rough.",
                 "That sounds like a lot - thank you for being here anyway.")
NERVOUS_ACKS = ("No need to be nervous - this is just a relaxed chat.",
                "Take your time, there's no rush at all.",
                "That's completely normal - we're just having a conversation.")
HEDGE_ACKS = ("That's okay.", "No problem at all.", "That's fine - not every question has an "
              "easy answer.")
_CHEERFUL = re.compile(r"\b(great|wonderful|awesome|love|amazing|fantastic|brilliant)\b", re.I)


class Acknowledger:
    """Chooses acknowledgements: matching the tone, never one of the last three said."""

    def __init__(self, rng: random.Random, scenario_acks: Sequence[str]) -> None:
        self._rng = rng
        self._recent: deque[str] = deque(maxlen=3)
        self._neutral = [a for a in scenario_acks if not _CHEERFUL.search(a)] or list(
            NEUTRAL_ACKS)
        self._positive = [a for a in scenario_acks if _CHEERFUL.search(a)] + list(POSITIVE_ACKS)

    def pick(self, tone: Tone, hedge: bool = False) -> str:
        """An acknowledgement for an answer of this tone."""
        if hedge:
            pool = list(HEDGE_ACKS)
        elif tone is Tone.NEGATIVE:
            pool = list(NEGATIVE_ACKS)
        elif tone is Tone.NERVOUS:
            pool = list(NERVOUS_ACKS)
        elif tone is Tone.POSITIVE:
            pool = self._positive + self._neutral
        else:
            pool = self._neutral + list(NEUTRAL_ACKS)
        fresh = [a for a in dict.fromkeys(pool) if a not in self._recent] or pool
        ack = self._rng.choice(fresh)
        self._recent.append(ack)
        return ack


@dataclass(frozen=True)
class FollowUp:
    """A follow-up line and the user's phrase it echoes ("" for a generic one)."""

    text: str
    phrase: str
    rule: int | None = None


def _verbish(keyword: str) -> bool:
    return keyword.endswith(("ed", "ly")) or keyword in ("at the moment", "right now",
                                                         "these days")


def _phrase_has(phrase: Phrase, keyword: str) -> bool:
    ws = lang.words(phrase.text)
    kw = lang.words(keyword)
    if len(kw) > 1:
        return f" {' '.join(kw)} " in f" {' '.join(ws)} "
    return any(w == kw[0] or lang.stem(w) == lang.stem(kw[0]) for w in ws) if kw else False


def _usable(p: Phrase) -> bool:
    return p.kind is not PhraseKind.PERSON and p.weight > 0.5


def by_rules(analysis: Analysis, rules: Sequence[FollowUpRule], used: set[int],
             values: Mapping[str, str]) -> FollowUp | None:
    """A scenario rule whose keyword is in one of the answer's two most relevant phrases
    (or, for verb-like keywords such as "moved", in an asserted clause)."""
    phrases = [p for p in analysis.phrases if _usable(p)][:2]
    for p in phrases:
        for i, rule in enumerate(rules):
            if i not in used and any(_phrase_has(p, k) for k in rule.keywords):
                return FollowUp(render(rule.prompt, **values, phrase=p.text), p.text, i)
    for i, rule in enumerate(rules):
        if i in used:
            continue
        # A verb fits only a slot made for it: "Oh, you {phrase}?", "working on {phrase}".
        verb_slot = "you {phrase}" in rule.prompt or rule.prompt.rstrip("?").endswith("{phrase}")
        for keyword in rule.keywords:
            if _verbish(keyword) and (verb_slot or keyword.endswith("ly")):
                echoed = lang.echo_phrase(analysis.asserted, keyword)
                if echoed:
                    return FollowUp(render(rule.prompt, **values, phrase=echoed), echoed, i)
    return None


def by_kind(analysis: Analysis, stage: Stage, rng: random.Random,
            said: set[str], values: Mapping[str, str]) -> FollowUp | None:
    """The most relevant phrase of the answer, in the template for its kind."""
    for p in analysis.phrases:
        if not _usable(p):
            continue
        kind = p.kind
        if kind is PhraseKind.HOBBY and stage is Stage.DISCUSSION:
            kind = PhraseKind.WORK  # "I build X" at work is not a pastime
        templates = list(KIND_TEMPLATES[kind])
        rng.shuffle(templates)
        for t in templates:
            text = render(t, **values, phrase=p.text)
            text = text[:1].upper() + text[1:]
            if text not in said:
                return FollowUp(text, p.text)
    return None


def generic(stage: Stage, rng: random.Random, said: set[str]) -> FollowUp | None:
    """A follow-up that echoes nothing."""
    fresh = [g for g in GENERIC.get(stage, ()) if g not in said]
    return FollowUp(rng.choice(fresh), "") if fresh else None
