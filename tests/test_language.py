"""Text understanding: commands, questions, declines, echoes and key points."""

from __future__ import annotations

import pytest

from voice_coach.interview import language as lang
from voice_coach.interview.language import Command


@pytest.mark.parametrize(("text", "cmd"), [
    ("repeat that", Command.REPEAT), ("Say that again.", Command.REPEAT),
    ("Skip", Command.SKIP), ("next question", Command.SKIP),
    ("End the interview.", Command.END), ("pause", Command.PAUSE), ("resume", Command.RESUME),
    ("slower", Command.SLOWER), ("Faster please", Command.FASTER),
    ("I skipped a step", None), ("could you repeat that question about teams", None),
    ("repeat note", Command.REPEAT), ("Could you repeat that, please?", Command.REPEAT),
    ("skip it please", Command.SKIP), ("repeat the whole project from scratch", None),
])
def test_parse_command(text: str, cmd: Command | None) -> None:
    assert lang.parse_command(text) == cmd


@pytest.mark.parametrize(("text", "yes"), [
    ("What are the company's goals for this project?", True),
    ("what are the company's goals for this project", True),
    ("yes so how big is the team", True),
    ("I was wondering about remote work", True),
    ("I think the project sounds great", False),
    ("No, that's all", False),
])
def test_is_question(text: str, yes: bool) -> None:
    assert lang.is_question(text) is yes


@pytest.mark.parametrize(("text", "yes"), [
    ("No", True), ("no thanks", True), ("No, that's everything. Thank you.", True),
    ("I think that's it", True), ("nope", True), ("Nothing else, thanks", True),
    ("no, but what is the team like?", False), ("yes", False), ("", False),
])
def test_is_decline(text: str, yes: bool) -> None:
    assert lang.is_decline(text) is yes


def test_echo_phrase_takes_the_users_view() -> None:
    text = "At my last job I built a data pipeline for sales reporting."
    assert lang.echo_phrase(text, "pipeline") == "the data pipeline"
    assert lang.echo_phrase("I moved our payments service", "payments") == "your payments service"
    assert lang.echo_phrase("I read your article", "article") == "my article"
    assert lang.echo_phrase("I love hiking", "hiking") == "hiking"
    assert lang.echo_phrase("We set goals", "go") is None


def test_tidy_drops_double_articles() -> None:
    assert lang.tidy("Oh, the my article?") == "Oh, my article?"


def test_key_points_prefer_what_the_user_did() -> None:
    answers = [
        "At my last job I built a data pipeline for sales reporting.",
        "I led a team of three engineers through the migration.",
        "I designed the ingestion layer, wrote the streaming code.",
    ]
    phrases = [p.phrase for p in lang.key_points(answers)]
    assert phrases == ["the data pipeline", "the team of three engineers", "the ingestion layer"]
    assert lang.key_points([]) == []
    assert lang.key_points(["um", ""]) == []


def test_join_points() -> None:
    assert lang.join_points(["a"]) == "a"
    assert lang.join_points(["a", "b", "c"]) == "a, b and c"
