"""Moonshine base (English) on onnxruntime: tokenizer, greedy KV-cache decoding, word timing."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice_coach.audio.format import SAMPLE_RATE, Pcm

_LOGGER = logging.getLogger(__name__)

BOS = 1
"""Decoder start token (``<s>``)."""
EOS = 2
"""End of text (``</s>``)."""
LAYERS = 8
"""Decoder layers of Moonshine base, each with self- and cross-attention caches."""
HEADS = 8
HEAD_DIM = 52
TOKENS_PER_SECOND = 6.5
"""Upper bound on tokens a second of speech: stops a decoder that loops (Moonshine uses 6)."""
LOOP_CHECK_TOKENS = 4
"""Tokens decoded past that bound: a loop shows its repeats more clearly, and fast, short
speech that reaches the bound ("Thank you. Thank you." in 0.9 s) ends in a token or two."""
MIN_SECONDS = 0.1
MAX_SECONDS = 64.0
"""Moonshine was trained on clips up to 64 s; longer audio must be cut."""
_SPACE = "\u2581"  # sentencepiece's word boundary mark
_QUOTES = "\"'\u201c\u201d\u2018\u2019"


class Tokenizer:
    """Moonshine's ``tokenizer.bin``: one length byte then the token's UTF-8 bytes, per id."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        """Read a ``tokenizer.bin`` file."""
        return cls(cls.parse(Path(path).read_bytes()))

    @staticmethod
    def parse(data: bytes) -> list[bytes]:
        """Split the file into token byte strings (byte-fallback ids hold the raw byte)."""
        pieces: list[bytes] = []
        i = 0
        while i < len(data):
            n = data[i]
            if i + 1 + n > len(data):
                raise ValueError(f"tokenizer file is truncated at byte {i}")
            pieces.append(data[i + 1 : i + 1 + n])
            i += 1 + n
        return pieces

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids; special and out-of-vocabulary ids are skipped."""
        raw = b"".join(
            self.pieces[i] for i in ids if 2 < i < len(self.pieces)
        )  # 0..2 are <unk>, <s>, </s>
        text = raw.decode("utf-8", errors="replace").replace(_SPACE, " ")
        # Moonshine sometimes wraps speech in quote marks nobody said; apostrophes inside
        # words ("don't") stay.
        words = (w.strip(_QUOTES) for w in text.split())
        return " ".join(w for w in words if w)


def _token_bound(samples: Pcm) -> int:
    """Tokens that much audio can hold (``TOKENS_PER_SECOND``)."""
    return max(1, int(len(samples) / SAMPLE_RATE * TOKENS_PER_SECOND))


def drop_loop(text: str) -> str:
    """``text`` up to the first copy of a phrase the decoder then repeats to the end.

    For a decode that ran past the token bound: cut just after the onset of the next word
    ("...season of Light, i"), Moonshine reads the segment again and again ("It was the
    season of light it was the season of light it was") until the bound stops it; seen live
    on a busy machine, stored as the answer. A phrase repeated from some word to the end
    (the last copy may be cut short) is kept once: the words were said once. A phrase of
    under four words must come three times ("thank you thank you" is said, "the the the"
    and "and short and short and short" are loops)."""
    words = text.split()
    norm = [re.sub(r"[^\w']", "", w.lower()) for w in words]
    n = len(words)
    best: tuple[int, int] | None = None  # (where the loop starts, its length in words)
    for period in range(1, n // 2 + 1):
        # Back from the end while each word repeats the one a period before it.
        k = n - 1
        while k - period >= 0 and norm[k] == norm[k - period]:
            k -= 1
        start = max(0, k + 1 - period)
        copies_needed = 2 if period >= 4 else 3
        if n - start >= copies_needed * period and (best is None or start < best[0]):
            best = (start, period)
    if best is None:
        return text
    return " ".join(words[: best[0] + best[1]])


@dataclass(frozen=True)
class TimedWord:
    """A word and its estimated times in seconds from the start of the decoded audio."""

    text: str
    start: float
    end: float


def voiced_spans(voiced: Sequence[bool], frame_s: float) -> list[tuple[float, float]]:
    """Runs of voiced frames as (start, end) seconds."""
    spans: list[tuple[float, float]] = []
    start: int | None = None
    for i, v in enumerate([*voiced, False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            spans.append((start * frame_s, i * frame_s))
            start = None
    return spans


def spread_words(
    text: str, spans: Sequence[tuple[float, float]], duration: float
) -> list[TimedWord]:
    """Place words over the voiced spans in proportion to their length in characters.

    Moonshine gives no timestamps; this alignment-free estimate keeps pauses (unvoiced gaps
    fall between words) and pace right, not the exact edge of each word.
    """
    words = text.split()
    if not words:
        return []
    spans = [s for s in spans if s[1] > s[0]] or [(0.0, max(duration, 0.01))]
    total_voiced = sum(e - s for s, e in spans)
    # A word's share of voiced time: its letters plus one for the gap after it.
    weights = [len(re.sub(r"\W", "", w)) + 1 for w in words]
    scale = total_voiced / sum(weights)
    # Each word goes wholly to the span holding its middle, so none straddles a pause.
    bounds = np.cumsum([0.0] + [e - s for s, e in spans])
    groups: list[list[int]] = [[] for _ in spans]
    pos = 0.0
    for i, weight in enumerate(weights):
        middle = pos + weight * scale / 2
        pos += weight * scale
        index = int(np.searchsorted(bounds, middle, side="right")) - 1
        groups[min(max(index, 0), len(spans) - 1)].append(i)
    out: list[TimedWord] = []
    for (s, e), members in zip(spans, groups, strict=True):
        if not members:
            continue
        step = (e - s) / sum(weights[i] for i in members)
        t = s
        for i in members:
            begin, t = t, t + weights[i] * step
            end = t - step * 0.5 if i != members[-1] else t  # the gap share is silence
            out.append(TimedWord(words[i], round(begin, 3), round(max(end, begin + 0.01), 3)))
    return out


def _session(path: Path, threads: int, optimised: bool = True) -> Any:
    """An onnxruntime session on ``threads`` intra-op threads, with memory arenas kept small."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Audio lengths vary turn to turn: a growing arena would keep the biggest turn's memory.
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3
    # Idle pool threads would spin for the next op: on a busy machine that burns the core
    # others need; measured under load 6: half the CPU and twice as fast with it off.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if optimised:
        # Optimised at conversion time: optimising again here would briefly double the memory.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class MoonshineModel:
    """Encoder and merged decoder sessions; ``decode`` turns audio into token ids."""

    def __init__(
        self,
        encoder: Path,
        decoder: Path,
        tokenizer: Path,
        threads: int = 2,
        optimised: bool = True,
    ) -> None:
        self.encoder = _session(encoder, threads, optimised)
        self.decoder = _session(decoder, threads, optimised)
        self.tokenizer = Tokenizer.load(tokenizer)
        self._outputs = [o.name for o in self.decoder.get_outputs()]

    def decode(self, samples: Pcm) -> list[int]:
        """Greedy token ids for up to 64 s of 16 kHz int16 audio (encoder once, cached decoder)."""
        seconds = len(samples) / SAMPLE_RATE
        if seconds < MIN_SECONDS:
            return []
        if seconds > MAX_SECONDS:
            raise ValueError(f"Moonshine takes at most {MAX_SECONDS:.0f} s of audio a call")
        audio = (samples.astype(np.float32) / 32768.0)[np.newaxis, :]
        (hidden,) = self.encoder.run(None, {"input_values": audio})
        empty = np.zeros((1, HEADS, 0, HEAD_DIM), np.float32)
        feeds: dict[str, npt.NDArray[Any]] = {"encoder_hidden_states": hidden}
        for layer in range(LAYERS):
            for part in ("decoder", "encoder"):
                for kind in ("key", "value"):
                    feeds[f"past_key_values.{layer}.{part}.{kind}"] = empty
        tokens: list[int] = []
        token = BOS
        for step in range(_token_bound(samples) + LOOP_CHECK_TOKENS):
            feeds["input_ids"] = np.array([[token]], np.int64)
            feeds["use_cache_branch"] = np.array([step > 0])
            results = self.decoder.run(self._outputs, feeds)
            token = int(np.argmax(results[0][0, -1]))
            if token == EOS:
                break
            tokens.append(token)
            for name, value in zip(self._outputs[1:], results[1:], strict=True):
                past = name.replace("present.", "past_key_values.")
                # The cross-attention cache is computed on the first step only.
                if step == 0 or ".decoder." in name:
                    feeds[past] = value
        return tokens

    def transcribe(self, samples: Pcm) -> str:
        """Text of up to 64 s of audio."""
        tokens = self.decode(samples)
        text = self.tokenizer.decode(tokens)
        if len(tokens) < _token_bound(samples):
            return text  # ended well within what that much audio can hold
        # At the bound or past it: a decoder in a loop, or speech as fast as that.
        kept = drop_loop(text)
        if kept != text:
            _LOGGER.debug("decoder looped: %r kept as %r", text, kept)
        return kept
