"""The five stages of an informal interview, in order."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """A stage of the conversation; values are the scenario-file keys."""

    GREETING = "greeting"
    ICEBREAKERS = "icebreakers"
    DISCUSSION = "discussion"
    YOUR_QUESTIONS = "your_questions"
    WRAP_UP = "wrap_up"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

DEFAULT_TITLES: dict[Stage, str] = {
    Stage.GREETING: "Greeting and Introductions",
    Stage.ICEBREAKERS: "Ice-Breakers and Small Talk",
    Stage.DISCUSSION: "Informal Questions and Discussions",
    Stage.YOUR_QUESTIONS: "Opportunity for Interviewee to Ask Questions",
    Stage.WRAP_UP: "Wrap-Up and Next Steps",
}
