"""`report` and `progress` on stored sessions, through a click group like the real one."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from tests.support.feedback_sessions import Turn, write_spoken, write_typed
from tests.test_feedback_metrics import DISCUSSION, TURNS
from voice_coach.audio.format import Pcm, read_audio
from voice_coach.cli import CoachGroup
from voice_coach.cli.coaching import progress, report
from voice_coach.feedback.progress import progress_svg, sparkline
from voice_coach.transcripts.store import SessionStore


@click.group(cls=CoachGroup)
def app() -> None:
    """The commands as the lead registers them."""


app.add_command(report)
app.add_command(progress)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_report_unknown_id_is_one_line_exit_2() -> None:
    write_typed(SessionStore(), [("greeting", "Hi there")])
    code, out = run("report", "nope")
    assert code == 2
    assert out.strip().splitlines() == ["voice-coach: no session matches 'nope' "
                                        "(see: voice-coach sessions)"]


def test_report_text_and_json_agree() -> None:
    write_spoken(SessionStore(), TURNS)
    code, text = run("report", "last", "--no-audio")
    assert code == 0, text
    assert "turn 3 (discussion)" in text and "Talk ratio" in text
    code, raw = run("report", "last", "--json", "--no-audio")
    assert code == 0
    data = json.loads(raw)
    assert data["pace"]["wpm"] is not None and f"{data['pace']['wpm']:.0f} wpm" in text
    assert data["tips"][0]["where"] == "turn 3 (discussion)"
    assert data["questions"]["asked"] == 2 and data["wrap_up"]["thanked"] is True


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_report_on_spoken_session_with_espeak_audio(tmp_path: Path) -> None:
    cache: dict[str, Pcm] = {}

    def voice(word: str) -> Pcm:
        if word not in cache:
            path = tmp_path / f"w{len(cache)}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160" if word != "um" else "90",
                            "-w", str(path), word], check=True, capture_output=True, timeout=30)
            x = read_audio(path)
            loud = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
            cache[word] = x[loud[0] : loud[-1] + 1]
        return cache[word]

    turns = [
        Turn("greeting", "Tell me about yourself?", "Hi Alex I'm Jane a data engineer",
             gap_s=0.08, audio=True),
        Turn("discussion", "Tell me about a project.", DISCUSSION, gap_s=0.08, delay=3.5,
             pauses={6: 1.0, 12: 2.5, 20: 1.0}, hums={6: 0.0, 20: 0.0}, audio=True),
        Turn("your_questions", "Any questions?", "What does the team work on next?",
             gap_s=0.08, audio=True),
        Turn("wrap_up", "Anything else?", "No thanks, bye", gap_s=0.08, audio=True),
    ]
    write_spoken(SessionStore(), turns, files=True, voice=voice)
    code, text = run("report", "last")
    assert code == 0, text
    code, raw = run("report", "last", "--json")
    data = json.loads(raw)
    disc = data["answers"][1]
    assert disc["filled_pauses"] == 2  # the two spliced "um"s the transcript does not have
    assert disc["long_pauses"] == 1  # the 2.5 s silence
    assert disc["timing"] == "word timings" and disc["wpm"] > 0
    assert data["hesitations"]["filled_pauses"] == 2
    assert data["start_delay"]["max_turn"] == 2
    assert data["talk"]["user_share"] is not None
    assert data["questions"]["asked"] == 1
    assert data["wrap_up"]["thanked"] is True and data["wrap_up"]["used_name"] is False
    assert data["key_points"]
    # The text report shows the same numbers.
    assert f"{data['hesitations']['filled_pauses']}" in text.split("Filled pauses (audio)")[1]
    assert "used the name: no" in text
    assert any(t["metric"] == "wrap_up" for t in data["tips"])


def test_progress_over_three_sessions(coach_home: Path) -> None:
    store = SessionStore()
    for wpm_word_s, fillers in ((0.2, "um um like"), (0.25, "um"), (0.3, "")):
        text = f"{fillers} {DISCUSSION}".strip()
        write_spoken(store, [Turn("discussion", "Q?", text, word_s=wpm_word_s, gap_s=0.05)])
    write_typed(store, [("greeting", "Hello")], end=None)  # a typed, cut session: no timings
    code, out = run("progress", "--no-audio")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("session")
    assert sum(1 for line in lines if line.startswith("2")) == 4
    pace = next(line for line in lines if line.strip().startswith("Pace (wpm)"))
    assert "▁" in pace and "█" in pace  # the pace falls session by session
    chart = coach_home / "progress.svg"
    assert f"Chart: {chart}" in out
    assert chart.stat().st_mode & 0o777 == 0o600
    root = ET.fromstring(chart.read_text())
    assert root.tag.endswith("svg") and len(root.findall(".//{*}polyline")) >= 2
    other = coach_home / "elsewhere" / "p.svg"
    code, out = run("progress", "--no-audio", "--chart", str(other), "--scenario", "coffee-chat")
    assert code == 0 and other.exists()
    code, out = run("progress", "--no-audio", "--json")
    rows = json.loads(out)
    assert len(rows) == 4 and rows[0]["wpm"] > rows[2]["wpm"] and rows[3]["wpm"] is None
    code, out = run("progress", "--scenario", "nothing-like-it")
    assert code == 0 and "No sessions with answers" in out


def test_sparkline_and_svg_edge_cases() -> None:
    assert sparkline([1.0, None, 3.0]) == "▁ █"
    assert sparkline([2.0, 2.0]) == "▄▄" and sparkline([None]) == " "
    svg = progress_svg([])
    assert ET.fromstring(svg).tag.endswith("svg") and "not measured" in svg
