"""Run audio-layer actions in a fresh process: PortAudio lists devices once, at import.

Usage: python tests/support/audio_child.py ACTION JSON_ARGS; prints one JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice_coach.audio.capture import Microphone
from voice_coach.audio.format import SAMPLE_RATE, read_wav, rms, write_wav
from voice_coach.audio.playback import Player
from voice_coach.errors import CoachError


def capture(args: dict[str, Any]) -> dict[str, Any]:
    """Record ``seconds`` of frames; optionally mute between two times; report onsets and rms."""
    out: list[np.ndarray] = []
    starts: list[float] = []
    first_loud: float | None = None
    threshold = float(args.get("threshold", 500))
    mute_at = args.get("mute_at")
    unmute_at = args.get("unmute_at")
    with Microphone(prefer_rate=int(args.get("rate", SAMPLE_RATE))) as mic:
        ready = Path(args["ready"]) if args.get("ready") else None
        if ready:
            ready.write_text(str(time.monotonic()))
        t0 = time.monotonic()
        muted = unmuted = False
        while time.monotonic() - t0 < float(args["seconds"]):
            el = time.monotonic() - t0
            if mute_at is not None and not muted and el >= mute_at:
                mic.mute()
                muted = True
            if unmute_at is not None and muted and not unmuted and el >= unmute_at:
                mic.unmute(float(args.get("tail", 0.25)))
                unmuted = True
            chunk = mic.read(timeout=0.5)
            if chunk is None:
                continue
            if first_loud is None and rms(chunk.samples) > threshold:
                first_loud = time.monotonic()
            out.append(chunk.samples)
            starts.append(chunk.start)
        rate = mic.rate
        overflows = mic.overflows
        started_at = mic.started_at
    samples = np.concatenate(out) if out else np.zeros(0, dtype=np.int16)
    if args.get("wav"):
        write_wav(Path(args["wav"]), samples)
    return {
        "rate": rate,
        "frames": len(out),
        "seconds": len(samples) / SAMPLE_RATE,
        "rms": rms(samples),
        "first_loud": first_loud,
        "starts": starts,
        "overflows": overflows,
        "started_at": started_at,
    }


def play(args: dict[str, Any]) -> dict[str, Any]:
    """Play a WAV file (optionally split in two clips to check gapless queueing)."""
    samples, rate = read_wav(args["wav"])
    with Player() as player:
        if args.get("settle"):
            # A new stream on a fresh virtual sink is drained faster than real time at first
            # (underflows, audio skipped): let it settle on silence, as a session's does
            # while the first line is synthesised.
            player.play(np.zeros(int(float(args["settle"]) * rate), np.int16), rate)
            player.wait()
        t0 = time.monotonic()
        parts = np.array_split(samples, int(args.get("parts", 1)))
        pbs = [player.play(p, rate) for p in parts]
        player.wait()
        t1 = time.monotonic()
        return {
            "device_rate": player.rate,
            "queued_to_first": pbs[0].first_sample_at - t0 if pbs[0].first_sample_at else None,
            "audible_latency": (pbs[0].audible_at or 0) - (pbs[0].first_sample_at or 0),
            "wall": t1 - t0,
            "seconds": sum(p.seconds for p in pbs),
            "first_sample_at": pbs[0].first_sample_at,
            "underflows": player.underflows,
        }


def main() -> int:
    action, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    try:
        result = {"capture": capture, "play": play}[action](json.loads(raw))
    except CoachError as exc:
        print(json.dumps({"error": str(exc), "type": type(exc).__name__, "exit": exc.exit_code}))
        return exc.exit_code
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
