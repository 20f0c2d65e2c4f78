"""The exceptions register as an assessor uses it: one structured record per exception — a cdk-nag
acknowledgment, a checkov, cfn-lint or cfn-guard skip — with owner, approver, approval date, review date, risk
rating, compensating control and the PCI DSS v4.0, HIPAA and NIST 800-53 ids.

Three data files, each with one job:

* ``compliance/approvals.yaml`` — THE file a platform team edits: who owns and approved each exception and
  when (``defaults`` for every exception, ``exceptions`` by exception id). The shipped values are placeholders
  (they start with ``PLACEHOLDER``) and the register says so on every row that still carries one.
* ``compliance/assessments.yaml`` — the project's own assessment per rule: risk rating, compensating control,
  and control ids for rules whose pack gives none (or maps them wrongly), each marked as judgement.
* ``compliance/pci-dss-v3.2.1-to-v4.0.yaml`` — the 3.2.1 -> 4.0 crosswalk (``tools.nag.crosswalk``).

``make nag`` fails when any record lacks a field (:func:`missing_fields`).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tools.nag import crosswalk

ROOT = Path(__file__).resolve().parents[2]
APPROVALS = ROOT / "compliance" / "approvals.yaml"
ASSESSMENTS = ROOT / "compliance" / "assessments.yaml"
PLACEHOLDER = "PLACEHOLDER"
#: every field a record must have (non-empty) for `make nag` to pass
REQUIRED = (
    "owner", "approver", "approval_date", "review_date", "risk_rating", "compensating_control",
    "pci_dss_v40", "hipaa", "nist_800_53",
)
APPROVAL_FIELDS = ("owner", "approver", "approval_date", "review_date")
RISK_RATINGS = ("low", "medium", "high")


def exception_id(kind: str, rule: str, path: str) -> str:
    """Stable id of an exception: the same rule on the same resource (any region) keeps its id across runs."""
    return "EX-" + hashlib.sha1(f"{kind}|{rule}|{path}".encode()).hexdigest()[:8]


@lru_cache(maxsize=1)
def approvals() -> dict[str, Any]:
    return yaml.safe_load(APPROVALS.read_text()) or {}


@lru_cache(maxsize=1)
def assessments() -> dict[str, Any]:
    return yaml.safe_load(ASSESSMENTS.read_text()) or {}


def _rule_key(rule: str) -> str:
    return rule.split("[", 1)[0].split(" (", 1)[0]


def assessment_for(kind: str, rule: str) -> dict[str, Any]:
    """The project's assessment of a rule (``rules`` in assessments.yaml; cfn-guard rules by name)."""
    rules = assessments().get("rules", {})
    return dict(rules.get(f"{kind.split()[0]}:{_rule_key(rule)}") or rules.get(_rule_key(rule)) or {})


def enrich(row: dict[str, str]) -> dict[str, str]:
    """Adds id, approvals, assessment and control ids (v4.0 via the crosswalk) to a grouped register row."""
    rid = exception_id(row["kind"], row["rule"], row["resource_path"])
    data = approvals()
    approval = {**(data.get("defaults") or {}), **((data.get("exceptions") or {}).get(rid) or {})}
    assessed = assessment_for(row["kind"], row["rule"])
    out = {"id": rid, **row}
    for f in APPROVAL_FIELDS:
        out[f] = str(approval.get(f, "") or "")
    if assessed.get("status"):
        out["kind"] = f"{row['kind']} ({assessed['status']})"
    out["risk_rating"] = str(assessed.get("risk", "") or "")
    out["compensating_control"] = " ".join(str(assessed.get("compensating_control", "") or "").split())
    mapping_notes = []
    for field, key in (("hipaa", "hipaa"), ("nist_800_53", "nist"), ("pci_dss", "pci_321")):
        if assessed.get(key) is not None and (assessed.get("override") or not out.get(field)):
            if out.get(field) and assessed.get("override"):
                mapping_notes.append(f"{field}: pack maps to {out[field]}; remapped")
            value = assessed[key]
            out[field] = "; ".join(value) if isinstance(value, list) else str(value)
    v4 = crosswalk.to_v4(out.get("pci_dss", ""))
    if assessed.get("pci_v4") is not None and (assessed.get("override") or not v4):
        v4 = "; ".join(assessed["pci_v4"]) if isinstance(assessed["pci_v4"], list) else str(assessed["pci_v4"])
    out["pci_dss_v40"] = v4
    basis = [row.get("mapping", "")] if row.get("mapping") else []
    if assessed.get("mapping_note"):
        basis.append(" ".join(str(assessed["mapping_note"]).split()))
    out["mapping"] = "; ".join(basis + mapping_notes) or "pack/rule set's own mapping; v4.0 via the crosswalk (judgement)"
    out["placeholders"] = ", ".join(f for f in APPROVAL_FIELDS if out[f].startswith(PLACEHOLDER))
    return out


def missing_fields(records: list[dict[str, str]]) -> list[str]:
    """``"<id> (<rule>): <field>"`` for every required field that is empty, and every unknown risk rating."""
    problems = []
    for r in records:
        for f in REQUIRED:
            if not str(r.get(f, "")).strip():
                problems.append(f"{r['id']} ({r['kind']} {r['rule']} on {r['resource_path']}): {f} missing")
        if r.get("risk_rating") and r["risk_rating"] not in RISK_RATINGS:
            problems.append(f"{r['id']}: risk_rating {r['risk_rating']!r} is not one of {', '.join(RISK_RATINGS)}")
    return problems
