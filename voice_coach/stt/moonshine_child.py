"""Moonshine in its own process: the session's threads never wait for its GIL or its cores.

The parent writes a segment (4-byte little-endian sample count, then int16 samples) and reads
the text back (4-byte length, then UTF-8). Asked for a niceness, the child lowers its own
priority first, so the onnxruntime threads it starts are lowered too.
"""

from __future__ import annotations

import logging
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import numpy as np

from voice_coach.audio.format import Pcm
from voice_coach.errors import CoachError

_LOGGER = logging.getLogger(__name__)
_READY = b"ready\n"


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    """Exactly ``n`` bytes, or b'' when the stream ended first."""
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


class MoonshineProcess:
    """A MoonshineModel in a child process, with the same ``transcribe``."""

    def __init__(self, encoder: Path, decoder: Path, tokenizer: Path, threads: int, nice: int):
        args = [str(encoder), str(decoder), str(tokenizer), str(threads), str(nice)]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._lock = threading.Lock()
        assert self._proc.stdout is not None
        if self._proc.stdout.readline() != _READY:
            self._proc.wait(timeout=10)
            raise CoachError(f"the Moonshine process did not start: {self._last_error()}")

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    def _last_error(self) -> str:
        """The last line the child wrote to stderr."""
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        return (err.strip().splitlines() or ["no message"])[-1]

    def transcribe(self, samples: Pcm) -> str:
        """Text of up to 64 s of audio, decoded by the child."""
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            try:
                stdin.write(struct.pack("<I", len(samples)) + samples.astype("<i2").tobytes())
                stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise CoachError(f"the Moonshine process ended: {self._last_error()}") from exc
            header = _read_exact(stdout, 4)
            if not header:
                raise CoachError(f"the Moonshine process ended: {self._last_error()}")
            return _read_exact(stdout, struct.unpack("<I", header)[0]).decode()

    def close(self) -> None:
        """Stop the child (it ends when its input closes)."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def main(argv: list[str]) -> int:
    """Child: load the model, then answer segments until the input closes."""
    from voice_coach.stt.moonshine_model import MoonshineModel

    encoder, decoder, tokenizer, threads, nice = argv
    if int(nice) > 0:
        os.nice(int(nice))
    model = MoonshineModel(Path(encoder), Path(decoder), Path(tokenizer), int(threads))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(_READY)
    stdout.flush()
    while header := _read_exact(stdin, 4):
        (count,) = struct.unpack("<I", header)
        samples = np.frombuffer(_read_exact(stdin, 2 * count), "<i2").astype(np.int16)
        text = model.transcribe(samples).encode()
        stdout.write(struct.pack("<I", len(text)) + text)
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
