"""From process start to the first audio sample of the greeting, cold and warm.

Each run is a new process that runs the real CLI (``voice-coach demo``, the spoken demo path:
imports, engine choice, background model load, TTS, greeting) and exits the moment the
greeting's first sample is handed to the player. "cold" is the first run after an install
(a fresh home, the project's own bytecode removed; the page cache dropped when
``--drop-caches`` is given and allowed), "no_bytecode" a run with no bytecode for any module,
"warm" the median of the runs after the cold one (which reuse the bytecode it wrote).
Only the greeting's path is timed: the models load in the background from its first sample
(each run's process group is ended before the next run, so no load outlives its run).

The default engine is the product's default, ``auto``; the JSON says what it resolved to.

Usage: python bench/startup.py [--engine auto] [--runs 5] [--player null|device]
                               [--command demo|practice]
(``practice`` opens the microphone: run it with ``--player device`` on real or virtual devices.)
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine


def one_run(command: str, engine: str, player_mode: str, tts: str,
            env: dict[str, str]) -> dict[str, float]:
    """Start a fresh process and time it to the first greeting sample."""
    started = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Its own process group: whatever it started (a decoder process, a conversion) ends with
    # it instead of loading on beside the next run.
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_startup_child.py")), command, engine,
         player_mode, tts],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        end_group(proc.pid)
        proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    lines = [ln for ln in stdout.splitlines() if ln.startswith('{"first_sample_wall"')]
    if not lines:
        raise SystemExit(f"child failed: {stderr.strip()[-500:]}")
    data = json.loads(lines[-1])
    return {"to_first_sample_s": round(data["first_sample_wall"] - started, 3),
            "to_imported_s": round(data["imported_wall"] - started, 3),
            "cpu_s": round(cpu, 3)}


def end_group(pgid: int) -> None:
    """End what is left of one run's process group (it was started here, in its own group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def resolved_engine(engine: str, env: dict[str, str]) -> str:
    """The engine a name resolves to (``auto`` -> what this machine picks), in a child."""
    code = ("from voice_coach.session.engines import EngineChoice, resolve_engine; "
            f"print(resolve_engine(EngineChoice({engine!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    return done.stdout.strip() or f"unresolved: {done.stderr.strip()[-200:]}"


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
    parser.add_argument("--engine", default="auto", help="auto (the default) or an engine")
    parser.add_argument("--runs", type=int, default=5, help="warm runs")
    parser.add_argument("--command", default="demo", choices=["demo", "practice"],
                        help="practice needs a microphone and --player device")
    parser.add_argument("--player", default="null", choices=["null", "device"])
    parser.add_argument("--tts", default="espeak")
    parser.add_argument("--drop-caches", action="store_true")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**base, "VOICE_COACH_HOME": tempfile.mkdtemp(prefix="bench-startup-"),
           "PYTHONPATH": str(ROOT)}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    dropped = drop_caches() if args.drop_caches else False
    # Nothing compiled at all (Python's own library and numpy too): the worst case.
    bare = one_run(args.command, args.engine, args.player, args.tts,
                   {**env, "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="bench-pyc-")})
    # The first run after an install: the project's own bytecode is not there yet
    # (an editable install compiles nothing of it; a wheel install would).
    removed = remove_bytecode(ROOT / "voice_coach")
    cold = one_run(args.command, args.engine, args.player, args.tts, env)
    warm_runs = [one_run(args.command, args.engine, args.player, args.tts, env)
                 for _ in range(max(1, args.runs))]
    warm = [r["to_first_sample_s"] for r in warm_runs]
    result = {
        "bench": "startup",
        "command": args.command,
        "engine": args.engine,
        "engine_resolved": resolved_engine(args.engine, env),
        "player": args.player,
        "tts": args.tts,
        "cold_s": cold["to_first_sample_s"],
        "cold_imports_done_s": cold["to_imported_s"],
        "cold_means": f"first run after an install: fresh home (no converted model), the "
                      f"project's bytecode removed ({removed} files), Python's and the "
                      "packages' bytecode as installed"
                      + (", page cache dropped" if dropped else ", page cache not dropped"),
        "no_bytecode_s": bare["to_first_sample_s"],
        "no_bytecode_imports_done_s": bare["to_imported_s"],
        "no_bytecode_means": "no bytecode for any module (Python's library and numpy compiled "
                             "too), fresh home",
        "warm_median_s": round(statistics.median(warm), 3),
        "warm_max_s": max(warm),
        "warm_runs": warm,
        "cold_cpu_s": cold["cpu_s"],
        "warm_cpu_median_s": round(statistics.median(r["cpu_s"] for r in warm_runs), 3),
        "cpu_means": "CPU time (user + system, all threads) of the process up to the first "
                     "sample: what the wall time tends to on an idle machine",
        "warm_imports_done_median_s": round(
            statistics.median(r["to_imported_s"] for r in warm_runs), 3),
        "target_le_1.5_s": max(cold["to_first_sample_s"], max(warm)) <= 1.5,
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))
    print(f"summary startup {args.command} {args.engine} ({result['engine_resolved']}), {args.tts} "
          f"(player {args.player}): cold {result['cold_s']:.2f} s (no bytecode at all "
          f"{result['no_bytecode_s']:.2f} s), warm median {result['warm_median_s']:.2f} s "
          f"(max {result['warm_max_s']:.2f} s) to the greeting's first sample, "
          f"CPU {result['warm_cpu_median_s']:.2f} s warm; "
          f"load {' '.join(load_before)}")


def remove_bytecode(package: Path) -> int:
    """Delete a package's compiled files (they are rebuilt on import); how many there were."""
    files = list(package.rglob("__pycache__/*.pyc"))
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


if __name__ == "__main__":
    main()
