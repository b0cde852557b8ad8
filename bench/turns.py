"""Turn-taking on answers with thinking pauses: cut rate, words lost, barge-ins, reply delay.

Each answer is two or three sentences joined by thinking pauses of 0.6, 1.0, 1.5, 2.0, 2.5 or
3.0 s of silence between the words (``--pauses``), read by a natural voice (piper) or by real
people (``--real DIR``: WAV files with ``transcripts.tsv``), in a quiet room or with pink /
babble noise at -30 and -20 dB below the speech. Sessions of ten answers walk the interview's
stages (greeting, icebreakers, five discussion answers, your questions, wrap-up), so the
endpointer's per-user patience carries over within a session as it does in the product.
Everything runs for real except the recogniser's partial text: Silero VAD frame by frame, the
endpointer, smart-turn asked at each pause (its verdict arriving ``--model-latency`` later),
and, with ``--asr``, faster-whisper tiny.en transcribing every stored answer that had a cut, to
check no word was lost.

The partial transcript is an oracle with a delay: the clips finished ``--hint-latency`` ago
as Moonshine writes each of them, punctuation included (``--hints heard``; the session decodes
the parts a pause splits apart), or as their script has them (``--hints script``), plus the
words of the current clip so far, unpunctuated.

Per pause length it reports: ``cut_rate`` (answers ended at a thinking pause), ``recovered``
(cuts whose continuation was taken back by barge-in: the endpointer keeps listening after the
endpoint, for as long as the interviewer's reply lasts), ``words_lost`` (words of speech that
ended outside the stored answer), and the reply delay after the last word of finished answers
(``endpoint`` minus the last word, plus ``--pipeline`` seconds of recognition tail, synthesis and
playback start measured by bench/latency.py; an answer never ended within the recording -
background talk keeping the pause open - counts as that long a delay and in ``no_reply_rate``).
``--tune-on`` names the voices the settings
were tuned on (piper and the Austen reader): the rest (the Two Cities reader) is reported
apart as ``held_out``. ``audible_cut_rate`` counts only the cuts the user could hear: those
where they went on after the reply's first sample (``--audible-after`` s after the endpoint).

Usage: python bench/turns.py [--real DIR] [--sessions N] [--asr] [--no-model] [--fresh]
VAD decisions and smart-turn verdicts are cached per answer (see ``Features``).
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
from collections.abc import Callable
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
from voice_coach.interview.expectations import EXPECTED_WORDS, expected_words
from voice_coach.interview.stages import Stage
from voice_coach.listening.endpointer import (
    EndpointConfig,
    Endpointer,
    EventKind,
    frame_level,
)
from voice_coach.listening.vad import create_vad
from voice_coach.session.voice import THINKING_SECONDS

PAUSES = (0.6, 1.0, 1.5, 2.0, 2.5, 3.0)
"""The issue's pause lengths, and 1.0 s: the silence between words, where a person who
goes on after a complete sentence most often pauses, and where most answers were cut."""
SESSION_STAGES = (
    Stage.GREETING, Stage.ICEBREAKERS, Stage.ICEBREAKERS, Stage.DISCUSSION, Stage.DISCUSSION,
    Stage.DISCUSSION, Stage.DISCUSSION, Stage.DISCUSSION, Stage.YOUR_QUESTIONS, Stage.WRAP_UP,
)  # fmt: skip
LEAD_S = 0.8
TAIL_S = 6.0
REPLY_S = 4.0
"""How long the interviewer's reply plays after an endpoint: barge-in is possible meanwhile."""
_WORD = re.compile(r"[a-z']+")
_SILENT_FRAME = np.zeros(FRAME_SAMPLES, np.int16)
FEATURES_VERSION = "2"
"""Bump when the way the benchmark audio is made changes (invalidates the feature cache)."""
CHECKS: list[dict[str, Any]] = []
EXTENT_VAD = "silero"
"""The VAD that finds where each clip's words are (``Features.voiced_extent``)."""
LONGER_PAUSES: list[float] = []
"""Pauses longer than asked: the silence at the clips' edges alone (reported on stderr)."""


@dataclass
class Answer:
    """One scripted answer: sentences with pauses, and where each sentence lies in the audio.

    The audio is mixed only when needed (``audio``): with the features cached, a re-run with
    other endpointer settings needs the layout alone."""

    sentences: list[Sentence]
    pause: float
    stage: Stage
    voice: str = ""
    noise: Noise = NOISES[0]
    seed: int = 0
    talkers: list[np.ndarray] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    gaps: list[int] = field(default_factory=list)
    """Samples of silence put before each sentence after the first (``build_answer``)."""
    voiced: list[tuple[float, float]] = field(default_factory=list)
    """Where each sentence's words are: its span without the clip's quiet edges."""
    samples: int = 0
    _audio: np.ndarray | None = None

    @property
    def words(self) -> list[str]:
        """Words of the whole answer."""
        return _WORD.findall(" ".join(s.text for s in self.sentences).lower())

    @property
    def key(self) -> str:
        """What the audio is made of: the cache key of its features."""
        recipe = "|".join([FEATURES_VERSION, self.voice, self.noise.name, f"{self.pause}",
                           ",".join(map(str, self.gaps)),
                           str(self.seed), f"{LEAD_S},{TAIL_S},{REPLY_S}",
                           *(f"{s.source}:{s.text}:{len(s.pcm)}" for s in self.sentences)])
        return hashlib.sha1(recipe.encode()).hexdigest()[:20]

    @property
    def audio(self) -> np.ndarray:
        """The answer as the microphone hears it (mixed on first use)."""
        if self._audio is None:
            parts = [np.zeros(int(LEAD_S * SAMPLE_RATE), np.int16)]
            for i, s in enumerate(self.sentences):
                if i:
                    parts.append(np.zeros(self.gaps[i - 1], np.int16))
                parts.append(s.pcm)
            parts.append(np.zeros(int((TAIL_S + REPLY_S) * SAMPLE_RATE), np.int16))
            clean = np.concatenate(parts)
            level = active_rms(np.concatenate([s.pcm for s in self.sentences]))
            self._audio = mix(clean, self.noise.make(len(clean), self.seed, self.talkers),
                              self.noise.level_db, level, self.seed)
        return self._audio


def build_answer(answer: Answer, noise: Noise, seed: int, talkers: list[np.ndarray],
                 extent: Callable[[Sentence], tuple[float, float]]) -> None:
    """Lay the sentences out with their pauses (the noise is mixed in when the audio is used).

    The pause is the silence between the words (``extent``: where a clip is voiced), not
    between the clips: a clip cut from a longer reading keeps up to half a second of room
    tone at its edges, which made a 0.6 s pause nearly 1.2 s of silence and a 2.5 s one 3 s.
    A clip whose quiet edges alone are longer than the pause gets no added silence."""
    spans, t = [], LEAD_S
    n = int(LEAD_S * SAMPLE_RATE)
    answer.gaps = []
    for i, s in enumerate(answer.sentences):
        if i:
            prev = answer.sentences[i - 1]
            edges = prev.seconds - extent(prev)[1] + extent(s)[0]
            if edges > answer.pause:
                LONGER_PAUSES.append(edges)
            gap = round(max(0.0, answer.pause - edges) * SAMPLE_RATE)
            answer.gaps.append(gap)
            t += gap / SAMPLE_RATE
            n += gap
        spans.append((t, t + s.seconds))
        t += s.seconds
        n += len(s.pcm)
    answer.noise, answer.seed, answer.talkers = noise, seed, talkers
    answer.samples = n + int((TAIL_S + REPLY_S) * SAMPLE_RATE)
    answer.spans = spans


def sentence_case(s: Sentence) -> Sentence:
    """Real transcripts without punctuation (LibriVox/CMU) get what a recogniser would print:
    a capital and a full stop when the clip is a whole sentence (it does not end mid-clause)."""
    text = s.text.strip()
    if not re.search(r"[.!?,;:]", text):
        text = text[0].upper() + text[1:] + "."
    return Sentence(text, s.pcm, s.source)


HEARD: dict[str, str] = {}
"""What the recogniser writes for each clip, by ``clip_key`` (``--hints heard``)."""


def clip_key(s: Sentence) -> str:
    """A clip's identity: its voice, script and length."""
    return hashlib.sha1(f"{s.source}|{s.text}|{len(s.pcm)}".encode()).hexdigest()[:16]


def hear_clips(voices: dict[str, list[Sentence]], engine: str) -> None:
    """Decode every clip once with ``engine`` (cached): the hints then carry the recogniser's
    punctuation, as live. The session decodes the parts of an answer that a pause splits
    apart (``speech_parts``), so a part's own decode is what the endpointer sees at the pause:
    Moonshine ends a LibriVox reader's clause with a comma where the script's sentence case
    gave a full stop, and a full stop where the script has a comma."""
    path = cache_dir() / f"turns-heard-{engine}.json"
    cached: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    todo = [s for pool in voices.values() for s in pool if clip_key(s) not in cached]
    if todo:
        from voice_coach.stt.registry import create_recognizer

        rec = create_recognizer(engine)
        try:
            for s in todo:
                cached[clip_key(s)] = rec.transcribe(s.pcm).text.strip()
        finally:
            rec.close()
        path.write_text(json.dumps(cached))
    HEARD.update(cached)


def oracle_hint(answer: Answer, t: float, latency: float) -> str:
    """What a streaming recogniser would show at stream time ``t``.

    Timed by where each clip is voiced (``Answer.voiced``): a clip cut from a longer reading
    can end in a second of room tone or a breath, and the words are out before it."""
    done, current = [], ""
    for s, (a, b) in zip(answer.sentences, answer.voiced or answer.spans, strict=True):
        text = HEARD.get(clip_key(s)) or s.text
        if t >= b + latency:
            done.append(text)
        elif t >= a:
            ws = text.rstrip(".!?").split()
            k = int(len(ws) * min(1.0, (t - a) / max(b - a, 1e-3)))
            # Without the final words and punctuation yet: the decode lags the voice.
            current = " ".join(ws[: max(0, k - 2)])
            break
    return " ".join([*done, current]).strip()


class Features:
    """What depends on the audio alone, cached on disk per answer: the VAD decision of every
    frame and smart-turn's probability at every pause (asked ``turn_check_delay`` into it).

    Keys are the answer's recipe (voice, noise, pause, the silence laid between its clips,
    seed, sentences) and the span of audio
    the model saw, so a re-run with other endpointer settings (waits, expected words,
    patience) replays an answer in milliseconds; settings that move the checks (pre-roll,
    the check delay, resume or start windows) or a different VAD just miss the cache and
    compute what they need. ``--fresh`` ignores what is stored and recomputes everything.
    """

    def __init__(self, model_enabled: bool, vad_name: str, fresh: bool) -> None:
        self.model: Any = None
        self.vad_name = vad_name
        self.vad: Any = None
        self.extent_vad: Any = None
        self.fresh = fresh
        base = cache_dir()
        self.paths = {"vad": base / f"turns-vad-{vad_name}.json",
                      "model": base / "turns-smart-turn.json",
                      "legacy": base / "smart-turn-verdicts.json"}
        self.flags: dict[str, str] = self._load("vad")
        self.verdicts: dict[str, float] = self._load("model")
        self.legacy: dict[str, float] = self._load("legacy")
        """Verdicts keyed by the audio's hash (earlier runs): still valid, looked up on a miss."""
        self.seconds: list[float] = []
        self.misses = {"vad": 0, "model": 0, "level": 0, "extent": 0, "legacy": 0}
        if model_enabled:
            from voice_coach.listening.turn_model import load_turn_model

            self.model = load_turn_model()

    def _load(self, name: str) -> dict[str, Any]:
        path = self.paths[name]
        if self.fresh or not path.is_file():
            return {}
        return dict(json.loads(path.read_text()))

    def save(self) -> None:
        """Keep the features for the next run (when it computed any: runs side by side then
        leave each other's work alone)."""
        if not any(self.misses.values()):
            return
        self.paths["vad"].write_text(json.dumps(self.flags))
        self.paths["model"].write_text(json.dumps(self.verdicts))

    def vad_flags(self, answer: Answer) -> np.ndarray:
        """The VAD's decision for each frame of the answer (a fresh VAD state per answer)."""
        n = -(-answer.samples // FRAME_SAMPLES)
        packed = self.flags.get(answer.key)
        if packed is not None:
            return np.unpackbits(np.frombuffer(bytes.fromhex(packed), np.uint8))[:n].astype(bool)
        self.misses["vad"] += 1
        if self.vad is None:
            self.vad = create_vad(self.vad_name)
        self.vad.reset()
        flags = np.array([self.vad.is_speech(f) for f in frames(answer.audio, FRAME_SAMPLES)])
        self.flags[answer.key] = np.packbits(flags).tobytes().hex()
        return flags

    def levels(self, answer: Answer) -> np.ndarray:
        """Each frame's level in dB (``frame_level``; whole dB, cached like the VAD flags)."""
        key = "level:" + answer.key
        packed = self.flags.get(key)
        if packed is None:
            self.misses["level"] += 1
            levels = np.array([round(frame_level(f)) for f in frames(answer.audio,
                                                                        FRAME_SAMPLES)])
            packed = self.flags[key] = np.clip(levels, 0, 255).astype(np.uint8).tobytes().hex()
        return np.frombuffer(bytes.fromhex(packed), np.uint8).astype(float)

    def voiced_extent(self, sentence: Sentence) -> tuple[float, float]:
        """First and last second of a clean clip that Silero calls speech (its words)."""
        key = f"extent-{EXTENT_VAD}:" + hashlib.sha1(sentence.pcm.tobytes()).hexdigest()[:20]
        if key not in self.flags:
            self.misses["extent"] += 1
            if self.extent_vad is None:
                # One VAD places the pauses, whichever is measured: the same audio for all.
                self.extent_vad = create_vad(EXTENT_VAD)
            self.extent_vad.reset()
            lead = np.zeros(SAMPLE_RATE // 2, np.int16)
            pcm = np.concatenate([lead, sentence.pcm, np.zeros(SAMPLE_RATE, np.int16)])
            voiced = [i for i, f in enumerate(frames(pcm, FRAME_SAMPLES))
                      if self.extent_vad.is_speech(f)]
            frame_s, total = FRAME_SAMPLES / SAMPLE_RATE, sentence.seconds
            extent = ((max(0.0, voiced[0] * frame_s - 0.5), min(total, (voiced[-1] + 1) * frame_s
                       - 0.5)) if voiced else (0.0, total))
            self.flags[key] = f"{extent[0]:.3f},{extent[1]:.3f}"
        v0, v1 = self.flags[key].split(",")
        return float(v0), float(v1)

    def probability(self, answer: Answer, start: int, end: int) -> float | None:
        """smart-turn's verdict on the answer's audio from sample ``start`` to ``end``."""
        if self.model is None:
            return None
        key = f"{answer.key}:{start}:{end}"
        if key not in self.verdicts:
            pcm = answer.audio[start:end]
            legacy = hashlib.sha1(pcm[-8 * SAMPLE_RATE :].tobytes()).hexdigest()
            if legacy in self.legacy and not self.fresh:
                self.misses["legacy"] += 1
                self.verdicts[key] = self.legacy[legacy]
            else:
                self.misses["model"] += 1
                t0 = time.perf_counter()
                self.verdicts[key] = float(self.model.probability(pcm))
                self.seconds.append(time.perf_counter() - t0)
        return self.verdicts[key]


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
    words_lost_clip: float = 0.0
    """Words lost counting the whole clip as speech, its quiet edges too."""
    reply_delay: float | None = None
    no_reply: bool = False
    """No endpoint came after the last word: the interviewer would still be waiting."""
    finished_end: bool = True
    """The answer's last sentence ends a sentence (so the answer sounds finished)."""
    audible_cuts: int = 0
    """Cuts the user heard: the reply had started when they went on (see ``--audible-after``)."""
    verdict: str = ""
    patience: float = 0.0
    end_info: str = ""
    cut_at: list[str] = field(default_factory=list)
    """Verdict, words heard and model probability at each cut (for --details)."""
    expected: int = 0
    """Words the question wanted (``expected_words`` of the question asked)."""
    stored_span: tuple[float, float] = (0.0, 0.0)
    stored: np.ndarray | None = None
    whole: np.ndarray | None = None
    ref_words: list[str] = field(default_factory=list)


def run_answer(answer: Answer, ep: Endpointer, feats: Features,
               args: argparse.Namespace, expected: int) -> Outcome:
    """Feed one answer through VAD + endpointer (+ model); the endpointer keeps listening
    for REPLY_S after each endpoint, like the never-deaf session loop.

    The VAD decisions and the model's verdicts come from ``feats`` (cached per answer); the
    endpointer is fed silent frames of the right length with them (it keeps frames but never
    looks at their samples), and the stored span is cut from the real audio when needed."""
    ep.reset()
    ep.expect(expected, args.thinking_seconds.get(answer.stage))
    flags = feats.vad_flags(answer)
    levels = feats.levels(answer)
    answer.voiced = []
    for s, (a, _) in zip(answer.sentences, answer.spans, strict=True):
        v0, v1 = feats.voiced_extent(s)
        answer.voiced.append((a + v0, a + v1))
    out = Outcome(answer.pause, answer.stage.value, "", "", False, len(answer.spans) - 1)
    # Whether the answer sounds finished: its last clip ends a sentence as written by the
    # recogniser with --hints heard (a reader's voice that goes on is heard with a comma).
    last = answer.sentences[-1]
    out.finished_end = bool(re.search(r"[.!?]$", (HEARD.get(clip_key(last)) or last.text).strip()))
    out.expected = expected
    pending: list[tuple[float, float | None]] = []
    end_at: float | None = None
    # The last part begins with its first word: its clip's quiet lead-in is still the pause.
    last_start_t, last_end_t = answer.voiced[-1][0], answer.spans[-1][1]
    counted = False
    late = ""
    for is_speech, level in zip(flags, levels, strict=True):
        t = ep.now
        ep.set_hint(oracle_hint(answer, t, args.hint_latency))
        if pending and t >= pending[0][0]:
            ep.set_turn_probability(pending.pop(0)[1])
        events = ep.process(_SILENT_FRAME, bool(is_speech), float(level))
        for e in events:
            if e.kind is EventKind.TURN_CHECK:
                start = round((ep.utterance_start or 0.0) * SAMPLE_RATE)
                end = round(ep.now * SAMPLE_RATE)
                pending = [(e.time + args.model_latency, feats.probability(answer, start, end))]
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
                p, heard = ep.probability, len(_WORD.findall(ep.hint.lower()))
                out.end_info = f"{heard}w{ep.hint[-1:]}/p={p if p is None else round(p, 2)}"
                at = f"{out.verdict}/{heard}w/p={p}"
                # Ended before the last part began: cut at a thinking pause. (An end inside
                # the last part counts when the user is heard again: see BARGE_IN.)
                if e.time < last_start_t - 0.05:
                    out.cuts += 1
                    counted = True
                    out.cut_at.append(at)
                else:
                    counted = False
                    # Kept for --details in case the user is heard again (a cut after all).
                    late = f"{at}/last+{e.time - last_start_t:.2f}s"
            elif e.kind is EventKind.BARGE_IN:
                out.recovered += 1
                if not counted:
                    out.cuts += 1
                    out.cut_at.append(late)
                assert end_at is not None
                # The user went on before the reply could be heard: the session says nothing
                # (it checks the microphone before the first sample), so nobody heard a cut.
                if e.time - end_at >= args.audible_after:
                    out.audible_cuts += 1
                end_at = None
        if end_at is not None and ep.now - end_at >= REPLY_S:
            break  # the reply is over: what comes later belongs to the next question
    stored_from = ep.utterance_start or 0.0
    stored_to = stored_from + len(ep.utterance()) / SAMPLE_RATE
    out.stored_span = (stored_from, stored_to)
    # Words lost: speech outside the stored answer, counted as words in proportion; speech
    # is where the VAD hears the clean clip (a clip's quiet edges - a breath, room tone -
    # hold no word), and, for the record, also the whole clip as it was cut.
    for s, (a, b) in zip(answer.sentences, answer.spans, strict=True):
        n = len(_WORD.findall(s.text.lower()))
        outside = max(0.0, min(b, stored_from) - a) + max(0.0, b - max(a, stored_to))
        out.words_lost_clip += n * min(1.0, outside / (b - a))
        v0, v1 = feats.voiced_extent(s)
        a, b = a + v0, a + v1
        outside = max(0.0, min(b, stored_from) - a) + max(0.0, b - max(a, stored_to))
        out.words_lost += n * min(1.0, outside / max(b - a, 1e-3))
    # From the last word: the end of the last part, or the last voiced frame when the
    # recording ends in a quiet tail (a breath) that is no word.
    last_word = min(last_end_t, ep.last_voice_time or last_end_t)
    if end_at is not None:
        out.reply_delay = end_at - last_word + args.pipeline
    else:
        # Never ended (background talk kept the pause open): no reply for the rest of the
        # recording, counted as that long a delay so the percentiles do not hide it.
        out.no_reply = True
        out.reply_delay = ep.now - last_word + args.pipeline
    out.patience = ep.patience
    if out.cuts or (args.asr_lost and max(out.words_lost, out.words_lost_clip) > 0):
        a0, b0 = round(stored_from * SAMPLE_RATE), round(stored_to * SAMPLE_RATE)
        out.stored = answer.audio[a0:b0]
        out.whole = answer.audio[: round((last_end_t + 1.0) * SAMPLE_RATE)]
        out.ref_words = answer.words
    return out


def stable_int(text: str) -> int:
    """A number for ``text`` that is the same in every run (``hash`` is salted)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def stage_questions(folder: Path) -> dict[Stage, list[str]]:
    """Every question the shipped scenarios ask in each stage: prompts, fit questions and
    follow-ups ({phrase} and the other placeholders filled with plain words)."""
    import tomllib

    fill = {"phrase": "that", "name": "Sam", "interviewer": "Alex", "company": "Acme",
            "role": "the project"}
    out: dict[Stage, list[str]] = {}
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key, st in data.get("stages", {}).items():
            lines = [*st.get("prompts", []), *st.get("fit_questions", []),
                     *(f["prompt"] for f in st.get("followups", []))]
            out.setdefault(Stage(key), []).extend(q.format(**fill) for q in lines)
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


def pause_label(pause: float) -> str:
    """How a pause length is named in the report: "1.0", or "0.75" (not "0.8", which would
    merge it with 0.8 s)."""
    return f"{pause:.1f}" if abs(round(pause, 1) - pause) < 1e-9 else f"{pause:g}"


def summarise(rows: list[Outcome]) -> dict[str, Any]:
    """Per-pause statistics of a set of outcomes."""
    out: dict[str, Any] = {}
    for pause in sorted({r.pause for r in rows}):
        sel = [r for r in rows if r.pause == pause]
        if not sel:
            continue
        cut = [r for r in sel if r.cuts]
        delays = [r.reply_delay for r in sel if r.reply_delay is not None and r.finished_end]
        out[pause_label(pause)] = {
            "answers": len(sel),
            "cut_rate": round(len(cut) / len(sel), 3),
            "cut_rate_by_stage": {
                st: round(sum(1 for r in cut if r.stage == st)
                          / max(1, sum(1 for r in sel if r.stage == st)), 2)
                for st in sorted({r.stage for r in sel})},
            "cut_rate_by_expected_words": {
                str(w): round(sum(1 for r in cut if r.expected == w)
                              / max(1, sum(1 for r in sel if r.expected == w)), 2)
                for w in sorted({r.expected for r in sel})},
            "audible_cut_rate": round(sum(1 for r in sel if r.audible_cuts) / len(sel), 3),
            "cuts": sum(r.cuts for r in sel),
            "recovered": round(sum(min(r.recovered, r.cuts) for r in cut) / max(1, sum(
                r.cuts for r in cut)), 3) if cut else None,
            "words_lost": round(sum(r.words_lost for r in sel), 1),
            "words_lost_whole_clip": round(sum(r.words_lost_clip for r in sel), 1),
            "reply_delay_p50": round(percentile(delays, 50), 3),
            "reply_delay_p95": round(percentile(delays, 95), 3),
            "no_reply_rate": round(sum(1 for r in sel if r.no_reply) / len(sel), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=None, help="folder of real recordings")
    parser.add_argument("--sessions", type=int, default=8, help="sessions per voice/noise/pause")
    parser.add_argument("--pauses", type=lambda v: tuple(float(x) for x in v.split(",")),
                        default=PAUSES, help="pause lengths, comma-separated (default: "
                        + ",".join(map(str, PAUSES)) + "; others draw other answers)")
    parser.add_argument("--noises", default=",".join(n.name for n in NOISES))
    parser.add_argument("--vad", default="silero")
    parser.add_argument("--no-model", action="store_true", help="no smart-turn (fallback)")
    parser.add_argument("--model-latency", type=float, default=0.2)
    parser.add_argument("--hint-latency", type=float, default=0.35)
    parser.add_argument("--pipeline", type=float, default=0.05)
    parser.add_argument("--asr", action="store_true", help="whisper-check answers with cuts")
    parser.add_argument("--asr-lost", action="store_true",
                        help="with --asr, also whisper-check answers that lost part of a word")
    parser.add_argument("--audible-after", type=float, default=None,
                        help="seconds from the endpoint to the reply's first audible sample "
                             "(default --pipeline): a barge-in before it is no audible cut")
    parser.add_argument("--fresh", action="store_true",
                        help="recompute the VAD decisions and model verdicts (no cache)")
    parser.add_argument("--thinking", default="{}",
                        help='JSON overrides of the thinking pause per stage ({"greeting": 3.5})')
    parser.add_argument("--no-adapt", action="store_true", help="fresh endpointer per answer")
    parser.add_argument("--config", default="{}", help="JSON overrides of EndpointConfig")
    parser.add_argument("--tune-on", default="piper,real:austen_reader",
                        help="voices the settings were tuned on (the rest is held out)")
    parser.add_argument("--voices", default="", help="only these voices (comma-separated)")
    parser.add_argument("--checks", type=Path, default=None,
                        help="write every smart-turn check (mid-answer or end) as JSON lines")
    parser.add_argument("--details", action="store_true",
                        help="one line per answer on stderr (delay '(mid)': its last clip ends "
                        "mid-sentence, not counted in the reply p50; patience: seconds / "
                        "words needed / words of the last answer gone on in after a pause)")
    parser.add_argument("--expected", default="{}",
                        help='JSON overrides of the words each stage expects ({"discussion": 30})'
                             " (with --per-stage)")
    parser.add_argument("--hints", default="heard",
                        help="the partial transcripts: 'heard' (each clip as Moonshine writes "
                             "it, punctuation included) or 'script' (the clips' own text)")
    parser.add_argument("--per-stage", action="store_true",
                        help="each stage's fixed expected length, not the question's")
    args = parser.parse_args()
    args.expected_words = {**EXPECTED_WORDS, **{Stage(k): int(v) for k, v in json.loads(
        args.expected).items()}}
    args.thinking_seconds = {**THINKING_SECONDS, **{Stage(k): float(v) for k, v in json.loads(
        args.thinking).items()}}
    if args.audible_after is None:
        args.audible_after = args.pipeline
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
    if args.hints == "heard":
        hear_clips(voices, "moonshine")
    talkers = babble_talkers()
    noises = [n for n in NOISES if n.name in args.noises.split(",")]
    cfg = dataclasses.replace(EndpointConfig(), **json.loads(args.config))
    feats = Features(not args.no_model, args.vad, args.fresh)
    if not args.no_model and feats.model is None:
        # Easy to miss in the JSON ("turn_model": null): the numbers are then the fallback's.
        print("smart-turn is not installed (voice-coach models download smart-turn, or "
              "VOICE_COACH_SMART_TURN=FILE): measuring without it", file=sys.stderr)
    rows: list[Outcome] = []
    questions = stage_questions(Path(__file__).resolve().parent.parent / "prompts")
    for voice, pool in voices.items():
        if len(pool) < 2:
            continue
        for noise in noises:
            for pause in args.pauses:
                for session in range(args.sessions):
                    # Each session draws its answers from its own generator, so adding a
                    # pause length, noise or voice leaves the others' answers as they were;
                    # the questions' own generator keeps the answers (and so the feature
                    # cache) the same as without questions.
                    key = [stable_int(voice), stable_int(noise.name), round(pause * 1000),
                           session]
                    rng = np.random.default_rng([11, *key])
                    qrng = np.random.default_rng([5, *key])
                    ep = Endpointer(cfg)
                    ep.use_turn_model(feats.model is not None)
                    for k, stage in enumerate(SESSION_STAGES):
                        if args.no_adapt:
                            ep = Endpointer(cfg)
                            ep.use_turn_model(feats.model is not None)
                        n = min(2 + int(rng.integers(0, 2)), len(pool))
                        if voice == "piper":
                            idx = rng.choice(len(pool), size=n, replace=False)
                        else:  # real clips in reading order: one continuous answer
                            first = int(rng.integers(0, len(pool) - n + 1))
                            idx = np.arange(first, first + n)
                        answer = Answer([pool[i] for i in idx], pause, stage, voice)
                        build_answer(answer, noise, seed=session * 100 + k, talkers=talkers,
                                     extent=feats.voiced_extent)
                        n_checks = len(CHECKS)
                        asked = questions.get(stage) or [""]
                        question = asked[int(qrng.integers(0, len(asked)))]
                        expected = (args.expected_words.get(stage, 0) if args.per_stage
                                    else expected_words(question, stage))
                        res = run_answer(answer, ep, feats, args, expected)
                        for c in CHECKS[n_checks:]:
                            c["voice"] = voice
                        res.voice, res.noise, res.tuned = voice, noise.name, voice in tuned
                        rows.append(res)
                        if args.details:
                            print(f"{voice} {noise.name} {pause} {stage.value}: "
                                  f"{len(answer.spans)} parts, cuts {res.cuts}, barge-ins "
                                  f"{res.recovered}, lost {res.words_lost:.1f}, wants "
                                  f"{res.expected}w, delay "
                                  f"{res.reply_delay}{'' if res.finished_end else ' (mid)'}, "
                                  f"{res.verdict} {res.end_info}, patience {res.patience:.2f}/"
                                  f"{ep.min_words}/{ep.paused_answer_words} "
                                  f"{' '.join(res.cut_at)} gaps "
                                  + ",".join(f"{b[0] - a[1]:.2f}" for a, b in
                                             zip(answer.voiced, answer.voiced[1:], strict=False)),
                                  file=sys.stderr)
    feats.save()
    if LONGER_PAUSES:
        print(f"{len(LONGER_PAUSES)} pauses were longer than asked (up to "
              f"{max(LONGER_PAUSES):.2f} s): the quiet edges of their clips alone",
              file=sys.stderr)
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
        if args.asr_lost:
            # Answers that lost part of a word by the count: does whisper miss a word in the
            # stored audio that it hears in the whole recording? (Its own errors cancel out.)
            partial = [r for r in rows if r.stored is not None
                       and max(r.words_lost, r.words_lost_clip) > 0]
            missing = []
            for r in partial:
                assert r.stored is not None
                stored = _WORD.findall(rec.transcribe(r.stored).text.lower())
                whole = _WORD.findall(rec.transcribe(r.whole).text.lower())
                missing.append(deletions(whole, stored))
            asr["partly_lost_answers_checked"] = len(partial)
            asr["words_in_whole_recording_missing_from_stored"] = sum(missing)
    for r in rows:
        r.stored = r.whole = None
    delays = [r.reply_delay for r in rows if r.reply_delay is not None and r.finished_end]
    by_voice = {}
    for v in [v for v in voices if any(r.voice == v for r in rows)]:
        d = [r.reply_delay for r in rows
             if r.voice == v and r.reply_delay is not None and r.finished_end]
        by_voice[v] = {"reply_delay_p50": round(percentile(d, 50), 3),
                       "reply_delay_p95": round(percentile(d, 95), 3), "answers": len(d),
                       "words_lost": round(sum(r.words_lost for r in rows if r.voice == v), 1),
                       "words_lost_whole_clip": round(
                           sum(r.words_lost_clip for r in rows if r.voice == v), 1)}
    report: dict[str, Any] = {
        "machine": machine(),
        "voices": {v: len(p) for v, p in voices.items()},
        "tuned_on": sorted(tuned),
        "noises": [n.name for n in noises],
        "turn_model": None if feats.model is None else feats.model.name,
        "model_check_s_p50": round(percentile(feats.seconds, 50), 3),
        "feature_cache_misses": feats.misses,
        "vad": args.vad,
        "hints": args.hints,
        "adapt": not args.no_adapt,
        "config": json.loads(args.config),
        "expected_words": ({k.value: v for k, v in args.expected_words.items()}
                           if args.per_stage else "per question (expected_words)"),
        "thinking_seconds": {k.value: v for k, v in args.thinking_seconds.items()},
        "audible_after_s": args.audible_after,
        "all": summarise(rows),
        "tuned": summarise([r for r in rows if r.tuned]),
        "held_out": summarise([r for r in rows if not r.tuned]),
        "by_voice": by_voice,
        "by_voice_pause": {v: summarise([r for r in rows if r.voice == v])
                           for v in voices if any(r.voice == v for r in rows)},
        "by_noise": {n.name: summarise([r for r in rows if r.noise == n.name])
                     for n in noises},
        "reply_delay_all_p50": round(percentile(delays, 50), 3),
        "words_lost_total": round(sum(r.words_lost for r in rows), 1),
        "words_lost_whole_clip_total": round(sum(r.words_lost_clip for r in rows), 1),
        "asr": asr,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    a = report["all"]
    print("summary cut " + " ".join(f"{k}s={v['cut_rate']}" for k, v in a.items())
          + "; audible " + " ".join(f"{v['audible_cut_rate']}" for v in a.values())
          + "; held out " + " ".join(f"{v['cut_rate']}" for v in report["held_out"].values())
          + "; reply p50 " + " ".join(f"{k.split(':')[-1]} {v['reply_delay_p50']}"
                                      for k, v in by_voice.items())
          + f"; words lost {report['words_lost_total']}"
          + "; no reply " + " ".join(f"{v['no_reply_rate']}" for v in a.values()))


if __name__ == "__main__":
    main()
