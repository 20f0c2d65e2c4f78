"""Deliberately broken stacks, checked through the app's own attach_compliance: every check we rely on must
catch them (nag packs with exact rule names; the report marks them as failures; checkov/cfn-lint in
tests/test_lint.py), so a regression like these cannot pass CI."""

from __future__ import annotations

import pytest

from tools import nag_report

LOG_GROUP = "/Broken-LogGroup/Plain/Resource"
POLICY = "/Broken-Iam/Wildcard/Resource"
VPC = "/Broken-PublicSubnet/Vpc/Resource"
SUBNETS = [f"/Broken-PublicSubnet/Vpc/publicSubnet{i}/Subnet" for i in (1, 2)]
ROUTES = [f"/Broken-PublicSubnet/Vpc/publicSubnet{i}/DefaultRoute" for i in (1, 2)]
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")

def _expected() -> set[tuple[str, str]]:
    expected = {("AwsSolutions-IAM5[Action::*]", POLICY), ("AwsSolutions-IAM5[Resource::*]", POLICY),
                ("AwsSolutions-VPC7", VPC)}
    for p in COMPLIANCE_PACKS:
        expected |= {
            (f"{p}-CloudWatchLogGroupEncrypted", LOG_GROUP),  # (a)
            (f"{p}-IAMPolicyNoStatementsWithAdminAccess", POLICY),  # (b)
            (f"{p}-IAMPolicyNoStatementsWithFullAccess", POLICY),
            (f"{p}-VPCFlowLogsEnabled", VPC),  # (c)
        }
        expected |= {(f"{p}-VPCSubnetAutoAssignPublicIpDisabled", s) for s in SUBNETS}
        expected |= {(f"{p}-VPCNoUnrestrictedRouteToIGW", r) for r in ROUTES}
    return expected


@pytest.fixture(scope="module")
def broken_reports(broken_app):
    return nag_report.build_reports(broken_app.outdir)


def test_nag_packs_report_exactly_these_findings(broken_app):
    found = {
        (v["ruleName"], "/" + c["constructPath"])
        for p in broken_app.validation_report()["pluginReports"]
        for v in p["violations"]
        for c in v["violatingConstructs"]
    }
    assert found == _expected()
    failing = {p["pluginName"] for p in broken_app.validation_report()["pluginReports"] if p["conclusion"] == "failure"}
    assert failing == {"AwsSolutions", *COMPLIANCE_PACKS}


def test_report_marks_every_break_as_a_failure(broken_reports):
    (report,) = broken_reports.values()
    fails = {(r.rule, r.resource_path) for r in report.failures()}
    assert fails == _expected()
    assert report.discrepancies == []
    by_pack = report.counts_by_pack()
    assert by_pack["AwsSolutions"]["fail"] == 3
    assert all(by_pack[p]["fail"] == 8 for p in COMPLIANCE_PACKS)
    assert all(r.severity == "error" for r in report.failures())


def test_report_exits_non_zero_on_failures(broken_app, tmp_path):
    assert nag_report.main(["--cdk-out", str(broken_app.outdir), "--out", str(tmp_path)]) == 1
    assert "**Open findings: 27** (27 errors, 0 warnings)" in (tmp_path / "us-east-1.md").read_text()
