"""UNCONFIRMED markers: every one in code and README names the verify check that settles it, or a manual step.

A marker is the word ``UNCONFIRMED`` followed by its ids: ``UNCONFIRMED(verify:tokenizer-in-container)`` (a check
of ``tools.verify.checks.CHECK_IDS``) or ``UNCONFIRMED(manual:guardrail-units)`` (a row of the manual-steps table
in docs/verify.md), several separated by commas. tests/test_verify.py scans the repository at test time and
fails on a marker without a known id, so a marker added anywhere must say how it gets confirmed.

Not scanned: tests (they restate the markers of the code they test), generated files (docs/constructs.md from
docstrings, reports/, cdk.out/, *.egg-info), installed trees, and this scheme's own definition (tools/verify/,
docs/verify.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
WORD = "UNCONFIRMED"
MARKER = re.compile(r"UNCONFIRMED(?:\((?P<ids>[^)]*)\))?")
ID = re.compile(r"(?P<kind>verify|manual):(?P<id>[a-z0-9][a-z0-9-]*)")
SUFFIXES = {".py", ".md", ".json", ".yaml", ".yml", ".sh", ".js", ".ts", ".txt", ".toml", ".cfg"}
SKIP_DIRS = {".git", "node_modules", "cdk.out", "build", "dist", "reports", "tests", "__pycache__", ".pytest_cache", ".hypothesis"}
SKIP_FILES = {"docs/constructs.md", "docs/verify.md", "CHANGELOG.md"}
MANUAL_TABLE = ROOT / "docs" / "verify.md"
MANUAL_ROW = re.compile(r"^\|\s*`(?P<id>[a-z0-9][a-z0-9-]*)`\s*\|")


@dataclass(frozen=True)
class Marker:
    path: str
    line: int
    ids: tuple[tuple[str, str], ...]  # (kind, id)
    text: str


def source_files(root: Path = ROOT) -> Iterator[Path]:
    """Every scanned file, walking the tree once and pruning skipped directories (node_modules, venvs, ...)."""
    import os

    for directory, dirs, files in os.walk(root):
        rel_dir = Path(directory).relative_to(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv") and not d.endswith(".egg-info")
                         and (rel_dir / d).as_posix() != "tools/verify")
        for name in sorted(files):
            rel = (rel_dir / name).as_posix()
            if Path(name).suffix in SUFFIXES and rel not in SKIP_FILES:
                yield Path(directory) / name


def scan(root: Path = ROOT) -> list[Marker]:
    markers = []
    for path in source_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if WORD not in text:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            for m in MARKER.finditer(line):
                ids = tuple((i["kind"], i["id"]) for i in ID.finditer(m["ids"] or ""))
                markers.append(Marker(path.relative_to(root).as_posix(), n, ids, line.strip()[:200]))
    return markers


def manual_steps(path: Path = MANUAL_TABLE) -> set[str]:
    """The ids of the manual-steps table (rows ``| `id` | ... |``) in docs/verify.md."""
    if not path.exists():
        return set()
    return {m["id"] for line in path.read_text().splitlines() if (m := MANUAL_ROW.match(line))}


def unresolved(markers: list[Marker], check_ids: set[str], manual: set[str]) -> list[str]:
    """One line per marker with no id, or with an id that is neither a check nor a manual step."""
    problems = []
    for m in markers:
        if not m.ids:
            problems.append(f"{m.path}:{m.line}: UNCONFIRMED without an id (write UNCONFIRMED(verify:<check>) or "
                            f"UNCONFIRMED(manual:<step>)): {m.text}")
        for kind, ident in m.ids:
            known = check_ids if kind == "verify" else manual
            if ident not in known:
                problems.append(f"{m.path}:{m.line}: {kind}:{ident} is not a {'verify check id' if kind == 'verify' else 'manual step in docs/verify.md'}")
    return problems
