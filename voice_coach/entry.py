"""The console-script entry point: Ctrl-C at any moment, even while importing, is one line.

It imports nothing heavy itself, so the handler is in place before click, numpy and the
commands load (an interrupt there used to print a KeyboardInterrupt traceback).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line; an interrupt before the commands take over exits 130 quietly."""
    try:
        from voice_coach.cli import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("voice-coach: interrupted\n")
        sys.exit(130)
