"""Checks every saved session must pass, whatever happened to the process that wrote it.

Used by the crash, disk-fault and bad-input tests. ``SAVED_SESSION_COMMANDS`` lists the commands
that must work on any saved session (complete, cut short or damaged).
"""

from __future__ import annotations

import json
import os
import stat
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from voice_coach.cli import cli

SAVED_SESSION_COMMANDS: list[list[str]] = [
    ["show", "{id}"],
    ["show", "{id}", "--json"],
    ["show", "{id}", "--markdown"],
    ["report", "{id}"],
    ["report", "{id}", "--json"],
    ["sessions"],
    ["sessions", "--json"],
    ["sessions", "--json", "--grep", "the", "--since", "7d", "--limit", "3"],
    ["replay", "{id}", "--text"],
    ["export", "{id}", "--format", "markdown"],
    ["export", "{id}", "--format", "json"],
    ["export", "{id}", "--format", "vtt"],
    ["export", "{id}", "--format", "srt"],
    ["export", "{id}", "--format", "html"],
]
"""Commands (``{id}`` is replaced by the session id) that must succeed on any saved session."""


@dataclass
class CommandResult:
    """One CLI run in-process."""

    args: list[str]
    code: int
    out: str
    err: str


def run_cli(home: Path, args: list[str]) -> CommandResult:
    """Run voice-coach in-process with VOICE_COACH_HOME=home (not thread-safe: main thread)."""
    result = CliRunner().invoke(cli, args, env={"VOICE_COACH_HOME": str(home)})
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += f"\nUNCAUGHT {type(result.exception).__name__}: {result.exception}"
    return CommandResult(args, result.exit_code, result.stdout, err)


def assert_clean_failure(result: CommandResult, code: int | None = None) -> None:
    """A failure is one line on stderr, never a traceback or an 'internal error'."""
    assert result.code != 0, result
    if code is not None:
        assert result.code == code, result
    assert "Traceback" not in result.err and "UNCAUGHT" not in result.err, result.err
    assert "internal error" not in result.err, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("voice-coach: ")
             and "WARNING" not in line]
    assert len(lines) == 1, result.err


def run_saved_session_commands(home: Path, sid: str) -> dict[str, CommandResult]:
    """Every command of SAVED_SESSION_COMMANDS on one session; each must exit 0."""
    out: dict[str, CommandResult] = {}
    for template in SAVED_SESSION_COMMANDS:
        args = [a.replace("{id}", sid) for a in template]
        r = run_cli(home, args)
        assert r.code == 0, f"{args} failed ({r.code}):\n{r.out}\n{r.err}"
        assert "Traceback" not in r.err and "UNCAUGHT" not in r.err, r.err
        out[" ".join(template)] = r
    return out


def transcript_events(folder: Path) -> tuple[list[dict[str, Any]], bool]:
    """Complete events of a transcript, and whether its last line was cut."""
    raw = (folder / "transcript.jsonl").read_bytes()
    lines = raw.split(b"\n")
    cut = lines[-1] != b""
    events = []
    for i, line in enumerate(lines[:-1]):
        assert line.strip(), f"empty line {i + 1} in {folder}"
        events.append(json.loads(line))  # every complete line is complete JSON
    return events, cut


def assert_complete_wav(path: Path) -> None:
    """A WAV referenced by an event is on disk, whole (header matches size), 16 kHz mono 16-bit."""
    assert path.is_file(), f"{path} is referenced but missing"
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        frames = w.getnframes()
    assert path.stat().st_size == 44 + 2 * frames, f"{path} is truncated"


def check_session_folder(folder: Path) -> list[dict[str, Any]]:
    """Structural invariants of a saved session; returns its complete events."""
    events, _ = transcript_events(folder)
    assert events and events[0]["type"] == "session_start", folder
    names = set()
    for e in events:
        if "audio" in e:
            name = e["audio"]
            assert isinstance(name, str) and "/" not in name and not name.endswith(".part")
            assert_complete_wav(folder / name)
            names.add(name)
    for path in folder.iterdir():
        # a temp file of a write the kill interrupted: hidden, never referenced
        if path.name.endswith(".part"):
            assert path.name.startswith(".") and path.name not in names
    return events


def assert_private(home: Path) -> list[Path]:
    """Every folder under home is 0700 and every file 0600; returns what was checked."""
    checked = []
    for root, dirs, files in os.walk(home):
        for d in dirs:
            p = Path(root) / d
            assert stat.S_IMODE(p.stat().st_mode) == 0o700, f"{p} is {oct(p.stat().st_mode)}"
            checked.append(p)
        for f in files:
            p = Path(root) / f
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, f"{p} is {oct(p.stat().st_mode)}"
            checked.append(p)
    mode = stat.S_IMODE(home.stat().st_mode)
    assert mode == 0o700, f"{home} is {oct(mode)}"
    return checked
