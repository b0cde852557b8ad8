"""Endurance: an hour of spoken rehearsal in one process, fed faster than real time; prints JSON.

Model of a long rehearsal: interviews back to back in one process (the controller ends each
after its wrap-up), with long answers (60-110 s of speech with thinking pauses, below the
endpointer's 120 s cap), sharing one recognizer, speaker, audio source and player the way a
long-running app holds its engines and devices. Every answer is stored with its WAV.
After each interview it samples RSS, open file descriptors (/proc/self/fd) and threads; the
first interview is the warm-up. At the end every session is reloaded and checked.

Usage: python bench/endurance.py [--minutes 60] [--engine scripted|sphinx|whisper]
       [--tts espeak|silent] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_coach.audio.capture import AfterEnd, PcmSource  # noqa: E402
from voice_coach.audio.format import SAMPLE_RATE, Pcm, resample  # noqa: E402
from voice_coach.audio.playback import NullPlayer  # noqa: E402
from voice_coach.interview.candidate import (  # noqa: E402
    ScriptedCandidate,
    load_candidate,
    plain,
)
from voice_coach.interview.scenario import load_scenario  # noqa: E402
from voice_coach.interview.stages import Stage  # noqa: E402
from voice_coach.session.demo import trim_silence  # noqa: E402
from voice_coach.session.voice import (  # noqa: E402
    QuietUI,
    VoiceOptions,
    VoiceSession,
)
from voice_coach.stt.base import Recognizer, Transcript, Word  # noqa: E402
from voice_coach.transcripts.store import SessionStore  # noqa: E402
from voice_coach.tts.registry import create_speaker  # noqa: E402

SENTENCES = [
    "At my last job I built a data pipeline for sales reporting.",
    "I used Python and Kafka, and I led a team of three engineers.",
    "The hardest part was getting the schema changes right.",
    "So we added contract tests between the producers and the consumers.",
    "After that the nightly failures dropped to almost nothing.",
    "I also set up monitoring so we could catch bad data early.",
    "Looking back, I would have involved the analysts much sooner.",
    "That taught me to ask who reads the numbers before I write any code.",
]


class ScriptedRecognizer(Recognizer):
    """Buffers the utterance like a batch engine and returns the candidate's scripted text."""

    name = "scripted"

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[str] = []

    def transcribe(self, samples: Pcm) -> Transcript:
        """The next scripted text with evenly spread word times."""
        text = self.queue.pop(0) if self.queue else ""
        tokens = text.split()
        step = len(samples) / SAMPLE_RATE / max(1, len(tokens))
        words = tuple(Word(t, i * step, (i + 1) * step, 0.9) for i, t in enumerate(tokens))
        return Transcript(text, words, engine=self.name)




def rss_mb() -> float:
    """Resident set size now, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def sample() -> dict[str, float]:
    """RSS, open file descriptors and threads now."""
    gc.collect()
    return {"rss_mb": round(rss_mb(), 1), "fds": len(os.listdir("/proc/self/fd")),
            "threads": threading.active_count(), "os_threads": len(os.listdir("/proc/self/task"))}


def check_session(store: SessionStore, sid: str) -> dict[str, Any]:
    """Reload a session: its events, its end, every WAV whole."""
    s = store.load(sid)
    bad = 0
    for a in s.answers():
        path = s.audio_file(a)
        if path is None:
            bad += 1
            continue
        with wave.open(str(path), "rb") as w:
            if path.stat().st_size != 44 + 2 * w.getnframes():
                bad += 1
    return {"answers": len(s.answers()), "end": s.end_reason, "warnings": len(s.warnings),
            "bad_audio": bad}


def main() -> None:
    """Run the endurance benchmark and print one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="Minutes of candidate speech.")
    ap.add_argument("--engine", default="scripted", help="scripted, sphinx or whisper.")
    ap.add_argument("--tts", default="espeak", help="The interviewer's voice engine.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="Keep the sessions folder.")
    ap.add_argument("--unbounded-player", action="store_true",
                    help="NullPlayer keeps every clip (the old behaviour, to compare).")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="voice-coach-endurance-"))
    os.environ["VOICE_COACH_HOME"] = str(home)
    rng = random.Random(args.seed)
    scenario = load_scenario(None)
    voice = create_speaker("espeak", "en-us+m3", 165)
    clips = [trim_silence(resample(s.samples, s.rate))
             for s in (voice.synth(t) for t in SENTENCES)]
    recognizer: Recognizer
    if args.engine == "scripted":
        recognizer = ScriptedRecognizer()
    else:
        from voice_coach.stt.registry import create_recognizer

        recognizer = create_recognizer(args.engine)
    speaker = create_speaker(args.tts, None, 175)
    source = PcmSource(realtime=False, after_end=AfterEnd.SILENCE)
    player = NullPlayer(realtime=False, keep_clips=None if args.unbounded_player else 8)
    store = SessionStore()

    target = args.minutes * 60.0
    fed = 0.0
    samples: list[dict[str, Any]] = []
    sessions: list[str] = []
    t0 = time.monotonic()
    samples.append({"session": 0, "speech_min": 0.0, **sample()})
    while fed < target:
        candidate = load_candidate(scenario.id)

        def on_listen(stage: Stage | None, line: str,
                      candidate: ScriptedCandidate = candidate) -> None:
            nonlocal fed
            short = candidate.answer(stage, line)
            seconds = rng.uniform(60.0, 110.0)
            pieces: list[Pcm] = [np.zeros(int(0.4 * SAMPLE_RATE), np.int16)]
            texts = [plain(short)]
            n = 0.0
            while n < seconds:
                i = rng.randrange(len(clips))
                pieces.append(clips[i])
                texts.append(SENTENCES[i])
                gap = np.zeros(int(rng.uniform(0.3, 0.9) * SAMPLE_RATE), np.int16)
                pieces.append(gap)
                n += (len(clips[i]) + len(gap)) / SAMPLE_RATE
            fed += n
            if isinstance(recognizer, ScriptedRecognizer):
                recognizer.queue.append(" ".join(texts))
            source.feed(np.concatenate(pieces))

        options = VoiceOptions(name=candidate.name, seed=args.seed + len(sessions),
                               mode="demo", meta={"engine": recognizer.name, "bench": True})
        session = VoiceSession(scenario, source, player, speaker, recognizer, store, QuietUI(),
                               options, on_listen=on_listen)
        result = session.run()
        sessions.append(result.session_id)
        del session
        samples.append({"session": len(sessions), "speech_min": round(fed / 60, 1),
                        "wall_s": round(time.monotonic() - t0, 1), **sample()})

    warm = samples[1]
    last = samples[-1]
    checks = [check_session(store, sid) for sid in sessions]
    out = {
        "engine": recognizer.name, "tts": args.tts,
        "speech_minutes": round(fed / 60, 1), "sessions": len(sessions),
        "answers": sum(c["answers"] for c in checks),
        "wall_seconds": round(time.monotonic() - t0, 1),
        "rss_growth_after_warmup_mb": round(last["rss_mb"] - warm["rss_mb"], 1),
        "fd_growth_after_warmup": last["fds"] - warm["fds"],
        "thread_growth_after_warmup": last["os_threads"] - warm["os_threads"],
        "null_player_clips": len(player.clips),
        "null_player_clip_mb": round(sum(c.samples.nbytes for c in player.clips) / 1e6, 1),
        "transcripts_intact": all(c["end"] == "completed" and c["warnings"] == 0
                                  and c["bad_audio"] == 0 for c in checks),
        "samples": samples,
        "home": str(home) if args.keep else None,
    }
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
