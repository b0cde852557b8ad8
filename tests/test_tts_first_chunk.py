"""Piper says a long first sentence in two parts, split at a clause break (pure text logic)."""

from __future__ import annotations

from voice_coach.tts.piper_engine import first_chunk


def test_long_first_sentence_splits_at_its_first_clause_break() -> None:
    text = ("From what I've described, which part of the work would you enjoy most, and where "
            "would you need to ramp up? Take your time.")
    head, rest = first_chunk(text)
    assert head == "From what I've described,"
    assert rest.startswith("which part of the work") and rest.endswith("Take your time.")


def test_short_or_unbroken_sentences_stay_whole() -> None:
    assert first_chunk("Thanks, that's helpful. Could you tell me more?") == (
        "", "Thanks, that's helpful. Could you tell me more?")
    long_plain = "Tell me about your experience working on similar projects and what you learned"
    assert first_chunk(long_plain) == ("", long_plain)
    assert first_chunk("") == ("", "")


def test_break_too_late_or_too_early_is_not_used() -> None:
    late = "One two three four five six seven eight nine ten eleven twelve, thirteen fourteen."
    assert first_chunk(late) == ("", late)
    early = "Oh, so tell me about the project you led last year and what the team did next"
    assert first_chunk(early)[0] == ""
