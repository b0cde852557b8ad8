"""Which VAD keeps thinking pauses quiet and speech voiced in noise? Silero v6 against webrtcvad.

Answers of two sentences joined by a 2 s pause, with no noise and with pink and babble noise
at -30 and -20 dB below the speech, go through each VAD frame by frame (30 ms). Reported per
VAD and noise: speech recall (voiced frames inside sentences), false speech in pauses (share of
pause frames called speech), spurious resumes a minute of pause (runs of voiced frames that
would resume the endpointer, so a pause never ends), the lag from the end of a sentence to the
VAD's last voiced frame, and the cost a frame.

Usage: python bench/vad.py [--real DIR] [--answers N]
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, percentile
from _speech import NOISES, active_rms, babble_talkers, mix, piper_sentences, real_sentences

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames
from voice_coach.listening.vad import create_vad

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
PAUSE = 2.0
EDGE = 0.15
"""Pause frames this close to speech are not judged (VAD hangover is fine there)."""


def build(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Lead silence, sentence, pause, sentence, tail; returns the audio and speech spans."""
    lead = np.zeros(int(0.5 * SAMPLE_RATE), np.int16)
    gap = np.zeros(int(PAUSE * SAMPLE_RATE), np.int16)
    parts = [lead, first, gap, second, np.zeros(SAMPLE_RATE, np.int16)]
    spans, pos = [], 0
    for i, p in enumerate(parts):
        if i in (1, 3):
            spans.append((pos, pos + len(p)))
        pos += len(p)
    return np.concatenate(parts), spans


def judge(flags: list[bool], spans: list[tuple[int, int]]) -> dict[str, float]:
    """Frame statistics of one answer."""
    fr = np.array(flags)
    idx = np.arange(len(fr)) * FRAME_SAMPLES
    speech = np.zeros(len(fr), bool)
    for a, b in spans:
        speech |= (idx >= a) & (idx + FRAME_SAMPLES <= b)
    edge = int(EDGE * SAMPLE_RATE)
    p0, p1 = spans[0][1] + edge, spans[1][0] - edge
    pause = (idx >= p0) & (idx + FRAME_SAMPLES <= p1)
    runs, run = 0, 0
    for f in fr[pause]:
        run = run + 1 if f else 0
        if run == 2:
            runs += 1
    lags = []
    for a, b in spans:
        voiced = np.flatnonzero(fr & (idx >= a) & (idx < b + int(0.8 * SAMPLE_RATE)))
        if len(voiced):
            lags.append((voiced[-1] + 1) * FRAME_S - b / SAMPLE_RATE)
    return {
        "recall": float(fr[speech].mean()),
        "pause_false": float(fr[pause].mean()),
        "resumes": runs,
        "pause_s": float(pause.sum() * FRAME_S),
        "lag": float(np.mean(lags)) if lags else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=None, help="folder of real recordings")
    parser.add_argument("--answers", type=int, default=8, help="answers per voice")
    args = parser.parse_args()
    voices: dict[str, list[np.ndarray]] = {
        "piper": [s.pcm for s in piper_sentences(2 * args.answers)]}
    if args.real and (args.real / "transcripts.tsv").is_file():
        voices["real"] = [s.pcm for s in real_sentences(args.real, 2 * args.answers)]
    talkers = babble_talkers()
    results: dict[str, Any] = {}
    for kind in ("silero", "webrtc"):
        vad = create_vad(kind)
        per_noise: dict[str, Any] = {}
        for noise in NOISES:
            rows, cost, n_frames = [], 0.0, 0
            for voice, clips in voices.items():
                for i in range(0, len(clips) - 1, 2):
                    audio, spans = build(clips[i], clips[i + 1])
                    level = active_rms(np.concatenate([clips[i], clips[i + 1]]))
                    audio = mix(audio, noise.make(len(audio), i, talkers), noise.level_db,
                                level, seed=i)
                    vad.reset()
                    t0 = time.perf_counter()
                    flags = [vad.is_speech(f) for f in frames(audio)]
                    cost += time.perf_counter() - t0
                    n_frames += len(flags)
                    rows.append({"voice": voice, **judge(flags, spans)})
            pause_min = sum(r["pause_s"] for r in rows) / 60
            per_noise[noise.name] = {
                "speech_recall": round(float(np.mean([r["recall"] for r in rows])), 3),
                "pause_false_speech": round(float(np.mean([r["pause_false"] for r in rows])), 3),
                "spurious_resumes_per_min": round(sum(r["resumes"] for r in rows) / pause_min, 2),
                "end_lag_s_p50": round(percentile([r["lag"] for r in rows], 50), 3),
                "answers": len(rows),
                "us_per_frame": round(cost / max(1, n_frames) * 1e6, 1),
            }
        results[kind] = per_noise
    report = {"machine": machine(), "pause_s": PAUSE, "voices": list(voices), "vad": results}
    print(json.dumps(report, indent=2))
    for kind, per in results.items():
        worst = max(per.values(), key=lambda r: r["spurious_resumes_per_min"])
        print(f"summary {kind}: recall "
              + " ".join(f"{k}={v['speech_recall']}" for k, v in per.items())
              + f"; worst spurious resumes {worst['spurious_resumes_per_min']}/min")


if __name__ == "__main__":
    main()
