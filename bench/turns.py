"""Turn-taking on answers with thinking pauses: cut rate, words lost, barge-ins, reply delay.

Each answer is two or three sentences joined by thinking pauses of 0.6, 1.5, 2.0, 2.5 or 3.0 s,
read by a natural voice (piper) or by real people (``--real DIR``: WAV files with
``transcripts.tsv``), in a quiet room or with pink / babble noise at -30 and -20 dB below the
speech. Sessions of ten answers walk the interview's stages (greeting, icebreakers, five
discussion answers, your questions, wrap-up), so the endpointer's per-user patience carries
over within a session as it does in the product. Everything runs for real except the
recogniser's partial text: Silero VAD frame by frame, the endpointer, smart-turn asked at each
pause (its verdict arriving ``--model-latency`` later), and, with ``--asr``, faster-whisper
tiny.en transcribing every stored answer that had a cut, to check no word was lost.

The partial transcript is an oracle with a delay: the sentences finished ``--hint-latency`` ago
with their punctuation (whisper's speculative tail decode), plus the words of the current
sentence so far, unpunctuated.

Per pause length it reports: ``cut_rate`` (answers ended at a thinking pause), ``recovered``
(cuts whose continuation was taken back by barge-in: the endpointer keeps listening after the
endpoint, for as long as the interviewer's reply lasts), ``words_lost`` (words of speech that
ended outside the stored answer), and the reply delay after the last word of finished answers
(``endpoint`` minus the last word, plus ``--pipeline`` seconds of recognition tail, synthesis and
playback start measured by bench/latency.py). ``--split`` reports the data used for tuning
(piper and the first half of the real speakers) apart from the rest.

Usage: python bench/turns.py [--real DIR] [--sessions N] [--asr] [--no-model]
Prints one JSON object, then a one-line summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, percentile
from _speech import (
    NOISES,
    Noise,
    Sentence,
    active_rms,
    babble_talkers,
    cache_dir,
    mix,
    piper_sentences,
    real_sentences,
)

from voice_coach.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames
from voice_coach.interview.stages import Stage
from voice_coach.listening.endpointer import (
    EndpointConfig,
    Endpointer,
    EventKind,
)
from voice_coach.listening.vad import create_vad
from voice_coach.session.voice import EXPECTED_WORDS, THINKING_SECONDS

PAUSES = (0.6, 1.5, 2.0, 2.5, 3.0)
SESSION_STAGES = (
    Stage.GREETING, Stage.ICEBREAKERS, Stage.ICEBREAKERS, Stage.DISCUSSION, Stage.DISCUSSION,
    Stage.DISCUSSION, Stage.DISCUSSION, Stage.DISCUSSION, Stage.YOUR_QUESTIONS, Stage.WRAP_UP,
)  # fmt: skip
LEAD_S = 0.8
TAIL_S = 6.0
REPLY_S = 4.0
"""How long the interviewer's reply plays after an endpoint: barge-in is possible meanwhile."""
_WORD = re.compile(r"[a-z']+")
CHECKS: list[dict[str, Any]] = []


@dataclass
class Answer:
    """One scripted answer: sentences with pauses, and where each sentence lies in the audio."""

    sentences: list[Sentence]
    pause: float
    stage: Stage
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    spans: list[tuple[float, float]] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        """Words of the whole answer."""
        return _WORD.findall(" ".join(s.text for s in self.sentences).lower())


def build_answer(answer: Answer, noise: Noise, seed: int, talkers: list[np.ndarray]) -> None:
    """Lay the sentences out with their pauses and mix in the noise."""
    parts, spans, t = [np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)], [], LEAD_S
    for i, s in enumerate(answer.sentences):
        if i:
            parts.append(np.zeros(int(answer.pause * SAMPLE_RATE), np.int16))
            t += answer.pause
        parts.append(s.pcm)
        spans.append((t, t + s.seconds))
        t += s.seconds
    parts.append(np.zeros(int((TAIL_S + REPLY_S) * SAMPLE_RATE), np.int16))
    clean = np.concatenate(parts)
    level = active_rms(np.concatenate([s.pcm for s in answer.sentences]))
    answer.audio = mix(clean, noise.make(len(clean), seed, talkers), noise.level_db, level, seed)
    answer.spans = spans


def sentence_case(s: Sentence) -> Sentence:
    """Real transcripts without punctuation (LibriVox/CMU) get what a recogniser would print:
    a capital and a full stop when the clip is a whole sentence (it does not end mid-clause)."""
    text = s.text.strip()
    if not re.search(r"[.!?,;:]", text):
        text = text[0].upper() + text[1:] + "."
    return Sentence(text, s.pcm, s.source)


def oracle_hint(answer: Answer, t: float, latency: float) -> str:
    """What a streaming recogniser would show at stream time ``t``."""
    done, current = [], ""
    for s, (a, b) in zip(answer.sentences, answer.spans, strict=True):
        if t >= b + latency:
            done.append(s.text)
        elif t >= a:
            ws = s.text.rstrip(".!?").split()
            k = int(len(ws) * min(1.0, (t - a) / max(b - a, 1e-3)))
            # Without the final words and punctuation yet: the decode lags the voice.
            current = " ".join(ws[: max(0, k - 2)])
            break
    return " ".join([*done, current]).strip()


class ModelCache:
    """smart-turn verdicts by audio hash, kept on disk: re-runs with other settings are fast."""

    def __init__(self, enabled: bool) -> None:
        self.model: Any = None
        self.path = cache_dir() / "smart-turn-verdicts.json"
        self.cache: dict[str, float] = (
            json.loads(self.path.read_text()) if self.path.is_file() else {})
        self.seconds: list[float] = []
        if enabled:
            from voice_coach.listening.turn_model import load_turn_model

            self.model = load_turn_model()

    def save(self) -> None:
        """Keep the verdicts for the next run."""
        self.path.write_text(json.dumps(self.cache))

    def __call__(self, pcm: np.ndarray) -> float | None:
        if self.model is None:
            return None
        key = hashlib.sha1(pcm[-8 * SAMPLE_RATE :].tobytes()).hexdigest()
        if key not in self.cache:
            t0 = time.perf_counter()
            self.cache[key] = self.model.probability(pcm)
            self.seconds.append(time.perf_counter() - t0)
        return self.cache[key]


@dataclass
class Outcome:
    """What happened to one answer."""

    pause: float
    stage: str
    voice: str
    noise: str
    tuned: bool
    mid_pauses: int
    cuts: int = 0
    recovered: int = 0
    words_lost: float = 0.0
    reply_delay: float | None = None
    finished_end: bool = True
    """The answer's last sentence ends a sentence (so the answer sounds finished)."""
    verdict: str = ""
    patience: float = 0.0
    stored: np.ndarray | None = None
    ref_words: list[str] = field(default_factory=list)


def run_answer(answer: Answer, ep: Endpointer, vad: Any, model: ModelCache,
               args: argparse.Namespace) -> Outcome:
    """Feed one answer through VAD + endpointer (+ model); the endpointer keeps listening
    for REPLY_S after each endpoint, like the never-deaf session loop."""
    ep.reset()
    ep.expect(args.expected_words.get(answer.stage, 0), THINKING_SECONDS.get(answer.stage))
    vad.reset()
    out = Outcome(answer.pause, answer.stage.value, "", "", False, len(answer.spans) - 1)
    out.finished_end = bool(re.search(r"[.!?]$", answer.sentences[-1].text.strip()))
    pending: list[tuple[float, float | None]] = []
    end_at: float | None = None
    last_start_t, last_end_t = answer.spans[-1]
    counted = False
    for frame in frames(answer.audio, FRAME_SAMPLES):
        t = ep.now
        ep.set_hint(oracle_hint(answer, t, args.hint_latency))
        if pending and t >= pending[0][0]:
            ep.set_turn_probability(pending.pop(0)[1])
        events = ep.process(frame, vad.is_speech(frame))
        for e in events:
            if e.kind is EventKind.TURN_CHECK:
                pending = [(e.time + args.model_latency, model(ep.utterance()))]
                if args.checks is not None:
                    # For tuning: what the evidence looked like at mid-answer pauses and ends.
                    hint = oracle_hint(answer, e.time + args.model_latency, args.hint_latency)
                    CHECKS.append({"mid": e.time < last_start_t, "stage": answer.stage.value,
                                   "p": pending[0][1], "words": len(_WORD.findall(hint.lower())),
                                   "hint_end": hint[-1:], "voice": "", "pause": answer.pause})
            elif e.kind is EventKind.SPEECH_RESUME:
                pending = []
            elif e.kind is EventKind.ENDPOINT:
                end_at = e.time
                out.verdict = ep.verdict().value
                # Ended before the last part began: cut at a thinking pause. (An end inside
                # the last part counts when the user is heard again: see BARGE_IN.)
                if e.time < last_start_t - 0.05:
                    out.cuts += 1
                    counted = True
                else:
                    counted = False
            elif e.kind is EventKind.BARGE_IN:
                out.recovered += 1
                if not counted:
                    out.cuts += 1
                end_at = None
        if end_at is not None and ep.now - end_at >= REPLY_S:
            break  # the reply is over: what comes later belongs to the next question
    stored_from = ep.utterance_start or 0.0
    stored_to = stored_from + len(ep.utterance()) / SAMPLE_RATE
    # Words lost: speech outside the stored answer, counted as words in proportion.
    for s, (a, b) in zip(answer.sentences, answer.spans, strict=True):
        n = len(_WORD.findall(s.text.lower()))
        outside = max(0.0, min(b, stored_from) - a) + max(0.0, b - max(a, stored_to))
        out.words_lost += n * min(1.0, outside / (b - a))
    if end_at is not None:
        # From the last word: the end of the last part, or the last voiced frame when the
        # recording ends in a quiet tail (a breath) that is no word.
        last_word = min(last_end_t, ep.last_voice_time or last_end_t)
        out.reply_delay = end_at - last_word + args.pipeline
    out.patience = ep.patience
    if out.cuts:
        out.stored = ep.utterance()
        out.ref_words = answer.words
    return out


def deletions(ref: list[str], hyp: list[str]) -> int:
    """Reference words missing from the hypothesis (edit-distance alignment)."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), int)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1,
                          d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    i, j, dels = n, m, 0
    while i > 0 and j > 0:
        if d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i, dels = i - 1, dels + 1
        else:
            j -= 1
    return dels + i


def summarise(rows: list[Outcome]) -> dict[str, Any]:
    """Per-pause statistics of a set of outcomes."""
    out: dict[str, Any] = {}
    for pause in PAUSES:
        sel = [r for r in rows if r.pause == pause]
        if not sel:
            continue
        cut = [r for r in sel if r.cuts]
        delays = [r.reply_delay for r in sel if r.reply_delay is not None and r.finished_end]
        out[f"{pause:.1f}"] = {
            "answers": len(sel),
            "cut_rate": round(len(cut) / len(sel), 3),
            "cut_rate_by_stage": {
                st: round(sum(1 for r in cut if r.stage == st)
                          / max(1, sum(1 for r in sel if r.stage == st)), 2)
                for st in sorted({r.stage for r in sel})},
            "cuts": sum(r.cuts for r in sel),
            "recovered": round(sum(min(r.recovered, r.cuts) for r in cut) / max(1, sum(
                r.cuts for r in cut)), 3) if cut else None,
            "words_lost": round(sum(r.words_lost for r in sel), 1),
            "reply_delay_p50": round(percentile(delays, 50), 3),
            "reply_delay_p95": round(percentile(delays, 95), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=None, help="folder of real recordings")
    parser.add_argument("--sessions", type=int, default=2, help="sessions per voice/noise/pause")
    parser.add_argument("--noises", default=",".join(n.name for n in NOISES))
    parser.add_argument("--vad", default="silero")
    parser.add_argument("--no-model", action="store_true", help="no smart-turn (fallback)")
    parser.add_argument("--model-latency", type=float, default=0.2)
    parser.add_argument("--hint-latency", type=float, default=0.35)
    parser.add_argument("--pipeline", type=float, default=0.05)
    parser.add_argument("--asr", action="store_true", help="whisper-check answers with cuts")
    parser.add_argument("--no-adapt", action="store_true", help="fresh endpointer per answer")
    parser.add_argument("--config", default="{}", help="JSON overrides of EndpointConfig")
    parser.add_argument("--tune-on", default="piper,real:austen_reader",
                        help="voices the settings were tuned on (the rest is held out)")
    parser.add_argument("--voices", default="", help="only these voices (comma-separated)")
    parser.add_argument("--checks", type=Path, default=None,
                        help="write every smart-turn check (mid-answer or end) as JSON lines")
    parser.add_argument("--details", action="store_true", help="one line per answer on stderr")
    parser.add_argument("--expected", default="{}",
                        help='JSON overrides of the words each stage expects ({"discussion": 30})')
    args = parser.parse_args()
    args.expected_words = {**EXPECTED_WORDS, **{Stage(k): int(v) for k, v in json.loads(
        args.expected).items()}}
    started = time.perf_counter()

    voices: dict[str, list[Sentence]] = {"piper": piper_sentences()}
    if args.real and (args.real / "transcripts.tsv").is_file():
        for s in real_sentences(args.real):
            # Answer-sized clips only: two-word commands and digit strings are not answers.
            if s.seconds >= 2.5 and len(_WORD.findall(s.text.lower())) >= 5:
                voices.setdefault(s.source, []).append(sentence_case(s))
    tuned = set(args.tune_on.split(","))
    if args.voices:
        voices = {v: p for v, p in voices.items() if v in args.voices.split(",")}
    talkers = babble_talkers()
    noises = [n for n in NOISES if n.name in args.noises.split(",")]
    cfg = dataclasses.replace(EndpointConfig(), **json.loads(args.config))
    model = ModelCache(not args.no_model)
    if not args.no_model and model.model is None:
        # Easy to miss in the JSON ("turn_model": null): the numbers are then the fallback's.
        print("smart-turn is not installed (voice-coach models download smart-turn, or "
              "VOICE_COACH_SMART_TURN=FILE): measuring without it", file=sys.stderr)
    vad = create_vad(args.vad)
    rows: list[Outcome] = []
    rng = np.random.default_rng(11)
    for voice, pool in voices.items():
        if len(pool) < 2:
            continue
        for noise in noises:
            for pause in PAUSES:
                for session in range(args.sessions):
                    ep = Endpointer(cfg)
                    ep.use_turn_model(model.model is not None)
                    for k, stage in enumerate(SESSION_STAGES):
                        if args.no_adapt:
                            ep = Endpointer(cfg)
                            ep.use_turn_model(model.model is not None)
                        n = min(2 + int(rng.integers(0, 2)), len(pool))
                        if voice == "piper":
                            idx = rng.choice(len(pool), size=n, replace=False)
                        else:  # real clips in reading order: one continuous answer
                            first = int(rng.integers(0, len(pool) - n + 1))
                            idx = np.arange(first, first + n)
                        answer = Answer([pool[i] for i in idx], pause, stage)
                        build_answer(answer, noise, seed=session * 100 + k, talkers=talkers)
                        n_checks = len(CHECKS)
                        res = run_answer(answer, ep, vad, model, args)
                        for c in CHECKS[n_checks:]:
                            c["voice"] = voice
                        res.voice, res.noise, res.tuned = voice, noise.name, voice in tuned
                        rows.append(res)
                        if args.details:
                            print(f"{voice} {noise.name} {pause} {stage.value}: "
                                  f"{len(answer.spans)} parts, cuts {res.cuts}, barge-ins "
                                  f"{res.recovered}, lost {res.words_lost:.1f}, delay "
                                  f"{res.reply_delay}, {res.verdict}, patience "
                                  f"{res.patience:.2f}/{ep.min_words}", file=sys.stderr)
    model.save()
    if args.checks is not None:
        args.checks.write_text("".join(json.dumps(c) + "\n" for c in CHECKS))
    asr: dict[str, Any] = {}
    if args.asr:
        from voice_coach.stt.registry import create_recognizer

        rec = create_recognizer("whisper")
        checked = [r for r in rows if r.stored is not None and r.recovered]
        lost = 0
        for r in checked:
            assert r.stored is not None
            hyp = _WORD.findall(rec.transcribe(r.stored).text.lower())
            lost += max(0, deletions(r.ref_words, hyp) - len(r.ref_words) // 10)
        asr = {"recovered_answers_checked": len(checked),
               "deleted_words_beyond_10pct_wer": lost}
    for r in rows:
        r.stored = None
    delays = [r.reply_delay for r in rows if r.reply_delay is not None and r.finished_end]
    report: dict[str, Any] = {
        "machine": machine(),
        "voices": {v: len(p) for v, p in voices.items()},
        "tuned_on": sorted(tuned),
        "noises": [n.name for n in noises],
        "turn_model": None if model.model is None else model.model.name,
        "model_check_s_p50": round(percentile(model.seconds, 50), 3),
        "vad": args.vad,
        "adapt": not args.no_adapt,
        "config": json.loads(args.config),
        "expected_words": {k.value: v for k, v in args.expected_words.items()},
        "all": summarise(rows),
        "held_out": summarise([r for r in rows if not r.tuned]),
        "by_noise": {n.name: summarise([r for r in rows if r.noise == n.name])
                     for n in noises},
        "reply_delay_all_p50": round(percentile(delays, 50), 3),
        "words_lost_total": round(sum(r.words_lost for r in rows), 1),
        "asr": asr,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    a = report["all"]
    print("summary cut " + " ".join(f"{k}s={v['cut_rate']}" for k, v in a.items())
          + f"; reply p50 {report['reply_delay_all_p50']} s; words lost "
          + f"{report['words_lost_total']}")


if __name__ == "__main__":
    main()
