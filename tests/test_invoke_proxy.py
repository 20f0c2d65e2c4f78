"""InvokeProxy: the function's placement, configuration and its complete IAM policy."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app
from tests.fakes import GUARDRAIL_ARN, FakeGuardrail

CODE = lambda_.Code.from_inline("def lambda_handler(event, context):\n    return {}\n")


def _build(**props) -> tuple[Stack, PrivateNetwork, InvokeProxy]:
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net")
    defaults = dict(
        vpc=net.vpc,
        service_endpoints=net,
        routes=[
            ProxyRoute.sagemaker("gpt-oss-20b", GptOssEndpoint.from_endpoint_attributes(stack, "Gpt20b", endpoint_name="gptoss-20b-ep"), fallback="gpt-oss-120b", max_tokens=4096, max_reasoning_effort="medium"),
            ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b")),
        ],
        guardrail=FakeGuardrail(),
        code=CODE,
    )
    defaults.update(props)
    return stack, net, InvokeProxy(stack, "Proxy", **defaults)


@pytest.fixture(scope="module")
def built():
    stack, net, proxy = _build()
    return stack, net, proxy, Template.from_stack(stack)


def _function(t: Template) -> dict:
    (fn,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": Match.any_value(), "Runtime": "python3.14"}}).values()
    return fn["Properties"]


class TestFunction:
    def test_latest_python_on_arm64_with_limits(self, built):
        fn = _function(built[3])
        assert fn["Runtime"] == "python3.14"
        assert fn["Architectures"] == ["arm64"]
        assert (fn["Timeout"], fn["MemorySize"], fn["ReservedConcurrentExecutions"]) == (300, 1024, 50)
        assert fn["TracingConfig"] == {"Mode": "Active"}
        assert fn["LoggingConfig"]["LogFormat"] == "JSON"

    def test_streams_through_the_lambda_web_adapter(self, built):
        fn = _function(built[3])
        assert fn["Handler"] == "run.sh"
        assert fn["Layers"] == ["arn:aws:lambda:us-east-1:753240598075:layer:LambdaAdapterLayerArm64:26"]
        env = fn["Environment"]["Variables"]
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
        assert env["AWS_LWA_PORT"] == "8080"

    def test_the_adapter_passes_the_proxys_error_statuses_through(self, built):
        """The Web Adapter turns a response into a function error only for the statuses in AWS_LWA_ERROR_STATUS_CODES
        (awslabs/aws-lambda-web-adapter src/lib.rs, `error_status_codes`, unset by default): left unset, the proxy's
        429/502/503/504 with their OpenAI bodies and Retry-After reach the client (streams included)."""
        assert "AWS_LWA_ERROR_STATUS_CODES" not in _function(built[3])["Environment"]["Variables"]

    def test_buffered_mode_uses_the_plain_handler_and_no_layer(self):
        stack, _, _ = _build(streaming=False, architecture=lambda_.Architecture.X86_64)
        fn = _function(Template.from_stack(stack))
        assert fn["Handler"] == "handler.lambda_handler"
        assert "Layers" not in fn
        assert "AWS_LAMBDA_EXEC_WRAPPER" not in fn["Environment"]["Variables"]
        assert fn["Architectures"] == ["x86_64"]

    def test_environment_carries_routes_and_guardrail_not_secrets(self, built):
        stack, _, _, t = built
        env = _function(t)["Environment"]["Variables"]
        assert json.loads(env["GPTOSS_ROUTES"]) == {
            "gpt-oss-20b": {"backend": "sagemaker", "endpoint_name": "gptoss-20b-ep", "fallback": "gpt-oss-120b", "max_tokens": 4096, "max_reasoning_effort": "medium"},
            "gpt-oss-120b": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
        }
        assert env["GPTOSS_GUARDRAIL_ID"] == "gr0123456789"
        assert env["GPTOSS_GUARDRAIL_VERSION"] == "3"
        assert "GPTOSS_GUARDRAIL_STREAM_MODE" not in env  # the default (safe) is the proxy's own, not repeated here
        assert not any(k for k in env if "KEY" in k or "SECRET" in k or "PASSWORD" in k)

    def test_environment_and_logs_are_encrypted_with_the_proxy_key(self, built):
        _, _, proxy, t = built
        key_id = Stack.of(proxy).resolve(proxy.encryption_key.node.default_child.logical_id)
        fn = _function(t)
        assert fn["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert fn["LoggingConfig"]["LogGroup"] == {"Ref": Stack.of(proxy).resolve(proxy.log_group.node.default_child.logical_id)}
        t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "RetentionInDays": 365})

    def test_runs_in_the_isolated_subnets_with_its_own_security_group(self, built):
        _, net, proxy, t = built
        stack = Stack.of(proxy)
        vpc_config = _function(t)["VpcConfig"]
        assert vpc_config["SecurityGroupIds"] == [{"Fn::GetAtt": [stack.resolve(proxy.security_group.node.default_child.logical_id), "GroupId"]}]
        assert vpc_config["SubnetIds"] == [stack.resolve(s.subnet_id) for s in net.vpc.isolated_subnets]

    def test_security_group_egress_is_https_to_the_endpoint_security_group_only(self, built):
        _, net, proxy, t = built
        stack = Stack.of(proxy)
        sg = t.to_json()["Resources"][stack.resolve(proxy.security_group.node.default_child.logical_id)]["Properties"]
        assert "SecurityGroupIngress" not in sg
        egress = t.find_resources("AWS::EC2::SecurityGroupEgress")
        assert [e["Properties"] for e in egress.values()] == [
            {
                "GroupId": {"Fn::GetAtt": [stack.resolve(proxy.security_group.node.default_child.logical_id), "GroupId"]},
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "Description": "HTTPS to the VPC endpoints",
                "DestinationSecurityGroupId": {"Fn::GetAtt": [stack.resolve(net.endpoint_security_group.node.default_child.logical_id), "GroupId"]},
            }
        ]


class TestPolicy:
    def test_the_complete_policy_statement_by_statement(self, built):
        _, _, proxy, t = built
        stack = Stack.of(proxy)
        role_id = stack.resolve(proxy.role.node.default_child.logical_id)
        key_id = stack.resolve(proxy.encryption_key.node.default_child.logical_id)
        log_id = stack.resolve(proxy.log_group.node.default_child.logical_id)
        (policy,) = t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}).values()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statements == [
            {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"},
            {
                "Action": [
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Effect": "Allow",
                "Resource": "*",
                "Sid": "ManageVpcInterfaces",
            },
            {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": {"Fn::GetAtt": [log_id, "Arn"]}},
            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key_id, "Arn"]}},
            {
                "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                "Effect": "Allow",
                "Resource": {"Fn::Join": ["", ["arn:aws:sagemaker:us-east-1:", {"Ref": "AWS::AccountId"}, ":endpoint/gptoss-20b-ep"]]},
            },
            {
                "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                "Effect": "Allow",
                "Resource": "arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-oss-120b-1:0",
            },
            {"Action": "bedrock:ApplyGuardrail", "Effect": "Allow", "Resource": GUARDRAIL_ARN},
        ]

    def test_no_managed_policies_on_the_role(self, built):
        _, _, proxy, t = built
        role = t.to_json()["Resources"][Stack.of(proxy).resolve(proxy.role.node.default_child.logical_id)]["Properties"]
        assert "ManagedPolicyArns" not in role
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ]


class TestValidation:
    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"routes": []}, "routes must name at least one model route, got none"),
            (
                {"routes": [ProxyRoute.bedrock("a", BedrockFoundationModel("gpt-oss-20b")), ProxyRoute.bedrock("a", BedrockFoundationModel("gpt-oss-20b"))]},
                "routes must have distinct model names, got ['a', 'a']",
            ),
            ({"routes": [ProxyRoute(model="a")]}, "route 'a' must have exactly one of endpoint or bedrock_model"),
            (
                {"routes": [ProxyRoute.bedrock("a", BedrockFoundationModel("gpt-oss-20b"), fallback="b")]},
                "route 'a' fallback must be another route's model, one of (none); got 'b'",
            ),
            (
                {"routes": [ProxyRoute.bedrock("a", BedrockFoundationModel("gpt-oss-20b"), max_reasoning_effort="extreme")]},
                "route 'a' max_reasoning_effort must be one of low, medium, high, got 'extreme'",
            ),
            ({"guardrail_stream_mode": "yolo"}, "guardrail_stream_mode must be one of safe, fast, got 'yolo'"),
            ({"memory_size": 64}, "memory_size must be between 128 and 10240, got 64"),
            ({"timeout": Duration.minutes(20)}, "timeout (seconds) must be between 10 and 900, got 1200"),
        ],
    )
    def test_fails_on_bad_props(self, props, message):
        with pytest.raises(ValueError) as err:
            _build(**props)
        assert message in str(err.value)

    def test_fails_when_a_bedrock_model_is_unknown(self):
        with pytest.raises(ValueError, match="model must be one of gpt-oss-120b, gpt-oss-20b, openai.gpt-oss-120b-1:0, openai.gpt-oss-20b-1:0, got 'gpt-5'"):
            BedrockFoundationModel("gpt-5")

    def test_fails_when_grant_invoke_has_no_front_door(self):
        _, _, proxy = _build()
        with pytest.raises(ValueError, match="grant_invoke needs a front door"):
            proxy.grant_invoke(proxy.role)


class TestEnvironmentCodec:
    """The function's environment is the proxy core's own ``Settings.to_env()``; the Lambda reads it with
    ``Settings.from_env()`` and gets back exactly the settings the construct built."""

    def test_the_lambda_reads_back_what_the_construct_built(self):
        from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

        stack, _, proxy = _build(guardrail_stream_mode="fast")
        env = _function(Template.from_stack(stack))["Environment"]["Variables"]
        assert env["GPTOSS_GUARDRAIL_STREAM_MODE"] == "fast"
        assert Settings.from_env(env) == proxy.settings
        assert proxy.settings.routes["gpt-oss-20b"].max_reasoning_effort == "medium"
