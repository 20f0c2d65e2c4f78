"""Issue 24 item 8 (first bullet): no import cycle in the proxy core. Every import of a core module by a core
module counts — top-level, inside functions, or under ``TYPE_CHECKING`` — so a cycle cannot hide behind a lazy
import (``responses`` used to import ``service`` inside ``handle`` while ``service`` imported ``responses``)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "lambda" / "invoke_proxy" / "gptoss_proxy" / "core"
PREFIX = "gptoss_proxy.core"


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in CORE.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m in modules:
        for node in ast.walk(ast.parse((CORE / f"{m}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == PREFIX:
                    graph[m] |= {a.name for a in node.names if a.name in modules}
                elif node.module.startswith(PREFIX + "."):
                    graph[m].add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                graph[m] |= {a.name.split(".")[2] for a in node.names if a.name.startswith(PREFIX + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_core_has_no_import_cycle():
    graph = _graph()
    assert {"responses", "completions", "wire", "sealed"} <= set(graph["service"])  # the graph is read, not empty
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_responses_format_never_imports_the_service():
    assert "service" not in _graph()["responses"]


def test_the_checker_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
