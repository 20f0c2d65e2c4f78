"""cfn-lint and checkov over every synthesized template: zero findings in the app (all supported regions),
every skip inline on its resource with a written reason, and the deliberately broken stacks are caught."""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_constructs._compliance import CFN_LINT_REASONS

BROKEN = "Broken-"


def _is_broken(path: str) -> bool:
    return Path(path).name.startswith(BROKEN)


def _checkov(lint_results, key: str) -> list[dict]:
    return [c for report in lint_results["checkov"] for c in report["results"].get(key, [])]


def test_every_template_of_the_app_is_linted(lint_results, platform_app, all_regions_app):
    names = {f.name for f in lint_results["templates"]}
    for app in (platform_app, all_regions_app):
        assert {f"{s}.template.json" for s in app.stacks()} <= names
    assert len(all_regions_app.stacks()) >= 5


def test_cfn_lint_finds_no_error_or_warning_in_the_app(lint_results):
    findings = [
        f"{f['Rule']['Id']} {f['Level']} {Path(f['Filename']).name}: {f['Message']}"
        for f in lint_results["cfn_lint"]
        if not _is_broken(f["Filename"])
    ]
    assert findings == []


def test_checkov_has_no_failed_check_in_the_app(lint_results):
    failed = [
        f"{c['check_id']} {c['resource']} ({Path(c['file_path']).name})"
        for c in _checkov(lint_results, "failed_checks")
        if not _is_broken(c["file_path"])
    ]
    assert failed == []
    assert sum(r["summary"]["passed"] for r in lint_results["checkov"]) > 0


def test_every_checkov_skip_has_a_reason(lint_results):
    skipped = _checkov(lint_results, "skipped_checks")
    short = [f"{c['check_id']} {c['resource']}" for c in skipped if len(c["check_result"].get("suppress_comment") or "") < 60]
    assert skipped, "expected the inline skips of aws-cdk-lib's VpcRestrictDefaultSG provider Lambda"
    assert short == []


def test_every_inline_scanner_skip_has_a_reason(lint_results):
    problems = []
    for template in lint_results["templates"]:
        for logical_id, resource in json.loads(template.read_text()).get("Resources", {}).items():
            metadata = resource.get("Metadata", {})
            reasons = metadata.get(CFN_LINT_REASONS, {})
            for rule in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
                if len(reasons.get(rule, "")) < 60:
                    problems.append(f"cfn-lint {rule} ignored on {logical_id} in {template.name} without a reason")
            for skip in metadata.get("checkov", {}).get("skip", []):
                if len(skip.get("comment", "")) < 60:
                    problems.append(f"checkov {skip['id']} skipped on {logical_id} in {template.name} without a reason")
    assert problems == []


def test_checkov_catches_the_broken_log_group_and_wildcard_policy(lint_results):
    failed = {(c["check_id"], c["resource"]) for c in _checkov(lint_results, "failed_checks") if _is_broken(c["file_path"])}
    ids = {check for check, _ in failed}
    assert any(r.startswith("AWS::Logs::LogGroup.Plain") for c, r in failed if c == "CKV_AWS_158")
    assert {"CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"} <= ids
    assert all(r.startswith("AWS::IAM::ManagedPolicy.Wildcard") for c, r in failed if c in {"CKV_AWS_109", "CKV_AWS_111"})


def test_cfn_lint_has_no_rule_for_these_breaks(lint_results):
    """The broken stacks are valid CloudFormation, so cfn-lint (a template linter) has nothing to say about the
    three breaks; it only repeats W3005 on aws-cdk-lib's provider Lambda of the plain ec2.Vpc, which
    PrivateNetwork skips inline (proof that the inline skip is what keeps the app clean). The public subnet is
    caught by the nag packs only: checkov 3.3.30 has no CloudFormation check for it."""
    found = {
        (Path(f["Filename"]).name, f["Rule"]["Id"], f["Location"]["Path"][1])
        for f in lint_results["cfn_lint"]
        if _is_broken(f["Filename"])
    }
    assert found == {
        ("Broken-PublicSubnet.template.json", "W3005", "CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E")
    }


# ---- the fourth scanner: AWS-authored cfn-guard rule sets (tools/nag/guard.py) -------------------------------


def test_cfn_guard_has_no_open_finding_in_the_app(platform_app, all_regions_app):
    """Control Tower proactive controls and the Guard Rules Registry rule sets over every template of both app
    synths: every finding is excused by a compliance/guard-skips.yaml entry (listed in the register)."""
    from tools.nag import guard

    assessed = [a for app in (platform_app, all_regions_app) for a in guard.assess(app.outdir)]
    assert assessed, "the rule sets ran and found the known false positives"
    assert [f"{a.finding.rule_set} {a.finding.rule} {a.path}" for a in assessed if a.skip is None] == []
    assert {a.finding.rule_set for a in assessed} >= {"control-tower", "hipaa-security", "PCI-DSS-3-2-1", "NIST800-53Rev5"}


def test_cfn_guard_catches_the_broken_stacks(broken_app):
    """The deliberate breaks are reported by AWS's own rules: Control Tower CT.CLOUDWATCH.PR.3 (log group KMS),
    CT.IAM.PR.2 (admin policy), CT.EC2.PR.11 (public IPs), and the registry's HIPAA/PCI rules; none is skipped."""
    from tools.nag import guard

    found = {(a.finding.rule_set, a.finding.control, a.path.split("/")[1]): a.skip for a in guard.assess(broken_app.outdir)}
    for key in (
        ("control-tower", "CT.CLOUDWATCH.PR.3", "Broken-LogGroup"),
        ("control-tower", "CT.IAM.PR.2", "Broken-Iam"),
        ("control-tower", "CT.EC2.PR.11", "Broken-PublicSubnet"),
        ("hipaa-security", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "Broken-LogGroup"),
        ("PCI-DSS-3-2-1", "NO_UNRESTRICTED_ROUTE_TO_IGW", "Broken-PublicSubnet"),
    ):
        assert key in found and found[key] is None, key


def test_cfn_guard_runs_control_tower_rules_when_the_registry_is_absent(tmp_path, monkeypatch):
    """No registry at $GUARD_RULES: one line says so (the report) and the Control Tower rules still run."""
    import json as _json

    from tools.nag import guard

    monkeypatch.setenv("GUARD_RULES", str(tmp_path / "nowhere"))
    (tmp_path / "S.template.json").write_text(_json.dumps(
        {"Resources": {"Plain": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}}}))
    (tmp_path / "manifest.json").write_text(_json.dumps({"artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
        "properties": {"templateFile": "S.template.json"}}}}))
    assert not guard.registry_present() and guard.registry_version().startswith("absent (")
    assessed = guard.assess(tmp_path)
    assert {a.finding.rule_set for a in assessed} == {"control-tower"}
    assert any(a.finding.control == "CT.CLOUDWATCH.PR.3" and a.path == "/S/Plain" for a in assessed)
