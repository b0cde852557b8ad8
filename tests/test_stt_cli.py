"""transcribe and models commands through click's CliRunner, with a scripted recognizer."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from voice_coach.audio.format import write_wav
from voice_coach.cli import CoachGroup
from voice_coach.cli.engines import models, transcribe
from voice_coach.stt import registry
from voice_coach.stt.base import Recognizer, Transcript, Word


@click.group(cls=CoachGroup)
def group() -> None:
    """Test group registering the STT commands."""


group.add_command(transcribe)
group.add_command(models)


class ScriptedRecognizer(Recognizer):
    """Answers with the length of the audio it got."""

    name = "scripted"
    model_name = "fake"

    def transcribe(self, samples: np.ndarray) -> Transcript:  # type: ignore[type-arg]
        words = (Word("hello", 0.0, 0.5, 0.9), Word(str(len(samples)), 0.5, 1.0, 0.8))
        return Transcript(" ".join(w.text for w in words), words, self.name, self.model_name)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_COACH_HOME", str(tmp_path / "home"))


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []

    def create(name: str = "auto", model_path: object = None) -> Recognizer:
        asked.append(name)
        return ScriptedRecognizer()

    monkeypatch.setattr(registry, "create_recognizer", create)
    return asked


def _wav(tmp_path: Path, rate: int) -> Path:
    path = tmp_path / f"a{rate}.wav"
    write_wav(path, np.zeros(rate, dtype=np.int16), rate=rate)
    return path


def test_transcribe_text(tmp_path: Path, scripted: list[str]) -> None:
    wav = _wav(tmp_path, 8000)
    result = CliRunner().invoke(group, ["transcribe", str(wav), "--engine", "sphinx"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{wav}: hello 16000\n"  # resampled to 16 kHz
    assert scripted == ["sphinx"]


def test_transcribe_json(tmp_path: Path, scripted: list[str]) -> None:
    files = [_wav(tmp_path, 16000), _wav(tmp_path, 44100)]
    result = CliRunner().invoke(group, ["transcribe", *map(str, files), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["file"] for d in data] == [str(f) for f in files]
    first = data[0]
    assert first["engine"] == "scripted" and first["model"] == "fake"
    assert first["words"][0] == {"text": "hello", "start": 0.0, "end": 0.5, "confidence": 0.9}
    assert first["seconds"] >= 0


def test_transcribe_missing_file_is_one_line(tmp_path: Path, scripted: list[str]) -> None:
    result = CliRunner().invoke(group, ["transcribe", str(tmp_path / "nope.wav")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "no such audio file" in result.output
    assert scripted == []


def test_unknown_engine_is_one_line(tmp_path: Path) -> None:
    wav = _wav(tmp_path, 16000)
    result = CliRunner().invoke(group, ["transcribe", str(wav), "--engine", "kaldi"])
    assert result.exit_code == 2
    assert "unknown engine 'kaldi'" in result.output


def test_models_default_lists(tmp_path: Path) -> None:
    result = CliRunner().invoke(group, ["models"])
    assert result.exit_code == 0, result.output
    assert "whisper" in result.output and "sphinx" in result.output


def test_models_list_json() -> None:
    result = CliRunner().invoke(group, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    engines = {d["name"] for d in data if d["kind"] == "engine"}
    assert engines == {"moonshine", "vosk", "whisper", "sphinx"}
    assert sum(d["auto"] for d in data) <= 1


def test_models_json_without_list() -> None:
    result = CliRunner().invoke(group, ["models", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(
        CliRunner().invoke(group, ["models", "list", "--json"]).output
    )


def test_models_download_unknown() -> None:
    result = CliRunner().invoke(group, ["models", "download", "huge"])
    assert result.exit_code == 2
    assert "small-en" in result.output


def test_models_download_offline() -> None:
    result = CliRunner().invoke(
        group, ["models", "download", "small-en", "--url", "http://127.0.0.1:9/"]
    )
    assert result.exit_code == 2
    assert "cannot reach http://127.0.0.1:9/" in result.output
    assert "offline?" in result.output
