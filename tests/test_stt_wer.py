"""Word error rate helper."""

from __future__ import annotations

import pytest

from voice_coach.stt.wer import corpus_wer, normalise, wer


def test_identical_ignores_case_and_punctuation() -> None:
    assert wer("Hello, World!", "hello world") == 0.0


def test_substitution_insertion_deletion() -> None:
    assert wer("a b c d", "a x c d") == pytest.approx(0.25)
    assert wer("a b c d", "a b c d e") == pytest.approx(0.25)
    assert wer("a b c d", "a c d") == pytest.approx(0.25)


def test_spelled_numbers_match_digits() -> None:
    assert normalise("twenty five people") == ["25", "people"]
    assert wer("I worked for three years", "I worked for 3 years") == 0.0
    assert wer("one hundred and twenty", "120") > 0  # "and" stays a word: not folded


def test_empty_reference() -> None:
    assert wer("", "") == 0.0
    assert wer("", "thank you") == 1.0


def test_corpus_wer_weights_by_words() -> None:
    assert corpus_wer([("a b c d", "a b c d"), ("e f", "x f")]) == pytest.approx(1 / 6)
