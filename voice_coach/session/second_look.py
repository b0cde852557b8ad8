"""A second look at a short utterance that was no command: more decodes, and a vote.

One-word commands are where recognisers fail most: Moonshine hears a synthetic "Pause." as
"Oz." and "Resume." as "For zoom."; the silence around the word changes what it hears. A
short utterance that was no command is therefore decoded again: by whisper tiny.en told the
command words in its prompt (when installed), and by the session's own recogniser with other
margins of silence. A short real answer ("Paris.", "Not really.") stays an answer: whisper
must hear the command itself, and the margins must agree on one.
"""

from __future__ import annotations

import collections
import difflib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.errors import CoachError
from voice_coach.interview.language import (
    Command,
    is_affirmation,
    is_decline,
    normalise,
    parse_command,
    sound_key,
    words,
)

_LOGGER = logging.getLogger(__name__)

SECOND_LOOK_SECONDS = 1.2
"""Speech at most this long that the recogniser made no command of is decoded again."""
SECOND_LOOK_WORDS = 2
"""...and at most this many words (the one- and two-word commands: "pause", "slower please")."""
PROMPTED_LOOK_WORDS = 3
"""...or this many, when whisper looks: piper's "Resume!" was heard live as "Where is him?" and
"For his end," (whisper's verdicts are guarded: see ``vote``)."""
SECOND_LOOK_ENGINES = frozenset({"moonshine", "vosk", "sphinx"})
"""Recognisers whose decode of a second of audio is cheap (~0.1 s; whisper pads every call to
30 s) and that whisper tiny.en, told the command words, hears better on single words."""
SECOND_LOOK_MARGINS = ((0.1, 0.2), (0.25, 0.4), (0.2, 0.8))
"""Silence kept before and after the speech (seconds) in each extra decode by the recogniser."""
PROMPTED_MARGIN = (0.2, 0.4)
"""Silence kept before and after the speech in whisper's decode."""

COMMAND_PROMPT = ("Pause. Resume. Repeat that. Slower, please. Faster, please. "
                  "Let's continue. End the interview.")
"""Told to whisper before the audio: a word said unclearly comes out as the command it sounds
like ("Pause." for piper's voice, heard as "Boss." or "Awesome." without it)."""

PROMPTED_ALONE = frozenset({Command.PAUSE, Command.RESUME, Command.REPEAT, Command.SLOWER,
                            Command.FASTER})
"""Commands whisper's prompted decode alone may decide: each is undone by another word. Ending
or skipping on a misheard word costs more: those also need a vote of the margins."""

MAX_NO_SPEECH = 0.4
"""A prompted decode that whisper itself thinks may be silence (a breath, a knock) is no
vote: a prompt makes whisper write its words over noise. (bench/commands.py: commands heard
right had at most 0.21; a breath written as "Pause." 0.59.)"""
MIN_LOGPROB = -0.6
"""Nor is a prompted decode whisper is unsure of (mean log probability of its tokens): on the
bench, commands heard right had -0.47 or more; answers written as "Pause." -0.67 and less."""


def needs_second_look(text: str, seconds: float, max_words: int = SECOND_LOOK_WORDS) -> bool:
    """Whether an utterance is short enough, and no command or yes/no, to be decoded again."""
    return (0 < seconds <= SECOND_LOOK_SECONDS and len(text.split()) <= max_words
            and parse_command(text) is None and not is_decline(text)
            and not is_affirmation(text))


def margin_clips(audio: Pcm, first: int, last: int,
                 margins: Sequence[tuple[float, float]] = SECOND_LOOK_MARGINS) -> list[Pcm]:
    """The speech ``audio[first:last]`` with each margin of silence (from ``audio``) around it."""
    return [audio[max(0, first - round(lead * SAMPLE_RATE)):last + round(tail * SAMPLE_RATE)]
            for lead, tail in margins]


@dataclass(frozen=True)
class Decode:
    """One decode of the short utterance."""

    text: str
    no_speech: float = 0.0
    """The decoder's probability that there was no speech (0 when it does not say)."""
    logprob: float = 0.0
    """Mean log probability of its tokens (0 when the decoder does not say)."""
    plain: str | None = None
    """The same audio decoded without the command words (None: not decoded)."""


@dataclass(frozen=True)
class Verdict:
    """The command a second look found, and the words it was heard as."""

    command: Command
    text: str
    by: str
    """``prompted`` (whisper told the command words) or ``margins``."""


FILLERS = frozenset({"hmm", "hm", "mm", "mhm", "um", "uh", "er", "erm", "ah", "oh"})
"""Sounds that are no words: whisper without the prompt hearing only these heard no command."""

SAME_SOUNDS = 0.75
"""How alike (0..1) two decodes' consonant skeletons must be to be the same words."""


def _skeleton(text: str) -> str:
    """The consonant skeleton of a whole utterance ("Past her" and "Pasta" are both pstR)."""
    return "".join(sound_key(w) or w for w in words(text))


def _said(text: str) -> int:
    """Words in ``text`` that are no filler sounds."""
    return sum(1 for w in words(text) if w not in FILLERS)


def heard_as_answer(prompted: Decode, command: Command, heard: str | None) -> bool:
    """Whether whisper without the prompt heard the utterance as words that are no command,
    or as nothing, and the recogniser heard those same words (or nothing either).

    Told the command words, whisper writes them over an answer that shares a sound or two
    ("Faster." for "Pasta.", "Pause." for "Hmm." or a breath); without the prompt it hears
    "Pasta.", as the recogniser did ("Asta."). A real command misheard is misheard
    differently: "Awesome." by whisper, "Oz." by Moonshine, for piper's "Pause.".
    """
    plain = prompted.plain
    if plain is None or parse_command(plain) is command:
        return False
    if not _said(plain):
        return True
    if not heard or not normalise(heard):
        return False
    skeleton, other = _skeleton(plain), _skeleton(heard)
    return difflib.SequenceMatcher(None, skeleton, other).ratio() >= SAME_SOUNDS


def vote(prompted: Decode | None, margins: Sequence[str], likely: Command | None = None,
         heard: str | None = None) -> Verdict | None:
    """The command the extra decodes agree the utterance was; None: it stays what it was.

    Whisper's prompted decode decides alone for a command that another word undoes
    (``PROMPTED_ALONE``) unless its own decode without the prompt and the recogniser's
    (``heard``) agree on an answer; else it needs one vote of the margins. Without it, two
    margins must agree. The ``likely`` command (resuming, while paused: nothing else acts
    then) needs one vote, whisper's or a margin's.
    """
    votes: collections.Counter[Command] = collections.Counter()
    said: dict[Command, str] = {}
    for text in margins:
        command = parse_command(text)
        if command is not None:
            votes[command] += 1
            said.setdefault(command, text)
    if (prompted is not None and prompted.no_speech <= MAX_NO_SPEECH
            and prompted.logprob >= MIN_LOGPROB):
        # The prompt can bend a word too far ("Fause."): then its plain decode ("Boss.") counts.
        text = prompted.text if parse_command(prompted.text) else prompted.plain or ""
        command = parse_command(text)
        if (command in RATE_WORDS and not votes[command]
                and max(_said(prompted.text), _said(prompted.plain or "")) < 2):
            # A bare "Faster." from whisper alone is as likely a one-word answer that sounds
            # like it ("Pasta." to "What food do you like?", heard "Pastor" by Moonshine);
            # asked for, the rate comes with a word more ("slower, please") or is heard plainly.
            command = None
        if command is not None and (
                command is likely or votes[command]
                or (command in PROMPTED_ALONE
                    and not heard_as_answer(prompted, command, heard))):
            return _rate_checked(Verdict(command, text.strip(), "prompted"), prompted, heard)
    if likely is not None and votes[likely]:
        return Verdict(likely, said[likely], "margins")
    best = votes.most_common(1)
    if best and best[0][1] >= 2:
        return Verdict(best[0][0], said[best[0][0]], "margins")
    return None


RATE_WORDS = {Command.SLOWER: "slower", Command.FASTER: "faster"}
"""The two commands the prompt names side by side: whisper may write the other one."""
RATE_MARGIN = 0.15
"""How much closer (0..1) a heard word must sound to the other rate word to overrule whisper."""


def rate_word_heard(text: str) -> Command | None:
    """Which of "slower" / "faster" a word of ``text`` clearly sounds closer to, if any."""
    best: dict[Command, float] = {}
    for word in words(text):
        if word in ("please", "a", "bit", "speak", "can", "you", "could", "more"):
            continue
        for command, meant in RATE_WORDS.items():
            key_w, key_m = sound_key(word), sound_key(meant)
            score = max(difflib.SequenceMatcher(None, word, meant).ratio(),
                        difflib.SequenceMatcher(None, key_w, key_m).ratio() if key_w else 0.0)
            best[command] = max(best.get(command, 0.0), score)
    if not best:
        return None
    slower, faster = best[Command.SLOWER], best[Command.FASTER]
    if max(slower, faster) < 0.5 or abs(slower - faster) < RATE_MARGIN:
        return None
    return Command.SLOWER if slower > faster else Command.FASTER


def _rate_checked(verdict: Verdict, prompted: Decode, heard: str | None) -> Verdict:
    """Whisper's "faster" for a "Flowers, please" the recogniser heard is "slower" (and back).

    The prompt names both rate commands one after the other, and whisper tiny.en, told them,
    can write the wrong one over a word it heard unclearly; the recogniser's own mishearing
    and whisper's plain decode still sound like the word that was said.
    """
    if verdict.command not in RATE_WORDS or parse_command(prompted.plain or "") is verdict.command:
        return verdict
    for text in (prompted.plain or "", heard or ""):
        other = rate_word_heard(text)
        if other is not None and other is not verdict.command:
            said = text.strip() if parse_command(text) is other else RATE_WORDS[other].title() + "."
            return Verdict(other, said, verdict.by)
    return verdict


class PromptedDecoder(Protocol):
    """Decodes a short clip with the command words as context."""

    def decode(self, samples: Pcm) -> Decode:
        """The text of ``samples`` (16 kHz mono int16) and how likely it was silence."""


@dataclass
class SecondLook:
    """Decodes a short utterance again and votes; ``prompted`` is None without whisper."""

    transcribe: Callable[[Pcm], str]
    """The session recogniser's decode of a whole clip."""
    prompted: PromptedDecoder | None = None
    margins: Sequence[tuple[float, float]] = SECOND_LOOK_MARGINS
    last: dict[str, Any] = field(default_factory=dict)
    """What the last look decoded, and how long it took (for the log and the bench)."""

    @property
    def max_words(self) -> int:
        """Words an utterance may have to be looked at again."""
        return SECOND_LOOK_WORDS if self.prompted is None else PROMPTED_LOOK_WORDS

    def look(self, audio: Pcm, first: int, last: int, likely: Command | None = None,
             heard: str | None = None) -> Verdict | None:
        """The command in ``audio[first:last]`` (speech; silence around it), or None.

        Whisper looks first: when it alone decides, or hears the same words the recogniser
        did (``heard``: "Paris." twice is an answer), the recogniser is not asked again.
        """
        began = time.monotonic()
        prompted: Decode | None = None
        if self.prompted is not None:
            lead, tail = PROMPTED_MARGIN
            clip = margin_clips(audio, first, last, ((lead, tail),))[0]
            try:
                prompted = self.prompted.decode(clip)
            except CoachError as exc:  # whisper failed here: the margins still vote
                _LOGGER.warning("no prompted decode: %s", exc)
        verdict = vote(prompted, [], likely, heard)
        texts: list[str] = []
        agreed = (prompted is not None and heard is not None and bool(normalise(heard))
                  and normalise(prompted.text) == normalise(heard))
        if verdict is None and not agreed:
            texts = [self.transcribe(clip).strip()
                     for clip in margin_clips(audio, first, last, self.margins)]
            verdict = vote(prompted, texts, likely, heard)
        self.last = {"prompted": prompted.text if prompted else None,
                     "no_speech": round(prompted.no_speech, 3) if prompted else None,
                     "logprob": round(prompted.logprob, 3) if prompted else None,
                     "plain": prompted.plain if prompted else None,
                     "margins": texts, "seconds": round(time.monotonic() - began, 3)}
        return verdict


class WhisperPrompted:
    """faster-whisper tiny.en (the ``whisper`` extra's local model) told the command words.

    The audio is encoded once and decoded twice, with the command prompt and without it: the
    prompt alone writes "Faster." for "Pasta." (see ``vote``).
    """

    MAX_TOKENS = 24
    """A short utterance's words; more would be a hallucination running on."""

    def __init__(self, model_path: Path | str | None = None, model: Any = None,
                 threads: int = 1) -> None:
        # One thread: as fast as two at load 3 (0.8 s a look), and no thread pool spinning
        # against the recogniser's and the VAD's on two cores (e2e looks took 0.6-9 s with two).
        from faster_whisper.tokenizer import Tokenizer

        from voice_coach.stt.whisper_engine import (
            WhisperSettings,
            _load_model,
            default_model_path,
        )

        if model is None:
            path = Path(model_path) if model_path else default_model_path()
            model = _load_model(path, WhisperSettings(cpu_threads=threads))
        self._model = model
        self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                    task="transcribe", language="en")
        tok = self._tokenizer
        self._prompts = (model.get_prompt(tok, tok.encode(" " + COMMAND_PROMPT),
                                          without_timestamps=True),
                         model.get_prompt(tok, [], without_timestamps=True))

    def decode(self, samples: Pcm) -> Decode:
        """Beam search with the command prompt, and without it, over one encoding."""
        from faster_whisper.audio import pad_or_trim

        model = self._model
        try:
            features = pad_or_trim(model.feature_extractor(samples.astype(np.float32) / 32768.0))
            encoded = model.encode(features)
            results = [model.model.generate(
                encoded, [prompt], beam_size=5, max_length=len(prompt) + self.MAX_TOKENS,
                return_scores=True, return_no_speech_prob=True)[0] for prompt in self._prompts]
        except (RuntimeError, ValueError) as exc:
            raise CoachError(f"whisper failed on a short clip: {exc}") from exc
        texts = [self._tokenizer.decode(r.sequences_ids[0]).strip() for r in results]
        ids = results[0].sequences_ids[0]
        logprob = float(results[0].scores[0]) * len(ids) / (len(ids) + 1)
        return Decode(texts[0], float(results[0].no_speech_prob), logprob, plain=texts[1])


def load_prompted(model_path: Path | str | None = None) -> WhisperPrompted | None:
    """Whisper tiny.en for second looks, warmed up; None (one log line) when not installed.

    Only a local model folder is used: nothing is fetched.
    """
    try:
        began = time.monotonic()
        decoder = WhisperPrompted(model_path)
        decoder.decode(np.zeros(SAMPLE_RATE // 2, np.int16))  # the first call is the slowest
    except (CoachError, OSError, RuntimeError, ValueError) as exc:
        _LOGGER.info("second looks without whisper: %s", exc)
        return None
    _LOGGER.info("whisper tiny.en ready for second looks in %.2f s", time.monotonic() - began)
    return decoder
