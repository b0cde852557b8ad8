"""How well the interviewer understands: dialogue acts, answers to questions, follow-ups.

Runs the controller (with the real spaCy + e5 analyser unless ``--rules``) on the labelled
utterances of ``bench/data/conversation.toml``: each is said at its stage of its scenario
after the stage's first line. Prints one JSON object with accuracy per category, for the
``dev`` split (used while tuning), the held-out ``test`` split and both, then a summary line.

Usage: python bench/conversation.py [--rules] [--split dev|test|all] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import ROOT, machine, stats

from voice_coach.interview import language as lang
from voice_coach.interview.controller import Controller, PromptKind, Step
from voice_coach.interview.scenario import load_scenario
from voice_coach.interview.stages import Stage
from voice_coach.interview.understanding import Analyzer, RuleAnalyzer, default_analyzer

DATA = Path(__file__).parent / "data" / "conversation.toml"
TOPICS = {
    "next_steps": ("next steps",), "why_joined": ("why I joined",),
    "career_path": ("my career path",), "tech_stack": ("tech stack", "tools"),
    "work_life_balance": ("work-life balance",), "oncall": ("on-call",),
    "management": ("my management style",), "enjoy": ("what I enjoy",),
    "work": ("what the team works on",),
}
"""Topic labels of the data set -> the ``topic`` of the shipped bank entries."""
_BACK = {"your": ("my", "our"), "you": ("i", "me", "we", "us"), "yourself": ("myself",),
         "yours": ("mine", "ours")}


def _at_stage(sid: str, stage: Stage, analyzer: Analyzer) -> Controller:
    c = Controller(load_scenario(sid), name="Jane", seed=1, analyzer=analyzer)
    c.start()
    while c.stage is not stage:
        c.respond("skip")
    return c


def _from_answer(phrase: str, answer: str) -> bool:
    """Whether the phrase, turned back to the user's point of view, is in the answer."""
    ans = " " + " ".join(lang.words(answer)) + " "
    ws = lang.words(phrase)
    if ws and ws[0] == "the":
        ws = ws[1:]
    options = [[]]  # type: list[list[str]]
    for w in ws:
        alts = (w, *_BACK.get(w, ()))
        options = [[*o, a] for o in options for a in alts][:64]
    if any(f" {' '.join(o)} " in ans for o in options if o):
        return True
    # A hobby said as a verb comes back as a noun: "I knit" -> "knitting".
    if len(ws) == 1 and ws[0].endswith("ing"):
        root = ws[0][:-3]
        return any(f" {r} " in ans for r in (root, root + "e", root[:-1]) if r)
    return False


def _wrong_perspective(phrase: str) -> bool:
    return bool(re.search(r"\b(my|our|i|me|mine|we|us)\b", phrase.lower()))


def _contains(text: str, part: str) -> bool:
    """Whether ``part`` is in ``text`` at word boundaries ("our x" is not in "your x")."""
    return re.search(r"(?<![a-z])" + re.escape(part.lower()) + r"(?![a-z])",
                     text.lower()) is not None


def _forbidden(expect: str) -> list[str]:
    return [e[1:].lower() for e in expect.split("|") if e.startswith("!")]


def _acceptable(expect: str) -> list[str]:
    return [e.lower() for e in expect.split("|") if e and not e.startswith("!")
            and ":" not in e]


def evaluate(analyzer: Analyzer, split: str, show: bool) -> dict[str, Any]:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    per_act: dict[str, Counter[str]] = defaultdict(Counter)
    prepare_s: list[float] = []
    respond_s: list[float] = []
    misses: list[str] = []
    for group in data["group"]:
        if split != "all" and group["split"] != split:
            continue
        sid = group["scenario"]
        for case in group["cases"]:
            stage_name, act, text = case[0], case[1], case[2]
            expect = case[3] if len(case) > 3 else ""
            c = _at_stage(sid, Stage(stage_name), analyzer)
            t0 = time.perf_counter()
            c.prepare(text)
            t1 = time.perf_counter()
            step: Step = c.respond(text)
            t2 = time.perf_counter()
            prepare_s.append(t1 - t0)
            respond_s.append(t2 - t1)
            said = " ".join(p.text for p in step.prompts)
            got = step.act.value if step.act else "none"
            ok_act = got == act
            if expect.startswith("cmd:"):
                ok_act = ok_act and step.command is not None and step.command.value == expect[4:]
            counts["acts"]["right" if ok_act else "wrong"] += 1
            per_act[act]["right" if ok_act else "wrong"] += 1
            if not ok_act:
                misses.append(f"ACT {act}->{got}: {text}")
            bad = [f for f in _forbidden(expect) if _contains(said, f)]
            if act != "statement" or Stage(stage_name) is Stage.YOUR_QUESTIONS:
                counts["replies_avoid_forbidden"]["right" if not bad else "wrong"] += 1
                if bad:
                    misses.append(f"FORBIDDEN {bad}: {text} -> {said}")
            if Stage(stage_name) is Stage.YOUR_QUESTIONS and act == "question" and expect:
                kind, _, want = expect.partition(":")
                src = step.answer_source or ""
                answer = next((p.text for p in step.prompts if p.kind is PromptKind.ANSWER), "")
                if kind == "bank":
                    names = TOPICS.get(want, (want,))
                    verdict = ("right" if src in {f"bank:{n}" for n in names} else
                               "honest" if src == "honest" else "wrong")
                elif kind == "facts":
                    verdict = ("right" if src in ("facts",) or (src.startswith("bank:") and
                               want.lower() in answer.lower()) else
                               "honest" if src == "honest" else "wrong")
                else:
                    verdict = ("right" if src == "honest" and want.lower() in answer.lower()
                               else "honest" if src == "honest" else "wrong")
                counts["stage4_questions"][verdict] += 1
                counts[f"stage4_{kind}"][verdict] += 1
                if verdict != "right":
                    misses.append(f"Q {verdict} want {expect} got {src}: {text} -> {answer}")
            if act == "statement" and Stage(stage_name) is not Stage.YOUR_QUESTIONS:
                fups = [p for p in step.prompts if p.kind is PromptKind.FOLLOW_UP]
                echoed = [p for p in fups if p.phrase]
                counts["statement_replies"]["phrase_followup" if echoed else
                                            "generic_followup" if fups else "moved_on"] += 1
                for p in echoed:
                    good = (_from_answer(p.phrase, text) and not _wrong_perspective(p.phrase)
                            and not any(_contains(p.text, f) for f in _forbidden(expect)))
                    counts["followups_wellformed"]["right" if good else "wrong"] += 1
                    acceptable = _acceptable(expect)
                    if acceptable:
                        hit = any(a in p.phrase.lower() for a in acceptable)
                        counts["followups_expected_phrase"]["right" if hit else "wrong"] += 1
                        if not hit:
                            misses.append(f"FOLLOWUP unexpected: {text} -> {p.text}")
                    if not good:
                        misses.append(f"FOLLOWUP bad: {text} -> {p.text}")
                if bad:
                    counts["followups_wellformed"]["wrong"] += 0  # counted above via phrase
    result: dict[str, Any] = {}
    for name, ctr in counts.items():
        total = sum(ctr.values())
        result[name] = {k: v for k, v in sorted(ctr.items())} | {
            "n": total, "accuracy": round(ctr.get("right", 0) / total, 3) if total else None}
    q = counts.get("stage4_questions", Counter())
    qn = sum(q.values())
    if qn:
        result["stage4_questions"]["right_or_honest"] = round(
            (q["right"] + q["honest"]) / qn, 3)
        result["stage4_questions"]["wrong_rate"] = round(q["wrong"] / qn, 3)
    result["acts_by_label"] = {
        a: round(c["right"] / sum(c.values()), 3) for a, c in sorted(per_act.items())}
    result["timing_s"] = {"prepare": stats(prepare_s), "respond_after_prepare": stats(respond_s)}
    if show:
        for m in misses:
            print(m, file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", action="store_true", help="the model-free fallback analyser")
    parser.add_argument("--split", choices=("dev", "test", "all"), default=None)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    analyzer: Analyzer = RuleAnalyzer() if args.rules else default_analyzer()
    t0 = time.perf_counter()
    analyzer.analyze("Hello, I'm warming up the models.")
    load_s = time.perf_counter() - t0
    splits = [args.split] if args.split else ["dev", "test", "all"]
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    held_out = {lang.normalise(c[2]) for g in data["group"] if g["split"] == "test"
                for c in g["cases"]}
    bank_texts = {lang.normalise(t) for sid in {g["scenario"] for g in data["group"]}
                  for e in load_scenario(sid).stage(Stage.YOUR_QUESTIONS).answers
                  for t in (e.question, *e.examples)}
    out: dict[str, Any] = {"analyzer": type(analyzer).__name__, "load_s": round(load_s, 2),
                           "machine": machine(),
                           "bank_texts_equal_to_held_out_utterances": len(held_out & bank_texts)}
    for split in splits:
        out[split] = evaluate(analyzer, split, args.show_misses and split == splits[0])
    print(json.dumps(out, indent=2))
    last = out[splits[-1]]
    print(f"acts {last['acts']['accuracy']}, stage-4 right-or-honest "
          f"{last.get('stage4_questions', {}).get('right_or_honest')}, wrong "
          f"{last.get('stage4_questions', {}).get('wrong_rate')}, follow-ups well-formed "
          f"{last.get('followups_wellformed', {}).get('accuracy')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
