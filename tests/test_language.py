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


# Issue 11: every phrasing a candidate uses, and what recognisers make of them.
@pytest.mark.parametrize(("text", "cmd"), [
    ("Sorry, could you repeat that?", Command.REPEAT), ("pause", Command.PAUSE),
    ("Pause.", Command.PAUSE), ("resume", Command.RESUME), ("Resume.", Command.RESUME),
    ("slower, please", Command.SLOWER), ("Slower, please.", Command.SLOWER),
    ("end the interview", Command.END), ("let's continue", Command.RESUME),
    ("Let's continue.", Command.RESUME), ("I'd like to end the interview now", Command.END),
    ("I'd like to end the interview now.", Command.END),
    # near-misses: short, one word off, and that word sounds alike
    ("and the interview", Command.END), ("And the interview.", Command.END),
    ("flour, please", Command.SLOWER), ("Flower, please.", Command.SLOWER),
    ("Flora, please.", Command.SLOWER), ("Lower please", Command.SLOWER),
    ("Slur, please.", Command.SLOWER), ("Boss!", Command.PAUSE),
    ("Paws.", Command.PAUSE), ("Paused.", Command.PAUSE), ("Presume.", Command.RESUME),
    ("Resumed.", Command.RESUME), ("Lets continue", Command.RESUME),
    ("Let us continue.", Command.RESUME), ("I like to end the interview now.", Command.END),
    ("I would like to end the interview now.", Command.END),
    ("Sorry, could you repeat it?", Command.REPEAT), ("Repeats, please.", Command.REPEAT),
    ("Okay, let's continue.", Command.RESUME), ("Rezim.", Command.RESUME),
    ("Could we pause, please?", Command.PAUSE), ("Let's contain you.", Command.RESUME),
])
def test_issue_phrasings_and_near_misses(text: str, cmd: Command) -> None:
    assert lang.parse_command(text) == cmd


@pytest.mark.parametrize("text", [
    # long answers that contain a command's words are answers
    "I think I would end the interview by asking about the team's goals.",
    "We had to pause the project for a month and then resume it in spring.",
    "At the end of the interview I asked them to repeat the question about salary.",
    "I'd like to continue working with data, that's why I applied.",
    "My manager told me to speak slower, please, in meetings, so I practise a lot.",
    # short answers one word away from a command that must stay answers
    "I'm Becky.", "I'm Freddie.", "Cat.", "Kit.", "Pass.", "Cause.", "Flowers.", "Flour.",
    "Yes, please.", "Hiking.", "Pasta.", "Sure.", "In the interview.", "I like to skip.",
    "Reading, mostly.", "Closer.", "Bye.", "Posts.", "Keep it.", "Text, please.", "Awesome.",
    "Oz.", "My boss.", "Bus.", "Prism.", "Reason.", "Let's see.", "Let me see.", "Let me think.",
    "Hmm, let's see.", "Good question.", "Give me a second.", "Let's talk about you.",
    "Let's use.", "Let's go.", "Could you rephrase the question?", "Rest.", "Zoom.", "Lower.",
    "Faster food.",
    # one word alone with a sound inside the command's: answers ("Paris" is not "pause")
    "Paris.", "Please.", "Purses.", "Plays.", "Solar.", "Past it.",
])
def test_answers_are_not_commands(text: str) -> None:
    assert lang.parse_command(text) is None


def test_sound_key_hears_dropped_rs_and_spellings() -> None:
    assert {lang.sound_key(w) for w in ("slower", "flower", "flour", "flora")} == {"slR", "flR"}
    assert lang.sound_key("pause") == lang.sound_key("paws") == "ps"
    assert lang.sound_key("and") == lang.sound_key("end")


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
    # A slur the recogniser wrote before the keyword is never echoed.
    assert lang.echo_phrase("I built the kaffir pipeline", "pipeline") is None
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
