"""Every threshold and word list the feedback uses, in one place, with where each comes from.

Numbers marked "(ours)" are voice-coach's own choices: no published norm was found for them.
Change them here only; metrics, tips and charts all read this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_coach.interview.stages import Stage

# --- Pace -------------------------------------------------------------------------------------

PACE_WPM = (100.0, 165.0)
"""Comfortable speaking rate, words a minute: Microsoft Speaker Coach (PowerPoint/Teams)
recommends 100-165 wpm for presentations and conversation alike."""

PACE_MIN_WORDS = 25
"""Answers shorter than this are not judged for pace (ours): small-talk replies of a few words
run slower and their rate swings with one pause (DESIGN.md section 5)."""

PACE_MIN_SECONDS = 8.0
"""Nor are answers with less speaking time than this (ours), for the same reason."""

PACE_GAP_S = 1.0
"""Silences between words at least this long are not speaking time (ours): pace measures how
fast the words come, thinking pauses are reported separately as pauses."""

# --- Fillers, hedges --------------------------------------------------------------------------

FILLER_PER_100 = (2.0, 6.0)
"""Typical filler rate in spontaneous speech, per 100 words: ~2-6 (DESIGN.md section 5; Bortfeld
et al. 2001, "Disfluency rates in conversation", Language and Speech 44(2), report about 6
disfluencies per 100 words in conversation, fillers included). Above the upper bound listeners
notice; below the lower bound is fine (prepared or typed answers)."""

FILLERS: tuple[str, ...] = (
    "um", "uh", "er", "erm", "uhm", "umm", "hmm", "mm",
    "like", "you know", "i mean", "basically", "actually", "literally", "you see",
)
"""Filler words and phrases, matched as whole lower-case words."""

LIKE_NOT_FILLER_AFTER = frozenset(
    """i you we they he she would i'd you'd we'd they'd don't didn't doesn't really also
    feel feels felt look looks looked sound sounds seem seems things something nothing
    anything everything just more much very""".split()
)
""""like" after these words is a verb or a comparison ("I like hiking", "feels like"), not a
filler (ours: a simple context rule, errs towards not counting)."""

YOU_KNOW_NOT_FILLER_AFTER = frozenset("do did don't didn't if would will could whether".split())
""""you know" after these words is a real question or clause ("do you know"), not a filler."""

HEDGES: tuple[str, ...] = (
    "maybe", "perhaps", "i guess", "i suppose", "sort of", "kind of", "i think",
    "probably", "i'm not sure",
)
"""Hedges: softeners that make a claim sound unsure (DESIGN.md section 5 lists "maybe",
"I guess", "sort of", "kind of"; the issue adds "I think")."""

KIND_OF_NOT_HEDGE_AFTER = frozenset(
    "what which this that the a any some every each same different these those other all".split()
)
""""kind of"/"sort of" after these words names a type ("what kind of tools"), not a hedge."""

HEDGE_PER_100_MAX = 3.0
"""Hedges per 100 words above which a tip suggests committing to claims (ours). A few hedges
are normal and polite in an informal interview."""

# --- Hesitations in the audio -----------------------------------------------------------------

LONG_PAUSE_S = 2.0
"""A silence inside an answer longer than this is a long pause (the issue's definition; well
past the ~200 ms human turn gap of Stivers et al. 2009, PNAS 106(26))."""

FILLED_PAUSE_MIN_S = 0.2
"""Shortest voiced stretch with no recognised word that counts as a filled pause ("um", "uh")
(ours: a filled pause lasts ~0.2-0.7 s; shorter blips are clicks or word edges)."""

FILLED_PAUSE_MAX_S = 2.0
"""Longer unrecognised voiced stretches are unrecognised speech, not a hesitation (ours)."""

WORD_MARGIN_S = 0.12
"""Word timings from recognisers are rough; voice this close to a word belongs to it (ours)."""

VOICING_MIN = 0.45
"""Normalised autocorrelation peak (pitch lag 2.5-14 ms, i.e. 70-400 Hz) above which a frame is
voiced (ours). Filled pauses are voiced vowels and nasals; breaths and room noise are not."""

VOICED_FRACTION_MIN = 0.5
"""Share of a stretch's frames that must be voiced for it to count as a filled pause (ours)."""

PITCH_HZ = (70.0, 400.0)
"""Pitch range searched for voicing: adult speaking voices (Titze 1994, Principles of Voice
Production)."""

FILLED_PAUSES_PER_MIN_MAX = 4.0
"""Filled pauses a minute of speech above which a tip is given (ours; about the upper filler
rate of 6 per 100 words at 100-165 wpm, minus the fillers the recogniser kept)."""

# --- Turn-taking ------------------------------------------------------------------------------

HUMAN_TURN_GAP_S = 0.2
"""Typical gap between turns in conversation, across ten languages: ~200 ms
(Stivers et al. 2009, "Universals and cultural variation in turn-taking", PNAS 106(26))."""

SLOW_START_S = 3.0
"""Time to start answering after the interviewer stops above which a tip is given (ours:
interview questions deserve a thinking pause, so this is far more relaxed than the 200 ms
conversational gap; no product measures this, see DESIGN.md section 5)."""

# --- Answer length per stage ------------------------------------------------------------------


@dataclass(frozen=True)
class LengthTarget:
    """What one stage wants from an answer: a range of words and of speaking seconds."""

    words: tuple[int, int]
    seconds: tuple[float, float]
    why: str


LENGTH_TARGETS: dict[Stage, LengthTarget] = {
    Stage.GREETING: LengthTarget((10, 150), (4.0, 75.0),
                             "a short introduction: who you are and what you do"),
    Stage.ICEBREAKERS: LengthTarget((6, 90), (3.0, 45.0),
                                "small talk: a friendly sentence or three, not a speech"),
    Stage.DISCUSSION: LengthTarget((40, 300), (20.0, 120.0),
                               "develop an example: the situation, what you did, the result"),
    Stage.YOUR_QUESTIONS: LengthTarget((5, 90), (2.0, 45.0), "a clear question, briefly set up"),
    Stage.WRAP_UP: LengthTarget((3, 70), (1.0, 35.0), "a brief thank-you and goodbye"),
}
"""Answer length per stage (ours, after common interview-coaching advice: small talk short,
discussion answers of about 30 s to 2 minutes that tell one concrete example, STAR-style)."""

DEFAULT_LENGTH = LengthTarget((3, 300), (1.0, 120.0), "an answer")

# --- Talk ratio, questions, wrap-up -----------------------------------------------------------

USER_TALK_SHARE = (0.4, 0.8)
"""The candidate's share of speaking time (ours): in an informal interview the candidate should
do most of the talking, but the interviewer also pitches the role and answers questions."""

QUESTIONS_MIN = 2
"""Questions worth asking in the "your questions" stage (common career advice: prepare two or
three questions for the interviewer)."""

THANKS = ("thank you", "thanks", "appreciate", "grateful", "cheers")
"""Words that thank the interviewer."""

SPARK_CHARS = "▁▂▃▄▅▆▇█"
"""Glyphs of the terminal sparklines, lowest to highest."""
