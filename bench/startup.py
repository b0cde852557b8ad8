"""From process start to the first audio sample of the greeting, cold and warm.

Each run is a new process that runs the real CLI (``voice-coach demo``, the spoken demo path:
imports, engine choice, background model load, TTS, greeting) and exits the moment the
greeting's first sample is handed to the player. "cold" is the first run with an empty
bytecode cache (and the page cache dropped when ``--drop-caches`` is given and allowed);
"warm" is the median of the following runs.

Usage: python bench/startup.py [--engine whisper] [--runs 5] [--player null|device]
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, machine


def child(engine: str, player_mode: str, tts: str) -> None:
    """Run the demo command; exit at the greeting's first sample, printing the wall time."""
    began_imports = time.time()
    from voice_coach.audio import playback
    from voice_coach.session import demo  # noqa: F401 - the session's imports, timed

    imported = time.time()

    def report(_pb: Any) -> None:
        print(json.dumps({"first_sample_wall": time.time(), "imports_s": imported - began_imports,
                          "imported_wall": imported}), flush=True)
        os._exit(0)

    if player_mode == "device":
        real_open = playback.open_player

        def open_device(device: Any = None, **kw: Any) -> Any:
            player = real_open(device, **kw)
            real_play = player.play

            def play(samples: Any, rate: int, on_first_sample: Any = None) -> Any:
                return real_play(samples, rate, report)

            player.play = play
            return player

        playback.open_player = open_device  # type: ignore[assignment]
    else:

        class FirstSamplePlayer(playback.NullPlayer):
            def play(self, samples: Any, rate: int, on_first_sample: Any = None) -> Any:
                return super().play(samples, rate, report)

        playback.open_player = lambda *a, **k: FirstSamplePlayer(realtime=True)  # type: ignore
    # The command as a user runs it (``python -m voice_coach demo``), through its entry point.
    sys.argv = ["voice-coach", "demo", "--engine", engine, "--tts", tts, "--no-audio"]
    runpy.run_module("voice_coach", run_name="__main__", alter_sys=True)


def one_run(engine: str, player_mode: str, tts: str, env: dict[str, str]) -> dict[str, float]:
    """Start a fresh process and time it to the first greeting sample."""
    started = time.time()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", "--engine", engine, "--player", player_mode,
         "--tts", tts],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"first_sample_wall"')]
    if not lines:
        raise SystemExit(f"child failed: {proc.stderr.strip()[-500:]}")
    data = json.loads(lines[-1])
    return {"to_first_sample_s": round(data["first_sample_wall"] - started, 3),
            "to_imported_s": round(data["imported_wall"] - started, 3)}


def drop_caches() -> bool:
    """Drop the page cache (root only); False when not allowed."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main() -> None:
    """One cold run then warm runs; print JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="whisper")
    parser.add_argument("--runs", type=int, default=5, help="warm runs")
    parser.add_argument("--player", default="null", choices=["null", "device"])
    parser.add_argument("--tts", default="espeak")
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.engine, args.player, args.tts)
        return
    home = tempfile.mkdtemp(prefix="bench-startup-")
    env = {**os.environ, "VOICE_COACH_HOME": home, "PYTHONPATH": str(ROOT)}
    cold_env = {**env, "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="bench-pyc-")}
    dropped = drop_caches() if args.drop_caches else False
    cold = one_run(args.engine, args.player, args.tts, cold_env)
    warm_runs = [one_run(args.engine, args.player, args.tts, env)
                 for _ in range(max(1, args.runs))]
    warm = [r["to_first_sample_s"] for r in warm_runs]
    result = {
        "bench": "startup",
        "engine": args.engine,
        "player": args.player,
        "tts": args.tts,
        "cold_s": cold["to_first_sample_s"],
        "cold_imports_done_s": cold["to_imported_s"],
        "cold_means": "empty bytecode cache" + (", page cache dropped" if dropped else
                                                ", page cache not dropped"),
        "warm_median_s": round(statistics.median(warm), 3),
        "warm_max_s": max(warm),
        "warm_runs": warm,
        "warm_imports_done_median_s": round(
            statistics.median(r["to_imported_s"] for r in warm_runs), 3),
        "target_le_1.5_s": max(cold["to_first_sample_s"], max(warm)) <= 1.5,
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))
    print(f"summary startup {args.engine}, {args.tts} (player {args.player}): "
          f"cold {result['cold_s']:.2f} s, "
          f"warm median {result['warm_median_s']:.2f} s (max {result['warm_max_s']:.2f} s) "
          "to the greeting's first sample")


if __name__ == "__main__":
    main()
