"""The layout holds: no import cycles, the CLI is a leaf, the interview domain is pure."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "voice_coach"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every voice_coach module a file imports (at any depth: lazy imports count too)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Imports only for the type checker do not run, so they make no cycle.
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.split(".")[0] == "voice_coach"}


def graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (names that are not modules dropped)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in imports(path) if i in files and i != name}
            for name, path in files.items()}


def test_no_import_cycles() -> None:
    edges = graph()
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    for name in edges:
        edges[name] = {i for i in edges[name] if not i.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, cycles


def test_cli_is_imported_by_no_library_code_or_benchmark() -> None:
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *(REPO / "bench").glob("*.py")]:
        name = module_name(path)
        if name.startswith("voice_coach.cli") or name in ("voice_coach.__main__",
                                                          "voice_coach.entry"):
            continue
        if any(i == "voice_coach.cli" or i.startswith("voice_coach.cli.") for i in imports(path)):
            offenders.append(name)
    assert not offenders


def test_interview_domain_is_pure() -> None:
    """interview/ runs no sessions: no devices, engines, store or session code."""
    allowed = ("voice_coach.interview", "voice_coach.errors", "voice_coach.config")
    # "voice_coach" alone is the package itself, from ``from voice_coach import config``.
    for path in (PACKAGE / "interview").glob("*.py"):
        bad = [i for i in imports(path) if i != "voice_coach" and not i.startswith(allowed)]
        assert not bad, (path.name, bad)
