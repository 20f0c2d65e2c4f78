"""All five cdk-nag packs over every stack of the real app: no finding of any severity is left open, and
every acknowledgment names one exact finding with a specific reason."""

from __future__ import annotations

import json

import pytest

from stacks.compliance import NAG_PACKS
#: aws-cdk-lib's own acknowledgments of its CloudFormation validation plugin (not ours to change)
CDK_OWN = "CloudFormation-Validate::"
#: our constructs' own synth warnings (Validations.add_warning), acknowledged where the app decides them
OUR_WARNINGS = "Annotation::gptoss-"


def open_findings(report: dict, stack: str) -> list[str]:
    return [
        f"{plugin['pluginName']} {v['ruleName']} ({v['severity']}) at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
        if c["constructPath"].lstrip("/").startswith(f"{stack}/")
    ]


def test_the_app_has_stacks_for_every_region(platform_app):
    assert len(platform_app.stacks()) >= 2


def test_no_open_findings_of_any_severity_in_any_stack(platform_app):
    report = platform_app.validation_report()
    findings = {stack: open_findings(report, stack) for stack in platform_app.stacks()}
    assert {stack: f for stack, f in findings.items() if f} == {}


def test_acknowledgments_are_granular_placed_and_reasoned(platform_app):
    packs = tuple(p.replace("PCI.DSS.3.2.1", "PCI.DSS.321").replace("NIST.800-53.R5", "NIST.800.53.R5") for p in NAG_PACKS)
    problems = []
    for stack in platform_app.stacks():
        for path, acks in platform_app.acknowledgments(stack).items():
            for finding, reason in acks.items():
                if finding.startswith(CDK_OWN):
                    continue
                pack, _, rule = finding.partition("::")
                if not finding.startswith(OUR_WARNINGS) and not (pack in packs and rule.startswith(f"{pack}-")):
                    problems.append(f"{finding} at {path} is not an exact pack::rule id")
                if path.count("/") < 2:
                    problems.append(f"{finding} is acknowledged at stack root {path}; put it on the resource")
                if len(reason) < 60:
                    problems.append(f"{finding} at {path}: reason too short to review: {reason!r}")
    assert problems == []


def test_all_five_packs_check_every_stack(tmp_path):
    """A deliberately bad stack: every pack must report it, and synth must fail."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs

    from stacks.compliance import attach_compliance

    app = App(outdir=str(tmp_path))
    attach_compliance(app)
    stack = Stack(app, "Broken")
    logs.LogGroup(stack, "Plain", retention=logs.RetentionDays.ONE_WEEK)  # not KMS-encrypted
    lambda_.Function(  # old runtime, no tracing, no DLQ, not in a VPC
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_10, handler="index.handler", code=lambda_.Code.from_inline("x=1")
    )
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    failing = {p["pluginName"] for p in report["pluginReports"] if p["conclusion"] == "failure"}
    assert failing == {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-L1", "HIPAA.Security-CloudWatchLogGroupEncrypted", "Serverless-LambdaTracing"} <= rules
