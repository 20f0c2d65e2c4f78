"""What a cloud assembly (``cdk.out``) records: stacks and regions, acknowledgments, open findings, scanner
skips, and the resources cdk-nag does not evaluate."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tools.nag.packs import packs

ACK_METADATA = "aws:cdk:acknowledged-rules"
#: metadata key holding the reason of each cfn-lint rule ignored on a resource (gptoss_constructs._compliance)
CFN_LINT_REASONS = "gptoss:cfn-lint-reasons"


def stacks_of(outdir: Path) -> dict[str, dict]:
    """stack artifact id -> manifest artifact, for every stack in the assembly."""
    manifest = json.loads((Path(outdir) / "manifest.json").read_text())
    return {k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}


def region_of(artifact: dict) -> str:
    return artifact.get("environment", "").rsplit("/", 1)[-1] or "unknown-region"


def stack_metadata(outdir: Path, artifact: dict) -> dict[str, list[dict]]:
    metadata = dict(artifact.get("metadata", {}))
    if artifact.get("additionalMetadataFile"):
        metadata.update(json.loads((Path(outdir) / artifact["additionalMetadataFile"]).read_text()))
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
                    if finding.split("::", 1)[0] in packs():
                        acks[path][finding] = reason
    return dict(acks)


def open_violations(outdir: Path) -> set[tuple[str, str, str, str]]:
    """(pack id, finding id, construct path, severity) of every open cdk-nag violation at synth."""
    report_file = Path(outdir) / "validation-report.json"
    if not report_file.exists():
        return set()
    found = set()
    for plugin in json.loads(report_file.read_text()).get("pluginReports", []):
        pack = plugin.get("pluginName") or plugin.get("summary", {}).get("pluginName")
        if pack not in packs():  # aws-cdk-lib's own CloudFormation validation etc.
            continue
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                path = "/" + construct["constructPath"].lstrip("/")
                found.add((pack, violation["ruleName"], path, violation.get("severity", "error").lower()))
    return found


def template_files(outdir: Path) -> dict[str, Path]:
    """stack artifact id -> its template file."""
    return {name: Path(outdir) / a["properties"]["templateFile"] for name, a in stacks_of(outdir).items()}


def templates(outdir: Path) -> dict[str, dict]:
    """stack artifact id -> its template."""
    return {
        name: json.loads((Path(outdir) / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in stacks_of(outdir).items()
    }


def logical_id_paths(outdir: Path, artifact: dict) -> dict[str, str]:
    """logical id -> construct path (leading slash)."""
    paths = {}
    for path, entries in stack_metadata(outdir, artifact).items():
        for entry in entries:
            if entry["type"] == "aws:cdk:logicalId":
                paths[entry["data"]] = path
    return paths


@dataclass(frozen=True)
class ScannerSkip:
    tool: str  # checkov | cfn-lint
    check: str
    stack: str
    logical_id: str
    resource_path: str
    reason: str


def scanner_skips(outdir: Path) -> list[ScannerSkip]:
    """Every checkov / cfn-lint skip written into a resource's template Metadata (the only place they live)."""
    skips = []
    artifacts = stacks_of(outdir)
    for stack, template in templates(outdir).items():
        paths = logical_id_paths(outdir, artifacts[stack])
        for logical_id, resource in template.get("Resources", {}).items():
            metadata = resource.get("Metadata", {})
            path = paths.get(logical_id, "")
            for skip in metadata.get("checkov", {}).get("skip", []):
                skips.append(ScannerSkip("checkov", skip["id"], stack, logical_id, path, skip.get("comment", "")))
            reasons = metadata.get(CFN_LINT_REASONS, {})
            for rule in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
                skips.append(ScannerSkip("cfn-lint", rule, stack, logical_id, path, reasons.get(rule, "")))
    return skips


def tree_classes(outdir: Path) -> dict[str, str]:
    """construct path (leading slash) -> fqn, from tree.json."""
    tree_file = Path(outdir) / "tree.json"
    if not tree_file.exists():
        return {}
    classes = {}

    def walk(node: dict) -> None:
        if node.get("path"):
            classes["/" + node["path"]] = (node.get("constructInfo") or {}).get("fqn", "")
        for child in (node.get("children") or {}).values():
            walk(child)

    walk(json.loads(tree_file.read_text())["tree"])
    return classes


@dataclass(frozen=True)
class UnevaluatedResource:
    """A resource aws-cdk-lib emits as a plain ``CfnResource`` (its own custom-resource providers): cdk-nag's
    rules test for the L1 classes (``CfnFunction``, ``CfnRole``...), so they never evaluate it."""

    stack: str
    logical_id: str
    resource_path: str
    resource_type: str
    properties: dict


def unevaluated_resources(outdir: Path) -> list[UnevaluatedResource]:
    classes = tree_classes(outdir)
    artifacts = stacks_of(outdir)
    found = []
    for stack, template in templates(outdir).items():
        paths = logical_id_paths(outdir, artifacts[stack])
        for logical_id, resource in template.get("Resources", {}).items():
            path = paths.get(logical_id, "")
            # Custom::* resources are requests to a provider (listed with it); AWS::CDK::Metadata (the CLI's version
            # reporting) records construct-library versions and creates nothing in the account
            if classes.get(path) == "aws-cdk-lib.CfnResource" and not resource["Type"].startswith(("Custom::", "AWS::CDK::")):
                found.append(UnevaluatedResource(stack, logical_id, path, resource["Type"], resource.get("Properties", {})))
    return found
