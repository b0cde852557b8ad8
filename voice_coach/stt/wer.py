"""Word error rate: word-level Levenshtein distance over normalised words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_ONES) | set(_TENS) | set(_SCALES)
_WORD_RE = re.compile(r"[a-z0-9']+")
# Engines disagree on how to spell some words; fold the common ones together.
_SPELLINGS = {"ok": "okay", "percent": "%"}


def _numbers_to_digits(words: Sequence[str]) -> list[str]:
    """Replace runs of spelled-out numbers ("twenty five") with digits ("25")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] not in _NUMBER_WORDS:
            out.append(words[i])
            i += 1
            continue
        total = current = 0
        j = i
        while j < len(words) and words[j] in _NUMBER_WORDS:
            w = words[j]
            if w in _ONES:
                current += _ONES[w]
            elif w in _TENS:
                current += _TENS[w]
            elif w == "hundred":
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * _SCALES[w]
                current = 0
            j += 1
        out.append(str(total + current))
        i = j
    return out


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation, numbers as digits, hyphens as spaces."""
    text = text.lower().replace("-", " ").replace("%", " percent ")
    words = [w.strip("'") for w in _WORD_RE.findall(text)]
    words = [_SPELLINGS.get(w, w) for w in words if w]
    return _numbers_to_digits(words)


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one hypothesis against its reference (0.0 when both are empty)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Word error rate over many (reference, hypothesis) pairs: total edits / total words."""
    edits = words = 0
    for reference, hypothesis in pairs:
        ref = normalise(reference)
        edits += edit_distance(ref, normalise(hypothesis))
        words += len(ref)
    return edits / words if words else 0.0
