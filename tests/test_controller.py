"""The stage controller, driven with typed answers (pure: no I/O)."""

from __future__ import annotations

import pytest

from tests.test_scenarios import SHIPPED
from voice_coach.interview.candidate import load_candidate, plain
from voice_coach.interview.controller import (
    Controller,
    EndReason,
    Prompt,
    PromptKind,
    StageStart,
    Step,
)
from voice_coach.interview.language import Command
from voice_coach.interview.scenario import load_scenario
from voice_coach.interview.stages import STAGE_ORDER, Stage


def run_script(controller: Controller, answers: list[str]) -> list[Step]:
    steps = [controller.start()]
    for a in answers:
        if controller.finished:
            break
        steps.append(controller.respond(a))
    return steps


def lines(steps: list[Step]) -> list[Prompt]:
    return [p for s in steps for p in s.prompts]


def stages(steps: list[Step]) -> list[Stage]:
    return [e.stage for s in steps for e in s.events if isinstance(e, StageStart)]


def run_candidate(sid: str, seed: int = 1) -> tuple[Controller, list[Step]]:
    controller = Controller(load_scenario(sid), name="Jane", seed=seed)
    candidate = load_candidate(sid)
    steps = [controller.start()]
    for _ in range(60):
        if controller.finished:
            break
        last = steps[-1].prompts[-1].text if steps[-1].prompts else ""
        steps.append(controller.respond(plain(candidate.answer(controller.stage, last))))
    return controller, steps


@pytest.mark.parametrize("sid", SHIPPED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_scenario_end_to_end(sid: str, seed: int) -> None:
    controller, steps = run_candidate(sid, seed)
    assert controller.finished and controller.end_reason is EndReason.COMPLETED
    assert stages(steps) == list(STAGE_ORDER)
    said = lines(steps)
    assert said[-1].kind is PromptKind.CLOSING and "Jane" in said[-1].text
    assert any(p.kind is PromptKind.FOLLOW_UP for p in said)
    assert any(p.kind is PromptKind.ANSWER for p in said)
    assert any(p.kind is PromptKind.SUMMARY for p in said)
    texts = [p.text for p in said if p.kind in (PromptKind.MAIN, PromptKind.SUMMARY)]
    assert len(texts) == len(set(texts)), "a main prompt was repeated"


def test_same_seed_same_conversation() -> None:
    a = [p.text for p in lines(run_candidate("informational-interview", 7)[1])]
    b = [p.text for p in lines(run_candidate("informational-interview", 7)[1])]
    assert a == b


def test_coffee_chat_acceptance_flow() -> None:
    _, steps = run_candidate("coffee-chat")
    said = lines(steps)
    assert said[0].text.startswith("Hello, it's great to meet you, Jane.")
    echo = [p.text for p in said if p.text.startswith("You mentioned the data pipeline")]
    assert echo, "no follow-up echoed the user's words"
    answers = [p.text for p in said if p.kind is PromptKind.ANSWER]
    assert any("goal for Insights" in a for a in answers)
    summary = next(p.text for p in said if p.kind is PromptKind.SUMMARY)
    assert "data pipeline" in summary
    assert said[-1].text.endswith("Thank you for your time, Jane. We'll be in touch soon.")


def test_briefing_comes_first() -> None:
    step = Controller(load_scenario(None), name="Jo", briefing=True).start()
    first = step.events[0]
    assert isinstance(first, Prompt) and first.kind is PromptKind.BRIEFING
    assert isinstance(step.events[1], StageStart)


def test_short_answer_is_probed_and_empty_rephrased() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    first = c.start().prompts[-1].text
    probe = c.respond("Hi.").prompts[-1]
    assert probe.kind is PromptKind.FOLLOW_UP and "?" in probe.text
    c2 = Controller(load_scenario(None), name="Jo", seed=1)
    c2.start()
    again = c2.respond("").prompts[-1]
    assert again.kind is PromptKind.FOLLOW_UP and first.split("?")[0][-20:] in again.text
    # A second empty answer moves on rather than looping.
    moved = c2.respond("")
    assert any(isinstance(e, StageStart) for e in moved.events) or moved.prompts[-1].kind is (
        PromptKind.MAIN)


def test_followup_limit_per_stage() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    c.start()
    long = "I built a data pipeline and a dashboard with my team, it was a great project."
    kinds = []
    while c.stage is not Stage.DISCUSSION:
        c.respond(long)
    for _ in range(8):
        if c.stage is not Stage.DISCUSSION:
            break
        kinds += [p.kind for p in c.respond(long).prompts]
    assert kinds.count(PromptKind.FOLLOW_UP) <= c.scenario.stage(Stage.DISCUSSION).max_followups


def test_commands() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    first = c.start().prompts[-1]
    rep = c.respond("Repeat that, please")
    assert rep.command is Command.REPEAT
    assert rep.prompts[-1].text == first.text and rep.prompts[-1].repeat
    skip = c.respond("next question")
    assert skip.command is Command.SKIP
    assert any(isinstance(e, StageStart) and e.stage is Stage.ICEBREAKERS for e in skip.events)
    pause = c.respond("pause")
    assert pause.command is Command.PAUSE and not pause.events
    end = c.respond("end the interview")
    assert end.finished and end.end_reason is EndReason.STOPPED
    assert "Thank you for your time, Jo" in end.prompts[-1].text
    assert c.respond("hello?").events == ()


def test_command_inside_sentence_is_an_answer() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    c.start()
    step = c.respond("I like to skip breakfast and repeat that every day with my running club.")
    assert step.command is None


def _to_questions(c: Controller) -> None:
    c.start()
    while c.stage is not Stage.YOUR_QUESTIONS:
        c.respond("skip")


def test_questions_answered_from_bank_until_decline() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    _to_questions(c)
    step = c.respond("so what is the team like")
    assert [p.kind for p in step.prompts] == [PromptKind.ANSWER, PromptKind.FOLLOW_UP]
    assert "six of us" in step.prompts[0].text
    unknown = c.respond("What's the parking situation at the office building?")
    assert unknown.prompts[0].kind is PromptKind.ANSWER
    done = c.respond("no thanks, that's all")
    assert c.stage is Stage.WRAP_UP
    assert any(p.kind is PromptKind.SUMMARY for p in done.prompts)


def test_unmatched_question_gets_an_honest_answer_naming_its_topic() -> None:
    # Was: the generic answer word for word ("Good question. ..."); issue 12 calls a generic
    # reply repeated word for word wrong: it must name the topic and vary.
    c = Controller(load_scenario(None), name="Jo", seed=1)
    _to_questions(c)
    step = c.respond("Do you have a favourite colour?")
    assert step.prompts[0].kind is PromptKind.ANSWER and step.answer_source == "honest"
    assert "colour" in step.prompts[0].text
    other = c.respond("What's the parking like at your office?")
    assert other.answer_source == "honest" and "parking" in other.prompts[0].text
    assert other.prompts[0].text.replace("the parking", "X") != step.prompts[0].text.replace(
        "favourite colour", "X")


def test_statement_in_questions_stage_invites_a_question() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    _to_questions(c)
    step = c.respond("I really enjoyed this conversation")
    assert c.stage is Stage.YOUR_QUESTIONS
    assert "anything you'd like to ask" in step.prompts[0].text


def test_questions_are_capped() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    _to_questions(c)
    for _ in range(10):
        c.respond("What is the team like?")
    assert c.stage is Stage.WRAP_UP


def test_wrap_up_without_answers_still_closes() -> None:
    c = Controller(load_scenario(None), name="Jo", seed=1)
    c.start()
    while c.stage is not Stage.WRAP_UP:
        c.respond("skip")
    step = c.respond("Thanks!")
    assert step.finished and step.end_reason is EndReason.COMPLETED
    assert step.prompts[-1].text.endswith("Thank you for your time, Jo. We'll be in touch soon.")
