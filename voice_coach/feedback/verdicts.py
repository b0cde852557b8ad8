"""How a number compares with its target, and a piece of advice: shared by metrics and tips."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """How a number compares with its target range."""

    LOW = "low"
    OK = "ok"
    HIGH = "high"
    UNJUDGED = "too short to judge"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Tip:
    """One piece of advice, pointing at the turn it comes from."""

    metric: str
    text: str
    say: str
    """The same advice as one spoken sentence (no turn numbers)."""
    turn: int | None
    stage: str | None
    priority: float
