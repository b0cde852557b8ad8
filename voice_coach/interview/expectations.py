"""How long an answer a question wants: a start shorter than that is followed by a thinking pause.

The endpointer waits the long thinking pause for an answer that is short for its question
(``Endpointer.expect``). "Could you tell me a little about yourself?" wants several sentences,
so a pause after the first one is a pause to think; "And you are?" wants a name, and a long wait
after "I'm Jane." would feel like a hang. Pure: text in, number out.
"""

from __future__ import annotations

import re

from voice_coach.interview.stages import Stage

EXPECTED_WORDS: dict[Stage, int] = {
    Stage.GREETING: 15,
    Stage.ICEBREAKERS: 6,
    Stage.DISCUSSION: 25,
    Stage.YOUR_QUESTIONS: 0,
    Stage.WRAP_UP: 0,
}
"""Words before an answer may sound finished, when the question says nothing more (see
``expected_words``). Discussion answers should develop an example, so a one-sentence start
followed by a pause is a thinking pause, not the end; in the last two stages the user asks and
closes, and any length is an answer."""

STORY_WORDS = 25
"""An invitation to tell ("tell me about...", "walk me through...", "how did you get into..."):
two sentences or more."""
OPEN_WORDS = 15
"""Another open question ("what brings you here?", "what kind of food do you like?")."""
CHAT_WORDS = 10
"""How-are-you small talk ("How has your week been?"): a sentence, often a second."""
CLOSED_WORDS = 8
"""A yes/no or either/or question ("Did you have far to come?"): a short sentence."""
NAME_WORDS = 1
"""Asking the user's name ("And you are?"): "Jane." is a whole answer (it gets the neutral wait)."""

_STORY = re.compile(
    r"\b(tell me|walk me through|talk me through|describe|explain|what got you|what made you"
    r"|what brought you|what brings you|how did you (?:get|end up|become|start|come to)"
    r"|what was (?:it|that) like|what (?:do|did) you (?:enjoy|love|like) (?:most )?about"
    r"|what was your (?:part|role|process)|what'?s a (?:problem|project|time)"
    r"|how do you (?:handle|approach|deal|decide|work)|why)\b")
_NAME = re.compile(r"^(?:and )?(?:you are|what'?s your name|what is your name|and your name"
                   r"|who are you|your name)\b")
_CHAT = re.compile(r"^how(?:'s| is| has| have| was| are)\b.*\b(?:day|week|weekend|morning"
                   r"|afternoon|evening|things|going|been)\b|^how are you(?: doing)?$")
_CLOSED = re.compile(r"^(?:do|does|did|have|has|had|are|is|was|were|would|could|can|will"
                     r"|shall|should|any|anything)\b")
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")


_IMPERATIVE = re.compile(r"^(?:tell|walk|talk|describe|explain)\b")
_CLAUSE = re.compile(r"\s+-\s+|[,:;]\s+")
_FILLER = re.compile(r"^(?:so|and so|and|oh|well|okay|ok|now|great|right|but)\b\s*")


def _questions(line: str) -> list[str]:
    """The line's questions and requests, lower-cased, each clause on its own.

    "Before we dive in - what do you enjoy doing?" asks "what do you enjoy doing"; "Tell me
    more." asks too, without a question mark.
    """
    out = []
    for sentence in _SENTENCE.findall(line.lower()):
        sentence = sentence.strip()
        asks = sentence.endswith("?")
        for clause in _CLAUSE.split(sentence.rstrip(".?!")):
            clause = _FILLER.sub("", clause.strip(" -"))
            if clause and (asks or _IMPERATIVE.match(clause)):
                out.append(clause)
    return out


def question_words(question: str) -> int | None:
    """Words an answer to this one question should have before it may sound finished."""
    if _STORY.search(question):
        return STORY_WORDS
    if _NAME.search(question):
        return NAME_WORDS
    if _CHAT.search(question):
        return CHAT_WORDS
    if _CLOSED.search(question):
        return CLOSED_WORDS
    if re.match(r"^(?:what|how|which|where|when|who)\b", question):
        return OPEN_WORDS
    return None


def expected_words(line: str, stage: Stage | None) -> int:
    """Words an answer to the interviewer's ``line`` should have before it may sound finished.

    The most open question in the line decides ("Have you been here before? What kind of food do
    you like?" wants an open answer). Discussion answers never want less than the stage's
    length: "Does that sound interesting?" there is answered "Yes - because..." after a pause.
    The last two stages keep their own (none): there the user asks and closes.
    """
    base = EXPECTED_WORDS.get(stage, 0) if stage is not None else EXPECTED_WORDS[Stage.GREETING]
    if stage in (Stage.YOUR_QUESTIONS, Stage.WRAP_UP):
        return base
    found = [w for w in map(question_words, _questions(line)) if w is not None]
    if not found:
        return base
    wanted = max(found)
    return max(wanted, base) if stage is Stage.DISCUSSION else wanted
