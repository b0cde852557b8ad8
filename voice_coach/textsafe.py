"""Text safe to show and to store: one sanitiser for everything printed to a terminal.

Session files, scenario files and command-line values are untrusted: their control characters
(ESC, OSC, BEL, CR, C1 codes like CSI) must be shown, never obeyed, and text that is not valid
Unicode (an undecodable byte on standard input) must still be storable as UTF-8.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group()
    return " " if ch in "\t\r\n" else f"\\x{ord(ch):02x}"


def printable(text: str) -> str:
    """One line safe for a terminal: control characters (escape sequences, line breaks that
    would fake another speaker) are shown as ``\\xNN``, tabs and line breaks as spaces."""
    return _CONTROL.sub(_visible, valid_unicode(text))


def printable_block(text: str) -> str:
    """Several lines safe for a terminal: like :func:`printable` but line breaks and tabs kept
    (a carriage return is shown, as it could overwrite a line)."""
    return _CONTROL_KEEP_LINES.sub(_visible, valid_unicode(text))


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes, via surrogateescape) as U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(ensure_ascii=False)``) with C1 controls and lone surrogates
    written as ``\\uXXXX`` escapes: the same JSON, but nothing a terminal would obey."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
