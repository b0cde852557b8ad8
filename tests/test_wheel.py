"""The wheel as users install it: built, installed in a fresh virtualenv, run from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_cli_text import JANE

pytestmark = pytest.mark.slow
# Neither the checkout nor the test runner's path may leak into the installed program.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from the checkout (no build isolation: offline, hatchling from dev)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True, timeout=300,
    )
    (found,) = out.glob("voice_coach-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel; dependencies come from the test's environment.

    The wheel goes in with ``--no-deps`` and the running interpreter's site-packages is added by
    a ``.pth`` line, so no download is needed (CI may be offline). A path added that way is
    not a site folder: its own ``.pth`` files (the checkout's editable install) are not run,
    so voice_coach can only come from the wheel.
    """
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300,
                   env=CLEAN_ENV)
    py = root / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=300, env=CLEAN_ENV)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True, env=CLEAN_ENV
                          ).stdout.strip()
    (Path(site) / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return root


def run(venv: Path, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(CLEAN_ENV)
    env["VOICE_COACH_HOME"] = str(home)
    return subprocess.run([str(venv / "bin" / "voice-coach"), *args], input=stdin, cwd="/",
                          env=env, capture_output=True, text=True, timeout=600)


def test_wheel_carries_the_scenarios(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "voice_coach/prompts/coffee-chat.toml" in names
    assert "voice_coach/prompts/candidates/coffee-chat.toml" in names
    assert not any(n.startswith(("tests/", "bench/", "prompts/")) for n in names)


def test_installed_wheel_runs_from_another_folder(venv: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import voice_coach; print(voice_coach.__file__)"],
        cwd="/", capture_output=True, text=True, check=True,
        env=CLEAN_ENV,
    ).stdout
    assert where.startswith(str(venv)), where

    r = run(venv, home, "scenarios")
    assert r.returncode == 0 and "coffee-chat" in r.stdout, r.stderr
    r = run(venv, home, "doctor")
    assert "OK       scenarios" in r.stdout, r.stdout

    r = run(venv, home, "practice", "--text", "--name", "Jane", "--seed", "1",
            stdin="\n".join(JANE) + "\n")
    assert r.returncode == 0, r.stderr
    assert "== Wrap-Up and Next Steps ==" in r.stdout and "completed" in r.stdout

    r = run(venv, home, "demo", "--fast", "--no-audio")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "== Wrap-Up and Next Steps ==" in r.stdout
    r = run(venv, home, "sessions", "--json")
    assert r.stdout.count('"end_reason": "completed"') == 2, r.stdout
