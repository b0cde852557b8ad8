"""``voice-coach doctor``: check what a voice session needs and say how to fix what is missing.

Each check is a pure function of probe results, returning a CheckResult, so the report for a
machine without PortAudio or espeak-ng is testable anywhere by swapping the probes.
"""

from __future__ import annotations

import ctypes.util
import enum
import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voice_coach import config
from voice_coach.errors import CoachError
from voice_coach.fileio import make_private_dirs
from voice_coach.stt import registry, vosk_engine

_LOGGER = logging.getLogger(__name__)


class Status(enum.Enum):
    """Outcome of one check."""

    OK = "OK"
    MISSING = "MISSING"
    WARN = "WARN"
    """Missing but optional: something still works without it."""


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str = ""
    fix: str = ""
    essential: bool = True

    @property
    def ok(self) -> bool:
        """True unless an essential check is missing."""
        return self.status is not Status.MISSING

    def line(self) -> str:
        """The report line: status, name, detail and the fix when there is a problem."""
        text = f"{self.status.value:<8} {self.name:<16} {self.detail}".rstrip()
        if self.fix and self.status is not Status.OK:
            text += f"  -> {self.fix}"
        return text


@dataclass(frozen=True)
class DeviceCounts:
    """What PortAudio reports: device counts and the default devices' names."""

    inputs: int = 0
    outputs: int = 0
    default_input: str | None = None
    default_output: str | None = None


def _probe_portaudio() -> str | None:
    """None when sounddevice imports, else the error."""
    from voice_coach.audio.devices import load_sounddevice

    try:
        load_sounddevice()
    except CoachError as exc:
        return str(exc)
    return None


def _probe_devices() -> DeviceCounts:
    """Count input and output devices (needs PortAudio)."""
    from voice_coach.audio.devices import list_devices

    devices = list_devices()
    din = next((d.name for d in devices if d.is_default_input and d.inputs), None)
    dout = next((d.name for d in devices if d.is_default_output and d.outputs), None)
    return DeviceCounts(
        inputs=sum(1 for d in devices if d.inputs > 0),
        outputs=sum(1 for d in devices if d.outputs > 0),
        default_input=din,
        default_output=dout,
    )


def _has_module(name: str) -> bool:
    """True when a module is importable, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _home_writable(path: Path) -> str | None:
    """None when a file can be created in ``path`` (created if missing), else the error."""
    try:
        make_private_dirs(path)  # 0700 whatever the umask; an existing folder stays as it is
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return f"{exc.strerror or exc}"
    return None


@dataclass(frozen=True)
class ShippedData:
    """The scenario files shipped with voice-coach, as found at run time."""

    folder: Path
    scenarios: tuple[str, ...]
    candidates: tuple[str, ...]


def _probe_shipped_data() -> ShippedData:
    """List the shipped scenario ids and scripted-candidate ids."""
    folder = config.shipped_prompts_dir()

    def ids(where: Path) -> tuple[str, ...]:
        if not where.is_dir():
            return ()
        return tuple(sorted(p.stem for p in where.glob("*.toml") if not p.name.startswith("_")))

    return ShippedData(folder, ids(folder), ids(folder / "candidates"))


def _find_turn_model() -> Path | None:
    from voice_coach.listening.turn_model import find_model

    return find_model()


@dataclass(frozen=True)
class Probes:
    """The side-effecting probes doctor uses; tests replace them."""

    which: Callable[[str], str | None] = shutil.which
    find_library: Callable[[str], str | None] = ctypes.util.find_library
    portaudio_error: Callable[[], str | None] = _probe_portaudio
    devices: Callable[[], DeviceCounts] = _probe_devices
    has_module: Callable[[str], bool] = _has_module
    vosk_models: Callable[[], list[Path]] = vosk_engine.find_vosk_models
    home: Callable[[], Path] = config.home
    moonshine_model: Callable[[], CheckResult] = field(default=lambda: check_moonshine_model())
    home_error: Callable[[Path], str | None] = _home_writable
    shipped_data: Callable[[], ShippedData] = _probe_shipped_data
    turn_model: Callable[[], Path | None] = _find_turn_model


ENGINE_LABELS = {"whisper": "faster-whisper", "sphinx": "pocketsphinx"}
"""Doctor's names for the engines: the package a user would look for."""


def check_espeak(binary: str | None, library: str | None) -> CheckResult:
    """espeak-ng: the voice of the default speaker (pyttsx3)."""
    fix = "sudo apt-get install espeak-ng"
    if binary and library:
        return CheckResult("espeak-ng", Status.OK, f"{binary} ({library})")
    if not binary and not library:
        return CheckResult("espeak-ng", Status.MISSING, "not installed", fix)
    missing = "the espeak-ng program" if not binary else "the libespeak-ng library"
    return CheckResult("espeak-ng", Status.MISSING, f"{missing} is missing", fix)


def check_portaudio(error: str | None) -> CheckResult:
    """PortAudio: every microphone and speaker goes through it."""
    if error is None:
        return CheckResult("PortAudio", Status.OK, "sounddevice loads")
    return CheckResult(
        "PortAudio", Status.MISSING, "library not found", "sudo apt-get install libportaudio2"
    )


def check_devices(counts: DeviceCounts | None, portaudio_ok: bool) -> list[CheckResult]:
    """Microphone (essential for voice practice) and speaker (optional: text is shown)."""
    if not portaudio_ok or counts is None:
        why = "unknown: PortAudio is missing"
        return [
            CheckResult("microphone", Status.MISSING, why, "install PortAudio first"),
            CheckResult("speaker", Status.WARN, why, "install PortAudio first", essential=False),
        ]
    results = []
    if counts.inputs:
        results.append(
            CheckResult(
                "microphone",
                Status.OK,
                f"{counts.inputs} input(s), default {counts.default_input!r}",
            )
        )
    else:
        results.append(
            CheckResult(
                "microphone",
                Status.MISSING,
                "no input device",
                "plug in a microphone (or check PulseAudio/PipeWire); meanwhile use "
                "`voice-coach practice --text` or `voice-coach demo`",
            )
        )
    if counts.outputs:
        results.append(
            CheckResult(
                "speaker",
                Status.OK,
                f"{counts.outputs} output(s), default {counts.default_output!r}",
                essential=False,
            )
        )
    else:
        results.append(
            CheckResult(
                "speaker",
                Status.WARN,
                "no output device: questions are shown, not spoken",
                "connect speakers or headphones",
                essential=False,
            )
        )
    return results


def check_engines(present: dict[str, bool]) -> list[CheckResult]:
    """One line per speech-to-text engine (by name); at least one is essential."""
    results = []
    for name, (_, fix) in registry.REQUIRES.items():
        ok = present.get(name, False)
        results.append(
            CheckResult(
                f"stt: {ENGINE_LABELS.get(name, name)}",
                Status.OK if ok else Status.WARN,
                "importable" if ok else "not installed",
                fix,
                essential=False,
            )
        )
    if not any(present.values()):
        results.append(
            CheckResult(
                "speech-to-text", Status.MISSING, "no engine installed", "pip install pocketsphinx"
            )
        )
    return results


def check_vosk_model(
    models: Sequence[Path], vosk_installed: bool, dirs: Sequence[Path]
) -> CheckResult:
    """A vosk model folder (optional: whisper and pocketsphinx ship their own)."""
    if models:
        return CheckResult(
            "vosk model", Status.OK, ", ".join(str(m) for m in models), essential=False
        )
    where = " or ".join(str(d) for d in dirs)
    target = dirs[0] if dirs else "models/"
    detail = "none found" + (f" in {where}" if where else "")
    if not vosk_installed:
        detail += " (vosk not installed)"
    return CheckResult(
        "vosk model",
        Status.WARN,
        detail,
        f"unpack a model from https://alphacephei.com/vosk/models into {target}",
        essential=False,
    )


def check_turn_model(path: Path | None, onnxruntime: bool) -> CheckResult:
    """The audio end-of-turn model (optional: without it pauses and words decide)."""
    if path is not None and onnxruntime:
        return CheckResult("end-of-turn", Status.OK, f"smart-turn v3.2 ({path})", essential=False)
    detail = "smart-turn model not installed" if path is None else "onnxruntime not installed"
    fix = ("voice-coach models download smart-turn" if path is None
           else "pip install 'voice-coach[whisper]'")
    return CheckResult("end-of-turn", Status.WARN,
                       detail + ": answers end by pauses and words only", fix, essential=False)


def check_scenarios(data: ShippedData) -> list[CheckResult]:
    """The shipped scenarios (every practice needs one) and the demo's scripted candidates."""
    fix = "reinstall voice-coach: its package lacks the prompts/ data"
    if data.scenarios:
        results = [CheckResult("scenarios", Status.OK, ", ".join(data.scenarios))]
    else:
        results = [CheckResult("scenarios", Status.MISSING, f"none in {data.folder}", fix)]
    if data.candidates:
        results.append(CheckResult("demo candidates", Status.OK, ", ".join(data.candidates)))
    else:
        results.append(CheckResult(
            "demo candidates", Status.MISSING, f"none in {data.folder / 'candidates'}", fix
        ))
    return results


def check_moonshine_model() -> CheckResult:
    """Moonshine's converted model: where it is, and whether its checksums hold."""
    from voice_coach.stt import moonshine_convert

    try:
        found = moonshine_convert.locate()
    except CoachError as exc:
        return CheckResult("moonshine model", Status.WARN, str(exc), essential=False)
    if not found.ready:
        return CheckResult(
            "moonshine model",
            Status.OK,
            f"not converted yet: converts on first use into {found.folder}",
            essential=False,
        )
    if not moonshine_convert.verify(found.folder, full=True):
        return CheckResult(
            "moonshine model",
            Status.WARN,
            f"{found.folder} fails its checksum",
            "remove that folder: it is converted again on next use",
            essential=False,
        )
    return CheckResult(
        "moonshine model", Status.OK, f"converted in {found.folder}", essential=False
    )


def check_home(path: Path, error: str | None) -> CheckResult:
    """The data folder must be writable: sessions are saved there."""
    if error is None:
        return CheckResult("home", Status.OK, f"{path} is writable")
    return CheckResult(
        "home",
        Status.MISSING,
        f"{path} is not writable ({error})",
        f"fix its permissions or set {config.HOME_ENV} to a writable folder",
    )


def run_checks(probes: Probes | None = None) -> list[CheckResult]:
    """Every check, in report order."""
    p = probes or Probes()
    results = [check_espeak(p.which("espeak-ng"), p.find_library("espeak-ng"))]
    pa_error = p.portaudio_error()
    results.append(check_portaudio(pa_error))
    counts: DeviceCounts | None = None
    if pa_error is None:
        try:
            counts = p.devices()
        except CoachError as exc:
            _LOGGER.debug("listing devices failed: %s", exc)
            counts = DeviceCounts()
    results.extend(check_devices(counts, pa_error is None))
    # The registry's requirements: the same packages the engines need to be created.
    present = {name: all(p.has_module(m) for m in modules)
               for name, (modules, _) in registry.REQUIRES.items()}
    results.extend(check_engines(present))
    if present.get("moonshine", False):
        results.append(p.moonshine_model())
    results.append(check_vosk_model(p.vosk_models(), present.get("vosk", False),
                                    vosk_engine.model_dirs()))
    results.extend(check_scenarios(p.shipped_data()))
    results.append(check_turn_model(p.turn_model(), p.has_module("onnxruntime")))
    home = p.home()
    results.append(check_home(home, p.home_error(home)))
    return results


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when every essential check passed, else 1."""
    return 0 if all(r.ok or not r.essential for r in results) else 1


def report(results: Sequence[CheckResult]) -> str:
    """The printable report: one line per check and a summary."""
    lines = [r.line() for r in results]
    failed = [r.name for r in results if r.essential and not r.ok]
    if failed:
        lines.append(f"voice practice is not ready: fix {', '.join(failed)}")
    else:
        lines.append("ready for voice practice")
    return os.linesep.join(lines)
