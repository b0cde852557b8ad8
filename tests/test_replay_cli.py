"""sessions filters, delete, export and replay --text as a user drives them."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.replay_helpers import make_spoken_session
from voice_coach.cli import cli
from voice_coach.transcripts.store import SessionStore

CLI = cli


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(CLI, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _text_session(scenario: str, answer: str) -> str:
    w = SessionStore().create(scenario, "Jane", mode="text", interviewer="Alex")
    w.append({"type": "prompt", "kind": "main", "text": "Tell me about you", "t": 0.1})
    w.append({"type": "answer", "text": answer, "start": 1.0, "end": 4.0})
    w.end("completed")
    return w.id


def test_sessions_filters_and_keeps_the_lead_format() -> None:
    a = _text_session("coffee-chat", "I love sourdough bread")
    b = _text_session("networking-event", "I work on Kafka pipelines")
    code, out, _ = run(["sessions"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "SCENARIO", "STARTED", "ANSWERS", "END"]
    assert [line.split()[0] for line in lines[1:]] == [b, a]
    code, out, _ = run(["sessions", "--grep", "SOURDOUGH", "--json"])
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [a]
    assert {"id", "scenario", "started_at", "end_reason", "answers"} <= rows[0].keys()
    assert json.loads(run(["sessions", "--scenario", "networking-event", "--json"])[1])[0][
        "id"] == b
    assert len(json.loads(run(["sessions", "--limit", "1", "--json"])[1])) == 1
    assert len(json.loads(run(["sessions", "--since", "today", "--json"])[1])) == 2
    assert json.loads(run(["sessions", "--since", "2999-01-01", "--json"])[1]) == []
    assert run(["sessions", "--grep", "zebra"])[1].strip() == "No session matches."
    code, _, err = run(["sessions", "--since", "someday"])
    assert code == 2 and err.count("\n") == 1 and "--since" in err


def test_delete_asks_then_leaves_nothing_behind(coach_home: Path) -> None:
    made = make_spoken_session(speech=False)
    keep = _text_session("coffee-chat", "keep me")
    code, _, err = run(["delete", made.id], stdin="n\n")
    assert code == 1 and "Nothing deleted" in err and made.folder.exists()
    code, out, _ = run(["delete", made.id, "--yes"])
    assert code == 0 and f"Deleted session {made.id}" in out
    assert not made.folder.exists()
    assert [p.name for p in (coach_home / "sessions").iterdir()] == [keep]
    code, _, err = run(["delete", made.id, "--yes"])
    assert code == 2 and "no session matches" in err
    code, _, _ = run(["delete", keep], stdin="y\n")
    assert code == 0 and list((coach_home / "sessions").iterdir()) == []


@pytest.mark.parametrize("fmt", ["markdown", "json", "vtt", "srt", "html"])
def test_export_to_a_private_file(tmp_path: Path, fmt: str) -> None:
    made = make_spoken_session(speech=False)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    out = out_dir / f"x.{fmt}"
    code, stdout, err = run(["export", made.id, "--format", fmt, "-o", str(out)])
    assert code == 0, err
    assert stdout == "" and f"Wrote {out}" in err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out_dir.iterdir()] == [out.name]  # no temporary file left
    assert "Kafka" in out.read_text()


def test_export_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    made = make_spoken_session(speech=False)
    for args in (["export", "nope"], ["export", "../etc", "-f", "json"],
                 ["export", made.id, "-o", str(tmp_path / "no" / "such" / "dir.md")],
                 ["export", made.id, "-o", str(tmp_path)],
                 ["replay", "a/b", "--text"]):
        code, _, err = run(args)
        assert code == 2, (args, err)
        assert err.startswith("voice-coach: ") and err.count("\n") == 1, err


def test_export_of_a_cut_session_says_so() -> None:
    made = make_spoken_session(speech=False, end=False)
    with made.folder.joinpath("transcript.jsonl").open("ab") as f:
        f.write(b'{"type":"prompt","te')
    code, out, err = run(["export", made.id, "-f", "srt"])
    assert code == 0 and out.count(" --> ") == 6
    assert "cut short" in err
    code, out, _ = run(["replay", made.id, "--text"])
    assert code == 0 and out.rstrip().endswith("cut short; every complete turn is shown)")


def test_replay_text_needs_no_audio_device(coach_home: Path,
                                           no_audio_env: dict[str, str]) -> None:
    made = make_spoken_session(speech=False)
    env = dict(no_audio_env, VOICE_COACH_HOME=str(coach_home))
    cmd = [sys.executable, "-m", "voice_coach", "replay", "last"]
    proc = subprocess.run([*cmd, "--text"], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "[0:01] Jane: I am a data engineer and I love hiking." in proc.stdout
    assert made.id not in proc.stderr
    # without --text and with no device: one line naming the way out
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1 and "--text" in proc.stderr
