"""Audio devices through sounddevice (PortAudio): lazy loading, listing, choosing, clear errors."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, Literal

from voice_coach.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

Kind = Literal["input", "output"]

PORTAUDIO_MISSING = "PortAudio is missing: sudo apt-get install libportaudio2"
NO_MICROPHONE = "no microphone found: try `voice-coach practice --text` or `voice-coach demo`"
NO_SPEAKER = "no audio output device found: try `voice-coach practice --text` or `voice-coach demo`"


class PortAudioMissing(DeviceError):
    """The PortAudio shared library cannot be loaded."""


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a one-line DeviceError."""
    try:
        import sounddevice
    except OSError as exc:
        # sounddevice raises OSError("PortAudio library not found") when libportaudio2 is absent.
        raise PortAudioMissing(PORTAUDIO_MISSING) from exc
    _quiet_alsa()
    module: ModuleType = sounddevice
    return module


_ALSA_HANDLER: Any = None


def _quiet_alsa() -> None:
    """Send libasound's own stderr chatter ("underrun occurred") to nowhere, once.

    ALSA prints these from C, past Python's logging; an underrun between two clips is harmless
    and the terminal belongs to the conversation.
    """
    global _ALSA_HANDLER
    if _ALSA_HANDLER is not None:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if not name:
        _ALSA_HANDLER = False
        return
    try:
        lib = ctypes.CDLL(name)
        # The handler is variadic in C; a fixed prototype that ignores its arguments is safe.
        handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                        ctypes.c_int, ctypes.c_char_p)
        _ALSA_HANDLER = handler_type(lambda *args: None)
        lib.snd_lib_error_set_handler(_ALSA_HANDLER)
    except (OSError, AttributeError) as exc:
        _LOGGER.debug("cannot silence ALSA messages: %s", exc)
        _ALSA_HANDLER = False


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device as the user sees it."""

    index: int
    name: str
    inputs: int
    """Maximum input channels."""
    outputs: int
    """Maximum output channels."""
    default_samplerate: float
    """The device's preferred rate in Hz."""
    is_default_input: bool = False
    is_default_output: bool = False
    hostapi: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def _default_indices(sd: ModuleType) -> tuple[int, int]:
    """(default input, default output) indices; -1 when none."""
    try:
        dev = sd.default.device
        return int(dev[0]), int(dev[1])
    except Exception:  # a broken PortAudio state should still list what it can
        return -1, -1


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees, with the defaults marked."""
    sd = load_sounddevice()
    default_in, default_out = _default_indices(sd)
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}") from exc
    result = []
    for d in raw:
        idx = int(d["index"])
        try:
            hostapi = str(hostapis[int(d["hostapi"])]["name"])
        except (IndexError, KeyError, TypeError):
            hostapi = ""
        result.append(
            DeviceInfo(
                index=idx,
                name=str(d["name"]),
                inputs=int(d["max_input_channels"]),
                outputs=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                is_default_input=idx == default_in,
                is_default_output=idx == default_out,
                hostapi=hostapi,
            )
        )
    return result


def _channels(dev: DeviceInfo, kind: Kind) -> int:
    return dev.inputs if kind == "input" else dev.outputs


def resolve_device(spec: str | int | None, kind: Kind) -> int | None:
    """Turn an index, an index as text or a name substring into a device index.

    ``None`` or an empty string means the system default (returned as ``None``).
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    devices = [d for d in list_devices() if _channels(d, kind) > 0]
    if not devices:
        raise DeviceError(NO_MICROPHONE if kind == "input" else NO_SPEAKER)
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        if any(d.index == index for d in devices):
            return index
        raise DeviceError(f"no {kind} device with index {index}: see `voice-coach devices`")
    needle = spec.strip().lower()
    matches = [d for d in devices if needle in d.name.lower()]
    exact = [d for d in matches if d.name.lower() == needle]
    if exact:
        return exact[0].index
    if len(matches) == 1:
        return matches[0].index
    if not matches:
        raise DeviceError(f"no {kind} device matches {spec!r}: see `voice-coach devices`")
    names = ", ".join(f"{d.index}: {d.name}" for d in matches)
    raise DeviceError(f"{spec!r} matches several {kind} devices ({names}): pick one by index")


def _require(spec: str | int | None, kind: Kind, missing: str) -> DeviceInfo:
    sd = load_sounddevice()
    index = resolve_device(spec, kind)
    try:
        info = (
            sd.query_devices(index, kind=kind) if index is not None else sd.query_devices(kind=kind)
        )
    except (sd.PortAudioError, ValueError) as exc:
        # "Error querying device -1": PortAudio has no default device of this kind.
        _LOGGER.debug("no %s device: %s", kind, exc)
        raise DeviceError(missing) from exc
    channels = int(info["max_input_channels" if kind == "input" else "max_output_channels"])
    if channels < 1:
        raise DeviceError(missing)
    idx = int(info["index"])
    default_in, default_out = _default_indices(sd)
    return DeviceInfo(
        index=idx,
        name=str(info["name"]),
        inputs=int(info["max_input_channels"]),
        outputs=int(info["max_output_channels"]),
        default_samplerate=float(info["default_samplerate"]),
        is_default_input=idx == default_in,
        is_default_output=idx == default_out,
    )


def require_input(spec: str | int | None = None) -> DeviceInfo:
    """The input device to record from; DeviceError (exit 3) with one line when there is none."""
    return _require(spec, "input", NO_MICROPHONE)


def require_output(spec: str | int | None = None) -> DeviceInfo:
    """The output device to play to; DeviceError (exit 3) with one line when there is none."""
    return _require(spec, "output", NO_SPEAKER)


def has_output(spec: str | int | None = None) -> bool:
    """True when an output device is usable (so the caller can fall back to a NullPlayer)."""
    try:
        require_output(spec)
    except DeviceError:
        return False
    return True
