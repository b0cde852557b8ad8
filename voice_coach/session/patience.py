"""How long this user thinks in mid-answer pauses, kept from one session to the next.

The endpointer raises its patience when the user goes on after a pause it took as the end;
the value is stored in the user's voice-coach home (file 0600, folder 0700) when a session ends
and starts the next one. So is whether any answer was heard: a user heard before is not new,
and their first answer is not held to a new user's long wait.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from voice_coach import config
from voice_coach.fileio import write_private
from voice_coach.listening.endpointer import Endpointer

_LOGGER = logging.getLogger(__name__)

FILE = "turn-taking.json"


def patience_path() -> Path:
    """Where the per-user turn-taking values live."""
    return config.home() / FILE


def load_patience(endpointer: Endpointer, path: Path | None = None) -> None:
    """Start the endpointer from the stored values (nothing stored or unreadable: defaults)."""
    path = path or patience_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        endpointer.set_patience(float(data.get("patience", 0.0)),
                                int(data.get("min_words", 0)), int(data.get("answers", 0)) > 0)
    except FileNotFoundError:
        return
    except (OSError, ValueError, TypeError, AttributeError, OverflowError,
            RecursionError) as exc:
        _LOGGER.warning("ignoring %s: %s", path, exc)


def save_patience(endpointer: Endpointer, path: Path | None = None) -> None:
    """Store the endpointer's learnt values for the next session (best effort)."""
    path = path or patience_path()
    data = {"patience": round(endpointer.patience, 2), "min_words": endpointer.min_words,
            "answers": endpointer.answers}
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        write_private(path, json.dumps(data) + os.linesep)
    except OSError as exc:
        _LOGGER.warning("could not store turn-taking values in %s: %s", path, exc)
