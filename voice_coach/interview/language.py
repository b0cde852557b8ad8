"""Pure text understanding for the controller: commands, questions, declines, key phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

STOPWORDS = frozenset(
    """a an the and or but so because if then than that this these those there here
    i me my mine we us our ours you your yours he him his she her it its they them their
    am is are was were be been being have has had do does did will would can could should
    shall may might must to of in on at by for with about from into over under as up down
    out off just very really quite also too not no yes yeah well oh okay ok um uh er erm hmm
    like know mean basically actually literally kind sort lot lots things thing stuff
    what which who whom whose when where why how all any some each every more most other
    such own same only both few many much get got getting go going went make made
    i'm i've i'd i'll it's that's there's we're we've you're they're don't didn't doesn't
    isn't wasn't aren't can't won't wouldn't couldn't let's think guess maybe sure
    one two three time times way ways people years year day days something anything
    everything work worked working job want wanted""".split()
)


NEVER_SAID = frozenset({
    "kaffir", "kaffirs", "nigger", "niggers", "nigga", "faggot", "faggots", "retard",
    "retards", "spic", "spics", "chink", "chinks", "kike", "kikes", "wetback", "tranny", "gook",
})  # fmt: skip
"""Slurs a recogniser can write for ordinary words (the demo's "Python and Kafka" once came
out with one): the interviewer never says them back, whatever the transcript holds."""


def words(text: str) -> list[str]:
    """Lower-case words of a text, apostrophes kept."""
    return _WORD.findall(text.lower().replace("’", "'"))


def normalise(text: str) -> str:
    """Lower-case words joined by single spaces (for whole-utterance matching)."""
    return " ".join(words(text))


class Command(StrEnum):
    """Hands-free commands, recognised only when they are the whole utterance."""

    REPEAT = "repeat"
    SKIP = "skip"
    END = "end"
    PAUSE = "pause"
    RESUME = "resume"
    SLOWER = "slower"
    FASTER = "faster"


_COMMANDS: dict[Command, tuple[str, ...]] = {
    Command.REPEAT: (
        "repeat that", "repeat", "say that again", "can you repeat that", "could you repeat that",
        "please repeat that", "repeat that please", "repeat the question", "say again",
        "sorry can you repeat that", "pardon", "come again", "could you repeat the question",
        "can you repeat the question", "can you say that again", "could you say that again",
        "say it again", "repeat the last question", "what was the question", "repeat it",
        "can you repeat it", "could you repeat it", "one more time", "what did you say",
    ),
    Command.SKIP: (
        "skip", "next question", "skip this", "skip that", "skip this question",
        "skip it", "next", "next please", "move on", "let's move on", "skip this one",
        "skip the question", "can we skip this", "let's skip this one",
    ),
    Command.END: (
        "end the interview", "end interview", "stop the interview", "end the session",
        "finish the interview", "quit", "exit", "let's end the interview",
        "end the interview now", "stop the interview now", "let's stop the interview",
        "let's stop here", "end the practice", "stop the practice",
    ),
    Command.PAUSE: ("pause", "pause the interview", "pause please", "pause for a moment",
                    "pause for a second", "pause a moment", "let's pause", "hold on a moment",
                    "paused", "let's take a break", "take a break", "can we pause"),
    Command.RESUME: ("resume", "resume the interview", "continue", "unpause", "let's continue",
                     "i'm ready", "i'm back", "let's go on", "carry on", "go on",
                     "continue the interview", "i'm ready let's continue", "let's resume",
                     "let us continue", "resumed", "let's carry on", "let's keep going",
                     "okay let's continue", "we can continue"),
    Command.SLOWER: ("slower", "slow down", "speak slower", "slower please", "speak more slowly",
                     "a bit slower", "speak a bit slower", "can you speak slower",
                     "can you speak a bit slower", "could you speak slower", "more slowly",
                     "could you speak a bit slower", "please slow down"),
    Command.FASTER: ("faster", "speed up", "speak faster", "faster please", "a bit faster",
                     "speak a bit faster", "can you speak faster"),
}
_COMMAND_LOOKUP = {phrase: cmd for cmd, phrases in _COMMANDS.items() for phrase in phrases}


_COMMAND_VERBS: dict[str, Command] = {
    "repeat": Command.REPEAT, "skip": Command.SKIP, "pause": Command.PAUSE,
    "resume": Command.RESUME,
}
"""A short utterance that starts with one of these is that command: recognisers often mishear
the rest of a two-word command ("repeat that" -> "repeat note")."""

_COMMAND_PREFIXES = (
    "okay ", "ok ", "um ", "uh ", "please ", "can we ", "could we ", "sorry ", "excuse me ",
    "i'd like to ", "i would like to ", "i want to ", "i'd like you to ", "so ", "oh ",
    "actually ", "hey ", "alright ", "right ",
)
_COMMAND_SUFFIXES = (" please", " now", " for me", " thanks", " thank you", " then")


def _strip_command_politeness(norm: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _COMMAND_PREFIXES:
            if norm.startswith(prefix):
                norm, changed = norm[len(prefix):], True
        for suffix in _COMMAND_SUFFIXES:
            if norm.endswith(suffix):
                norm, changed = norm[: -len(suffix)], True
    return norm.strip()


_SOUND_SPELLINGS = (("ph", "f"), ("ck", "k"), ("qu", "kw"), ("wh", "w"), ("x", "ks"),
                    ("z", "s"), ("'", ""))
_SOFT_C = re.compile(r"c(?=[eiy])")
_TAIL = re.compile(r"[aeiouwyhr]+$")
_SOFT_LETTERS = re.compile(r"[aeiouwyh]")


def sound_key(word: str) -> str:
    """A rough sound skeleton of one word, for recogniser near-misses.

    Consonants only; an ending in "-er", "-our", "-ora" or "-a" is one sound ``R`` (most
    English speakers drop that r, and the recogniser writes what it heard): "slower",
    "flower", "flour" and "flora" all end in ``R``; "pause", "paws" and "pose" are all "ps".
    """
    w = word.lower()
    for spelling, sound in _SOUND_SPELLINGS:
        w = w.replace(spelling, sound)
    w = _SOFT_C.sub("s", w).replace("c", "k")
    tail = _TAIL.search(w)
    ending = ""
    if tail is not None:
        run = tail.group()
        ending = "R" if "r" in run or run.endswith("a") else ""
        w = w[: tail.start()]
    w = _SOFT_LETTERS.sub("", w) + ending
    return re.sub(r"(.)\1+", r"\1", w)


_SAFE_ALONE = frozenset({Command.REPEAT, Command.PAUSE, Command.RESUME, Command.SLOWER,
                         Command.FASTER})
"""Commands a single misheard word may stand for: each is undone by another word. "Skip" and
"quit" are not: "kit" or "cat" must never end the interview or skip a question."""

_NOT_NEAR = frozenset({"pass", "post", "posts", "pays", "base", "bass", "bus", "peace",
                       "piece", "pies", "next", "text", "exit", "quiet", "quite", "prism",
                       "solar", "past"})
"""Real answers that sound like a command word (or are one word away from one)."""


_WEAK = frozenset("""please now then thanks thank you for me okay ok um uh sorry so oh actually
    hey alright right can could we i i'd like to would want excuse it that this a the on go
    just let's let me""".split())
"""Words around a command that do not vouch for a misheard one ("yes please" is not "pause
please"): with only these beside it, the odd word is judged as if said alone."""


def _sounds_like(heard: str, meant: str, support: int) -> bool:
    """Whether a heard word can be the command word meant; ``support``: 0 alone, 1 beside
    polite words only, 2 beside a command's own words ("and the interview")."""
    import difflib

    if heard in (meant + "s", meant + "d", meant + "ed"):
        return True  # "repeats", "resumed"
    key_h, key_m = sound_key(heard), sound_key(meant)
    if (key_h or heard)[-1] != (key_m or meant)[-1]:
        return False  # a different last sound: a different word, however alike the rest
    spelled = difflib.SequenceMatcher(None, heard, meant).ratio()
    sounded = difflib.SequenceMatcher(None, key_h, key_m).ratio() if key_h and key_m else 0.0
    if support == 2:
        return max(spelled, sounded) >= 0.5
    rest = iter(key_h)
    kept = all(sound in rest for sound in key_m) and len(key_h) <= len(key_m) + 1
    if support == 1:
        # "flour please", not "yes please" or "let's see"
        return kept or (sounded >= 0.6 and spelled >= 0.5 and len(heard) >= 4)
    # Nothing vouches for a word on its own: it must sound like the command, with at most one
    # more sound before it ("paws", "rezim", "presume"; not "awesome" for "resume", nor a sound
    # inside it: "Paris", "please" and "purses" are answers), and be spelled alike.
    return key_h in (key_m, key_h[:1] + key_m) and len(key_h) >= len(key_m) and spelled >= 0.5


def _near_command(norm: str, names: frozenset[str] = frozenset()) -> Command | None:
    """A short utterance one misheard word away from a command ("and the interview").

    ``names`` are words written as names (capitalised mid-sentence): never a misheard command
    word ("I'm Becky" is not "I'm back").
    """
    ws = norm.split()
    if not 1 <= len(ws) <= 5 or len(norm) < 4:
        return None
    for phrase, cmd in _COMMAND_LOOKUP.items():
        pws = phrase.split()
        if len(pws) != len(ws) or pws[0] == "i'm":
            continue  # "I'm ready", "I'm back": too close to introductions ("I'm Freddie")
        # Every word but one must match exactly; the odd one must sound alike.
        odd = [(a, b) for a, b in zip(ws, pws, strict=True) if a != b]
        if len(odd) != 1:
            continue
        heard, meant = odd[0]
        same = [w for w in ws if w != heard]
        support = 2 if any(w not in _WEAK for w in same) else (1 if same else 0)
        if heard in names or heard in _NOT_NEAR or (support < 2 and cmd not in _SAFE_ALONE):
            continue
        if _sounds_like(heard, meant, support):
            return cmd
    return None


_MISHEARD: dict[str, Command] = {"boss": Command.PAUSE, "bars": Command.PAUSE}
"""Whole one-word utterances the recognisers here make of a command word: with piper's voice,
"Pause!" came out as "Boss" in 11 of 12 Moonshine decodes (whisper tiny.en: "boss" too)."""

def _run_together(norm: str) -> Command | None:
    """A short utterance whose letters, run together, are a command's: the recogniser cut
    the words elsewhere ("let's contain you" for "let's continue")."""
    import difflib

    ws = norm.split()
    if not 2 <= len(ws) <= 4:
        return None
    joined = "".join(ws)
    for phrase, cmd in _COMMAND_LOOKUP.items():
        pws = phrase.split()
        target = "".join(pws)
        # Short phrases ("let's go", "let's use") are a letter or two from many others.
        # As many words as the phrase: the words line up, and _near_command judged them.
        if (len(pws) < 2 or len(pws) == len(ws) or min(len(target), len(joined)) < 10
                or ws[0] != pws[0] or pws[0] == "i'm"):
            continue
        # Ending or skipping on a misheard phrase costs more than pausing: it must be closer.
        needed = 0.85 if cmd in _SAFE_ALONE else 0.9
        if difflib.SequenceMatcher(None, joined, target).ratio() >= needed:
            return cmd
    return None


_EXTRA_PREFIXES = ("i like to ", "like to ", "i'd like ", "id like to ", "i would like ")
"""What recognisers make of "I'd like to" before a command ("I like to end the interview")."""


def parse_command(text: str) -> Command | None:
    """The command a whole utterance is, or None (politeness around it is allowed).

    Near-misses of the recogniser count when the utterance is short and one word is off
    ("and the interview", "flour please"); a long answer that contains a command's words
    ("... and then I paused the project") is an answer.
    """
    full = normalise(text)
    norm = _strip_command_politeness(full)
    if norm in _COMMAND_LOOKUP:
        return _COMMAND_LOOKUP[norm]
    if full in _MISHEARD:
        return _MISHEARD[full]
    ws = norm.split()
    if 1 <= len(ws) <= 2 and ws[0] in _COMMAND_VERBS:
        return _COMMAND_VERBS[ws[0]]
    if len(ws) <= 6 and ws[:1] == ["pause"]:
        return Command.PAUSE
    for prefix in _EXTRA_PREFIXES:
        # Only before a command of two words or more: "I like to skip" is about skipping.
        rest = _strip_command_politeness(full.removeprefix(prefix))
        if full.startswith(prefix) and len(rest.split()) >= 2 and rest in _COMMAND_LOOKUP:
            return _COMMAND_LOOKUP[rest]
    names = frozenset(w.lower() for w in re.findall(r"(?<=\w[ ,])[A-Z][a-z]+", text))
    return (_near_command(full, names) or _near_command(norm, names)
            or _run_together(full) or _run_together(norm))


_QUESTION_STARTS = frozenset(
    """what what's whats how how's who who's why when where which whose can could would
    will is are do does did should shall may might have has am was were isn't aren't
    don't doesn't""".split()
)
_QUESTION_PHRASES = (
    "i was wondering", "i wonder", "i'd like to know", "i would like to know", "tell me about",
    "tell me more about", "could you tell me", "can you tell me", "i'm curious", "i am curious",
    "do you know", "what about", "how about", "my question is", "i wanted to ask",
    "i'd love to know", "i would love to know", "i'd love to hear", "curious about",
)
_DECLINES = (
    "no", "nope", "no thanks", "no thank you", "nothing", "nothing else", "not really",
    "that's all", "that's it", "that is all", "that's everything", "i'm good", "i'm fine",
    "all good", "no more questions", "no questions", "i don't have any", "none",
    "i think that's it", "i think that's all", "no that's all", "no that's it",
    "no i'm good", "i don't have any questions", "i don't have any more questions",
    "no more", "not at the moment", "not right now", "i think i'm good", "that covers it",
    "that's all from me", "nothing from me", "i have no questions", "i have no more questions",
)
QUESTION_PHRASES = _QUESTION_PHRASES
_AFFIRMATIONS = ("yes", "yeah", "yep", "sure", "i do", "yes i do", "actually yes", "one more")


def is_question(text: str) -> bool:
    """Whether an utterance asks something (works without punctuation, for speech)."""
    if "?" in text:
        return True
    norm = normalise(text)
    if any(p in norm for p in _QUESTION_PHRASES):
        return True
    # A question often follows a short preamble: "yes, what is...", "so how does...".
    for clause in re.split(r"[.,;!]|\b(?:and|so|also|then|yes|yeah|okay|well)\b", text.lower()):
        ws = words(clause)
        if len(ws) >= 3 and ws[0] in _QUESTION_STARTS:
            return True
    return False


def is_decline(text: str) -> bool:
    """Whether an utterance declines to ask (more) questions."""
    norm = normalise(text)
    if not norm:
        return False
    for prefix in ("um ", "uh ", "well ", "oh ", "okay ", "ok ", "hmm "):
        if norm.startswith(prefix):
            norm = norm[len(prefix):]
    norm = norm.removesuffix(" thanks").removesuffix(" thank you").strip()
    if norm in _DECLINES or any(norm.startswith(d + " ") for d in _DECLINES if len(d) > 4):
        return True
    return norm.split()[0] in ("no", "nope", "nah") and not is_question(text)


def is_affirmation(text: str) -> bool:
    """A bare yes (to "any questions?") that is not yet the question itself."""
    return normalise(text).removesuffix(" please") in _AFFIRMATIONS


_VAGUE = (
    "i don't know", "not sure", "i'm not sure", "no idea", "it depends", "hard to say",
    "stuff like that", "things like that", "i guess", "whatever",
)


def content_words(text: str) -> list[str]:
    """Words that carry meaning (not stopwords, not fillers)."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def is_vague(text: str) -> bool:
    """An answer too short or too non-committal to move on from without a probe."""
    ws = words(text)
    if len(ws) < 8:
        return True
    norm = " ".join(ws)
    return len(content_words(text)) < 4 or (
        len(ws) < 20 and any(v in norm for v in _VAGUE)
    )


_HEAD_NOUNS = frozenset(
    """service services pipeline pipelines project projects team teams system systems platform
    app apps layer club page code tool tools job role course degree database model api apis
    company startup product products feature features migration library framework club group
    class classes team's design data work""".split()
)


_VERBS = frozenset(
    """write writes wrote use uses used do does did help helps make makes run runs try tried
    started start join joined find found keep kept take took say said see saw am is are""".split()
)


def tidy(text: str) -> str:
    """Drop a template's article before an echoed determiner: "the your team" -> "your team"."""
    return re.sub(r"\b(?:[Tt]he|[Aa]n?) (the|a|an|your|my|our|his|her|their) ", r"\1 ", text)


def _inflection_of(word: str, keyword: str) -> bool:
    """Whether ``word`` is ``keyword`` with a plural or verb ending ("pipelines", "baking")."""
    if len(keyword) < 3:
        return False
    stem = keyword[:-1] if keyword.endswith("e") else keyword
    return word in {keyword + "s", keyword + "es", stem + "ing", stem + "ed", keyword + "d"}


_PERSPECTIVE = {"your": "my", "my": "your", "our": "your", "a": "the", "an": "the",
                "mine": "yours", "i": "you",
                "me": "you", "we": "you", "us": "you", "myself": "yourself"}


def echo_phrase(text: str, keyword: str) -> str | None:
    """The user's own phrase around ``keyword``, turned to the interviewer's point of view.

    "I built a data pipeline for ..." with keyword "pipeline" -> "the data pipeline".
    """
    ws = words(text)
    kw = words(keyword)
    if not kw:
        return None
    for i in range(len(ws) - len(kw) + 1):
        if ws[i : i + len(kw)] == kw or (len(kw) == 1 and _inflection_of(ws[i], kw[0])):
            end = i + len(kw)
            start = i
            # Keep up to two modifiers before the keyword ("data pipeline", "open source project").
            while (start > 0 and i - start < 2 and ws[start - 1] not in STOPWORDS
                   and ws[start - 1] not in _CUE_WORDS and ws[start - 1] not in _VERBS
                   and not ws[start - 1].endswith("ly")):
                start -= 1
            # And one noun after it ("payments service"), unless the phrase ends there.
            if end < len(ws) and ws[end] in _HEAD_NOUNS:
                end += 1
            phrase = ws[start:end]
            if any(w in NEVER_SAID for w in phrase):
                return None
            if start > 0 and ws[start - 1] in _PERSPECTIVE and ws[start - 1] not in ("i", "we"):
                phrase = [_PERSPECTIVE[ws[start - 1]], *phrase]
            return " ".join(phrase)
    return None


@dataclass(frozen=True)
class KeyPoint:
    """A phrase an answer was about, and which answer it came from."""

    phrase: str
    answer_index: int


_CUES = (
    "worked on", "working on", "work on", "built", "build", "building", "led", "lead", "leading",
    "designed", "created", "launched", "ran", "managed", "developed", "shipped", "improved",
    "moved", "rebuilt", "wrote", "written", "fixed", "traced", "tested", "added", "set up",
    "implemented", "maintained", "owned", "introduced", "redesigned", "researched",
    "love", "loved", "enjoy", "enjoyed", "passionate about", "interested in", "excited about",
    "experience with", "experience in", "focused on", "specialise in", "specialize in",
    "responsible for", "proud of", "learned", "learnt", "studied", "volunteer", "volunteered",
    "taught", "organised", "organized", "migrated", "automated", "reduced", "increased",
)
_CUE_WORDS = frozenset(w for c in _CUES for w in c.split())
_CUE_RE = re.compile(r"\b(" + "|".join(re.escape(c) for c in _CUES) + r")\b")
_BOUNDARY = frozenset(
    "and but so because which that who when where while with for to at in on from by as "
    "after before since until or then if through into across about over under during "
    "without within using via like".split()
)


def _phrase_after(tokens: list[str], start: int, max_len: int = 6) -> list[str]:
    out: list[str] = []
    for tok in tokens[start:]:
        if tok in _BOUNDARY and out:
            break
        if tok in ("um", "uh", "like", "basically", "actually", "really"):
            continue
        out.append(tok)
        if len(out) >= max_len:
            break
    while out and out[-1] in STOPWORDS:
        out.pop()
    return out


def _interviewer_view(phrase: list[str]) -> str:
    """Refer back to the user's phrase: "a pipeline" -> "the pipeline", "my team" -> "your team"."""
    if phrase and phrase[0] in ("a", "an", "some", "this", "that"):
        phrase = ["the", *phrase[1:]]
    return " ".join(_PERSPECTIVE.get(t, t) if t in ("my", "our", "your", "me") else t
                    for t in phrase)


def _overlaps(text: str, seen: set[str]) -> bool:
    core = set(text.split()) - STOPWORDS
    for other in seen:
        other_core = set(other.split()) - STOPWORDS
        if core <= other_core or other_core <= core:
            return True
    return False


def key_points(answers: list[str], limit: int = 3) -> list[KeyPoint]:
    """Up to ``limit`` distinct phrases the answers were about, in the order they were said.

    Phrases after cue verbs ("I built ...", "I love ...") come first; otherwise the longest run
    of content words in a clause. Used by the wrap-up summary and by the feedback report.
    """
    found: list[tuple[int, int, KeyPoint]] = []  # (priority, order, point)
    seen: set[str] = set()

    def add(priority: int, phrase: list[str], idx: int) -> None:
        text = _interviewer_view(phrase)
        if text and not _overlaps(text, seen):
            seen.add(text)
            found.append((priority, len(found), KeyPoint(text, idx)))

    split = [[words(c) for c in re.split(r"[,.;:!?]+", a)] for a in answers]
    for idx, clauses in enumerate(split):
        for tokens in clauses:
            joined = " ".join(tokens)
            for m in _CUE_RE.finditer(joined):
                phrase = _phrase_after(tokens, len(joined[: m.end()].split()))
                if len(phrase) >= 2 and any(t not in STOPWORDS for t in phrase):
                    add(0, phrase, idx)
    for idx, clauses in enumerate(split):
        for tokens in clauses:
            best: list[str] = []
            run: list[str] = []
            for tok in [*tokens, "."]:
                if (tok not in STOPWORDS and tok not in _CUE_WORDS and tok not in _BOUNDARY
                        and len(tok) > 2
                        and tok.isalpha() and not tok.endswith("ly")):
                    run.append(tok)
                else:
                    best, run = (run if len(run) > len(best) else best), []
            if len(best) >= 2:
                add(1, best[:3], idx)
    chosen = sorted(found, key=lambda f: (f[0], f[1]))[:limit]
    return [p for _, _, p in sorted(chosen, key=lambda f: (f[2].answer_index, f[1]))]


def join_points(phrases: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def stem(word: str) -> str:
    """A light stem so "company's", "companies" and "company" compare equal."""
    word = word.removesuffix("'s")
    for suffix, repl in (("ies", "y"), ("ing", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


def match_score(question: str, keywords: tuple[str, ...], bank_question: str) -> float:
    """How well a user's question matches a bank entry (keywords weigh more than words)."""
    q = {stem(w) for w in content_words(question)}
    q_text = normalise(question)
    if not q:
        return 0.0
    score = 0.0
    for kw in keywords:
        kw_norm = normalise(kw)
        if kw_norm and (
            f" {kw_norm} " in f" {q_text} "
            or any(w.startswith(kw_norm) for w in q if len(kw_norm) >= 4)
        ):
            score += 2.0
    bank_words = {stem(w) for w in content_words(bank_question)}
    score += len(q & bank_words) / max(1, len(bank_words)) * 2.0
    return score
