"""End to end with loudspeakers: the speaker leaks back into the microphone (echo), the
candidate pauses, the interviewer starts replying, and the candidate talks over it.

The continuation must join the same answer (one answer event, one WAV), the interviewer must
stop, and none of the interviewer's words may ever turn up in a stored answer.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.virtual_audio import VirtualAudio
from tests.test_voice_e2e import SCRIPT, Session, _events

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

FIRST = "Hi Alex, nice to meet you too. I'm Jane, and I recently moved to Berlin."
SECOND = "Before that I lived in Lisbon for five years, working for a small bank."
_WORD = re.compile(r"[a-z']+")


def stems(text: str) -> set[str]:
    """Words without their endings: "company's" and "companies" are one word to a listener."""
    out = set()
    for w in _WORD.findall(text.lower()):
        w = w.replace("'", "")
        for end, by in (("ies", "y"), ("s", "")):
            if w.endswith(end) and len(w) > len(end) + 2:
                w = w[: -len(end)] + by
                break
        out.add(w)
    return out


def loud_speech(path: Path, text: str) -> Path:
    """The candidate close to the microphone: louder than the interviewer's echo."""
    subprocess.run(["espeak-ng", "-w", str(path), "-v", "en-us+m3", "-s", "165", "-a", "180",
                    text], check=True, timeout=30)
    return path


def wait_for_reply(recording: Path, limit: float = 45.0) -> bool:
    """Wait until the speaker has sounded for half a second (a reply; the bridge's "Mm." is
    shorter): a fixed pause after the answer had the continuation come before the reply on a
    busy machine (no double talk), or no endpoint at all. False if nothing came in time."""
    pos = recording.stat().st_size
    pos += (pos - 44) % 2  # whole samples after the WAV header
    loud = 0
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(0.02)
        data = recording.read_bytes()[pos:]
        n = len(data) // 320 * 320  # 10 ms blocks of 16 kHz int16
        pos += n
        for block in np.frombuffer(data[:n], np.int16).reshape(-1, 160).astype(float):
            if np.sqrt((block**2).mean()) > 300:
                loud += 1
            elif loud <= 20:
                loud = 0  # a short sound (a click, the bridge) ended
            if loud >= 50:
                return True
    return False


@pytest.fixture
def echo_env(audio_env: dict[str, str], coach_home: Path) -> dict[str, str]:
    env = dict(audio_env)
    env["VOICE_COACH_HOME"] = str(coach_home)
    return env


def test_continuation_over_the_reply_joins_the_answer(
    virtual_audio: VirtualAudio, echo_env: dict[str, str], coach_home: Path, tmp_path: Path
) -> None:
    first = loud_speech(tmp_path / "first.wav", FIRST)
    second = loud_speech(tmp_path / "second.wav", SECOND)
    speaker = tmp_path / "speaker.wav"
    virtual_audio.record_speaker(speaker)
    session = Session(echo_env, "--headphones")
    try:
        session.wait_listening()
        virtual_audio.play_into_mic(first)
        # The endpoint, then the reply begins: the candidate goes on over it.
        assert wait_for_reply(speaker), "the reply never started"
        virtual_audio.play_into_mic(second)
        session.wait_listening()  # the next question has been asked
        session.proc.send_signal(signal.SIGINT)
        session.proc.communicate(timeout=60)
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
        virtual_audio.stop_recording(speaker)
    log = "".join(session.stderr)
    assert "barge-in" in log, log
    # A candidate heard over the echo is not told they are too quiet to be heard.
    assert "short of being heard over" not in log, log
    answers = [e for e in _events(coach_home) if e["type"] == "answer"]
    assert len(answers) == 1, [a["text"] for a in answers]
    words = set(_WORD.findall(str(answers[0]["text"]).lower()))
    assert {"berlin", "lisbon"} <= words, answers[0]["text"]


def test_echo_never_answers_and_a_continuation_joins_the_answer(
    virtual_audio: VirtualAudio, echo_env: dict[str, str], coach_home: Path, tmp_path: Path
) -> None:
    answers_said = [text for text, is_answer in SCRIPT[2:] if is_answer]
    first = loud_speech(tmp_path / "first.wav", FIRST)
    second = loud_speech(tmp_path / "second.wav", SECOND)
    rest = [loud_speech(tmp_path / f"a{i}.wav", t) for i, t in enumerate(answers_said)]
    module = virtual_audio.route_speaker_to_mic()
    speaker = tmp_path / "speaker.wav"
    virtual_audio.record_speaker(speaker)
    session = Session(echo_env, "--save-interviewer-audio")
    try:
        session.wait_listening()
        virtual_audio.play_into_mic(first)
        # The endpoint, then the reply begins: the candidate goes on over it (double talk).
        assert wait_for_reply(speaker), "the reply never started"
        virtual_audio.play_into_mic(second)
        for wav in rest:
            session.wait_listening()
            virtual_audio.play_into_mic(wav)
        try:
            out, _ = session.proc.communicate(timeout=240)
        except subprocess.TimeoutExpired as exc:
            session.proc.kill()
            out = (exc.output or b"").decode() if isinstance(exc.output, bytes) else ""
            pytest.fail(f"the session did not end:\n{out}\n{''.join(session.stderr)[-3000:]}")
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
        virtual_audio._pactl("unload-module", module)
        virtual_audio.stop_recording(speaker)
    log = "".join(session.stderr)
    assert session.proc.returncode == 0, log
    assert "barge-in" in log, log

    events = _events(coach_home)
    answers = [e for e in events if e["type"] == "answer"]
    prompts = [e for e in events if e["type"] == "prompt"]
    # The first answer holds both parts; no echo became an answer of its own.
    first_words = set(_WORD.findall(str(answers[0]["text"]).lower()))
    assert {"berlin", "lisbon"} <= first_words, answers[0]["text"]
    assert len(answers) == 1 + len(answers_said), [a["text"] for a in answers]
    # No interviewer word (one the candidate never says) in any stored answer.
    candidate = stems(" ".join([FIRST, SECOND, *answers_said]))
    interviewer = {w for p in prompts for w in stems(str(p["text"])) if len(w) >= 5} - candidate
    for a in answers:
        leaked = interviewer & stems(str(a["text"]))
        assert not leaked, (a["text"], leaked)
