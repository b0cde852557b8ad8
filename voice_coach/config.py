"""Where voice-coach keeps its data, and the settings shared by its parts."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

HOME_ENV = "VOICE_COACH_HOME"


def home() -> Path:
    """The user data folder: ``$VOICE_COACH_HOME`` or the platform's user data folder."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("voice-coach", appauthor=False))


def sessions_dir() -> Path:
    """Folder holding one sub-folder per session."""
    return home() / "sessions"


def user_prompts_dir() -> Path:
    """Folder of user scenarios that add to or override the shipped ones."""
    return home() / "prompts"


def user_models_dir() -> Path:
    """Folder where ``models download`` puts speech models."""
    return home() / "models"


CACHE_ENV = "VOICE_COACH_CACHE"


def cache_dir() -> Path:
    """Folder of derived files that can be rebuilt (converted models): ``$VOICE_COACH_CACHE``,
    else under the home when ``$VOICE_COACH_HOME`` is set, else the platform's cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    if os.environ.get(HOME_ENV):
        return home() / "cache"
    return Path(platformdirs.user_cache_dir("voice-coach", appauthor=False))


def checkout_root() -> Path:
    """The folder holding the package (the checkout, for an editable install)."""
    return Path(__file__).resolve().parent.parent


def shipped_prompts_dir() -> Path:
    """Scenario files shipped with voice-coach: inside the installed package, else the checkout."""
    # A wheel carries prompts/ as voice_coach/prompts; a checkout (editable install, PYTHONPATH)
    # keeps it at the top level, its one place to be edited.
    packaged = resources.files("voice_coach") / "prompts"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return checkout_root() / "prompts"
