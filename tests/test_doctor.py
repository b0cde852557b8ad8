"""doctor: pure checks, simulated machines without PortAudio or espeak-ng, and the CLI command."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voice_coach import doctor
from voice_coach.cli.engines import devices as devices_cmd
from voice_coach.cli.engines import doctor as doctor_cmd
from voice_coach.doctor import DeviceCounts, Probes, Status
from voice_coach.stt import vosk_engine


def healthy(tmp_path: Path) -> Probes:
    return Probes(
        which=lambda name: f"/usr/bin/{name}",
        find_library=lambda name: f"lib{name}.so.1",
        portaudio_error=lambda: None,
        devices=lambda: DeviceCounts(2, 2, "default", "default"),
        has_module=lambda name: True,
        vosk_models=lambda: [tmp_path / "vosk-model-small-en-us"],
        home=lambda: tmp_path,
        home_error=lambda path: None,
        shipped_data=lambda: doctor.ShippedData(tmp_path, ("coffee-chat",), ("coffee-chat",)),
        turn_model=lambda: tmp_path / "smart-turn-v3.2-cpu.onnx",
    )


def by_name(results: list[doctor.CheckResult]) -> dict[str, doctor.CheckResult]:
    return {r.name: r for r in results}


def test_healthy_machine_passes(tmp_path: Path) -> None:
    results = doctor.run_checks(healthy(tmp_path))
    assert all(r.status is Status.OK for r in results)
    assert doctor.exit_code(results) == 0
    assert doctor.report(results).splitlines()[-1] == "ready for voice practice"


def test_machine_without_portaudio_or_espeak(tmp_path: Path) -> None:
    probes = dataclasses.replace(
        healthy(tmp_path),
        which=lambda name: None,
        find_library=lambda name: None,
        portaudio_error=lambda: "PortAudio is missing: sudo apt-get install libportaudio2",
        devices=lambda: pytest.fail("devices must not be probed without PortAudio"),
    )
    results = by_name(doctor.run_checks(probes))
    assert results["espeak-ng"].status is Status.MISSING
    assert "sudo apt-get install espeak-ng" in results["espeak-ng"].line()
    assert results["PortAudio"].status is Status.MISSING
    assert "sudo apt-get install libportaudio2" in results["PortAudio"].line()
    assert results["microphone"].status is Status.MISSING
    report = doctor.report(list(results.values()))
    assert "fix espeak-ng, PortAudio, microphone" in report
    assert doctor.exit_code(list(results.values())) == 1


def test_no_devices_and_only_optional_things_missing(tmp_path: Path) -> None:
    probes = dataclasses.replace(
        healthy(tmp_path),
        devices=lambda: DeviceCounts(0, 0),
        has_module=lambda name: name == "pocketsphinx",
        vosk_models=lambda: [],
    )
    results = by_name(doctor.run_checks(probes))
    mic = results["microphone"]
    assert mic.status is Status.MISSING and "voice-coach practice --text" in mic.fix
    assert results["speaker"].status is Status.WARN  # optional: questions are shown as text
    assert results["stt: vosk"].status is Status.WARN
    assert results["vosk model"].status is Status.WARN
    assert "speech-to-text" not in results  # pocketsphinx is enough
    assert doctor.exit_code(list(results.values())) == 1  # only because of the microphone


def test_no_engine_and_unwritable_home(tmp_path: Path) -> None:
    probes = dataclasses.replace(
        healthy(tmp_path),
        has_module=lambda name: False,
        home_error=lambda path: "Read-only file system",
    )
    results = by_name(doctor.run_checks(probes))
    assert results["speech-to-text"].status is Status.MISSING
    assert results["home"].status is Status.MISSING
    assert "VOICE_COACH_HOME" in results["home"].fix
    assert doctor.exit_code(list(results.values())) == 1


def test_missing_turn_model_is_optional_and_says_how_to_get_it(tmp_path: Path) -> None:
    probes = dataclasses.replace(healthy(tmp_path), turn_model=lambda: None)
    results = by_name(doctor.run_checks(probes))
    line = results["end-of-turn"].line()
    assert results["end-of-turn"].status is Status.WARN
    assert "pauses and words only" in line and "voice-coach models download smart-turn" in line
    assert doctor.exit_code(list(results.values())) == 0


def test_espeak_program_without_library() -> None:
    r = doctor.check_espeak("/usr/bin/espeak-ng", None)
    assert r.status is Status.MISSING and "libespeak-ng" in r.detail


def test_find_vosk_models(tmp_path: Path) -> None:
    (tmp_path / "a" / "vosk-model-en" / "am").mkdir(parents=True)
    (tmp_path / "a" / "not-a-model").mkdir()
    (tmp_path / "b" / "other" / "conf").mkdir(parents=True)
    found = vosk_engine.find_vosk_models([tmp_path / "a", tmp_path / "b", tmp_path / "missing"])
    assert [p.name for p in found] == ["vosk-model-en", "other"]


def test_home_writable_probe(tmp_path: Path) -> None:
    assert doctor._home_writable(tmp_path / "new" / "home") is None


def test_doctor_command_exit_code_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = doctor.run_checks
    monkeypatch.setattr(doctor, "run_checks", lambda: original(healthy(tmp_path)))
    result = CliRunner().invoke(doctor_cmd, [])
    assert result.exit_code == 0, result.output
    assert "OK       espeak-ng" in result.output
    broken = dataclasses.replace(healthy(tmp_path), portaudio_error=lambda: "x")
    monkeypatch.setattr(doctor, "run_checks", lambda: original(broken))
    result = CliRunner().invoke(doctor_cmd, ["--json"])
    assert result.exit_code == 1
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["PortAudio"]["status"] == "MISSING"
    assert rows["PortAudio"]["fix"] == "sudo apt-get install libportaudio2"


def test_devices_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.fake_sounddevice import FakeSoundDevice, device
    from voice_coach.audio import devices

    sd = FakeSoundDevice(devices=[device(0, "mic", 1, 0), device(1, "spk", 0, 2)], default=(0, 1))
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    out = CliRunner().invoke(devices_cmd, []).output
    assert "Input devices:\n *  0  mic" in out
    assert "Output devices:\n *  1  spk" in out
    rows = json.loads(CliRunner().invoke(devices_cmd, ["--json"]).output)
    assert rows[0]["is_default_input"] and rows[1]["is_default_output"]


def test_missing_scenario_data_is_reported(tmp_path: Path) -> None:
    probes = dataclasses.replace(
        healthy(tmp_path), shipped_data=lambda: doctor.ShippedData(tmp_path / "gone", (), ())
    )
    results = by_name(doctor.run_checks(probes))
    assert results["scenarios"].status is Status.MISSING
    assert results["demo candidates"].status is Status.MISSING
    assert "reinstall" in results["scenarios"].fix
    assert doctor.exit_code(list(results.values())) == 1


def test_shipped_data_is_found_from_the_checkout() -> None:
    found = doctor.Probes().shipped_data()
    assert "coffee-chat" in found.scenarios and "coffee-chat" in found.candidates
