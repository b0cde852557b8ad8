"""The HTML export in headless Chromium: renders, no console errors, every audio player loads.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), so the page
is tested exactly as exported (its Content-Security-Policy forbids injected scripts).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.support.replay_helpers import make_spoken_session
from voice_coach.audio.format import SAMPLE_RATE
from voice_coach.transcripts import exports
from voice_coach.transcripts.store import SessionStore

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe"]


class Browser:
    """A headless Chromium spoken to over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child must see the pipes as fds 3 and 4: park them above 4 first (close-on-exec)
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        to_child_r, from_child_w = child_r, child_w

        def setup() -> None:
            os.dup2(child_r, 3)  # dup2 makes 3 and 4 inheritable; the parked copies close
            os.dup2(child_w, 4)

        # close_fds=False: it would close 3 and 4 after setup; our other fds are close-on-exec
        self.proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=setup, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            ready, _, _ = select.select([self._from_child], [], [], 0.5)
            if not ready:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"chromium exited with {self.proc.returncode}")
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, session: str | None = None, timeout: float = 30,
             **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result (events are kept in ``events``)."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for an event (or find one already received)."""
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def close(self) -> None:
        """Stop the browser."""
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


_CHECK_AUDIO = """
new Promise(resolve => {
  const players = [...document.querySelectorAll('audio')];
  const one = a => new Promise(done => {
    if (a.readyState >= 1) return done();
    a.addEventListener('loadedmetadata', () => done(), {once: true});
    a.addEventListener('error', () => done(), {once: true});
  });
  Promise.all(players.map(one)).then(() => resolve(JSON.stringify({
    durations: players.map(a => a.duration),
    errors: players.map(a => a.error ? a.error.code : 0),
    expected: players.map(a => parseFloat(a.dataset.seconds)),
    scripts: document.querySelectorAll('script').length,
    text: document.body.innerText,
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    height: document.documentElement.scrollHeight,
  })));
})
"""


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for ev in events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(json.dumps(params.get("args", []))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(params["entry"].get("text", "")[:300])
    return found


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: "
                    "sudo apt-get install -y --no-install-recommends chromium")
def test_html_export_renders_in_chromium_with_working_audio(tmp_path: Path) -> None:
    made = make_spoken_session(speech=True)
    session = SessionStore().load(made.id)
    page = exports.to_html(session, feedback={"words_per_minute": 142.0, "fillers_per_100": 2.5,
                                              "longest_pause_s": 1.8},
                           audio=exports.embed_answer_audio(session))
    html_file = tmp_path / "session.html"
    html_file.write_text(page, encoding="utf-8")

    browser = Browser(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        sid = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", sid)
        browser.send("Emulation.setDeviceMetricsOverride", sid, width=820, height=900,
                     deviceScaleFactor=1, mobile=False)
        browser.send("Page.navigate", sid, url=html_file.as_uri())
        browser.wait_event("Page.loadEventFired")
        res = browser.send("Runtime.evaluate", sid, expression=_CHECK_AUDIO, awaitPromise=True,
                           returnByValue=True, timeout=30)
        info = json.loads(res["result"]["value"])
        shot = browser.send("Page.captureScreenshot", sid, format="png",
                            captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": 820,
                                  "height": min(int(info["height"]), 4000), "scale": 1})
        errors = _errors(browser.events)
    finally:
        browser.close()

    out_dir = REPO / "test-output"
    out_dir.mkdir(exist_ok=True)
    png = out_dir / "html-export.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    shutil.copy(html_file, out_dir / "html-export.html")
    print(f"screenshot: {png}")

    assert errors == [], errors
    assert info["scripts"] == 0
    assert info["headings"] == ["Feedback", "Greeting and Introductions", "Informal Discussion"]
    assert "<script>alert('x')</script> I built a pipeline with Kafka & Python." in info["text"]
    assert info["errors"] == [0, 0, 0]
    expected = [len(a) / SAMPLE_RATE for a in made.answers]
    assert info["durations"] == pytest.approx(expected, abs=0.01)
    assert info["expected"] == pytest.approx(expected, abs=0.01)
    assert png.stat().st_size > 10_000
