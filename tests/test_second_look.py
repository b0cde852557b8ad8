"""The second look at short utterances: the vote, the clips, and whisper's part (faked)."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.errors import CoachError
from voice_coach.interview.language import Command, parse_command
from voice_coach.session.second_look import (
    Decode,
    SecondLook,
    Verdict,
    load_prompted,
    margin_clips,
    needs_second_look,
    vote,
)


@pytest.mark.parametrize(("text", "seconds", "yes"), [
    ("Oz.", 0.5, True), ("", 0.4, True), ("Where's him?", 0.8, True),
    ("Paris.", 0.6, True),  # an answer: looked at again, and stays one (see below)
    ("Pause.", 0.5, False),  # already a command
    ("Yes.", 0.3, False), ("No.", 0.3, False), ("Not really.", 0.7, False),  # yes / no
    ("Oz.", 1.5, False),  # too long for a one-word command
    ("I moved to Berlin", 1.0, False), ("Oz.", 0.0, False),
])
def test_which_utterances_get_a_second_look(text: str, seconds: float, yes: bool) -> None:
    assert needs_second_look(text, seconds) is yes


def test_with_whisper_three_words_get_a_second_look() -> None:
    # piper's "Resume!" heard live as "Where is him?"
    assert not needs_second_look("Where is him?", 0.6)
    assert needs_second_look("Where is him?", 0.6, SecondLook(str, FakeWhisper("")).max_words)
    assert not needs_second_look("I like Python a lot", 1.0, 3)


def test_margin_clips_keep_silence_from_the_audio_around_the_speech() -> None:
    audio = np.arange(3 * SAMPLE_RATE, dtype=np.int64).astype(np.int16)
    first, last = SAMPLE_RATE, 2 * SAMPLE_RATE
    clips = margin_clips(audio, first, last, ((0.1, 0.2), (2.0, 2.0)))
    assert len(clips[0]) == round(1.3 * SAMPLE_RATE)
    assert clips[0][0] == audio[first - SAMPLE_RATE // 10]
    assert len(clips[1]) == len(audio)  # clipped at both ends


@pytest.mark.parametrize(("prompted", "margins", "likely", "want"), [
    # whisper told the command words hears a one-word command: enough for an undoable one
    (Decode("Pause."), ["Oz.", "Oz.", "Horse."], None,
     Verdict(Command.PAUSE, "Pause.", "prompted")),
    (Decode("Resume."), [], None, Verdict(Command.RESUME, "Resume.", "prompted")),
    (Decode("Fause.", plain="Boss."), [], None, Verdict(Command.PAUSE, "Boss.", "prompted")),
    (Decode("Slower, please."), [], None, Verdict(Command.SLOWER, "Slower, please.", "prompted")),
    # ... but it is silence by whisper's own account (a prompt writes words over noise)
    (Decode("Pause.", no_speech=0.6), ["Oz.", "", ""], None, None),
    (Decode("Pause.", logprob=-0.8), ["Oz.", "", ""], None, None),  # ... or unsure
    # ending or skipping needs a margin to agree
    (Decode("End the interview."), ["And a view.", "", ""], None, None),
    (Decode("End the interview."), ["End the interview.", "", ""], None,
     Verdict(Command.END, "End the interview.", "prompted")),
    (Decode("Skip."), ["Kip.", "Kit.", ""], None, None),
    # answers stay answers
    (Decode("Paris."), ["Paris.", "Pause.", "Paris."], None, None),
    (Decode("Python."), ["Ithen", "I think", "Python"], None, None),
    # without whisper (or when it hears no command): two margins must agree...
    (None, ["Pause.", "Oz.", "Paws."], None, Verdict(Command.PAUSE, "Pause.", "margins")),
    (Decode("Oz."), ["Pause.", "Oz.", "Paws."], None, Verdict(Command.PAUSE, "Pause.", "margins")),
    (None, ["Pause.", "Oz.", "Jane."], None, None),
    # ... or one, for the command expected (resuming while paused)
    (None, ["Bris him.", "Resume.", ""], Command.RESUME,
     Verdict(Command.RESUME, "Resume.", "margins")),
])
def test_the_vote(prompted: Decode | None, margins: list[str], likely: Command | None,
                  want: Verdict | None) -> None:
    assert vote(prompted, margins, likely) == want


class FakeWhisper:
    """Says the scripted text for every clip; counts calls."""

    def __init__(self, text: str, fail: bool = False) -> None:
        self.text, self.fail = text, fail
        self.clips: list[int] = []

    def decode(self, samples: Pcm) -> Decode:
        self.clips.append(len(samples))
        if self.fail:
            raise CoachError("broken")
        return Decode(self.text)


def _look(whisper: FakeWhisper | None, margins: list[str]) -> tuple[Verdict | None, list[int]]:
    said = iter(margins)
    asked: list[int] = []

    def transcribe(clip: Pcm) -> str:
        asked.append(len(clip))
        return next(said)

    audio = np.zeros(3 * SAMPLE_RATE, np.int16)
    verdict = SecondLook(transcribe, whisper).look(audio, SAMPLE_RATE, SAMPLE_RATE * 3 // 2)
    return verdict, asked


def test_whisper_deciding_alone_spares_the_margin_decodes() -> None:
    whisper = FakeWhisper("Pause.")
    verdict, asked = _look(whisper, [])
    assert verdict == Verdict(Command.PAUSE, "Pause.", "prompted") and not asked
    assert whisper.clips == [round(1.1 * SAMPLE_RATE)]  # 0.2 s before, 0.4 s after the speech


def test_without_a_command_from_whisper_the_margins_vote() -> None:
    verdict, asked = _look(FakeWhisper("Paris."), ["Paris.", "Paris.", "Pause."])
    assert verdict is None and len(asked) == 3
    verdict, _ = _look(FakeWhisper("", fail=True), ["Pause.", "Paws.", ""])
    assert verdict == Verdict(Command.PAUSE, "Pause.", "margins")
    verdict, _ = _look(None, ["Oz.", "Resume.", "Resume."])
    assert verdict == Verdict(Command.RESUME, "Resume.", "margins")


def test_no_local_whisper_model_means_no_whisper(tmp_path: object) -> None:
    assert load_prompted(f"{tmp_path}/no-such-model") is None


@pytest.mark.parametrize(("prompted", "plain", "heard", "answer"), [
    # whisper's prompt writes a command over an answer both recognisers hear alike
    ("Faster.", "Pasta.", "Asta.", True), ("Faster.", "Pasta!", "Past her", True),
    ("Pause.", "Hmm.", "", True), ("Pause.", "", "", True),  # a filler, a breath
    # a command misheard: each recogniser mishears it differently, or not at all
    ("Pause.", "Awesome.", "Oz.", False), ("Pause.", "Boss.", "", False),
    ("Resume.", "Where's him?", "For zoom.", False), ("Resume.", "Review.", "", False),
    ("Resume.", "Resume.", "Prism", False),
])
def test_whisper_without_the_prompt_and_the_recogniser_agreeing_on_an_answer(
        prompted: str, plain: str, heard: str, answer: bool) -> None:
    verdict = vote(Decode(prompted, plain=plain), [], heard=heard)
    assert (verdict is None) is answer


def test_while_paused_whisper_hearing_resume_is_enough() -> None:
    # Nothing but "resume" acts while paused: the prompt's word is taken as it is.
    decode = Decode("Resume.", plain="Reviews.")
    assert vote(decode, [], heard="Reviews") is None
    assert vote(decode, [], Command.RESUME, heard="Reviews") == Verdict(
        Command.RESUME, "Resume.", "prompted")


@pytest.mark.parametrize(("prompted", "plain", "heard", "want"), [
    # A one-word answer that sounds like a rate word, heard as one only with the prompt.
    ("Faster.", "Pasta.", "", None), ("Faster.", "Faster.", "Pastor", None),
    ("Faster.", "Faster.", "Past it", None), ("Slower.", "Flour.", "", None),
    # Asked for, the rate comes with a word more, or the margins hear it too.
    ("Faster, please.", "Pasta, please.", "", Command.FASTER),
    ("Slower.", "Flower, please.", "Flour please", Command.SLOWER),
])
def test_a_bare_rate_word_needs_more_than_the_prompt(
        prompted: str, plain: str, heard: str, want: Command | None) -> None:
    verdict = vote(Decode(prompted, plain=plain), [], heard=heard)
    assert (verdict and verdict.command) == want
    assert vote(Decode(prompted, plain=plain), [prompted, "Pasta."], heard=heard) is not None


@pytest.mark.parametrize(("prompted", "plain", "heard", "want"), [
    # The prompt names both rate commands: a word that sounds like the other one wins.
    ("Faster, please.", "Flower, please.", "So, please.", Command.SLOWER),
    ("Faster, please.", "Oh, please.", "Lowers, please", Command.SLOWER),
    ("Slower, please.", "Foster, please.", "Oh, please.", Command.FASTER),
    # Whisper's word stands when nothing sounds clearly like the other one.
    ("Slower, please.", "Flowers, please.", "So, please.", Command.SLOWER),
    ("Faster, please.", "Faster, please.", "Flowers, please.", Command.FASTER),
    ("Faster.", "So, please.", "Sir.", Command.FASTER),
])
def test_whisper_writing_the_other_rate_command_is_overruled(
        prompted: str, plain: str, heard: str, want: Command) -> None:
    verdict = vote(Decode(prompted, plain=plain), [], heard=heard)
    assert verdict is not None and verdict.command is want
    assert parse_command(verdict.text) is want
