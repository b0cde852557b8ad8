"""Scenario templates: ``{name}``-style placeholders filled once, with values taken as data.

Only plain placeholders of known names are replaced (no format specs, no indexes, no
attributes); ``{{`` and ``}}`` stand for literal braces. A value is inserted as it is and
never read as a template itself, so a name like ``{0}`` or ``{name:>9999999}`` is just text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{key}`` of ``values`` in one pass; other braces stay as written."""

    def one(m: re.Match[str]) -> str:
        token = m.group()
        if token in ("{{", "}}"):
            return token[0]
        key = m.group(1)
        if key is not None and key in values:
            return str(values[key])
        return token

    return _TOKEN.sub(one, template)


def problems(template: str, allowed: Iterable[str]) -> list[str]:
    """What is wrong with a template: unknown placeholders, format specs, stray braces."""
    known = set(allowed)
    out: list[str] = []
    for m in _TOKEN.finditer(template):
        token = m.group()
        if token in ("{{", "}}"):
            continue
        key = m.group(1)
        if key is None:
            out.append(f"a lone '{token}' (write {token}{token} for a brace)")
        elif not _NAME.match(key):
            out.append(f"bad placeholder {token!r}: only plain names like {{name}} are allowed")
        elif key not in known:
            out.append(f"unknown placeholder {{{key}}}")
    return out
