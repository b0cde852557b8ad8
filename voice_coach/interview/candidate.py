"""Scripted candidates (``prompts/candidates/*.toml``) that answer for the demo and tests."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from voice_coach import config
from voice_coach.errors import ScenarioError
from voice_coach.interview.scenario import read_scenario_text
from voice_coach.interview.stages import STAGE_ORDER, Stage

PAUSE_MARK = "[pause]"
FALLBACK_ANSWERS: dict[Stage, str] = {
    Stage.GREETING: "Nice to meet you too.",
    Stage.ICEBREAKERS: "That's a good question, I'd have to think about it.",
    Stage.DISCUSSION: "I think I covered most of it, but I'm happy to go into more detail later.",
    Stage.YOUR_QUESTIONS: "No, that's all. Thank you.",
    Stage.WRAP_UP: "Thank you for your time.",
}


@dataclass(frozen=True)
class ScriptedAnswer:
    """One scripted answer; with ``when``, it is kept for a line containing one of those words."""

    text: str
    when: tuple[str, ...] = ()


@dataclass
class ScriptedCandidate:
    """Answers by stage: the first unused answer whose ``when`` fits the line, else in order."""

    name: str
    voice: str
    answers: dict[Stage, list[ScriptedAnswer]]
    path: Path | None = None
    _used: set[tuple[Stage, int]] = field(default_factory=set)

    def answer(self, stage: Stage | None, line: str = "") -> str:
        """The next scripted answer to ``line`` in ``stage`` (``[pause]`` marks left in)."""
        stage = stage or Stage.GREETING
        pool = self.answers.get(stage, [])
        lowered = line.lower()
        unused = [i for i in range(len(pool)) if (stage, i) not in self._used]
        chosen = next((i for i in unused if any(w in lowered for w in pool[i].when)), None)
        if chosen is None:
            chosen = next((i for i in unused if not pool[i].when), None)
        if chosen is None:
            return FALLBACK_ANSWERS[stage]
        self._used.add((stage, chosen))
        return pool[chosen].text


def plain(text: str) -> str:
    """An answer without its pause marks."""
    return re.sub(r"\s+", " ", text.replace(PAUSE_MARK, " ")).strip()


def candidates_dir() -> Path:
    """Where shipped scripted candidates live."""
    return config.shipped_prompts_dir() / "candidates"


def load_candidate(scenario_id: str, path: Path | None = None) -> ScriptedCandidate:
    """Load the scripted candidate for a scenario (or the coffee-chat one as a fallback)."""
    if path is None:
        path = candidates_dir() / f"{scenario_id}.toml"
        if not path.exists():
            path = candidates_dir() / "coffee-chat.toml"
    try:
        data = tomllib.loads(read_scenario_text(path))  # regular, bounded, no FIFO wait
    except (RecursionError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read the scripted candidate ({exc})") from None
    unknown = set(data) - {"name", "voice", "answers"}
    if unknown:
        raise ScenarioError(f"{path}: unknown key '{sorted(unknown)[0]}'")
    raw = data.get("answers", {})
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: 'answers' must be a table")
    answers: dict[Stage, list[ScriptedAnswer]] = {}
    for stage in STAGE_ORDER:
        pool = raw.get(stage.value, [])
        if not isinstance(pool, list):
            raise ScenarioError(f"{path}: answers.{stage.value} must be a list")
        answers[stage] = [_scripted(item, path, stage) for item in pool]
    return ScriptedCandidate(str(data.get("name", "Jane")), str(data.get("voice", "en-us+m3")),
                             answers, path)


def _scripted(item: object, path: Path, stage: Stage) -> ScriptedAnswer:
    if isinstance(item, str):
        return ScriptedAnswer(item)
    if (isinstance(item, dict) and isinstance(item.get("say"), str)
            and isinstance(item.get("when", []), list) and set(item) <= {"say", "when"}):
        return ScriptedAnswer(item["say"], tuple(str(w).lower() for w in item.get("when", [])))
    raise ScenarioError(
        f"{path}: answers.{stage.value}: each answer is a string or {{ say = ..., when = [...] }}"
    )
