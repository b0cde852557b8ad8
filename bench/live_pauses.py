"""Real people with thinking pauses, live: `voice-coach practice` on virtual devices.

The check of issue #11 as a new user would run it: answers made of two or three clips of real
recorded speech (the LibriVox readers in ``tests/data/real_speech``) with 1.5-2.5 s thinking
pauses between them are played into a virtual microphone (PulseAudio null sinks) whenever the
interviewer listens, with the default recogniser and the coffee-chat scenario. The
interviewer's speech goes to a virtual speaker that is not heard back (headphones), or, with
``--loudspeakers``, comes back into the microphone 120 ms later at 55 % (its echo). Reports,
per answer, whether it was cut (stored as more than one answer, or missing the last part's
words) and the delay from the answer's last word to the interviewer's next line.

Usage: python bench/live_pauses.py [--answers N] [--pause S] [--engine E] [--babble DB]
[--loudspeakers]
(``--babble -20``: espeak-ng voices talking all along, 20 dB below the quieter reader, as in a
café.)
Needs pulseaudio, pulseaudio-utils (``./bootstrap.sh test`` installs them). Prints one JSON
object, then a line starting with ``summary``. About 20 s an answer.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _common import machine
from _speech import active_rms, babble_noise, babble_talkers

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.virtual_audio import VirtualAudio  # noqa: E402
from voice_coach.audio.format import SAMPLE_RATE, read_audio, write_wav  # noqa: E402

_WORD = re.compile(r"[a-z']+")


def clips(folder: Path) -> list[tuple[str, str, np.ndarray]]:
    """(reader, text, audio) of each answer-sized LibriVox clip, in reading order."""
    out = []
    for line in (folder / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        name, text = line.split("\t")[:2]
        if name.startswith("librivox_"):
            out.append((name.rsplit("_", 1)[0], text, read_audio(folder / name)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=6)
    parser.add_argument("--pause", type=float, default=None,
                        help="every thinking pause this long (default: 1.5-2.5 s at random)")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--babble", type=float, default=None, metavar="DB",
                        help="people talking in the background all along, DB (e.g. -20) "
                             "below the readers' voices")
    parser.add_argument("--debug", action="store_true", help="the session's debug log")
    parser.add_argument("--loudspeakers", action="store_true",
                        help="the interviewer through loudspeakers: the speaker is routed back "
                             "into the microphone (120 ms, 55 %%), and the session runs without "
                             "--headphones (its echo gate on)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    pool = clips(REPO / "tests" / "data" / "real_speech")
    readers = sorted({r for r, _, _ in pool})
    work = Path(tempfile.mkdtemp(prefix="vc-live-"))
    home = work / "home"
    played: list[dict[str, object]] = []
    stop_babble = threading.Event()
    with VirtualAudio(work / "va") as va:
        if args.loudspeakers:
            va.route_speaker_to_mic(120, "55%")
        if args.babble is not None:
            babble = work / "babble.wav"
            # Under the quietest reader's voice (the Two Cities reader is 11 dB quieter than
            # the Austen reader: under the mean level the talk was 12 dB under her).
            level = min(float(np.mean([active_rms(pcm) for r, _, pcm in pool if r == reader]))
                        for reader in readers)
            noise = babble_noise(20 * SAMPLE_RATE, args.seed, babble_talkers())
            write_wav(babble, np.clip(noise * level * 10 ** (args.babble / 20),
                                      -32768, 32767).astype(np.int16))

            def background() -> None:
                """The café: its talk goes on under the whole session."""
                while not stop_babble.is_set():
                    try:
                        va.play_into_mic(babble)
                    except (subprocess.SubprocessError, OSError):
                        return

            threading.Thread(target=background, daemon=True).start()
        env = dict(va.env)
        env.update(VOICE_COACH_HOME=str(home),
                   PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", ""))
                                              if p))
        proc = subprocess.Popen(
            [sys.executable, "-m", "voice_coach", "-vv" if args.debug else "-v", "practice",
             "--name", "Jane", "--seed", "1", "--engine", args.engine,
             *([] if args.loudspeakers else ["--headphones"])],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        events: queue.Queue[float] = queue.Queue()
        lines: list[str] = []

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line)
                if "listening for an answer" in line:
                    events.put(time.monotonic())

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=lambda: proc.stdout and proc.stdout.read(), daemon=True).start()
        try:
            for k in range(args.answers):
                events.get(timeout=120)
                time.sleep(0.5)
                reader = readers[k % len(readers)]
                mine = [c for c in pool if c[0] == reader]
                n = min(len(mine), 2 + int(rng.integers(0, 2)))
                first = int(rng.integers(0, len(mine) - n + 1))
                parts = mine[first:first + n]
                pauses = [args.pause or float(rng.uniform(1.5, 2.5)) for _ in parts[1:]]
                audio = [np.zeros(SAMPLE_RATE // 4, np.int16)]
                for i, (_, _, pcm) in enumerate(parts):
                    if i:
                        audio.append(np.zeros(int(pauses[i - 1] * SAMPLE_RATE), np.int16))
                    audio.append(pcm)
                wav = work / f"answer{k}.wav"
                write_wav(wav, np.concatenate(audio))
                va.play_into_mic(wav)
                played.append({"reader": reader, "parts": [t for _, t, _ in parts],
                               "pauses": [round(p, 2) for p in pauses], "ended": time.monotonic()})
            events.get(timeout=120)  # the reply to the last answer
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
        finally:
            stop_babble.set()
            (work / "voice-coach.log").write_text("".join(lines))
            print(f"log: {work / 'voice-coach.log'}", file=sys.stderr)
            if proc.poll() is None:
                proc.kill()
    folder = sorted((home / "sessions").glob("*"))[-1]
    stored = [json.loads(x) for x in (folder / "transcript.jsonl").read_text().splitlines()
              if x.strip()]
    answers = [e for e in stored if e.get("type") == "answer" and e.get("text")]
    results = []

    def has(part: str, text: str) -> bool:
        """Most of a part's words are in the stored text."""
        words = set(_WORD.findall(part.lower()))
        return len(words & set(_WORD.findall(text.lower()))) >= 0.6 * len(words)

    # Stored answers pair with played ones in order; a cut stores more answers than played.
    for k, p in enumerate(played):
        parts = [str(x) for x in p["parts"]]  # type: ignore[attr-defined]
        text = str(answers[k]["text"]) if k < len(answers) else ""
        latency = answers[k].get("latency", {}) if k < len(answers) else {}
        results.append({**{k2: v for k2, v in p.items() if k2 != "ended"}, "stored": text,
                        "parts_heard": [has(x, text) for x in parts],
                        "cut": len(answers) != len(played) or not all(has(x, text)
                                                                     for x in parts),
                        "latency": latency})
    delays = [r["latency"].get("from_voice") for r in results
              if isinstance(r["latency"], dict) and r["latency"].get("from_voice") is not None]
    report = {"machine": machine(), "engine": args.engine, "babble_db": args.babble,
              "loudspeakers": args.loudspeakers,
              "answers": results,
              "log": str(work / "voice-coach.log"),
              "reply_from_last_word_s": sorted(delays),
              "cut": sum(r["cut"] for r in results), "played": len(results),
              "stored_answers": len(answers), "session": str(folder)}
    print(json.dumps(report, indent=2))
    print(f"summary {report['cut']} of {len(results)} answers cut; "
          f"{len(answers)} answers stored for {len(results)} played")


if __name__ == "__main__":
    main()
