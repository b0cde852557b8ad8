"""Every spoken command of issue 11, said by voice into one `voice-coach practice` session.

The candidate's lines are synthesised (piper at 150 words a minute; "Pause." by espeak-ng, see
ESPEAK_LINES) and played into the virtual microphone only once the session logs that it is
listening; the default recogniser (whatever ``--engine auto`` picks: Moonshine here) hears
them. With ``--headphones`` no echo is in play. A repeat, a slower voice, two pauses (one
resumed by "resume" alone, one by "let's continue", something said in between that must not
act), and "I'd like to end the interview now". Measured 70-95 s at load 2.5-6 (two cores;
model loads and a fresh Moonshine conversion included) - longer than the 40 s aimed for.
"End the interview" and the recogniser's near-misses ("and the interview", "flour, please")
are checked in tests/test_language.py: one session can end only once.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, cli_cmd
from tests.support.virtual_audio import VirtualAudio
from voice_coach.audio.format import SAMPLE_RATE, read_audio, resample, write_wav

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

QUICK = REPO / "tests" / "data" / "quick-chat.toml"
REPEAT = "Sorry, could you repeat that?"
SLOWER = "Slower, please."
PAUSE = "Pause."
WHILE_PAUSED = "I moved to Berlin last year for a new job."
RESUME = "Resume!"
CONTINUE = "Let's continue."
END = "I'd like to end the interview now."
SCRIPT = [REPEAT, SLOWER, PAUSE, WHILE_PAUSED, RESUME, PAUSE, CONTINUE, END]


ESPEAK_LINES = {PAUSE}
"""Lines said in espeak-ng's voice: piper's "pause" is heard as "Oz", "Horse" or "Boss" by
Moonshine and by whisper alike without a prompt (espeak's as "Pause" in 9 of 12 decodes;
whisper told the command words hears both, see bench/commands.py); piper says the rest
(espeak's "resume" comes out as "Resolve" by Moonshine)."""


def candidate_voice(folder: Path) -> dict[str, Path]:
    """Each line of the script as a WAV, said deliberately (150 words a minute)."""
    from voice_coach.tts.piper_engine import PiperSpeaker

    piper = PiperSpeaker(rate_wpm=150)
    wavs: dict[str, Path] = {}
    for i, text in enumerate(dict.fromkeys(SCRIPT)):
        path = folder / f"line{i}.wav"
        if text in ESPEAK_LINES:
            subprocess.run(["espeak-ng", "-w", str(path), "-v", "en-us+m3", "-s", "150", text],
                           check=True, timeout=30)
            samples = read_audio(path)
        else:
            speech = piper.synth(text)
            samples = resample(speech.samples, speech.rate)
        lead = np.zeros(SAMPLE_RATE // 4, np.int16)  # a breath before speaking
        write_wav(path, np.concatenate([lead, samples]))
        wavs[text] = path
    return wavs


class Practice:
    """`voice-coach practice` on the virtual devices with the default engines, read live."""

    def __init__(self, env: dict[str, str], scenario: Path) -> None:
        self.proc = subprocess.Popen(
            cli_cmd("-v", "practice", "--scenario", str(scenario), "--name", "Jane", "--seed", "1",
                    "--rate", "200", "--headphones", "--save-interviewer-audio"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.turns: list[str] = []
        """"listen" when a turn starts listening, "ended" when one ends with no speech."""
        self.spoken_into = 0
        self.shown_before = ""
        """What the screen showed when the last line was spoken."""
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self.t0 = time.monotonic()
        threading.Thread(target=self._read_err, daemon=True).start()
        threading.Thread(target=self._read_out, daemon=True).start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(f"{time.monotonic() - self.t0:6.1f} {line}")
            if "listening for an answer" in line:
                self.turns.append("listen")
            elif "no speech in this turn" in line:
                self.turns.append("ended")

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.stderr.append(f"{time.monotonic() - self.t0:6.1f} OUT {line}")

    def say(self, va: VirtualAudio, wav: Path, timeout: float = 90.0) -> None:
        """Speak into the mic once a new turn has listened for 0.7 s (past its mute tail).

        A turn can end at once under load (audio queued while a model loaded or a line was
        made holds 8 s of silence: "no answer heard"): only a turn still open counts.
        """
        deadline = time.monotonic() + timeout
        while True:
            n = len(self.turns)
            if n > self.spoken_into and self.turns[-1] == "listen":
                time.sleep(0.7)
                if len(self.turns) == n:
                    break
                continue
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("voice-coach did not listen:\n" + self.log())
            time.sleep(0.05)
        self.spoken_into = n
        self.shown_before = "".join(self.stdout)
        va.play_into_mic(wav)

    def resumed(self, timeout: float = 60.0) -> bool:
        """After "resume" was said while paused: True once welcomed back, False if ignored."""
        welcomed = self.shown_before.count(": Welcome back.")
        ignored = self.shown_before.count("(paused; heard")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            out = "".join(self.stdout)
            if out.count(": Welcome back.") > welcomed:
                return True
            if out.count("(paused; heard") > ignored:
                return False
            time.sleep(0.1)
        return False

    def log(self) -> str:
        return "".join(self.stdout) + "\n--- stderr ---\n" + "".join(self.stderr[-80:])


def test_every_spoken_command_works_by_voice(virtual_audio: VirtualAudio,
                                             audio_env: dict[str, str], coach_home: Path,
                                             tmp_path: Path) -> None:
    began = time.monotonic()
    wavs = candidate_voice(tmp_path)
    # A one-line greeting keeps the five times it is said short.
    scenario = tmp_path / "commands-chat.toml"
    scenario.write_text(QUICK.read_text().replace(
        "Hello, it's great to meet you, {name}. Tell me about yourself.",
        "Hi {name}, tell me about yourself."))
    # The test run's cache: Moonshine is converted once, not once per session.
    env = dict(audio_env, VOICE_COACH_HOME=str(coach_home),
               VOICE_COACH_CACHE=os.environ.get("VOICE_COACH_CACHE", str(tmp_path / "cache")))
    session = Practice(env, scenario)
    try:
        for text in SCRIPT:
            if text != RESUME:
                session.say(virtual_audio, wavs[text])
                continue
            # "Resume" alone is the word the default recogniser misses most (piper's voice
            # came out as "Where's him?", "Or is it him?", "Bris him."): not understood, the
            # candidate says it again, as anyone would; a second miss fails the test.
            attempts = 0
            while attempts < 2:
                attempts += 1
                session.say(virtual_audio, wavs[text])
                if session.resumed():
                    break
            print(f"'resume' alone: {attempts} attempt(s)")
        session.proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the session did not end:\n" + session.log())
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
            session.proc.wait()
    time.sleep(0.2)  # the reader threads take the last lines
    print(f"spoken commands end to end: {time.monotonic() - began:.1f} s")
    out, log = "".join(session.stdout), session.log()
    assert session.proc.returncode == 0, log
    assert "Traceback" not in log

    folder = sorted(coach_home.glob("sessions/*"))[-1]
    events = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    heard = [(e["command"], e["text"]) for e in events if e["type"] == "command"]
    print("heard:", heard)
    # Every phrasing was the command it says, and nothing else was stored as an answer:
    # what was said while paused acted on nothing. (An empty turn may come first: when the
    # speech model loads for longer than the no-speech timeout after the greeting, that turn
    # ends with "no answer heard" as soon as listening starts, and the test speaks into the
    # next one.)
    assert [c for c, _ in heard] == ["repeat", "slower", "pause", "resume", "pause", "resume",
                                     "end"], log
    assert not [e for e in events if e["type"] == "answer" and e["text"]], log
    assert 'heard "' in out and "Berlin" in out  # shown as ignored while paused

    # What each command did, in the order of the transcript: the line asked before it is said
    # again after repeat, slower, resume and let's continue; nothing is said while paused;
    # "I'd like to end the interview now" gets the closing line.
    asked: dict[str, object] = {}
    after: dict[int, list[dict[str, object]]] = {}
    n = -1
    for e in events:
        if e["type"] == "command":
            n += 1
            after[n] = [asked]
        elif e["type"] == "prompt":
            if n >= 0:
                after[n].append(e)
            asked = e
    for i, command in enumerate(c for c, _ in heard):
        before, said = after[i][0], after[i][1:]
        if command in ("repeat", "slower", "resume"):
            assert len(said) == 1 and said[0]["text"] == before["text"] and said[0]["repeat"], (
                command, before, said)
        elif command == "pause":
            assert not said, said
        else:
            assert len(said) == 1 and "Of course, let's stop here" in str(said[0]["text"]), said

    # slower: the same line, said after "slower, please", lasts longer (rate 200 -> 170).
    first = len(read_audio(folder / str(after[1][0]["audio"])))
    slowed = len(read_audio(folder / str(after[1][1]["audio"])))
    assert slowed > 1.08 * first, (first, slowed)
    assert "(speech rate 170 words a minute)" in out, out

    # The screen: each pause says so and what resumes; every spoken aside is printed too.
    assert out.count("(paused: say 'resume' or 'let's continue' to go on") == 2, out
    for aside in ("Sure, I'll speak more slowly.", "Okay, paused. Say 'resume' when you're ready.",
                  "Welcome back."):
        assert f"Alex Morgan: {aside}" in out, out
    assert out.count("Alex Morgan: Welcome back.") == 2

    # The end: stopped cleanly, the transcript saved and private.
    assert events[-1]["type"] == "session_end" and events[-1]["reason"] == "stopped"
    assert "stopped: saved in" in out
    assert os.stat(folder / "transcript.jsonl").st_mode & 0o777 == 0o600
