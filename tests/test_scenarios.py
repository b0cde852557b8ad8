"""Scenario files: the shipped ones load; malformed ones give file, line and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_coach.errors import ScenarioError
from voice_coach.interview.scenario import (
    load_scenario,
    load_scenario_file,
    render,
    scenario_files,
)
from voice_coach.interview.stages import STAGE_ORDER, Stage

SHIPPED = ["coffee-chat", "informational-interview", "networking-event", "hiring-manager-lunch"]
COFFEE = Path(__file__).resolve().parent.parent / "prompts" / "coffee-chat.toml"


@pytest.mark.parametrize("sid", SHIPPED)
def test_shipped_scenarios_load(sid: str) -> None:
    spec = load_scenario(sid)
    assert spec.id == sid
    assert list(spec.stages) == list(STAGE_ORDER)
    assert spec.stage(Stage.YOUR_QUESTIONS).answers
    assert spec.stage(Stage.WRAP_UP).closing


def test_coffee_chat_has_the_required_lines() -> None:
    spec = load_scenario(None)
    assert spec.id == "coffee-chat"
    greeting = render(spec.stage(Stage.GREETING).prompts[0], name="Jane")
    assert greeting.startswith("Hello, it's great to meet you, Jane.")
    assert "Tell me about your experience working on similar projects." in spec.stage(
        Stage.DISCUSSION).prompts
    assert spec.stage(Stage.WRAP_UP).closing == (
        "Thank you for your time, {name}. We'll be in touch soon.")
    assert any("hobbies" in p for p in spec.stage(Stage.ICEBREAKERS).prompts)
    questions = [a.question for a in spec.stage(Stage.YOUR_QUESTIONS).answers]
    assert "What are the company's goals for this project?" in questions


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = COFFEE.read_text()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "max_followups = 2", "max_folowups = 2")
    with pytest.raises(ScenarioError) as err:
        load_scenario_file(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{_line_of(path, 'max_folowups')}:")
    assert "unknown key 'max_folowups'" in msg


def test_wrong_type_names_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "ask = 2\nmax_followups = 2", "ask = \"two\"\nmax_followups = 2")
    line = _line_of(path, 'ask = "two"')
    with pytest.raises(ScenarioError, match=rf":{line}: 'ask' must be"):
        load_scenario_file(path)


def test_missing_stage(tmp_path: Path) -> None:
    text = COFFEE.read_text()
    start = text.index("[stages.wrap_up]")
    path = tmp_path / "nostage.toml"
    path.write_text(text[:start])
    with pytest.raises(ScenarioError, match="missing stage 'wrap_up'"):
        load_scenario_file(path)


def test_bad_toml_gives_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'title = "Coffee chat"', 'title = "Coffee chat')
    with pytest.raises(ScenarioError, match=rf"{path}:\d+: bad TOML"):
        load_scenario_file(path)


def test_unknown_placeholder(tmp_path: Path) -> None:
    path = _broken(tmp_path, "meet you, {name}.", "meet you, {nmae}.")
    with pytest.raises(ScenarioError, match=r"unknown placeholder \{nmae\}"):
        load_scenario_file(path)


def test_unknown_stage(tmp_path: Path) -> None:
    path = _broken(tmp_path, "[stages.icebreakers]", "[stages.icebreaker]")
    with pytest.raises(ScenarioError, match="unknown stage 'icebreaker'"):
        load_scenario_file(path)


def test_unknown_scenario_lists_available() -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("tea-party")
    assert "unknown scenario 'tea-party'" in str(err.value)
    assert "coffee-chat" in str(err.value)


def test_user_scenarios_override_and_add(coach_home: Path) -> None:
    folder = coach_home / "prompts"
    folder.mkdir(parents=True)
    text = COFFEE.read_text()
    (folder / "coffee-chat.toml").write_text(text.replace("Alex Morgan", "Robin Park"))
    (folder / "mentor-call.toml").write_text(text)
    files = scenario_files()
    assert files["coffee-chat"].parent == folder
    assert "mentor-call" in files
    assert load_scenario("coffee-chat").interviewer == "Robin Park"


BANK_TOPICS = ("team", "day", "culture", "challenges", "growth", "remote", "next steps",
               "why I joined", "my career path", "onboarding", "decisions", "work-life balance")


@pytest.mark.parametrize("sid", SHIPPED)
def test_every_bank_covers_the_common_topics_and_has_facts(sid: str) -> None:
    spec = load_scenario(sid)
    topics = {a.topic for a in spec.stage(Stage.YOUR_QUESTIONS).answers}
    assert set(BANK_TOPICS) <= topics
    assert topics & {"tech stack", "tools"}
    assert spec.facts
    assert all("{topic}" in g for g in spec.stage(Stage.YOUR_QUESTIONS).generic_answers)


def test_facts_must_be_a_list(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'facts = [\n  "We ship every week.",',
                   'facts = "We ship every week."\nx = [')
    with pytest.raises(ScenarioError, match=rf":{_line_of(path, 'facts =')}: 'facts' must be"):
        load_scenario_file(path)


def test_bank_entry_topic_must_be_a_string(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'topic = "day"', "topic = 5")
    with pytest.raises(ScenarioError, match="'topic' in answer 2 must be"):
        load_scenario_file(path)


def test_toml_left_open_to_the_end_names_its_last_line(tmp_path: Path) -> None:
    """tomllib gives no line for "(at end of document)": the last line, not the first."""
    path = tmp_path / "open.toml"
    path.write_text('title = "x"\nstages = [\n  "greeting",\n\n')
    with pytest.raises(ScenarioError, match=rf"{path}:3: bad TOML"):
        load_scenario_file(path)
