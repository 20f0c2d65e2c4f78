"""The stamp every generated artifact carries (reports, CSVs, the register, the index): date, commit, tool
versions, context, and — for a draft from an uncommitted tree — "DRAFT, not for sign-off".

The stamp is the ONLY part of an artifact that may differ between two runs on the same commit; it is delimited
so a test can strip it and compare the rest with a regeneration (``tests/test_nag.py``):

* Markdown: between ``<!-- stamp -->`` and ``<!-- /stamp -->``;
* CSV: leading lines that start with ``#`` (``pandas.read_csv(..., comment="#")`` or :func:`read_csv_rows`).
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterable

MD_OPEN, MD_CLOSE = "<!-- stamp -->", "<!-- /stamp -->"
DRAFT = "DRAFT, not for sign-off"


def _context_text(provenance: dict[str, Any]) -> str:
    context = provenance.get("context")
    return context if isinstance(context, str) else json.dumps(context, separators=(",", ":"))


def md_stamp(provenance: dict[str, Any]) -> str:
    """The Markdown stamp block (a table), with the draft banner when the tree was not clean."""
    out = [MD_OPEN]
    if provenance.get("draft"):
        out.append(f"**{DRAFT}**: generated from a working tree with uncommitted changes "
                   f"({provenance.get('dirty', 'uncommitted changes')}); regenerate on a clean tree with `make nag`.\n")
    out.append("| Stamp | |\n| --- | --- |")
    out.append(f"| Date | {provenance['date']} |")
    out.append(f"| Commit | `{provenance['commit']}` |")
    for tool, version in provenance["versions"].items():
        out.append(f"| {tool} | {version} |")
    out.append(f"| Context | `{_context_text(provenance).replace('|', chr(92) + '|')}` |")
    out.append(MD_CLOSE)
    return "\n".join(out) + "\n\n"


def csv_stamp(provenance: dict[str, Any]) -> str:
    """The CSV stamp: ``#`` comment lines before the header."""
    lines = []
    if provenance.get("draft"):
        lines.append(f"# {DRAFT}")
    lines.append(f"# date: {provenance['date']}")
    lines.append(f"# commit: {provenance['commit']}")
    lines.append("# tools: " + "; ".join(f"{k} {v}" for k, v in provenance["versions"].items()))
    lines.append(f"# context: {_context_text(provenance)}")
    return "\n".join(lines) + "\n"


CSV_STAMP_PREFIXES = (f"# {DRAFT}", "# date: ", "# commit: ", "# tools: ", "# context: ")


def strip_stamp(text: str) -> str:
    """``text`` without its stamp (the Markdown block, or the CSV's leading stamp lines), for comparing two runs."""
    out, inside, leading = [], False, True
    for line in text.splitlines(keepends=True):
        if leading and line.startswith(CSV_STAMP_PREFIXES):
            continue
        leading = False
        if line.startswith(MD_OPEN):
            inside = True
        if not inside:
            out.append(line)
        if line.startswith(MD_CLOSE):
            inside = False
    return "".join(out)


def stamp_of(text: str) -> dict[str, str]:
    """The stamp's fields (date, commit, draft) read back from an artifact's text."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("| Commit | `") or line.startswith("# commit: "):
            fields["commit"] = line.split("`")[1] if line.startswith("|") else line.split(": ", 1)[1]
        elif line.startswith("| Date | ") or line.startswith("# date: "):
            fields["date"] = line.split("|")[2].strip() if line.startswith("|") else line.split(": ", 1)[1]
        elif DRAFT in line:
            fields["draft"] = "yes"
    return fields


def read_csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of a stamped CSV (comment lines skipped)."""
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def with_csv_stamp(provenance: dict[str, Any] | None, body: str) -> str:
    return (csv_stamp(provenance) if provenance else "") + body


def join_versions(versions: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{k} {v}" for k, v in versions)
