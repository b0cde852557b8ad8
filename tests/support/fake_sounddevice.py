"""A scripted stand-in for the sounddevice module: devices, and streams driven by the test."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np


class PortAudioError(Exception):
    """Same name as sounddevice's."""


class CallbackFlags:
    """Minimal sounddevice.CallbackFlags."""

    def __init__(self, flags: int = 0) -> None:
        self._flags = flags

    @property
    def input_overflow(self) -> bool:
        return bool(self._flags & 2)

    @property
    def output_underflow(self) -> bool:
        return bool(self._flags & 4)


def device(
    index: int, name: str, inputs: int, outputs: int, rate: float = 48000.0
) -> dict[str, Any]:
    """A device dict shaped like sounddevice.query_devices() entries."""
    return {
        "index": index,
        "name": name,
        "hostapi": 0,
        "max_input_channels": inputs,
        "max_output_channels": outputs,
        "default_samplerate": rate,
    }


class FakeStream:
    """Records its arguments; the test calls ``push``/``pull`` to drive the callback."""

    def __init__(self, module: FakeSoundDevice, **kwargs: Any) -> None:
        self.module = module
        self.kwargs = kwargs
        if kwargs["samplerate"] not in module.supported_rates:
            raise PortAudioError("Invalid sample rate")
        self.active = False
        self.closed = False
        self.latency = 0.01
        module.streams.append(self)

    def start(self) -> None:
        self.active = True

    def abort(self, ignore_errors: bool = True) -> None:
        self.active = False

    def close(self, ignore_errors: bool = True) -> None:
        self.closed = True

    def push(self, samples: np.ndarray, flags: int = 0) -> None:
        """Deliver input samples (int16, mono) to the input callback in one block."""
        data = np.asarray(samples, dtype="<i2")
        if self.kwargs["channels"] > 1:
            data = np.repeat(data[:, None], self.kwargs["channels"], axis=1)
        self.kwargs["callback"](data.tobytes(), len(samples), None, CallbackFlags(flags))

    def pull(self, frames: int) -> np.ndarray:
        """Ask the output callback for ``frames`` frames."""
        out = np.full((frames, self.kwargs["channels"]), 99, dtype=np.int16)
        info = SimpleNamespace(outputBufferDacTime=0.0, currentTime=0.0)
        self.kwargs["callback"](out, frames, info, CallbackFlags(0))
        return out

    def die(self) -> None:
        """The device vanished: PortAudio calls finished_callback."""
        self.active = False
        self.kwargs["finished_callback"]()


class FakeSoundDevice:
    """Module-like object with the sounddevice API voice_coach uses."""

    PortAudioError = PortAudioError
    CallbackFlags = CallbackFlags

    def __init__(
        self,
        devices: list[dict[str, Any]] | None = None,
        default: tuple[int, int] = (0, 0),
        supported_rates: tuple[int, ...] = (16000, 44100, 48000),
    ) -> None:
        self.devices = devices if devices is not None else [device(0, "fake", 2, 2)]
        self.default = SimpleNamespace(device=list(default))
        self.supported_rates = supported_rates
        self.streams: list[FakeStream] = []

    def query_devices(self, device: int | None = None, kind: str | None = None) -> Any:
        if device is None and kind is None:
            return list(self.devices)
        if device is None:
            device = self.default.device[0 if kind == "input" else 1]
        if device is None or device < 0 or device >= len(self.devices):
            raise PortAudioError(f"Error querying device {device}")
        return self.devices[device]

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "Fake"}]

    def RawInputStream(self, **kwargs: Any) -> FakeStream:
        return FakeStream(self, **kwargs)

    def OutputStream(self, **kwargs: Any) -> FakeStream:
        return FakeStream(self, **kwargs)
