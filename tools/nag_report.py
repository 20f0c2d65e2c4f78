"""cdk-nag review reports: every rule checked on every resource, per region, as Markdown and CSV.

Sources (all inside one cloud assembly, e.g. ``cdk.out``):

* ``validation-report.json`` — what cdk-nag reported at synth (only rules WITH open violations); the authority
  for what failed.
* ``<Stack>.metadata.json`` — every acknowledgment (``aws:cdk:acknowledged-rules``: finding id -> reason) and
  the logical id -> construct path map.
* the templates + ``tree.json`` — cdk-nag 3 no longer writes its v2 per-pack ``NagReport`` CSVs (Compliant /
  Non-Compliant / Suppressed / N/A), so ``tools/nag_checks.js`` re-runs the very same packs (the JavaScript of
  the installed cdk-nag / aws-cdk-lib, taken from their jsii bundles) over the templates rebuilt in their
  original construct tree, and records each rule's own result: this is where the passes come from.

Each rule x resource is then one row: ``pass``, ``fail`` or ``acknowledged`` (with the construct path the
acknowledgment sits on and its reason). Rules that do not apply to a resource type are only counted.
The re-check is cross-checked against ``validation-report.json``: any difference is listed in the report
(``discrepancies``) and the tests require none.

usage::

    python -m tools.nag_report [--cdk-out cdk.out] [--out reports/nag]
    python -m tools.nag_report --synth --regions us-east-1,us-west-2 -- [extra cdk synth args]
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS_JS = Path(__file__).resolve().parent / "nag_checks.js"

#: report name (as in stacks.compliance.NAG_PACKS) -> (cdk-nag pack name used in rule ids, JS class)
PACKS: dict[str, tuple[str, str]] = {
    "AwsSolutions": ("AwsSolutions", "AwsSolutionsChecks"),
    "HIPAA.Security": ("HIPAA.Security", "HIPAASecurityChecks"),
    "NIST.800-53.R5": ("NIST.800.53.R5", "NIST80053R5Checks"),
    "PCI.DSS.3.2.1": ("PCI.DSS.321", "PCIDSS321Checks"),
    "Serverless": ("Serverless", "ServerlessChecks"),
}
PACK_BY_ID = {pack_id: name for name, (pack_id, _) in PACKS.items()}
SEVERITIES = ("error", "warning", "info")
RESULTS = ("pass", "fail", "acknowledged")
ACK_METADATA = "aws:cdk:acknowledged-rules"
#: jsii bundles the re-check needs: python module holding ``_jsii/*.jsii.tgz``
JSII_MODULES = ("aws_cdk", "aws_cdk.cloud_assembly_schema", "constructs", "cdk_nag")
CSV_FIELDS = (
    "region", "stack", "pack", "rule", "severity", "resource_path", "logical_id", "resource_type",
    "result", "acknowledged_at", "reason",
)


@dataclass(frozen=True)
class Row:
    """One rule (or one granular finding of a rule) on one resource."""

    region: str
    stack: str
    pack: str  # report name, e.g. "NIST.800-53.R5"
    rule: str  # full id as cdk-nag prints it, e.g. "AwsSolutions-IAM5[Action::s3:*]"
    severity: str  # error | warning | info
    resource_path: str
    logical_id: str
    resource_type: str
    result: str  # pass | fail | acknowledged
    acknowledged_at: str = ""
    reason: str = ""


@dataclass
class RegionReport:
    region: str
    stacks: list[str]
    rows: list[Row] = field(default_factory=list)
    rules_in_pack: dict[str, list[str]] = field(default_factory=dict)
    not_applicable: Counter = field(default_factory=Counter)  # pack -> rule x resource pairs that do not apply
    discrepancies: list[str] = field(default_factory=list)
    unmatched_acknowledgments: list[str] = field(default_factory=list)

    def counts_by_pack(self) -> dict[str, Counter]:
        counts = {name: Counter() for name in PACKS}
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


# ---- the re-check (node) --------------------------------------------------------------------------------


def node_modules_dir(cache: Path | None = None) -> Path:
    """Extracts the jsii bundles of aws-cdk-lib, constructs, cdk-nag (and the cloud assembly schema) into
    ``cache/node_modules`` once per installed version set, so node runs the same JS as the Python bindings."""
    tarballs = []
    for module in JSII_MODULES:
        folder = Path(importlib.import_module(f"{module}._jsii").__file__).parent
        tarballs += sorted(folder.glob("*.jsii.tgz"))
    stamp = "\n".join(t.name for t in tarballs)
    cache = cache or ROOT / "build" / "nag-js"
    target = cache / "node_modules"
    if (cache / "stamp").exists() and (cache / "stamp").read_text() == stamp:
        return target
    shutil.rmtree(cache, ignore_errors=True)
    target.mkdir(parents=True)
    for tarball in tarballs:
        with tarfile.open(tarball) as tar:
            name = json.load(tar.extractfile("package/package.json"))["name"]
        dest = target / name
        dest.mkdir(parents=True)
        if shutil.which("tar"):  # much faster than tarfile for aws-cdk-lib's 160 MB
            subprocess.run(["tar", "xzf", str(tarball), "-C", str(dest), "--strip-components=1"], check=True)
        else:  # pragma: no cover
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    member.name = member.name.split("/", 1)[1] if "/" in member.name else ""
                tar.extractall(dest, members=[m for m in tar.getmembers() if m.name], filter="data")
    (cache / "stamp").write_text(stamp)
    return target


def run_checks(outdir: Path, cache: Path | None = None) -> dict:
    """Every pack's result for every rule x resource of the assembly (see tools/nag_checks.js)."""
    env = dict(os.environ, NODE_PATH=str(node_modules_dir(cache)))
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    classes = [cls for _, cls in PACKS.values()]
    proc = subprocess.run(
        ["node", str(CHECKS_JS), str(outdir), *classes], env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nag_checks.js failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


# ---- the cloud assembly ---------------------------------------------------------------------------------


def stacks_of(outdir: Path) -> dict[str, dict]:
    """stack artifact id -> manifest artifact, for every stack in the assembly."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}


def region_of(artifact: dict) -> str:
    return artifact.get("environment", "").rsplit("/", 1)[-1] or "unknown-region"


def stack_metadata(outdir: Path, artifact: dict) -> dict[str, list[dict]]:
    metadata = dict(artifact.get("metadata", {}))
    if artifact.get("additionalMetadataFile"):
        metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text()))
    return metadata


def acknowledgments(outdir: Path) -> dict[str, dict[str, str]]:
    """construct path -> {finding id (``pack::rule``): reason}, over every stack; cdk-nag packs only."""
    acks: dict[str, dict[str, str]] = defaultdict(dict)
    for artifact in stacks_of(outdir).values():
        for path, entries in stack_metadata(outdir, artifact).items():
            for entry in entries:
                if entry["type"] != ACK_METADATA:
                    continue
                for finding, reason in entry["data"].items():
                    finding = re.sub(r"^annotation::", "", finding, flags=re.I)
                    if finding.split("::", 1)[0] in PACK_BY_ID:
                        acks[path][finding] = reason
    return dict(acks)


def open_violations(outdir: Path) -> set[tuple[str, str, str, str]]:
    """(pack report name, finding id, construct path, severity) of every open cdk-nag violation at synth."""
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        return set()
    found = set()
    for plugin in json.loads(report_file.read_text()).get("pluginReports", []):
        pack = PACK_BY_ID.get(plugin.get("pluginName") or plugin.get("summary", {}).get("pluginName"))
        if pack is None:  # aws-cdk-lib's own CloudFormation validation etc.
            continue
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                path = "/" + construct["constructPath"].lstrip("/")
                found.add((pack, violation["ruleName"], path, violation.get("severity", "error").lower()))
    return found


def _acknowledged(acks: dict[str, dict[str, str]], pack_id: str, finding: str, path: str) -> tuple[str, str] | None:
    """The (path, reason) of the acknowledgment covering ``finding`` on ``path`` (itself or an ancestor)."""
    key = f"{pack_id}::{finding}"
    parts = path.split("/")
    for i in range(len(parts), 1, -1):
        at = "/".join(parts[:i])
        if key in acks.get(at, {}):
            return at, acks[at][key]
    return None


# ---- the report -----------------------------------------------------------------------------------------


def build_reports(outdir: Path, checks: dict | None = None, cache: Path | None = None) -> dict[str, RegionReport]:
    """region -> RegionReport for every stack in the assembly at ``outdir``."""
    outdir = Path(outdir)
    checks = checks if checks is not None else run_checks(outdir, cache)
    artifacts = stacks_of(outdir)
    regions = {name: region_of(a) for name, a in artifacts.items()}
    reports: dict[str, RegionReport] = {}
    for name, region in sorted(regions.items()):
        reports.setdefault(region, RegionReport(region=region, stacks=[])).stacks.append(name)
    acks = acknowledgments(outdir)
    violations = open_violations(outdir)
    used_acks: set[tuple[str, str]] = set()
    rows_seen: set[tuple[str, str, str]] = set()

    for pack in checks["packs"]:
        name = PACK_BY_ID[pack["pack"]]
        for report in reports.values():
            report.rules_in_pack[name] = pack["rules"]
            report.not_applicable[name] += sum(pack["notApplicable"].get(s, 0) for s in report.stacks)

    for rec in checks["records"]:
        report = reports[regions[rec["stack"]]]
        pack_id, name = rec["pack"], PACK_BY_ID[rec["pack"]]
        severity = rec["level"].lower()
        base = dict(
            region=report.region, stack=rec["stack"], pack=name, severity=severity, resource_path=rec["path"],
            logical_id=rec["logicalId"], resource_type=rec["resourceType"],
        )
        if rec["result"] == "compliant":
            report.rows.append(Row(rule=rec["rule"], result="pass", **base))
            continue
        findings = [f"{rec['rule']}[{f}]" for f in rec["findings"]] or [rec["rule"]]
        for finding in findings:
            rows_seen.add((name, finding, rec["path"]))
            ack = _acknowledged(acks, pack_id, finding, rec["path"])
            if ack:
                used_acks.add((ack[0], f"{pack_id}::{finding}"))
                report.rows.append(Row(rule=finding, result="acknowledged", acknowledged_at=ack[0], reason=ack[1], **base))
            else:
                report.rows.append(Row(rule=finding, result="fail", **base))
                if (name, finding, rec["path"], severity) not in violations:
                    report.discrepancies.append(
                        f"{finding} on {rec['path']}: non-compliant in the re-check, not reported at synth"
                    )

    # synth is the authority on failures: anything it reported that the re-check missed is still a failure
    for name, finding, path, severity in sorted(violations):
        if (name, finding, path) in rows_seen:
            continue
        stack = path.strip("/").split("/")[0]
        report = reports.get(regions.get(stack, ""))
        if report is None:
            continue
        report.rows.append(
            Row(region=report.region, stack=stack, pack=name, rule=finding, severity=severity, resource_path=path,
                logical_id="", resource_type="", result="fail")
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
    for report in reports.values():
        report.rows.sort(key=lambda r: (r.stack, list(PACKS).index(r.pack), r.rule, r.resource_path))
    return reports


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: RegionReport) -> str:
    out = io.StringIO()
    w = out.write
    fails = report.failures()
    w(f"# cdk-nag compliance report: {report.region}\n\n")
    w("Generated by `make nag` (`tools/nag_report.py`) from the cloud assembly; do not edit by hand.\n\n")
    w(f"Stacks: {', '.join(f'`{s}`' for s in report.stacks)}\n\n")
    w(f"**Open findings: {len(fails)}** "
      f"({sum(1 for r in fails if r.severity == 'error')} errors, "
      f"{sum(1 for r in fails if r.severity == 'warning')} warnings). ")
    w(f"Acknowledged: {sum(1 for r in report.rows if r.result == 'acknowledged')}. "
      f"Passed: {sum(1 for r in report.rows if r.result == 'pass')}.\n\n")
    w("A *check* is one rule (or one granular finding of a rule) on one resource. Rules that do not apply to a\n"
      "resource's type are counted under *Not applicable* and not listed.\n\n")
    w("## Summary by pack\n\n")
    w("| Pack | Rules in pack | Rules applicable | Checks | Pass | Fail | Acknowledged | Not applicable |\n")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    by_pack = report.counts_by_pack()
    for pack, c in by_pack.items():
        applicable = len({r.rule.split("[")[0] for r in report.rows if r.pack == pack})
        w(f"| {pack} | {len(report.rules_in_pack.get(pack, []))} | {applicable} | {c['checked']} | {c['pass']} | "
          f"{c['fail']} | {c['acknowledged']} | {c['not_applicable']} |\n")
    total = sum((c for c in by_pack.values()), Counter())
    w(f"| **Total** | | | {total['checked']} | {total['pass']} | {total['fail']} | {total['acknowledged']} | "
      f"{total['not_applicable']} |\n\n")
    w("## Summary by severity\n\n| Severity | Checks | Pass | Fail | Acknowledged |\n| --- | ---: | ---: | ---: | ---: |\n")
    for severity, c in report.counts_by_severity().items():
        w(f"| {severity} | {c['checked']} | {c['pass']} | {c['fail']} | {c['acknowledged']} |\n")
    w("\n## Open findings\n\n")
    if fails:
        w("| Pack | Rule | Severity | Resource |\n| --- | --- | --- | --- |\n")
        for r in fails:
            w(f"| {r.pack} | `{_md_escape(r.rule)}` | {r.severity} | `{r.resource_path}` |\n")
    else:
        w("None.\n")
    acked = [r for r in report.rows if r.result == "acknowledged"]
    w("\n## Acknowledged findings\n\n")
    if acked:
        w("| Pack | Rule | Severity | Resource | Acknowledged on | Reason |\n| --- | --- | --- | --- | --- | --- |\n")
        for r in acked:
            w(f"| {r.pack} | `{_md_escape(r.rule)}` | {r.severity} | `{r.resource_path}` | `{r.acknowledged_at}` | "
              f"{_md_escape(r.reason)} |\n")
    else:
        w("None.\n")
    if report.discrepancies or report.unmatched_acknowledgments:
        w("\n## Reconciliation notes\n\n")
        for note in report.discrepancies + report.unmatched_acknowledgments:
            w(f"- {_md_escape(note)}\n")
    w("\n## All checks\n")
    for stack in report.stacks:
        w(f"\n### {stack}\n\n| Pack | Rule | Severity | Resource | Type | Result |\n| --- | --- | --- | --- | --- | --- |\n")
        for r in report.rows:
            if r.stack == stack:
                w(f"| {r.pack} | `{_md_escape(r.rule)}` | {r.severity} | `{r.resource_path}` | {r.resource_type} | "
                  f"{r.result} |\n")
    w("\n## Rules that applied to no resource here\n\n")
    for pack, rules in report.rules_in_pack.items():
        used = {r.rule.split("[")[0] for r in report.rows if r.pack == pack}
        rest = [r for r in rules if r not in used]
        w(f"- **{pack}** ({len(rest)}): {', '.join(rest)}\n")
    return out.getvalue()


def render_csv(report: RegionReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({f: getattr(row, f) for f in CSV_FIELDS})
    return out.getvalue()


def write_reports(reports: dict[str, RegionReport], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for region, report in reports.items():
        for suffix, text in (("md", render_markdown(report)), ("csv", render_csv(report))):
            path = out / f"{region}.{suffix}"
            path.write_text(text)
            written.append(path)
    return written


# ---- command line ---------------------------------------------------------------------------------------


def split_regions(args: list[str]) -> tuple[list[str], list[str]]:
    """Pulls ``-c regions=...`` / ``--context regions=...`` out of cdk args: (regions, remaining args)."""
    regions, rest, i = [], [], 0
    while i < len(args):
        arg = args[i]
        value = None
        if arg in ("-c", "--context") and i + 1 < len(args) and args[i + 1].startswith("regions="):
            value, i = args[i + 1], i + 2
        elif arg.startswith("--context=regions="):
            value, i = arg[len("--context="):], i + 1
        else:
            rest.append(arg)
            i += 1
            continue
        regions += [r.strip() for r in value.split("=", 1)[1].split(",") if r.strip()]
    return regions, rest


def synth(outdir: Path, regions: list[str], cdk_args: list[str]) -> int:
    extra_regions, rest = split_regions(cdk_args)
    merged = list(dict.fromkeys(regions + extra_regions))
    cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "-o", str(outdir), "-c", f"regions={','.join(merged)}", *rest]
    print("+", shlex.join(cmd), file=sys.stderr)
    shutil.rmtree(outdir, ignore_errors=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "nag")
    parser.add_argument("--synth", action="store_true", help="synthesize first (cdk synth into --cdk-out)")
    parser.add_argument("--regions", default="us-east-1,us-west-2", help="regions to synthesize with --synth")
    parser.add_argument("cdk_args", nargs="*", help="extra cdk synth arguments (after --)")
    args = parser.parse_args(argv)
    if args.synth:
        code = synth(args.cdk_out, [r for r in args.regions.split(",") if r], args.cdk_args)
        if not (args.cdk_out / "manifest.json").exists():
            return code or 1
    reports = build_reports(args.cdk_out)
    for path in write_reports(reports, args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    failing = 0
    for region, report in reports.items():
        c = Counter(r.result for r in report.rows)
        print(f"{region}: {c['pass']} pass, {c['fail']} fail, {c['acknowledged']} acknowledged "
              f"({len(report.discrepancies)} discrepancies, {len(report.unmatched_acknowledgments)} unmatched acks)")
        failing += c["fail"]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
