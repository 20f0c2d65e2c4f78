"""All five cdk-nag packs over every stack of the real app: no finding of any severity is left open, and
every acknowledgment names one exact finding with a specific reason."""

from __future__ import annotations

import pytest

from stacks.compliance import NAG_PACKS
from tests.conftest import APP_REGIONS

STACKS = [f"GptOss-Network-{r}" for r in APP_REGIONS]
#: aws-cdk-lib's own acknowledgments of its CloudFormation validation plugin (not ours to change)
CDK_OWN = "CloudFormation-Validate::"


def open_findings(report: dict, stack: str) -> list[str]:
    return [
        f"{plugin['pluginName']} {v['ruleName']} ({v['severity']}) at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
        if c["constructPath"].lstrip("/").startswith(f"{stack}/")
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_no_open_findings_of_any_severity(platform_app, stack):
    assert open_findings(platform_app.validation_report(), stack) == []


@pytest.mark.parametrize("stack", STACKS)
def test_acknowledgments_are_granular_placed_and_reasoned(platform_app, stack):
    packs = tuple(p.replace("PCI.DSS.3.2.1", "PCI.DSS.321").replace("NIST.800-53.R5", "NIST.800.53.R5") for p in NAG_PACKS)
    for path, acks in platform_app.acknowledgments(stack).items():
        for finding, reason in acks.items():
            if finding.startswith(CDK_OWN):
                continue
            pack, _, rule = finding.partition("::")
            assert pack in packs and rule.startswith(f"{pack}-"), f"{finding} at {path} is not an exact pack::rule id"
            assert path.count("/") >= 2, f"{finding} is acknowledged at stack root {path}; put it on the resource"
            assert len(reason) >= 60, f"{finding} at {path}: reason too short to review: {reason!r}"


def test_all_five_packs_are_attached():
    from aws_cdk import App, Stack
    from aws_cdk import aws_logs as logs

    from stacks.compliance import attach_compliance

    app = App(outdir=None)
    attach_compliance(app)
    stack = Stack(app, "Broken")
    logs.LogGroup(stack, "Plain", retention=logs.RetentionDays.ONE_WEEK)  # no KMS key: HIPAA/NIST/PCI flag it
    with pytest.raises(Exception) as err:
        app.synth()
    text = str(err.value)
    assert "Validation failed" in text or "validation" in text.lower()
