"""The replay plan (pure) and the replay loop on a NullPlayer with scripted keys."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pytest

from tests.support.replay_helpers import make_spoken_session, tone
from voice_coach.audio.format import SAMPLE_RATE, Pcm
from voice_coach.audio.playback import NullPlayer
from voice_coach.errors import EngineUnavailable, UsageError
from voice_coach.transcripts.replay import (
    Control,
    Replayer,
    ReplayItem,
    Who,
    plan_replay,
    render_text,
)
from voice_coach.transcripts.store import LoadedSession, SessionStore


class ListView:
    """Records what the replay shows."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def start_line(self, item: ReplayItem) -> None:
        self.log.append(f"start {item.turn} {item.who.value}")

    def end_line(self, item: ReplayItem) -> None:
        self.log.append(f"end {item.turn}")

    def note(self, text: str) -> None:
        self.log.append(f"note {text}")


@pytest.fixture
def session() -> LoadedSession:
    return SessionStore().load(make_spoken_session(speech=False).id)


def fake_synth(text: str) -> tuple[Pcm, int]:
    return tone(0.3, 200), SAMPLE_RATE


def test_plan_orders_turns_with_audio_and_headings(session: LoadedSession) -> None:
    plan = plan_replay(session)
    assert plan.turns == 3 and not plan.cut_short
    assert [(i.turn, i.who) for i in plan.items] == [
        (1, Who.INTERVIEWER), (1, Who.USER), (2, Who.INTERVIEWER), (2, Who.USER),
        (3, Who.INTERVIEWER), (3, Who.USER)]
    assert plan.items[0].audio == session.folder / "prompt-001.wav"
    assert plan.items[2].audio is None
    assert [i.audio.name if i.audio else None for i in plan.items[1::2]] == [
        "answer-001.wav", "answer-002.wav", "answer-003.wav"]
    assert [i.heading for i in plan.items] == [
        "Greeting and Introductions", None, None, None, "Informal Discussion", None]


def test_plan_from_and_answers_only(session: LoadedSession) -> None:
    plan = plan_replay(session, from_turn=2, answers_only=True)
    assert [(i.turn, i.who) for i in plan.items] == [(2, Who.USER), (3, Who.USER)]
    # the stage heading moves to the first line shown
    assert plan.items[0].heading == "Greeting and Introductions"
    with pytest.raises(UsageError, match="turns 1 to 3"):
        plan_replay(session, from_turn=4)


def test_render_text_numbers_turns_and_stamps_times(session: LoadedSession) -> None:
    text = render_text(plan_replay(session))
    lines = text.splitlines()
    assert lines[0] == "== Greeting and Introductions =="
    assert lines[1] == "1 [0:00] Alex Morgan: Hello Jane, tell me about yourself."
    assert lines[2].startswith("  [0:01] Jane: I am a data engineer")
    assert lines[-1] == "(session completed)"


def test_replayer_plays_everything_in_order() -> None:
    made = make_spoken_session(speech=False)
    session = SessionStore().load(made.id)
    player = NullPlayer()
    view = ListView()
    result = Replayer(plan_replay(session), player, view, synth=fake_synth, gap=0).run()
    assert not result.quit and len(result.played) == 6
    # saved prompt audio (1.2 s tone), synthesised prompts (0.3 s), the three answers
    lengths = [len(c.samples) / SAMPLE_RATE for c in player.clips]
    assert lengths == pytest.approx([1.2, 1.5, 0.3, 2.0, 0.3, 2.5], abs=0.01)
    for clip, answer in zip(list(player.clips)[1::2], made.answers, strict=True):
        assert np.array_equal(clip.samples, answer)
    assert view.log[:2] == ["start 1 interviewer", "end 1"]


def test_missing_audio_is_noted_and_replay_goes_on() -> None:
    made = make_spoken_session(speech=False, missing_audio=0)
    (made.folder / "answer-002.wav").write_bytes(b"RIFF garbage")
    session = SessionStore().load(made.id)
    player = NullPlayer()
    result = Replayer(plan_replay(session, answers_only=True), player, ListView(), gap=0).run()
    assert result.notes == ["audio answer-001.wav is missing; showing the text",
                            "audio answer-002.wav is unreadable; showing the text"]
    assert [i.turn for i in result.shown] == [1, 2, 3]
    assert [i.turn for i in result.played] == [3]


def test_no_voice_engine_falls_back_to_text(session: LoadedSession) -> None:
    def broken(text: str) -> tuple[Pcm, int]:
        raise EngineUnavailable("espeak-ng is not installed")

    result = Replayer(plan_replay(session), NullPlayer(), ListView(), synth=broken, gap=0).run()
    assert len(result.played) == 4  # saved prompt + 3 answers
    assert len([n for n in result.notes if "cannot speak" in n]) == 1


def _run_with_keys(session: LoadedSession, keys: list[tuple[float, Control]],
                   **kw: object) -> tuple[list[str], object, NullPlayer]:
    controls: queue.Queue[Control] = queue.Queue()
    player = NullPlayer(realtime=True)
    view = ListView()
    replayer = Replayer(plan_replay(session), player, view, synth=fake_synth,
                        controls=controls, gap=0.05, **kw)  # type: ignore[arg-type]

    def press() -> None:
        for delay, control in keys:
            time.sleep(delay)
            controls.put(control)

    t = threading.Thread(target=press)
    t.start()
    result = replayer.run()
    t.join()
    return view.log, result, player


def test_keys_next_previous_and_quit(session: LoadedSession) -> None:
    # n during turn 1's prompt skips to turn 2; p goes back to turn 1; q quits
    log, result, _ = _run_with_keys(session, [(0.3, Control.NEXT), (0.2, Control.PREV),
                                              (0.2, Control.QUIT)])
    starts = [line for line in log if line.startswith("start")]
    assert starts == ["start 1 interviewer", "start 2 interviewer", "start 1 interviewer"]
    assert result.quit  # type: ignore[attr-defined]


def test_pause_resumes_where_it_stopped(session: LoadedSession) -> None:
    # pause 0.5 s into the 1.2 s saved prompt, resume, then quit in the answer
    log, _, player = _run_with_keys(session, [(0.5, Control.PAUSE), (0.4, Control.PAUSE),
                                              (0.9, Control.QUIT)])
    assert "note paused (space resumes)" in log and "note resumed" in log
    first, resumed = player.clips[0], player.clips[1]
    played = first.playback.ends_at - first.playback.first_sample_at  # type: ignore[operator]
    rest = len(resumed.samples) / SAMPLE_RATE
    assert played == pytest.approx(0.5, abs=0.15)
    assert played + rest == pytest.approx(1.2, abs=0.15)

