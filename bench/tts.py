"""Time to the first audio of a 25-word interviewer line, per speech engine.

"First audio" is the time from asking the speaker for the line (``synth_sentences``, the
session's path) to the first clip it yields, which the session queues for playback at once.
Two lines: two sentences (the usual case) and one 25-word sentence (the worst case for
engines that synthesise a sentence at a time). Each engine is loaded once; the first call
is reported apart from the median of the following calls.

Usage: python bench/tts.py [--engines espeak,piper] [--repeat 5]
Prints one JSON object per engine, then a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _common import machine, proc_status_mb

LINES = {
    "two_sentences": "Thanks, that's helpful. Could you tell me a bit more about how your team "
                     "handled the migration, and what you would do differently next time?",
    "one_sentence": "From what I've described, which part of the work would you enjoy most, and "
                    "where do you think you would need time to ramp up?",
}
TARGETS_S = {"espeak": 0.050, "piper": 0.400}


def first_audio(speaker: object, text: str) -> tuple[float, float]:
    """Seconds to the first clip and to the whole line."""
    began = time.perf_counter()
    first = None
    for clip in speaker.synth_sentences(text):  # type: ignore[attr-defined]
        if first is None and len(clip.samples):
            first = time.perf_counter() - began
    total = time.perf_counter() - began
    return (first if first is not None else total), total


def bench_engine(name: str, repeat: int) -> dict[str, object]:
    """Load one engine and time both lines."""
    from voice_coach.tts.registry import create_speaker

    began = time.perf_counter()
    speaker = create_speaker(name, None, None)
    load = time.perf_counter() - began
    out: dict[str, object] = {"bench": "tts", "engine": name, "load_s": round(load, 3)}
    worst = 0.0
    for key, text in LINES.items():
        assert len(text.split()) == 25, key
        cold_first, _cold_total = first_audio(speaker, text)
        runs = [first_audio(speaker, text) for _ in range(repeat)]
        median_first = statistics.median(r[0] for r in runs)
        worst = max(worst, median_first)
        out[key] = {
            "first_call_first_audio_s": round(cold_first, 3),
            "first_audio_median_s": round(median_first, 3),
            "first_audio_max_s": round(max(r[0] for r in runs), 3),
            "whole_line_median_s": round(statistics.median(r[1] for r in runs), 3),
        }
    target = TARGETS_S.get(name)
    out["target_s"] = target
    out["within_target"] = worst <= target if target else None
    out["peak_rss_mb"] = round(proc_status_mb("VmHWM"))
    return out


def main() -> None:
    """Time every engine asked for; print JSON lines and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="espeak,piper")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = []
    for name in args.engines.split(","):
        try:
            result = bench_engine(name, args.repeat)
        except Exception as exc:  # a missing engine is reported, not fatal
            result = {"bench": "tts", "engine": name, "skipped": str(exc)}
        result["machine"] = machine()
        results.append(result)
        print(json.dumps(result), flush=True)
    parts = []
    for r in results:
        if "skipped" in r:
            parts.append(f"{r['engine']} skipped")
            continue
        one, two = r["one_sentence"], r["two_sentences"]
        parts.append(f"{r['engine']} first audio {two['first_audio_median_s'] * 1000:.0f} ms "  # type: ignore[index]
                     f"(one long sentence {one['first_audio_median_s'] * 1000:.0f} ms)")  # type: ignore[index]
    print("summary tts (25-word line): " + "; ".join(parts))


if __name__ == "__main__":
    main()
