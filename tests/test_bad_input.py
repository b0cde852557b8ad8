"""Hostile and malformed input: scenario files, transcript lines, session ids, absurd answers.

Every malformed input gives a clean one-line error (a CoachError), never a traceback; whatever
is accepted is stored exactly and shown safely.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tests.support.session_checks import assert_clean_failure, run_cli, run_saved_session_commands
from voice_coach.errors import CoachError, ScenarioError
from voice_coach.feedback.metrics import analyse, no_audio
from voice_coach.feedback.report import render_text, to_json
from voice_coach.interview.controller import Controller
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.transcripts import exports
from voice_coach.transcripts.store import SessionStore, parse_transcript

QUICK = REPO / "tests" / "data" / "quick-chat.toml"
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

text_no_surrogates = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
scalars = st.one_of(
    text_no_surrogates,
    st.sampled_from(["{name}", "{", "}", "{points}", "{0}", "{name!r}", "{x.y}", "%s", ""]),
    st.integers(-10**6, 10**6), st.booleans(), st.floats(allow_nan=True),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(text_no_surrogates, inner, max_size=3)),
    max_leaves=8)


def toml_value(v: Any) -> str:
    """A value as inline TOML (strings as JSON strings, which TOML basic strings accept)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def to_toml(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


BASE = tomllib.loads(QUICK.read_text())


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """The quick-chat scenario with a few leaves replaced, removed or added."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(values)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(text_no_surrogates)] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue
    return data


def run_controller(spec: Any) -> None:
    """A validated scenario must carry a whole interview."""
    controller = Controller(spec, name="Jane", seed=1)
    controller.start()
    for answer in ["Hi, I'm Jane.", "", "I like hiking {points} %s", "What are your goals?",
                   "No, that's all.", "Thanks."] * 3:
        if controller.finished:
            break
        controller.respond(answer)


@SETTINGS
@given(mutated_scenarios())
def test_mutated_scenario_is_valid_or_one_clean_error(tmp_path: Path,
                                                      data: dict[str, Any]) -> None:
    path = tmp_path / "mutant.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    try:
        spec = load_scenario_file(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
        return
    run_controller(spec)


@SETTINGS
@given(st.one_of(text_no_surrogates, st.binary(max_size=200).map(
    lambda b: b.decode("latin-1"))))
def test_random_scenario_text_is_one_clean_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "noise.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_scenario_file(path)


def test_scenario_check_cli_on_broken_files(tmp_path: Path, coach_home: Path) -> None:
    for name, text in [("bad.toml", "title = \n"), ("bin.toml", "\udcff"), ("dir.toml", None)]:
        path = tmp_path / name
        if text is None:
            path.mkdir()
        else:
            path.write_bytes(text.encode("utf-8", "surrogateescape"))
        assert_clean_failure(run_cli(coach_home, ["scenarios", "check", str(path)]), 2)
        assert_clean_failure(run_cli(coach_home, ["practice", "--text", "-s", str(path)]), 2)


# --- transcripts -------------------------------------------------------------------------

event_types = st.sampled_from(["session_start", "stage", "prompt", "answer", "command",
                               "session_end", "mystery"])
field_names = st.sampled_from(["text", "start", "end", "t", "stage", "kind", "words", "audio",
                               "audio_start", "latency", "engine", "reason", "command",
                               "title", "name", "interviewer", "scenario", "mode", "repeat"])
events = st.builds(lambda t, extra: {"type": t, **extra}, event_types,
                   st.dictionaries(field_names, values, max_size=6))


@SETTINGS
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_any_transcript_bytes_parse_without_raising(lines: list[bytes]) -> None:
    events_, warnings = parse_transcript(lines, "t.jsonl")
    assert all(isinstance(e, dict) and isinstance(e["type"], str) for e in events_)
    assert len(warnings) <= len(lines)


@SETTINGS
@given(st.lists(events, min_size=1, max_size=8), st.booleans())
def test_any_events_are_shown_and_analysed_without_raising(
        coach_home: Path, evs: list[dict[str, Any]], cut: bool) -> None:
    store = SessionStore()
    writer = store.create("coffee-chat", "Jane", mode="voice")
    for e in evs:
        writer.append(dict(e))
    writer.close()
    if cut:
        with open(writer.path, "ab") as f:
            f.write(b'{"type": "answer", "text": "cut')
    session = store.load(writer.id)
    exports.to_text(session, timestamps=True)
    exports.to_markdown(session)
    session.summary()
    result = analyse(session, audio_loader=no_audio)
    render_text(result)
    to_json(result)


def test_damaged_session_works_in_every_command(coach_home: Path) -> None:
    store = SessionStore()
    writer = store.create("coffee-chat", "Jane", mode="voice")
    damaged: list[dict[str, Any]] = [
        {"type": "answer", "text": None, "start": "x", "words": "abc", "audio": "../../x"},
              {"type": "answer", "text": 5, "words": [{"text": 1}, None, 3], "audio": "/etc"},
              {"type": "prompt", "text": ["a"], "t": None},
              {"type": "stage", "stage": 7, "title": {}},
              {"type": "answer", "text": "fine", "start": 1, "end": 0.5, "audio": "a.wav",
               "audio_start": "zero", "latency": "fast"}]
    for e in damaged:
        writer.append(e)
    writer.close()
    with open(writer.path, "ab") as f:
        f.write(b"not json\n\xff\xfe\n[1, 2]\n{\"type\": 3}\n{\"type\": \"answer\", \"te")
    run_saved_session_commands(coach_home, writer.id)


@pytest.mark.parametrize("ref", ["../x", "..", "a/b", "/etc/passwd", "..%2f", "x\\y",
                                 "last/../../", "20260101-000000-000/../x", "", " ", "*",
                                 "x\x00y", "~root"])
@pytest.mark.parametrize("command", ["show", "report"])
def test_session_ids_with_paths_are_refused(coach_home: Path, command: str, ref: str) -> None:
    r = run_cli(coach_home, [command, ref])
    assert_clean_failure(r, 2)


# --- absurd answers ----------------------------------------------------------------------

ABSURD = [
    "word " * 20_000,  # 100 kB
    "bell\x07 escape\x1b[2J\x1b]0;pwned\x07 null? back\bspace del\x7f c1\x9b31m",
    "\u202eright-to-left override\u202c and \u05e9\u05dc\u05d5\u05dd "
    "\u0645\u0631\u062d\u0628\u0627",
    "<script>alert(1)</script> <img src=x onerror=alert(1)> **bold** [link](javascript:x) `code`",
    "# heading | table | --- \\ _under_ &amp; &lt;",
    "emoji \U0001f600 zero\u200bwidth combining e\u0301",
]


def test_absurd_answers_are_stored_exactly_and_shown_safely(coach_home: Path) -> None:
    from click.testing import CliRunner

    from voice_coach.cli import cli

    stdin = "\n".join(ABSURD) + "\n"
    result = CliRunner().invoke(cli, ["practice", "--text", "--name", "Jane", "--seed", "1"],
                                input=stdin)
    assert result.exit_code == 0, result.output
    session = SessionStore().load("last")
    stored = [a.text for a in session.answers()]
    assert stored == [a.strip() for a in ABSURD]
    results = run_saved_session_commands(coach_home, session.id)

    md = results["show {id} --markdown"].out
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;" in md
    assert "[link](javascript" not in md
    for out in (results["show {id}"].out, md):
        # terminal control sequences are shown, not obeyed
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
        assert "\x7f" not in out and "\b" not in out
    assert "\u05e9\u05dc\u05d5\u05dd" in results["show {id}"].out  # RTL text kept
    shown = json.loads(results["show {id} --json"].out)
    assert [e["text"] for e in shown["events"] if e["type"] == "answer"] == stored


def test_absurd_text_in_the_scenario_and_name_is_escaped(coach_home: Path) -> None:
    from click.testing import CliRunner

    from voice_coach.cli import cli

    name = "<b>J\x1b[31mane</b>"
    r = CliRunner().invoke(cli, ["demo", "--text"], input="")
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["practice", "--text", "--name", name], input="hi\n")
    assert r.exit_code == 0, r.output
    md = run_cli(coach_home, ["show", "last", "--markdown"]).out
    assert "<b>" not in md and "\x1b" not in md


def test_coach_error_is_the_only_failure(tmp_path: Path) -> None:
    """Sanity: the scenario loader's failures are CoachErrors (the CLI's one-line path)."""
    assert issubclass(ScenarioError, CoachError)
