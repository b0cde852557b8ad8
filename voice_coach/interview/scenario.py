"""Scenario files (``prompts/*.toml``): load, validate with file and line, and template."""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_coach import config
from voice_coach.errors import ScenarioError
from voice_coach.interview.stages import DEFAULT_TITLES, STAGE_ORDER, Stage
from voice_coach.interview.templates import fill, problems

_LOGGER = logging.getLogger(__name__)

DEFAULT_SCENARIO = "coffee-chat"
BASE_FIELDS = frozenset({"name", "interviewer", "company", "role"})

DEFAULT_BRIEFING = (
    "Welcome to your practice session. An informal interview is a relaxed conversation, "
    "like a coffee chat, but the other person is still getting to know you. Answer in your "
    "own words, give a concrete example or two, keep small talk short, and have a couple of "
    "questions ready for the end. Say 'repeat that' to hear a line again, 'skip' to move on, "
    "or 'end the interview' to stop. Let's begin."
)
DEFAULT_ACKS = ("Thanks for sharing that.", "That's great.", "Interesting.", "I see.")
DEFAULT_PROBES = (
    "Could you give me a concrete example?",
    "Can you say a bit more about that?",
    "What did that look like in practice?",
)
DEFAULT_REPHRASES = (
    "Sorry, I didn't catch that. No rush - {prompt}",
    "Take your time, there's no wrong answer. {prompt}",
)
DEFAULT_GENERIC_FOLLOWUPS = (
    "You mentioned {phrase} - can you tell me more about that?",
    "You mentioned {phrase} - what was your part in it?",
)
DEFAULT_ANYTHING_ELSE = ("Anything else you'd like to ask?", "Any other questions?")
DEFAULT_GENERIC_ANSWER = (
    "That's a good question. I don't have a precise answer for you right now, "
    "but I'd be happy to find out and follow up."
)
DEFAULT_SUMMARY = (
    "We're nearly out of time. A few things will stay with me: {points}. "
    "Is there anything else you'd like me to know?"
)
DEFAULT_SUMMARY_EMPTY = "We're nearly out of time. Is there anything else you'd like me to know?"


@dataclass(frozen=True)
class FollowUpRule:
    """Ask ``prompt`` when the answer contains one of ``keywords``; ``{phrase}`` echoes them."""

    keywords: tuple[str, ...]
    prompt: str


@dataclass(frozen=True)
class BankAnswer:
    """An answer to a question candidates ask, matched by content."""

    question: str
    answer: str
    keywords: tuple[str, ...] = ()
    topic: str = ""
    """A short name for what the entry answers ("team", "work-life balance")."""
    examples: tuple[str, ...] = ()
    """Other ways candidates ask it: matched by meaning, like ``question``."""


@dataclass(frozen=True)
class StageSpec:
    """One stage of a scenario."""

    stage: Stage
    title: str
    prompts: tuple[str, ...]
    ask: int = 1
    shuffle: bool = False
    max_followups: int = 1
    followups: tuple[FollowUpRule, ...] = ()
    generic_followups: tuple[str, ...] = ()
    fit_questions: tuple[str, ...] = ()
    answers: tuple[BankAnswer, ...] = ()
    generic_answer: str = DEFAULT_GENERIC_ANSWER
    generic_answers: tuple[str, ...] = ()
    """Honest replies when nothing fits; ``{topic}`` names what was asked."""
    anything_else: tuple[str, ...] = DEFAULT_ANYTHING_ELSE
    max_questions: int = 5
    summary: str = DEFAULT_SUMMARY
    summary_empty: str = DEFAULT_SUMMARY_EMPTY
    next_steps: str = ""
    closing: str = ""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: who interviews, for what, and the five stages."""

    id: str
    title: str
    interviewer: str
    company: str
    role: str
    role_description: str
    stages: Mapping[Stage, StageSpec]
    description: str = ""
    briefing: str = DEFAULT_BRIEFING
    acknowledgements: tuple[str, ...] = DEFAULT_ACKS
    probes: tuple[str, ...] = DEFAULT_PROBES
    rephrases: tuple[str, ...] = DEFAULT_REPHRASES
    facts: tuple[str, ...] = ()
    """Plain sentences about the role and team the interviewer can answer questions from."""
    path: Path | None = field(default=None, compare=False)

    def stage(self, stage: Stage) -> StageSpec:
        """The spec of one stage."""
        return self.stages[stage]


def render(template: str, **values: str) -> str:
    """Fill a template's ``{fields}`` once (see :mod:`templates`); unknown fields stay."""
    return fill(template, values)


# --- validation -----------------------------------------------------------------------------

_Check = Callable[[Any], str | None]


def _is_str(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "must be a non-empty string"
    return None


def _is_str_list(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "must be a non-empty list of strings"
    if not all(isinstance(x, str) and x.strip() for x in v):
        return "must be a non-empty list of non-empty strings"
    return None


def _is_str_or_list(v: Any) -> str | None:
    if isinstance(v, str):
        return _is_str(v)
    return None if _is_str_list(v) is None else "must be a string or a list of strings"


def _is_int(lo: int, hi: int) -> _Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"must be a whole number from {lo} to {hi}"
        return None

    return check


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


_TOP_KEYS: dict[str, tuple[_Check, bool]] = {
    # key: (check, required)
    "title": (_is_str, True),
    "description": (_is_str, False),
    "interviewer": (_is_str, True),
    "company": (_is_str, True),
    "role": (_is_str, True),
    "role_description": (_is_str, True),
    "briefing": (_is_str, False),
    "acknowledgements": (_is_str_list, False),
    "probes": (_is_str_list, False),
    "rephrases": (_is_str_list, False),
    "facts": (_is_str_list, False),
}
_COMMON_STAGE_KEYS: dict[str, _Check] = {
    "title": _is_str,
    "prompts": _is_str_list,
    "ask": _is_int(1, 20),
    "shuffle": _is_bool,
    "max_followups": _is_int(0, 10),
    "generic_followups": _is_str_list,
}
_EXTRA_STAGE_KEYS: dict[Stage, dict[str, _Check]] = {
    Stage.GREETING: {},
    Stage.ICEBREAKERS: {},
    Stage.DISCUSSION: {"fit_questions": _is_str_list},
    Stage.YOUR_QUESTIONS: {
        "generic_answer": _is_str_or_list,
        "anything_else": _is_str_list,
        "max_questions": _is_int(1, 20),
    },
    Stage.WRAP_UP: {
        "summary": _is_str,
        "summary_empty": _is_str,
        "next_steps": _is_str,
        "closing": _is_str,
    },
}
_REQUIRED_STAGE_KEYS: dict[Stage, tuple[str, ...]] = {
    Stage.GREETING: ("prompts",),
    Stage.ICEBREAKERS: ("prompts",),
    Stage.DISCUSSION: ("prompts", "fit_questions"),
    Stage.YOUR_QUESTIONS: ("prompts", "answers"),
    Stage.WRAP_UP: ("next_steps", "closing"),
}
# Extra template fields allowed in some keys, beyond BASE_FIELDS.
_EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "generic_followups": frozenset({"phrase"}),
    "followups.prompt": frozenset({"phrase"}),
    "summary": frozenset({"points"}),
    "rephrases": frozenset({"prompt"}),
    "generic_answer": frozenset({"topic"}),
}


class _Locator:
    """Finds the line of a key in TOML text, so errors can name it (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, table: str, key: str | None = None, index: int | None = None) -> int:
        """1-based line of ``key`` inside table ``table`` (the ``index``-th for arrays)."""
        current, counts, header_line = "", {"": 0}, 0
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=") if key else None
        for n, raw in enumerate(self.lines, start=1):
            m = self._HEADER.match(raw)
            if m:
                current = m.group(2).replace(" ", "").replace('"', "").replace("'", "")
                counts[current] = counts.get(current, -1) + 1
                if current == table and (index is None or counts[current] == index):
                    header_line = header_line or n
                continue
            in_table = current == table and (index is None or counts.get(current) == index)
            if in_table and key_re is not None and key_re.match(raw):
                return n
        if header_line:
            return header_line
        if key_re is not None:
            for n, raw in enumerate(self.lines, start=1):
                if key_re.match(raw):
                    return n
        return 1


class _Validator:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.loc = _Locator(text)

    def fail(self, line: int, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.path}:{line}: {problem}")

    def check_templates(self, value: Any, table: str, key: str, allowed_key: str) -> None:
        allowed = BASE_FIELDS | _EXTRA_FIELDS.get(allowed_key, frozenset())
        items = value if isinstance(value, list) else [value]
        for item in items:
            found = problems(item, allowed) if isinstance(item, str) else []
            if found:
                raise self.fail(
                    self.loc.line_of(table, key),
                    f"'{key}': {found[0]} "
                    f"(allowed: {', '.join('{' + a + '}' for a in sorted(allowed))})",
                )

    def check_table(
        self,
        data: Mapping[str, Any],
        table: str,
        allowed: Mapping[str, _Check],
        required: tuple[str, ...],
        index: int | None = None,
        where: str = "",
    ) -> None:
        for key, value in data.items():
            if key not in allowed:
                raise self.fail(
                    self.loc.line_of(table, key, index),
                    f"unknown key '{key}'{where} (expected one of: {', '.join(sorted(allowed))})",
                )
            problem = allowed[key](value)
            if problem:
                raise self.fail(self.loc.line_of(table, key, index), f"'{key}'{where} {problem}")
        for key in required:
            if key not in data:
                raise self.fail(
                    self.loc.line_of(table, None, index), f"missing key '{key}'{where}"
                )


def _validate(path: Path, text: str, data: dict[str, Any]) -> Scenario:
    v = _Validator(path, text)
    allowed_top: dict[str, _Check] = {k: c for k, (c, _) in _TOP_KEYS.items()}
    allowed_top["stages"] = lambda x: None if isinstance(x, dict) else "must be a table"
    required_top = (*(k for k, (_, req) in _TOP_KEYS.items() if req), "stages")
    v.check_table(data, "", allowed_top, required_top)
    for key in ("briefing", "acknowledgements", "probes", "rephrases", "facts",
                "role_description"):
        if key in data:
            v.check_templates(data[key], "", key, key)

    raw_stages: dict[str, Any] = data["stages"]
    for name in raw_stages:
        if name not in {s.value for s in STAGE_ORDER}:
            raise v.fail(
                v.loc.line_of(f"stages.{name}"),
                f"unknown stage '{name}' (stages are: {', '.join(s.value for s in STAGE_ORDER)})",
            )
    stages: dict[Stage, StageSpec] = {}
    for stage in STAGE_ORDER:
        table = f"stages.{stage.value}"
        if stage.value not in raw_stages:
            raise v.fail(v.loc.line_of("stages"), f"missing stage '{stage.value}'")
        raw = raw_stages[stage.value]
        if not isinstance(raw, dict):
            raise v.fail(v.loc.line_of("stages", stage.value),
                         f"stage '{stage.value}' must be a table")
        allowed = dict(_COMMON_STAGE_KEYS) | _EXTRA_STAGE_KEYS[stage]
        allowed["followups"] = lambda x: (
            None if isinstance(x, list) and all(isinstance(i, dict) for i in x)
            else "must be an array of tables ([[...followups]])"
        )
        if stage is Stage.YOUR_QUESTIONS:
            allowed["answers"] = lambda x: (
                None if isinstance(x, list) and x and all(isinstance(i, dict) for i in x)
                else "must be a non-empty array of tables ([[...answers]])"
            )
        v.check_table(raw, table, allowed, _REQUIRED_STAGE_KEYS[stage])
        for key, value in raw.items():
            if key in ("followups", "answers") or not isinstance(value, str | list):
                continue
            v.check_templates(value, table, key, key)

        rules = []
        for i, rule in enumerate(raw.get("followups", [])):
            where = f" in follow-up {i + 1}"
            v.check_table(
                rule, f"{table}.followups", {"keywords": _is_str_list, "prompt": _is_str},
                ("keywords", "prompt"), index=i, where=where,
            )
            v.check_templates(rule["prompt"], f"{table}.followups", "prompt", "followups.prompt")
            rules.append(FollowUpRule(tuple(k.lower() for k in rule["keywords"]), rule["prompt"]))
        bank = []
        for i, item in enumerate(raw.get("answers", [])):
            where = f" in answer {i + 1}"
            v.check_table(
                item, f"{table}.answers",
                {"question": _is_str, "answer": _is_str, "keywords": _is_str_list,
                 "topic": _is_str, "examples": _is_str_list},
                ("question", "answer"), index=i, where=where,
            )
            v.check_templates(item["answer"], f"{table}.answers", "answer", "answer")
            bank.append(
                BankAnswer(
                    item["question"], item["answer"],
                    tuple(k.lower() for k in item.get("keywords", [])),
                    item.get("topic", ""),
                    tuple(item.get("examples", [])),
                )
            )
        spec_kwargs: dict[str, Any] = {
            k: (tuple(val) if isinstance(val, list) else val)
            for k, val in raw.items() if k not in ("followups", "answers", "title", "prompts")
        }
        generic = spec_kwargs.pop("generic_answer", None)
        if generic is not None:
            generic = (generic,) if isinstance(generic, str) else tuple(generic)
            spec_kwargs["generic_answer"] = generic[0]
            spec_kwargs["generic_answers"] = generic
        stages[stage] = StageSpec(
            stage=stage,
            title=raw.get("title", DEFAULT_TITLES[stage]),
            prompts=tuple(raw.get("prompts", ())),
            followups=tuple(rules),
            answers=tuple(bank),
            **spec_kwargs,
        )
    top: dict[str, Any] = {
        k: (tuple(val) if isinstance(val, list) else val)
        for k, val in data.items() if k != "stages"
    }
    return Scenario(id=path.stem, stages=stages, path=path, **top)


MAX_SCENARIO_BYTES = 1 << 20
"""A scenario is a few kB; a bigger file (or /dev/zero) is not read."""


def read_scenario_text(path: Path) -> str:
    """A scenario file's text: a regular file of sane size, in UTF-8 (else ScenarioError)."""
    try:
        # O_NONBLOCK: a FIFO given as a scenario must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(f"{path}: is a folder, not a scenario file")
        if not stat.S_ISREG(mode):
            raise ScenarioError(f"{path}: not a regular file (refused)")
        data = os.read(fd, MAX_SCENARIO_BYTES + 1)
        while len(data) <= MAX_SCENARIO_BYTES:
            more = os.read(fd, MAX_SCENARIO_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_SCENARIO_BYTES >> 20} MB; "
                            "not a scenario file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc})") from None


def load_scenario_file(path: Path) -> Scenario:
    """Load and validate one scenario file; problems raise ScenarioError naming file and line."""
    text = read_scenario_text(path)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(f"{path}:1: bad TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        # Without a line ("at end of document"), an unclosed list or string ran to the last.
        line = m.group(1) if m else str(max(1, len(text.rstrip().splitlines())))
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg).rstrip(".")
        raise ScenarioError(f"{path}:{line}: bad TOML: {problem}") from None
    return _validate(path, text, data)


def scenario_files() -> dict[str, Path]:
    """Scenario id -> file: the shipped ones, overridden or extended by the user's."""
    found: dict[str, Path] = {}
    for folder in (config.shipped_prompts_dir(), config.user_prompts_dir()):
        if folder.is_dir():
            for p in sorted(folder.glob("*.toml")):
                if not p.name.startswith("_"):
                    found[p.stem] = p
    return found


def load_scenario(name_or_path: str | None) -> Scenario:
    """Load a scenario by id (shipped or user) or by file path."""
    name = name_or_path or DEFAULT_SCENARIO
    candidate = Path(name)
    if name.endswith(".toml") or candidate.parent != Path("."):
        return load_scenario_file(candidate)
    files = scenario_files()
    if name not in files:
        available = ", ".join(sorted(files)) or "none"
        raise ScenarioError(f"unknown scenario '{name}' (available: {available})")
    return load_scenario_file(files[name])
