"""The command line as a user drives it: text practice, sessions, show, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import REPO, cli_cmd, cli_env
from voice_coach.cli import cli

JANE = [
    "Hi Alex, nice to meet you too. I'm Jane, a data engineer and I recently moved to Berlin.",
    "It's been great, lots of new places to explore and the people are friendly.",
    "I love hiking in the mountains with friends, and I also bake bread on weekends.",
    "My sister got me into it a few years ago.",
    "It was a short train ride, not far at all.",
    "At my last job I built a data pipeline for sales reporting with Python and Kafka.",
    "I designed the ingestion layer, wrote most of the streaming code, and set up monitoring.",
    "Last month a batch job failed and I traced it to a schema change, then added tests.",
    "I listed the reports customers depended on, fixed those first, and kept everyone informed.",
    "I would enjoy the real time pipeline most, and I'd ramp up on your dashboard tools.",
    "What are the company's goals for this project?",
    "No, that's all, thank you.",
    "Thank you so much for your time, Alex.",
    "This line comes after the end and is ignored.",
]


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_practice_text_full_interview() -> None:
    code, out, _ = run(["practice", "--text", "--name", "Jane", "--seed", "1"],
                       "\n".join(JANE) + "\n")
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "== Greeting and Introductions =="
    assert lines[1].startswith("Alex Morgan: Hello, it's great to meet you, Jane.")
    titles = [line for line in lines if line.startswith("== ")]
    assert titles == [
        "== Greeting and Introductions ==", "== Ice-Breakers and Small Talk ==",
        "== Informal Questions and Discussions ==",
        "== Opportunity for Interviewee to Ask Questions ==", "== Wrap-Up and Next Steps ==",
    ]
    assert "You mentioned the data pipeline" in out
    assert "Our goal for Insights this year" in out
    assert "Thank you for your time, Jane. We'll be in touch soon." in out
    assert "ignored" not in out
    assert "completed" in lines[-1]

    code, out, _ = run(["sessions", "--json"])
    rows = json.loads(out)
    assert len(rows) == 1 and rows[0]["end_reason"] == "completed"
    assert rows[0]["scenario"] == "coffee-chat" and rows[0]["answers"] == 13
    code, out, _ = run(["show", "last", "--json"])
    shown = json.loads(out)
    assert shown["id"] == rows[0]["id"] and shown["end_reason"] == "completed"
    types = [e["type"] for e in shown["events"]]
    assert types[0] == "session_start" and types[-1] == "session_end"
    assert types.count("stage") == 5
    for ev in shown["events"]:
        if ev["type"] == "answer":
            assert ev["start"] <= ev["end"]
    code, md, _ = run(["show", rows[0]["id"][:15], "--markdown"])
    assert code == 0 and "## Wrap-Up and Next Steps" in md


def test_end_of_input_saves_as_stopped() -> None:
    code, out, _ = run(["practice", "--text", "--name", "Jane"], JANE[0] + "\n")
    assert code == 0 and "stopped" in out
    _, out, _ = run(["sessions", "--json"])
    assert json.loads(out)[0]["end_reason"] == "stopped"


def test_bad_inputs_give_one_line(tmp_path: Path) -> None:
    code, _, err = run(["practice", "--text", "--scenario", "tea-party"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "coffee-chat" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\nbogus = 1\n')
    code, _, err = run(["practice", "--text", "--scenario", str(bad)])
    assert code == 2 and err.strip() == f"voice-coach: {bad}:2: unknown key 'bogus' " + (
        err.strip().split("'bogus' ", 1)[1])
    code, _, err = run(["scenarios", "check", str(bad)])
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run(["show", "nope"])
    assert (code == 2 and err.strip() == "voice-coach: 'nope' is not a session id") or (
        "no session matches" in err)
    code, _, err = run(["show", "2026"])
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run(["show", "../etc"])
    assert code == 2 and "Traceback" not in err


def test_scenarios_list_and_check() -> None:
    code, out, _ = run(["scenarios"])
    assert code == 0
    for sid in ("coffee-chat", "informational-interview", "networking-event",
                "hiring-manager-lunch"):
        assert sid in out
    code, out, _ = run(["scenarios", "check", str(REPO / "prompts" / "coffee-chat.toml")])
    assert code == 0 and "ok" in out


def _start_practice(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_cmd("practice", "--text", "--name", "Jane", "--seed", "1"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=cli_env(home),
    )


def _answer(proc: subprocess.Popen[str], home: Path, n: int) -> None:
    assert proc.stdin is not None
    for line in JANE[:n]:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
    # Generous: the language models load in the background on a machine that may be busy.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        files = list(home.glob("sessions/*/transcript.jsonl"))
        if files and files[0].read_text().count('"type":"answer"') >= n:
            return
        time.sleep(0.05)
    raise AssertionError("answers did not reach the transcript")


def test_sigkill_keeps_every_finished_turn(coach_home: Path) -> None:
    proc = _start_practice(coach_home)
    _answer(proc, coach_home, 4)
    proc.kill()
    proc.wait(10)
    env = cli_env(coach_home)
    out = subprocess.run(cli_cmd("show", "last", "--json"), env=env, capture_output=True,
                         text=True, check=True).stdout
    shown = json.loads(out)
    answers = [e["text"] for e in shown["events"] if e["type"] == "answer"]
    assert answers == JANE[:4]
    assert shown["end_reason"] == "interrupted"


def test_ctrl_c_saves_as_interrupted(coach_home: Path) -> None:
    proc = _start_practice(coach_home)
    _answer(proc, coach_home, 2)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "interrupted" in err
    out = subprocess.run(cli_cmd("sessions", "--json"), env=cli_env(coach_home),
                         capture_output=True, text=True, check=True).stdout
    row = json.loads(out)[0]
    assert row["end_reason"] == "interrupted" and row["answers"] == 2 and not row["cut_short"]
