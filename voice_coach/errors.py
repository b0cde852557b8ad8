"""Domain exceptions; the CLI turns them into one-line messages and exit codes."""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error voice-coach reports to the user as one line."""

    exit_code = 1


class UsageError(CoachError):
    """The user asked for something that does not exist or cannot work."""

    exit_code = 2


class ScenarioError(UsageError):
    """A scenario file is missing, malformed or unknown."""


class SessionNotFound(UsageError):
    """A session id matches no session, or more than one."""


class TranscriptError(CoachError):
    """A transcript cannot be read at all."""

    exit_code = 2


class StorageError(CoachError):
    """The session folder cannot be written (full disk, read-only home)."""

    exit_code = 4


class DeviceError(CoachError):
    """No usable audio device, or one failed."""

    exit_code = 3


class EngineUnavailable(CoachError):
    """A speech engine or its model is not installed; the message says how to install it."""

    exit_code = 2


class Interrupted(CoachError):
    """Ctrl-C (or SIGTERM) stopped a session; what was said is saved."""

    exit_code = 130
