"""The smart-turn end-of-turn model: where it is found, how it is installed, what it says."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voice_coach.errors import CoachError, EngineUnavailable
from voice_coach.listening import turn_model
from voice_coach.listening.turn_model import (
    MODEL_FILE,
    WHEEL_MEMBER,
    TurnModel,
    extract_from_wheel,
    find_model,
    load_turn_model,
    log_mel,
)


def fake_wheel(path: Path, payload: bytes | None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pipecat/__init__.py", "")
        if payload is not None:
            zf.writestr(WHEEL_MEMBER, payload)
    return path


def test_extract_refuses_a_wrong_file_and_leaves_nothing(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "pipecat_ai-0-py3-none-any.whl", b"not a model")
    with pytest.raises(CoachError, match="unexpected SHA-256"):
        extract_from_wheel(wheel, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
    empty = fake_wheel(tmp_path / "empty.whl", None)
    with pytest.raises(CoachError, match="holds no"):
        extract_from_wheel(empty, tmp_path / "models")


def test_extract_the_real_file(tmp_path: Path) -> None:
    real = find_model()
    if real is None:
        pytest.skip("smart-turn is not installed")
    wheel = fake_wheel(tmp_path / "w.whl", real.read_bytes())
    out = extract_from_wheel(wheel, tmp_path / "models")
    assert out == tmp_path / "models" / MODEL_FILE
    assert out.read_bytes() == real.read_bytes()


def test_search_order_env_first_then_home_then_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(turn_model.MODEL_ENV, str(tmp_path / "custom.onnx"))
    paths = turn_model.candidate_paths()
    assert paths[0] == tmp_path / "custom.onnx"
    assert paths[1].parent.name == "models" and paths[1].name == MODEL_FILE
    (tmp_path / "custom.onnx").write_bytes(b"x")
    assert find_model() == tmp_path / "custom.onnx"


def test_missing_model_falls_back_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(turn_model, "find_model", lambda: None)
    with pytest.raises(EngineUnavailable, match="voice-coach models download smart-turn"):
        TurnModel()
    caplog.set_level("INFO")
    assert load_turn_model() is None
    assert "endpointing by pauses and words" in caplog.text


def test_models_download_smart_turn_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_coach.cli.engines import models

    monkeypatch.setattr(turn_model, "download_model", lambda: tmp_path / MODEL_FILE)
    result = CliRunner().invoke(models, ["download", "smart-turn"])
    assert result.exit_code == 0, result.output
    assert f"installed smart-turn in {tmp_path / MODEL_FILE}" in result.output


def test_log_mel_shape_and_left_padding() -> None:
    pytest.importorskip("faster_whisper")
    short = (np.sin(np.arange(16000) / 5) * 8000).astype(np.int16)
    features = log_mel(short)
    assert features.shape == (80, 800) and features.dtype == np.float32
    # The second of sound is at the end of the 8 s window: the start is the padding floor.
    assert features[:, :100].std() < 1e-6
    assert features[:, -90:].std() > 0.01


@pytest.mark.slow
def test_real_model_hears_a_finished_sentence_from_a_cut_one() -> None:
    from tests.support.speech import synth

    model = load_turn_model()
    if model is None:
        pytest.skip("smart-turn is not installed")
    tail = np.zeros(3200, np.int16)  # the 200 ms of silence the model is asked after
    done = model.probability(np.concatenate([synth("I led the move to the new database."),
                                             tail]))
    cut = model.probability(np.concatenate([synth("I'd say the hardest part was, because"),
                                            tail]))
    assert 0.0 <= cut < 0.5 < done <= 1.0


class FakeModel:
    """Says the same probability every time, and counts the checks."""

    name = "fake"

    def __init__(self, p: float) -> None:
        self.p = p
        self.calls: list[int] = []

    def probability(self, pcm: np.ndarray) -> float:
        self.calls.append(len(pcm))
        return self.p


def wait_for_verdict(checker: turn_model.TurnChecker, ep: object) -> None:
    deadline = time.monotonic() + 5
    while ep.probability is None and time.monotonic() < deadline:
        checker.handle(ep, [])
        time.sleep(0.005)


def test_turn_checker_hands_the_verdict_to_the_endpointer() -> None:
    from tests.test_endpointer import feed, kinds
    from voice_coach.listening.endpointer import Endpointer, EventKind, Verdict

    model = FakeModel(0.9)
    checker = turn_model.TurnChecker(model)  # type: ignore[arg-type]
    ep = Endpointer()
    ep.use_turn_model(checker.enabled)
    feed(ep, "x" * 30)
    ep.set_hint("At my last job I built a data pipeline for sales reporting.")
    events = feed(ep, ".......")
    assert EventKind.TURN_CHECK in kinds(events)
    checker.handle(ep, events)
    wait_for_verdict(checker, ep)
    assert ep.probability == pytest.approx(0.9)
    assert ep.verdict() is Verdict.FINISHED
    assert model.calls[-1] == len(ep.utterance())  # asked on the answer's audio at the check
    checker.close()


def test_turn_checker_drops_a_verdict_when_speech_resumes() -> None:
    from tests.test_endpointer import feed
    from voice_coach.listening.endpointer import Endpointer, EventKind

    checker = turn_model.TurnChecker(FakeModel(0.1))  # type: ignore[arg-type]
    ep = Endpointer()
    ep.use_turn_model(True)
    feed(ep, "x" * 30)
    checker.handle(ep, feed(ep, "......."))
    resumed = feed(ep, "xx")
    assert [e.kind for e in resumed] == [EventKind.SPEECH_RESUME]
    checker.handle(ep, resumed)
    time.sleep(0.05)
    checker.handle(ep, [])
    assert ep.probability is None
    checker.close()
    assert not turn_model.TurnChecker(None).enabled
