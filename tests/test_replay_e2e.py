"""`replay` on the virtual speaker: the user's saved answers come out, in order, between prompts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.replay_helpers import make_spoken_session
from tests.support.virtual_audio import VirtualAudio
from voice_coach.audio.format import SAMPLE_RATE, Pcm, read_audio

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

HOP = 160  # 10 ms envelope frames


def envelope(samples: Pcm) -> npt.NDArray[np.float64]:
    """RMS level every 10 ms."""
    n = len(samples) // HOP
    frames = samples[: n * HOP].astype(np.float64).reshape(n, HOP)
    return np.asarray(np.sqrt((frames**2).mean(axis=1)))


def locate(needle: Pcm, hay: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Best (start seconds, normalised correlation) of ``needle``'s envelope inside ``hay``."""
    e = envelope(needle)
    e = (e - e.mean()) / (e.std() + 1e-9)
    best, best_at = -1.0, 0
    for lag in range(0, len(hay) - len(e)):
        win = hay[lag : lag + len(e)]
        sd = win.std()
        if sd < 1e-9:
            continue
        c = float(np.dot(e, (win - win.mean()) / sd) / len(e))
        if c > best:
            best, best_at = c, lag
    return best_at * HOP / SAMPLE_RATE, best


def test_replay_plays_prompts_and_saved_answers_in_order(
    virtual_audio: VirtualAudio, audio_env: dict[str, str], coach_home: Path, tmp_path: Path
) -> None:
    made = make_spoken_session(speech=True)
    cap = tmp_path / "speaker.wav"
    virtual_audio.record_speaker(cap)
    time.sleep(0.3)
    env = dict(audio_env, VOICE_COACH_HOME=str(coach_home))
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "voice_coach", "replay", "last"],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    time.sleep(0.3)
    virtual_audio.stop_recording(cap)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # no TTY: no key help, the transcript in step, each line marked as it plays
    assert "space: pause" not in proc.stdout
    shown = [line for line in proc.stdout.splitlines() if line.startswith(("▶", ">"))]
    assert len(shown) == 6 and "Jane: I am a data engineer" in shown[1]
    assert proc.stdout.rstrip().endswith("(session completed)")

    got = read_audio(cap)
    hay = envelope(got)
    starts = []
    for n, answer in enumerate(made.answers, start=1):
        at, corr = locate(answer, hay)
        print(f"answer {n}: found at {at:.2f} s, envelope correlation {corr:.3f}")
        assert corr > 0.8, f"answer {n} not found in what the speaker played"
        starts.append(at)
    assert starts == sorted(starts)
    assert made.prompt_audio is not None
    p_at, p_corr = locate(made.prompt_audio, hay)
    print(f"saved prompt: at {p_at:.2f} s, correlation {p_corr:.3f}; replay took {wall:.1f} s")
    assert p_corr > 0.8 and p_at < starts[0]
    # the second prompt (no saved audio) was spoken again between answers 1 and 2
    gap_from = int((starts[0] + len(made.answers[0]) / SAMPLE_RATE + 0.1) * SAMPLE_RATE)
    gap = got[gap_from : int(starts[1] * SAMPLE_RATE)]
    assert (np.abs(gap.astype(int)) > 1000).sum() > 0.3 * SAMPLE_RATE


def test_replay_keys_on_a_terminal(
    virtual_audio: VirtualAudio, audio_env: dict[str, str], coach_home: Path
) -> None:
    import os
    import select
    import termios

    make_spoken_session(speech=True)
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    env = dict(audio_env, VOICE_COACH_HOME=str(coach_home), COLUMNS="200")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice_coach", "replay", "last"],
        env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    out = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
        assert marker in out, out.decode(errors="replace")

    try:
        read_until(b"space: pause")
        read_until(b"Hello Jane")
        t0 = time.monotonic()
        os.write(master, b"n")  # skip to turn 2: its prompt starts at once
        read_until(b"How are you finding Berlin")
        skip = time.monotonic() - t0
        os.write(master, b" ")
        read_until(b"paused")
        os.write(master, b" ")
        read_until(b"resumed")
        os.write(master, b"q")
        read_until(b"(replay stopped)")
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        after = termios.tcgetattr(slave)
        os.close(master)
        os.close(slave)
    text = out.decode(errors="replace")
    print(f"'n' reached the next turn in {skip:.2f} s")
    assert skip < 1.0
    assert "I am a data engineer" not in text  # turn 1's answer was skipped
    assert after == before  # cbreak mode was undone
