"""Offline guarantee and privacy: nothing but ``models download`` opens a network connection,
and everything voice-coach writes is private (folders 0700, files 0600).

The network guard is a sitecustomize.py put first on the child's PYTHONPATH: it makes every
non-AF_UNIX connect / getaddrinfo fail and records the attempt (AF_UNIX keeps working: PulseAudio
talks over one).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_cmd, cli_env
from tests.support.session_checks import assert_private, check_session_folder
from tests.test_cli_text import JANE

ORACLE = REPO / "tests" / "support" / "oracle_child.py"

GUARD = '''
import json, os, socket
_LOG = os.environ["VC_NET_LOG"]

def _record(what, target):
    with open(_LOG, "a") as f:
        f.write(json.dumps({"call": what, "target": repr(target), "pid": os.getpid()}) + "\\n")

def _unix(sock):
    return getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

def connect(self, address):
    if _unix(self):
        return _connect(self, address)
    _record("connect", address)
    raise OSError(101, "Network is unreachable (voice-coach offline test)")

def connect_ex(self, address):
    if _unix(self):
        return _connect_ex(self, address)
    _record("connect_ex", address)
    return 101

def getaddrinfo(host, *args, **kwargs):
    _record("getaddrinfo", host)
    raise socket.gaierror(-3, "Temporary failure in name resolution (offline test)")

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo = getaddrinfo
'''


@pytest.fixture
def offline(tmp_path: Path, coach_home: Path) -> tuple[dict[str, str], Path]:
    """Environment of a child with the network guard, and the file attempts are logged to."""
    guard = tmp_path / "netguard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "net.log"
    env = cli_env(coach_home)
    env["PYTHONPATH"] = os.pathsep.join([str(guard), env["PYTHONPATH"]])
    env["VC_NET_LOG"] = str(log)
    return env, log


def attempts(log: Path) -> list[dict[str, str]]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def run(cmd: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=180)


def test_guard_blocks_and_records(offline: tuple[dict[str, str], Path]) -> None:
    env, log = offline
    code = ("import socket, urllib.request\n"
            "try:\n    urllib.request.urlopen('http://example.com', timeout=2)\n"
            "except OSError as e:\n    print('blocked', type(e).__name__)\n"
            "a, b = socket.socketpair(socket.AF_UNIX)\na.send(b'x'); print(b.recv(1))\n")
    r = run([sys.executable, "-c", code], env)
    assert "blocked" in r.stdout and "b'x'" in r.stdout, r.stderr
    assert attempts(log)


@pytest.mark.slow
def test_every_command_works_offline(offline: tuple[dict[str, str], Path],
                                     coach_home: Path, tmp_path: Path) -> None:
    env, log = offline
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "-v", "en-us", "hello there"], check=True)
    runs = [
        cli_cmd("practice", "--text", "--name", "Jane", "--seed", "1"),
        cli_cmd("demo", "--text"),
        [sys.executable, str(ORACLE), "demo", "--fast", "--engine", "oracle"],
        # the real engines load offline (the spoken pipeline runs in the oracle demo above)
        cli_cmd("transcribe", "--engine", "whisper", str(wav)),
        cli_cmd("transcribe", "--engine", "sphinx", str(wav)),
        cli_cmd("sessions", "--json"),
        cli_cmd("show", "last"),
        cli_cmd("show", "last", "--markdown"),
        cli_cmd("report", "last"),
        cli_cmd("report", "last", "--json"),
        cli_cmd("progress"),
        cli_cmd("replay", "last", "--text"),
        cli_cmd("export", "last", "--format", "html", "-o", str(coach_home / "last.html")),
        cli_cmd("export", "last", "--format", "vtt"),
        cli_cmd("sessions", "--grep", "Berlin"),
    ]
    for cmd in runs:
        r = run(cmd, env, "\n".join(JANE) + "\n")
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
    assert attempts(log) == [], attempts(log)
    # privacy of everything written: sessions, spoken audio, progress chart
    checked = assert_private(coach_home)
    names = {p.name for p in checked}
    assert "progress.svg" in names and any(n.startswith("answer-") for n in names)
    assert "last.html" in names
    assert any(n.startswith("prompt-") for n in names)


def test_models_download_is_the_only_connection(offline: tuple[dict[str, str], Path]) -> None:
    env, log = offline
    r = run(cli_cmd("models", "download", "small-en", "--url", "http://models.invalid/"), env)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) >= 1
    assert attempts(log), "models download did not try the network"


@pytest.mark.slow
@pytest.mark.e2e
def test_spoken_practice_offline_on_virtual_devices(
        offline: tuple[dict[str, str], Path], audio_env: dict[str, str],
        coach_home: Path) -> None:
    """Spoken practice with the network refused: PulseAudio (AF_UNIX) works, nothing else."""
    env, log = offline
    env = {**audio_env, **{k: env[k] for k in ("PYTHONPATH", "VC_NET_LOG",
                                                 "VOICE_COACH_HOME")}}
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], audio_env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(cli_cmd("-v", "practice", "--engine", "whisper", "--no-audio"),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    listening = threading.Event()
    err: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if "listening for an answer" in line:
                listening.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert listening.wait(120), "".join(err)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(err)
    assert attempts(log) == []
    folder = next((coach_home / "sessions").iterdir())
    events = check_session_folder(folder)
    assert events[-1]["reason"] == "interrupted"
    assert sorted(p.name for p in folder.iterdir()) == ["transcript.jsonl"]  # --no-audio
    assert_private(coach_home)


def test_text_session_files_are_private(coach_home: Path) -> None:
    from click.testing import CliRunner

    from voice_coach.cli import cli

    os.umask(0o022)
    r = CliRunner().invoke(cli, ["practice", "--text"], input="\n".join(JANE) + "\n")
    assert r.exit_code == 0
    assert CliRunner().invoke(cli, ["progress"]).exit_code == 0
    assert_private(coach_home)


def test_an_existing_open_home_keeps_its_mode_and_the_sessions_are_private(
        coach_home: Path) -> None:
    """A home folder made by someone else is never chmod'ed (issue 15: it may be /tmp);
    everything voice-coach makes in it is 0700/0600."""
    from click.testing import CliRunner

    from voice_coach.cli import cli

    coach_home.mkdir(mode=0o755)
    os.chmod(coach_home, 0o755)
    r = CliRunner().invoke(cli, ["practice", "--text"], input="hi\n")
    assert r.exit_code == 0
    assert stat.S_IMODE(coach_home.stat().st_mode) == 0o755
    assert_private(coach_home / "sessions")


def test_delete_removes_every_file_of_a_session(coach_home: Path) -> None:
    from click.testing import CliRunner

    from voice_coach.cli import cli
    from voice_coach.transcripts.store import SessionStore

    runner = CliRunner()
    assert runner.invoke(cli, ["practice", "--text"], input="hi\n").exit_code == 0
    keep = SessionStore().ids()[0]
    assert runner.invoke(cli, ["practice", "--text"], input="hello\n").exit_code == 0
    doomed = SessionStore().ids()[-1]
    folder = SessionStore().root / doomed
    (folder / "answer-001.wav").write_bytes(b"RIFF....")
    (folder / ".answer-002.wav.x.part").write_bytes(b"half")
    r = runner.invoke(cli, ["delete", doomed, "--yes"])
    assert r.exit_code == 0, r.output
    assert not folder.exists()
    assert SessionStore().ids() == [keep]
    assert not any(doomed in str(p) for p in coach_home.rglob("*"))
