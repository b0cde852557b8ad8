"""The timed process of bench/startup.py: the real CLI, stopped at the greeting's first sample.

A file of its own so that the benchmark's own imports (argparse, statistics...) are not timed:
it imports only what it needs to hook the player.

Usage (by bench/startup.py): python bench/_startup_child.py COMMAND ENGINE null|device TTS
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from typing import Any


def child(command: str, engine: str, player_mode: str, tts: str) -> None:
    """Run the command; exit at the greeting's first sample, printing the wall time."""
    began_imports = time.time()
    from voice_coach.audio import playback
    from voice_coach.session import demo  # noqa: F401 - the session's imports, timed

    imported = time.time()

    def report(_pb: Any) -> None:
        print(json.dumps({"first_sample_wall": time.time(), "imports_s": imported - began_imports,
                          "imported_wall": imported}), flush=True)
        os._exit(0)

    if player_mode == "device":
        real_open = playback.open_player

        def open_device(device: Any = None, **kw: Any) -> Any:
            player = real_open(device, **kw)
            real_play = player.play

            def play(samples: Any, rate: int, on_first_sample: Any = None) -> Any:
                return real_play(samples, rate, report)

            player.play = play  # type: ignore[method-assign]
            return player

        playback.open_player = open_device  # type: ignore[assignment]
    else:

        class FirstSamplePlayer(playback.NullPlayer):
            def play(self, samples: Any, rate: int, on_first_sample: Any = None) -> Any:
                return super().play(samples, rate, report)

        playback.open_player = lambda *a, **k: FirstSamplePlayer(realtime=True)  # type: ignore
    # The command as a user runs it (``python -m voice_coach demo``), through its entry point.
    sys.argv = ["voice-coach", command, "--engine", engine, "--tts", tts, "--no-audio"]
    runpy.run_module("voice_coach", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    child(*sys.argv[1:5])
