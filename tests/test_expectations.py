"""How long an answer each question wants (the endpointer's "short for the question")."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from voice_coach.interview.expectations import (
    CHAT_WORDS,
    CLOSED_WORDS,
    EXPECTED_WORDS,
    NAME_WORDS,
    OPEN_WORDS,
    STORY_WORDS,
    expected_words,
)
from voice_coach.interview.stages import Stage

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@pytest.mark.parametrize(
    ("line", "stage", "words"),
    [
        ("Thanks for making time. To start, could you tell me a little about yourself?",
         Stage.GREETING, STORY_WORDS),
        ("Hi there! I don't think we've met - I'm Alex. And you are?", Stage.GREETING,
         NAME_WORDS),
        ("Hey, mind if I join you? I'm Alex. What's your name?", Stage.GREETING, NAME_WORDS),
        ("Thanks for joining me for lunch. How has your day been?", Stage.GREETING, CHAT_WORDS),
        ("How did you come across our team?", Stage.GREETING, OPEN_WORDS),
        ("Did you have far to come today, or is this part of town familiar?",
         Stage.ICEBREAKERS, CLOSED_WORDS),
        ("Have you been here before? The pasta is great. What kind of food do you like?",
         Stage.ICEBREAKERS, OPEN_WORDS),
        ("Before we dive in - what do you enjoy doing when you're not working? Any hobbies?",
         Stage.ICEBREAKERS, OPEN_WORDS),
        ("Oh, bouldering! How did you get into that?", Stage.ICEBREAKERS, STORY_WORDS),
        ("Oh, chess? Tell me more.", Stage.ICEBREAKERS, STORY_WORDS),
        ("Walk me through a piece of work you're proud of.", Stage.DISCUSSION, STORY_WORDS),
    ],
)
def test_the_question_sets_the_length(line: str, stage: Stage, words: int) -> None:
    assert expected_words(line, stage) == words


def test_discussion_never_wants_less_than_its_stage() -> None:
    """ "Does that sound interesting?" in discussion is answered "Yes - because..."."""
    line = "Does something like that sound interesting to you?"
    assert expected_words(line, Stage.DISCUSSION) == EXPECTED_WORDS[Stage.DISCUSSION]
    assert expected_words(line, Stage.ICEBREAKERS) == CLOSED_WORDS


def test_no_question_falls_back_to_the_stage() -> None:
    assert expected_words("", Stage.GREETING) == EXPECTED_WORDS[Stage.GREETING]
    assert expected_words("Lovely.", Stage.ICEBREAKERS) == EXPECTED_WORDS[Stage.ICEBREAKERS]
    assert expected_words("", None) == EXPECTED_WORDS[Stage.GREETING]


def test_the_user_asking_and_closing_wants_no_length() -> None:
    line = "That's plenty from me. Could you tell me what you'd like to know?"
    assert expected_words(line, Stage.YOUR_QUESTIONS) == 0
    assert expected_words("Anything else you'd like to add?", Stage.WRAP_UP) == 0


def test_every_shipped_greeting_and_icebreaker_question_is_understood() -> None:
    """No shipped question of the first two stages falls back to the stage's guess."""
    fill = {"phrase": "that", "name": "Sam", "interviewer": "Alex", "company": "Acme",
            "role": "the project"}
    for path in sorted(PROMPTS.glob("*.toml")):
        stages = tomllib.loads(path.read_text(encoding="utf-8"))["stages"]
        for key in ("greeting", "icebreakers"):
            st = stages[key]
            for q in [*st["prompts"], *(f["prompt"] for f in st.get("followups", []))]:
                line = q.format(**fill)
                # Asked as an icebreaker: its fallback (6 words) is none of the question kinds.
                assert expected_words(line, Stage.ICEBREAKERS) in (
                    STORY_WORDS, OPEN_WORDS, CHAT_WORDS, CLOSED_WORDS, NAME_WORDS), (path, line)
