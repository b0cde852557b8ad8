"""Engine registry and vosk model lookup: pure functions, no engine loaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from voice_coach.errors import EngineUnavailable, UsageError
from voice_coach.stt import registry
from voice_coach.stt.vosk_engine import MODEL_ENV, find_vosk_model, looks_like_vosk_model


@pytest.mark.parametrize(
    ("vosk", "whisper", "sphinx", "expected"),
    [
        (True, True, True, "vosk"),
        (False, True, True, "whisper"),
        (False, False, True, "sphinx"),
        (True, False, False, "vosk"),
    ],
)
def test_auto_preference(vosk: bool, whisper: bool, sphinx: bool, expected: str) -> None:
    name, reason = registry.choose_engine("auto", have_vosk_model=vosk, have_whisper=whisper,
                                           have_sphinx=sphinx)
    assert name == expected
    assert reason


def test_auto_prefers_moonshine_unless_a_vosk_model_was_installed() -> None:
    assert registry.choose_engine("auto", have_whisper=True, have_sphinx=True,
                                  have_moonshine=True)[0] == "moonshine"
    # A vosk model is something the user installed on purpose: it wins.
    assert registry.choose_engine("auto", have_vosk_model=True, have_whisper=True,
                                  have_moonshine=True)[0] == "vosk"


def test_auto_with_nothing_installed() -> None:
    with pytest.raises(EngineUnavailable, match="pip install"):
        registry.choose_engine("auto")


def test_explicit_engine_is_kept() -> None:
    assert registry.choose_engine("Sphinx", have_vosk_model=True, have_whisper=True,
                                   have_sphinx=True) == ("sphinx", "requested")


def test_unknown_engine_lists_names() -> None:
    with pytest.raises(UsageError, match="vosk, whisper, sphinx"):
        registry.choose_engine("kaldi")
    with pytest.raises(UsageError):
        registry.create_recognizer("kaldi")


def test_missing_package_names_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "faster_whisper" else real(name, *a),
    )
    with pytest.raises(EngineUnavailable, match=r"pip install 'voice-coach\[whisper\]'"):
        registry.create_recognizer("whisper")
    status = {s.name: s for s in registry.available_engines()}
    assert not status["whisper"].installed


def _fake_model(folder: Path) -> Path:
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    return folder


def test_vosk_lookup_order(tmp_path: Path) -> None:
    user = tmp_path / "home" / "models"
    checkout = tmp_path / "checkout" / "models"
    user.mkdir(parents=True)
    checkout.mkdir(parents=True)
    assert find_vosk_model(None, {}, user, checkout) is None
    in_checkout = _fake_model(checkout / "vosk-model-small-en-us-0.15")
    assert find_vosk_model(None, {}, user, checkout) == in_checkout
    in_user = _fake_model(user / "small-en")
    (user / "not-a-model").mkdir()
    assert find_vosk_model(None, {}, user, checkout) == in_user
    env_model = tmp_path / "env-model"
    assert find_vosk_model(None, {MODEL_ENV: str(env_model)}, user, checkout) == env_model
    explicit = tmp_path / "explicit"
    assert find_vosk_model(explicit, {MODEL_ENV: str(env_model)}, user, checkout) == explicit


def test_looks_like_vosk_model(tmp_path: Path) -> None:
    assert not looks_like_vosk_model(tmp_path)
    (tmp_path / "final.mdl").write_bytes(b"")
    assert looks_like_vosk_model(tmp_path)


def test_vosk_without_model_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("vosk")
    from voice_coach.stt import vosk_engine

    monkeypatch.setenv("VOICE_COACH_HOME", str(tmp_path))
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.setattr(vosk_engine.config, "checkout_root", lambda: tmp_path / "none")
    with pytest.raises(EngineUnavailable, match="models download small-en"):
        vosk_engine.VoskRecognizer()
    with pytest.raises(EngineUnavailable, match="not a vosk model"):
        vosk_engine.VoskRecognizer(tmp_path)
