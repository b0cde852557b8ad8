"""A full disk and a read-only home, as the user meets them: one line, earlier turns intact.

The full disk is a file-size limit (RLIMIT_FSIZE, anywhere) or a small tmpfs (as root); the
read-only home is a read-only tmpfs (as root) or a 0500 folder (as a user).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_cmd, cli_env
from tests.support.session_checks import (
    CommandResult,
    assert_clean_failure,
    check_session_folder,
    run_cli,
    run_saved_session_commands,
)
from tests.test_cli_text import JANE

ORACLE = REPO / "tests" / "support" / "oracle_child.py"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def file_size_limit(limit: int) -> Callable[[], None]:
    """preexec_fn: files may not grow past ``limit`` bytes (writes then fail with EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run(args: list[str], home: Path, stdin: str = "",
        preexec: Callable[[], None] | None = None, oracle: bool = False) -> CommandResult:
    """voice-coach in a child process (the limits and mounts must not touch pytest)."""
    cmd = [sys.executable, str(ORACLE), *args] if oracle else cli_cmd(*args)
    proc = subprocess.run(cmd, env=cli_env(home), input=stdin, capture_output=True, text=True,
                          timeout=120, preexec_fn=preexec)
    return CommandResult(args, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs folders (root only); unmounted at the end."""
    if not IS_ROOT or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(name: str, size: str, *opts: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        options = ",".join([f"size={size}", "mode=0700", *opts])
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def the_session(home: Path) -> Path:
    folders = [p for p in (home / "sessions").iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def assert_saved_after_fault(home: Path, min_answers: int) -> list[dict[str, object]]:
    """The session is readable by every command, keeps its turns, has no half-written files."""
    folder = the_session(home)
    events = check_session_folder(folder)
    raw = (folder / "transcript.jsonl").read_bytes()
    assert raw.endswith(b"\n"), "a half-written line was left in the transcript"
    assert not list(folder.glob("*.part")), "a temporary audio file was left behind"
    answers = [e for e in events if e["type"] == "answer"]
    assert len(answers) >= min_answers
    results = run_saved_session_commands(home, folder.name)
    row = json.loads(results["sessions --json"].out)[0]
    assert row["end_reason"] in ("error", "interrupted")
    return events


@pytest.mark.slow
def test_file_size_limit_during_spoken_demo(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = run(["demo", "--fast", "--engine", "oracle"], home, preexec=file_size_limit(400_000),
            oracle=True)
    assert_clean_failure(r, 4)
    assert "the disk is full: cannot write" in r.err and "earlier turns are saved" in r.err
    events = assert_saved_after_fault(home, 1)
    assert events[-1]["type"] == "session_end" and events[-1]["reason"] == "error"


def test_file_size_limit_during_text_practice(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = run(["practice", "--text", "--name", "Jane", "--seed", "1"], home, "\n".join(JANE),
            preexec=file_size_limit(3000))
    assert_clean_failure(r, 4)
    assert "the disk is full" in r.err
    # the limit also stops the end event: the session is cut short, its lines all whole
    events = assert_saved_after_fault(home, 1)
    answers = [e["text"] for e in events if e["type"] == "answer"]
    assert answers == [a.strip() for a in JANE[: len(answers)]]


@pytest.mark.slow
def test_full_tmpfs_during_spoken_demo(tmp_path: Path, tmpfs: Callable[..., Path]) -> None:
    home = tmpfs("small", "1500k")
    r = run(["demo", "--fast", "--engine", "oracle"], home, oracle=True)
    assert_clean_failure(r, 4)
    assert "the disk is full" in r.err, r.err
    assert_saved_after_fault(home, 1)


def test_full_tmpfs_during_text_practice(tmp_path: Path, tmpfs: Callable[..., Path]) -> None:
    home = tmpfs("tiny", "4k")
    r = run(["practice", "--text", "--name", "Jane", "--seed", "1"], home, "\n".join(JANE))
    assert_clean_failure(r, 4)
    assert "the disk is full" in r.err, r.err
    assert_saved_after_fault(home, 1)


def _read_only_home(tmp_path: Path, tmpfs: Callable[..., Path] | None) -> Path:
    if IS_ROOT:
        assert tmpfs is not None
        return tmpfs("ro", "1m", "ro")
    home = tmp_path / "ro-home"
    home.mkdir(mode=0o500)
    return home


@pytest.mark.parametrize("args", [["practice", "--text"], ["demo", "--text"]])
def test_read_only_home_is_one_line(tmp_path: Path, args: list[str],
                                    request: pytest.FixtureRequest) -> None:
    home = _read_only_home(tmp_path, request.getfixturevalue("tmpfs") if IS_ROOT else None)
    r = run(args, home, "\n".join(JANE))
    assert_clean_failure(r, 4)
    assert "cannot create" in r.err or "cannot write" in r.err


def test_sessions_on_a_read_only_home_stay_readable(tmp_path: Path,
                                                    tmpfs: Callable[..., Path]) -> None:
    home = tmpfs("later-ro", "4m")
    r = run(["practice", "--text", "--name", "Jane", "--seed", "1"], home, "\n".join(JANE))
    assert r.code == 0, r.err
    subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
    sid = the_session(home).name
    run_saved_session_commands(home, sid)
    assert run_cli(home, ["progress", "--json"]).code == 0
    r2 = run_cli(home, ["progress"])
    assert_clean_failure(r2, 4)  # the chart cannot be written: one line
    r3 = run(["practice", "--text"], home, "hello\n")
    assert_clean_failure(r3, 4)
    assert the_session(home).name == sid
