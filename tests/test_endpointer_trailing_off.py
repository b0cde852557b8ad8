"""Whisper's "so..." marks a voice trailing off mid-thought: the endpointer must wait, not end."""

from __future__ import annotations

import pytest

from voice_coach.listening.endpointer import EndpointConfig, required_silence


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        # Seen in bench/latency.py: a 1 s pause after "so..." was cut at 0.7 s.
        ("Definitely a morning person. I like to start early, so...", 2.5),
        ("Definitely a morning person. I like to start early, and\u2026", 2.5),
        ("I think that covers most of it, more or less...", 2.5),
        ("Definitely a morning person. I like to start early, so I leave early.", 0.7),
    ],
)
def test_trailing_off_is_no_sentence_end(hint: str, expected: float) -> None:
    assert required_silence(hint, EndpointConfig(), expected_words=6) == pytest.approx(expected)
