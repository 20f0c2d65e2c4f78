"""InvokeProxy with the platform team's own identity and naming (issue 24 item 4): ``role``, ``security_groups``,
``function_name``; the proxy's permissions follow the override instead of being dropped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from tests.test_invoke_proxy import _build, _function


def _actions(policy: dict) -> list[tuple[str, str]]:
    out = []
    for st in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        out += [(st["Effect"], a) for a in actions]
    return sorted(out)


def _user_role(stack: Stack) -> iam.Role:
    return iam.Role(stack, "TeamRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), role_name="team-gptoss-proxy")


@pytest.fixture(scope="module")
def own_role():
    holder = {}

    def props(scope):
        holder["role"] = _user_role(scope)
        return {"role": holder["role"]}

    stack, _, proxy = _build_with(props)
    return stack, holder["role"], proxy, Template.from_stack(stack)


def _build_with(make_props):
    """``_build`` with props that need the stack (a role or security group made in it)."""
    from aws_cdk import Environment

    from gptoss_constructs.bedrock_model import BedrockFoundationModel
    from gptoss_constructs.endpoint import GptOssEndpoint
    from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
    from gptoss_constructs.network import PrivateNetwork
    from tests.conftest import make_app
    from tests.fakes import FakeGuardrail
    from tests.test_invoke_proxy import CODE

    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net")
    props = dict(
        vpc=net.vpc,
        service_endpoints=net,
        routes=[
            ProxyRoute.sagemaker("gpt-oss-20b", GptOssEndpoint.from_endpoint_attributes(stack, "Gpt20b", endpoint_name="gptoss-20b-ep")),
            ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b")),
        ],
        guardrail=FakeGuardrail(),
        code=CODE,
    )
    props.update(make_props(stack))
    return stack, net, InvokeProxy(stack, "Proxy", **props)


class TestOwnRole:
    def test_the_function_runs_with_your_role_and_no_role_of_ours(self, own_role):
        stack, role, proxy, t = own_role
        assert proxy.role is role
        assert _function(t)["Role"] == {"Fn::GetAtt": [stack.resolve(role.node.default_child.logical_id), "Arn"]}
        assert not t.find_resources("AWS::IAM::Role", {"Properties": {"Description": Match.string_like_regexp("invoke proxy")}})

    def test_every_permission_lands_in_one_managed_policy_on_your_role_never_inline(self, own_role):
        stack, role, proxy, t = own_role
        role_ref = {"Ref": stack.resolve(role.node.default_child.logical_id)}
        (policy_id,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [role_ref]}})
        assert policy_id == stack.resolve(proxy.policy.node.default_child.logical_id)
        assert not t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [role_ref]}})  # nothing inline

    def test_your_role_gets_exactly_what_the_proxys_own_role_gets(self, own_role):
        """Grants follow the override: the same statements (routes, guardrail, logs, key, ENI, X-Ray) as the
        default role's policy."""
        stack, _, proxy, t = own_role
        mine = t.to_json()["Resources"][stack.resolve(proxy.policy.node.default_child.logical_id)]
        dstack, _, default = _build()
        theirs = Template.from_stack(dstack).to_json()["Resources"][dstack.resolve(default.policy.node.default_child.logical_id)]
        assert _actions(mine) == _actions(theirs)
        assert ("Allow", "xray:PutTraceSegments") in _actions(mine) and ("Allow", "bedrock:ApplyGuardrail") in _actions(mine)

    def test_tracing_stays_active_and_the_function_waits_for_the_policy(self, own_role):
        stack, _, proxy, t = own_role
        assert _function(t)["TracingConfig"] == {"Mode": "Active"}
        (fn,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.14"}}).values()
        assert stack.resolve(proxy.policy.node.default_child.logical_id) in fn["DependsOn"]

    def test_an_imported_role_gets_the_policy_attached_by_name(self):
        stack, _, proxy = _build_with(lambda s: {"role": iam.Role.from_role_arn(s, "Central", "arn:aws:iam::111122223333:role/central/gptoss-proxy", mutable=False)})
        t = Template.from_stack(stack)
        t.has_resource_properties("AWS::IAM::ManagedPolicy", {"Roles": ["gptoss-proxy"], "PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "bedrock:ApplyGuardrail"})])}})
        assert _function(t)["Role"] == "arn:aws:iam::111122223333:role/central/gptoss-proxy"


class TestOwnSecurityGroups:
    def test_your_group_is_used_and_still_gets_the_endpoint_egress(self):
        holder = {}

        def props(s):
            holder["sg"] = ec2.SecurityGroup(s, "TeamSg", vpc=s.node.find_child("Net").vpc, allow_all_outbound=False)
            return {"security_groups": [holder["sg"]]}

        stack, net, proxy = _build_with(props)
        t = Template.from_stack(stack)
        sg_id = {"Fn::GetAtt": [stack.resolve(holder["sg"].node.default_child.logical_id), "GroupId"]}
        assert _function(t)["VpcConfig"]["SecurityGroupIds"] == [sg_id]
        assert proxy.security_group is holder["sg"] and proxy.security_groups == [holder["sg"]]
        assert not t.find_resources("AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": Match.string_like_regexp("invoke proxy")}})
        egress = [e["Properties"] for e in t.find_resources("AWS::EC2::SecurityGroupEgress").values()]
        assert egress == [{
            "GroupId": sg_id, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Description": "HTTPS to the VPC endpoints",
            "DestinationSecurityGroupId": stack.resolve(net.endpoint_security_group.security_group_id),
        }]  # the egress rule the default group would have, on your group: not switched off
        Annotations.from_stack(stack).has_no_warning("/T/Proxy", Match.string_like_regexp("allows all outbound"))

    def test_an_open_group_says_the_egress_limit_is_gone(self):
        stack, _, _ = _build_with(lambda s: {"security_groups": [ec2.SecurityGroup(s, "Open", vpc=s.node.find_child("Net").vpc)]})
        Annotations.from_stack(stack).has_warning(
            "/T/Proxy", Match.string_like_regexp("security_groups: T/Open allows all outbound traffic, so the proxy's egress is no longer limited")
        )

    def test_an_immutable_group_that_cannot_take_the_egress_rule_says_so(self):
        stack, _, _ = _build_with(lambda s: {"security_groups": [ec2.SecurityGroup.from_security_group_id(s, "Central", "sg-0123456789abcdef0", allow_all_outbound=False, mutable=False)]})
        Annotations.from_stack(stack).has_warning("/T/Proxy", Match.string_like_regexp(
            "security_groups: T/Central did not take the proxy's egress rule .* add egress TCP 443 to the VPC endpoints' security group yourself"))

    def test_a_mutable_import_takes_the_egress_rule_silently(self):
        stack, _, _ = _build_with(lambda s: {"security_groups": [ec2.SecurityGroup.from_security_group_id(s, "Team", "sg-0123456789abcdef0", allow_all_outbound=False)]})
        Template.from_stack(stack).has_resource_properties("AWS::EC2::SecurityGroupEgress", {"GroupId": "sg-0123456789abcdef0", "FromPort": 443})
        Annotations.from_stack(stack).has_no_warning("/T/Proxy", Match.any_value())

    def test_fails_when_security_groups_is_empty(self):
        with pytest.raises(ValueError, match="security_groups must name at least one security group when given, got none"):
            _build(security_groups=[])


def _botocore_shape(service: str, shape: str) -> dict:
    model = sorted((Path(botocore.__file__).parent / "data" / service).glob("*/service-2.json.gz"))[-1]  # newest API version
    return json.loads(gzip.decompress(model.read_bytes()))["shapes"][shape]


class TestFunctionName:
    def test_the_function_has_your_name(self):
        stack, _, _ = _build(function_name="team-gptoss-proxy_1")
        assert _function(Template.from_stack(stack))["FunctionName"] == "team-gptoss-proxy_1"

    def test_the_rule_is_lambdas(self):
        """botocore's Lambda service model, shape ``FunctionName``: the name part is ``[a-zA-Z0-9-_]+`` and
        CreateFunction's documentation says "If you specify only the function name, it is limited to 64
        characters in length"."""
        from gptoss_constructs.invoke_proxy import FUNCTION_NAME_MAX_LENGTH

        shape = _botocore_shape("lambda", "FunctionName")
        assert "(function:)?([a-zA-Z0-9-_]+)" in shape["pattern"]
        create = _botocore_shape("lambda", "CreateFunctionRequest")["members"]["FunctionName"]["documentation"]
        assert f"limited to {FUNCTION_NAME_MAX_LENGTH} characters" in create

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("x" * 65, "function_name must be at most 64 characters, got 65"),
            ("team.proxy", "function_name must be letters, digits, hyphens and underscores (Lambda FunctionName), got 'team.proxy'"),
            ("", "function_name must be a non-empty string, got ''"),
        ],
    )
    def test_fails_when_function_name_breaks_lambdas_rule(self, name, message):
        with pytest.raises(ValueError) as err:
            _build(function_name=name)
        assert message in str(err.value)
