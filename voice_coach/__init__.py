"""voice-coach: an offline, voice-driven practice interviewer."""

__version__ = "0.1.0"
