"""PlatformRoles: each role's complete policy and trust policy; governance: boundary and name prefix."""

from __future__ import annotations

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from gptoss_constructs.governance import RoleNamePrefix, apply_role_governance
from gptoss_constructs.roles import PlatformRoles
from tests.conftest import make_app

APP = "arn:aws:iam::111122223333:role/app"


class FakeFrontDoor:
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=grantee, actions=["execute-api:Invoke"], resource_arns=["arn:aws:execute-api:us-east-1:111111111111:abc123/prod/*/*"])


def _acct(resource: str, service: str) -> dict:
    return {"Fn::Join": ["", [f"arn:aws:{service}:us-east-1:", {"Ref": "AWS::AccountId"}, f":{resource}"]]}


@pytest.fixture(scope="module")
def roles():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    bucket = s3.Bucket.from_bucket_name(stack, "Reports", "gptoss-reports")
    r = PlatformRoles(
        stack,
        "Roles",
        front_door=FakeFrontDoor(),
        consumer_principals=[iam.ArnPrincipal(APP)],
        operator_principals=[iam.AccountPrincipal("111122223333")],
        auditor_principals=[iam.AccountPrincipal("444455556666")],
        reports_bucket=bucket,
    )
    apply_role_governance(stack, permissions_boundary=iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", "platform-boundary"), role_name_prefix="team-")
    return stack, r, Template.from_stack(stack)


def _role(t: Template, stack: Stack, role: iam.Role) -> dict:
    return t.to_json()["Resources"][stack.resolve(role.node.default_child.logical_id)]["Properties"]


def _managed_statements(t: Template, stack: Stack, role: iam.Role) -> list[dict]:
    ref = {"Ref": stack.resolve(role.node.default_child.logical_id)}
    (policy,) = [p for p in t.find_resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [ref]]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_consumer_trusts_only_its_principals_and_may_only_invoke(roles):
    stack, r, t = roles
    role = _role(t, stack, r.consumer_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": APP}}]
    (policy,) = t.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": stack.resolve(r.consumer_role.node.default_child.logical_id)}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:111111111111:abc123/prod/*/*"}
    ]


def test_operator_policy_has_no_data_plane_action(roles):
    stack, r, t = roles
    role = _role(t, stack, r.operator_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
    ]
    statements = _managed_statements(t, stack, r.operator_role)
    assert [s["Sid"] for s in statements] == ["EndpointLifecycle", "DescribeEndpointConfigs", "ListWithoutResourceScope", "ScaleEndpointVariants", "ReadLogs"]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    forbidden = ("sagemaker:InvokeEndpoint", "bedrock:InvokeModel", "bedrock:ApplyGuardrail", "execute-api:Invoke", "s3:GetObject", "iam:PassRole")
    assert not [a for a in actions if a.startswith(forbidden) or a.endswith("*")]
    assert statements[0]["Resource"] == [
        _acct("endpoint/gptoss*", "sagemaker"),
        _acct("inference-component/gptoss*", "sagemaker"),
    ]
    assert statements[1]["Resource"] == _acct("endpoint-config/*", "sagemaker")  # names are generated: scoped by tag
    assert statements[0]["Action"] == [
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeInferenceComponent",
        "sagemaker:UpdateEndpoint",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        "sagemaker:UpdateInferenceComponentRuntimeConfig",
    ]


def test_auditor_is_read_only(roles):
    stack, r, t = roles
    statements = _managed_statements(t, stack, r.auditor_role)
    assert [s["Sid"] for s in statements] == ["ReadStacks", "ReadRolePolicies", "ReadConfigurationMetadata", "ReadComplianceReports"]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    verbs = {a.split(":")[1] for a in actions}
    assert all(v.startswith(("Describe", "Get", "List", "GET")) for v in verbs), sorted(verbs)
    assert statements[1]["Resource"] == {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":role/GptOss*"]]}
    assert statements[3]["Resource"] == ["arn:aws:s3:::gptoss-reports", "arn:aws:s3:::gptoss-reports/*"]


def test_every_role_gets_the_boundary_and_the_name_prefix(roles):
    stack, _, t = roles
    all_roles = t.find_resources("AWS::IAM::Role")
    assert len(all_roles) == 3
    for role in all_roles.values():
        assert role["Properties"]["PermissionsBoundary"] == {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":policy/platform-boundary"]]}
        assert role["Properties"]["RoleName"].startswith("team-T-Roles-")
        assert len(role["Properties"]["RoleName"]) <= 64


def test_roles_are_optional():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    PlatformRoles(stack, "Roles", auditor_principals=[iam.AccountPrincipal("444455556666")])
    Template.from_stack(stack).resource_count_is("AWS::IAM::Role", 1)


def test_fails_when_consumers_have_no_front_door():
    with pytest.raises(ValueError, match="front_door must be given when consumer_principals is set"):
        PlatformRoles(Stack(make_app(), "T"), "Roles", consumer_principals=[iam.ArnPrincipal(APP)])


@pytest.mark.parametrize("prefix", ["", "has space", "x" * 33])
def test_fails_when_the_role_name_prefix_is_invalid(prefix):
    with pytest.raises(ValueError, match="role_name_prefix must be 1 to 32 characters"):
        RoleNamePrefix(prefix)
