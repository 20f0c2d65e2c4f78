"""Rows and counts: each rule (or granular finding) on each resource is one row, ``pass``, ``fail`` or
``acknowledged``; failures come from synth (validation-report.json), acknowledgments from the stacks'
metadata, passes from the re-check, which is cross-checked against synth."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.nag import assembly, guard
from tools.nag.packs import SEVERITIES, controls_of, packs
from tools.nag.recheck import run_checks

RESULTS = ("pass", "fail", "acknowledged")
CSV_FIELDS = (
    "configuration", "region", "stack", "pack", "rule", "severity", "resource_path", "logical_id", "resource_type",
    "result", "acknowledged_at", "reason", "controls",
)


@dataclass(frozen=True)
class Row:
    """One rule (or one granular finding of a rule) on one resource."""

    region: str
    stack: str
    pack: str  # pack id, e.g. "NIST.800.53.R5"
    rule: str  # full id as cdk-nag prints it, e.g. "AwsSolutions-IAM5[Action::s3:*]"
    severity: str  # error | warning | info
    resource_path: str
    logical_id: str
    resource_type: str
    result: str  # pass | fail | acknowledged
    acknowledged_at: str = ""
    reason: str = ""
    controls: str = ""  # the rule's "Control IDs" in its pack (compliance packs only), "; "-separated
    configuration: str = ""


@dataclass
class RegionReport:
    region: str
    stacks: list[str]
    configuration: str = ""
    rows: list[Row] = field(default_factory=list)
    rules_in_pack: dict[str, list[str]] = field(default_factory=dict)
    rule_info: dict[str, dict[str, str]] = field(default_factory=dict)  # pack -> rule -> info text
    not_applicable: Counter = field(default_factory=Counter)  # pack -> rule x resource pairs that do not apply
    discrepancies: list[str] = field(default_factory=list)
    unmatched_acknowledgments: list[str] = field(default_factory=list)
    unevaluated: list[assembly.UnevaluatedResource] = field(default_factory=list)
    scanner_skips: list[assembly.ScannerSkip] = field(default_factory=list)
    #: cfn-guard (Control Tower proactive controls, Guard Rules Registry): (finding, construct path, skip or None)
    guard_findings: list[tuple[guard.GuardFinding, str, guard.GuardSkip | None]] = field(default_factory=list)
    guard_rules_passed: dict[str, int] = field(default_factory=dict)
    #: the guardrail configuration deployed in this region: one dict per AWS::Bedrock::Guardrail
    guardrails: list[dict] = field(default_factory=list)

    def guard_open(self) -> list[tuple[guard.GuardFinding, str]]:
        return [(f, p) for f, p, s in self.guard_findings if s is None]

    def counts_by_pack(self) -> dict[str, Counter]:
        counts = {name: Counter() for name in packs()}
        for row in self.rows:
            counts[row.pack][row.result] += 1
            counts[row.pack]["checked"] += 1
        for pack, n in self.not_applicable.items():
            counts[pack]["not_applicable"] = n
        return counts

    def counts_by_severity(self) -> dict[str, Counter]:
        counts = {s: Counter() for s in SEVERITIES}
        for row in self.rows:
            counts[row.severity][row.result] += 1
            counts[row.severity]["checked"] += 1
        return counts

    def failures(self) -> list[Row]:
        return [r for r in self.rows if r.result == "fail"]

    def acknowledged(self) -> list[Row]:
        return [r for r in self.rows if r.result == "acknowledged"]


def _acknowledged(acks: dict[str, dict[str, str]], pack_id: str, finding: str, path: str) -> tuple[str, str] | None:
    """The (path, reason) of the acknowledgment covering ``finding`` on ``path`` (itself or an ancestor)."""
    key = f"{pack_id}::{finding}"
    parts = path.split("/")
    for i in range(len(parts), 1, -1):
        at = "/".join(parts[:i])
        if key in acks.get(at, {}):
            return at, acks[at][key]
    return None


def build_reports(outdir: Path, checks: dict | None = None, cache: Path | None = None, configuration: str = "") -> dict[str, RegionReport]:
    """region -> RegionReport for every stack in the assembly at ``outdir``."""
    outdir = Path(outdir)
    checks = checks if checks is not None else run_checks(outdir, cache)
    artifacts = assembly.stacks_of(outdir)
    regions = {name: assembly.region_of(a) for name, a in artifacts.items()}
    reports: dict[str, RegionReport] = {}
    for name, region in sorted(regions.items()):
        reports.setdefault(region, RegionReport(region=region, stacks=[], configuration=configuration)).stacks.append(name)
    acks = assembly.acknowledgments(outdir)
    violations = assembly.open_violations(outdir)
    used_acks: set[tuple[str, str]] = set()
    rows_seen: set[tuple[str, str, str]] = set()
    info: dict[str, dict[str, str]] = {}

    for pack in checks["packs"]:
        info[pack["pack"]] = pack.get("ruleInfo", {})
        for report in reports.values():
            report.rules_in_pack[pack["pack"]] = pack["rules"]
            report.rule_info[pack["pack"]] = info[pack["pack"]]
            report.not_applicable[pack["pack"]] += sum(pack["notApplicable"].get(s, 0) for s in report.stacks)

    def controls(pack: str, rule: str) -> str:
        return "; ".join(controls_of(info.get(pack, {}).get(rule.split("[")[0])))

    for rec in checks["records"]:
        report = reports[regions[rec["stack"]]]
        pack = rec["pack"]
        severity = rec["level"].lower()
        base = dict(
            region=report.region, stack=rec["stack"], pack=pack, severity=severity, resource_path=rec["path"],
            logical_id=rec["logicalId"], resource_type=rec["resourceType"], configuration=configuration,
        )
        if rec["result"] == "compliant":
            report.rows.append(Row(rule=rec["rule"], result="pass", **base))
            continue
        findings = [f"{rec['rule']}[{f}]" for f in rec["findings"]] or [rec["rule"]]
        for finding in findings:
            rows_seen.add((pack, finding, rec["path"]))
            ack = _acknowledged(acks, pack, finding, rec["path"])
            if ack:
                used_acks.add((ack[0], f"{pack}::{finding}"))
                report.rows.append(
                    Row(rule=finding, result="acknowledged", acknowledged_at=ack[0], reason=ack[1], controls=controls(pack, finding), **base)
                )
            else:
                report.rows.append(Row(rule=finding, result="fail", controls=controls(pack, finding), **base))
                if (pack, finding, rec["path"], severity) not in violations:
                    report.discrepancies.append(f"{finding} on {rec['path']}: non-compliant in the re-check, not reported at synth")

    # synth is the authority on failures: anything it reported that the re-check missed is still a failure
    for pack, finding, path, severity in sorted(violations):
        if (pack, finding, path) in rows_seen:
            continue
        stack = path.strip("/").split("/")[0]
        report = reports.get(regions.get(stack, ""))
        if report is None:
            continue
        report.rows.append(
            Row(region=report.region, stack=stack, pack=pack, rule=finding, severity=severity, resource_path=path,
                logical_id="", resource_type="", result="fail", configuration=configuration)
        )
        report.discrepancies.append(f"{finding} on {path}: reported at synth, not reproduced by the re-check")

    for path, findings in acks.items():
        for finding in findings:
            if (path, finding) not in used_acks:
                stack = path.strip("/").split("/")[0]
                if stack in regions:
                    reports[regions[stack]].unmatched_acknowledgments.append(
                        f"{finding} at {path}: matches no non-compliant result (stale or misplaced?)"
                    )
    for item in assembly.unevaluated_resources(outdir):
        reports[regions[item.stack]].unevaluated.append(item)
    for skip in assembly.scanner_skips(outdir):
        reports[regions[skip.stack]].scanner_skips.append(skip)
    add_guard_findings(outdir, reports, regions)
    for stack, template in assembly.templates(outdir).items():
        reports[regions[stack]].guardrails += guardrail_facts(stack, template)
    order = list(packs())
    for report in reports.values():
        report.rows.sort(key=lambda r: (r.stack, order.index(r.pack), r.rule, r.resource_path))
    return reports


def add_guard_findings(outdir: Path, reports: dict[str, RegionReport], regions: dict[str, str]) -> None:
    """Runs the cfn-guard rule sets once over the assembly's templates and files each finding (with its skip, if
    any) under its region."""
    files = assembly.template_files(outdir)
    for a in guard.assess(outdir):
        reports[a.region].guard_findings.append((a.finding, a.path, a.skip))
    for region, report in reports.items():
        report.guard_rules_passed = guard.passed_rules([files[s] for s in report.stacks], [f for f, _, _ in report.guard_findings])


def guardrail_facts(stack: str, template: dict) -> list[dict]:
    """The deployed guardrail configuration, read from the template: policy, tier, filters, PII entities,
    topics, word filters, and the version resource the proxy is pinned to."""
    resources = template.get("Resources", {})
    versions = {
        json_ref(r["Properties"].get("GuardrailIdentifier")): r["Properties"].get("Description", "")
        for r in resources.values() if r["Type"] == "AWS::Bedrock::GuardrailVersion"
    }
    out = []
    for lid, r in resources.items():
        if r["Type"] != "AWS::Bedrock::Guardrail":
            continue
        p = r["Properties"]
        content = p.get("ContentPolicyConfig", {})
        pii = p.get("SensitiveInformationPolicyConfig", {})
        out.append({
            "stack": stack,
            "logical_id": lid,
            "policy": p.get("Description", ""),
            "tier": (content.get("ContentFiltersTierConfig") or {}).get("TierName", "-"),
            "filters": ", ".join(
                f"{f['Type']} in {f.get('InputStrength', '-') if f.get('InputEnabled', True) else 'off'}/out "
                f"{f.get('OutputStrength', '-') if f.get('OutputEnabled', True) else 'off'}"
                for f in content.get("FiltersConfig", [])) or "-",
            "pii": ", ".join(f"{e['Type']}:{e.get('Action', '-')}" for e in pii.get("PiiEntitiesConfig", []))
                   + ("; regexes: " + ", ".join(x.get("Name", "?") for x in pii.get("RegexesConfig", [])) if pii.get("RegexesConfig") else "") or "-",
            "topics": ", ".join(t.get("Name", "?") for t in p.get("TopicPolicyConfig", {}).get("TopicsConfig", [])) or "-",
            "words": "managed: " + ", ".join(w.get("Type", "?") for w in p.get("WordPolicyConfig", {}).get("ManagedWordListsConfig", []))
                     if p.get("WordPolicyConfig") else "-",
            "kms": "customer-managed key" if p.get("KmsKeyArn") else "AWS-owned key",
            "version": versions.get(lid, "no version resource"),
        })
    return out


def json_ref(value) -> str:
    """The logical id an intrinsic points at (Ref / Fn::GetAtt), else ''."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return ""
