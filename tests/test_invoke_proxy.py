"""InvokeProxy: the function's placement, configuration and its complete IAM policy."""

from __future__ import annotations

import dataclasses

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
        assert (fn["Timeout"], fn["MemorySize"]) == (300, 1024)
        assert fn["TracingConfig"] == {"Mode": "Active"}
        assert fn["LoggingConfig"]["LogFormat"] == "JSON"

    def test_reserves_no_concurrency_by_default(self, built):
        """Lambda developer guide, "Configuring reserved concurrency"
        (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): the account keeps an
        unreserved minimum ("You can reserve up to the Unreserved account concurrency value ... minus 100"), and a
        reservation below it fails with "decreases account's UnreservedConcurrentExecution below its minimum
        value"; new accounts often have a limit of 10, so by default nothing is reserved."""
        assert "ReservedConcurrentExecutions" not in _function(built[3])

    def test_reserved_concurrency_is_kept_as_an_option(self):
        stack, _, _ = _build(reserved_concurrent_executions=20)
        assert _function(Template.from_stack(stack))["ReservedConcurrentExecutions"] == 20

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
        assert "GPTOSS_MAX_BODY_BYTES" not in env and "GPTOSS_ESCALATE_PRINCIPALS" not in env  # defaults: 256 KiB, nobody
        # the one *KEY* variable is the reasoning key's ARN (a reference to the key in this stack, not key material)
        assert env["GPTOSS_REASONING_KEY_ID"] == {"Fn::GetAtt": [stack.resolve(built[2].reasoning_key.node.default_child.logical_id), "Arn"]}
        assert not any(k for k in env if ("KEY" in k and k != "GPTOSS_REASONING_KEY_ID") or "SECRET" in k or "PASSWORD" in k)

    def test_environment_and_logs_are_encrypted_with_the_proxy_key(self, built):
        _, _, proxy, t = built
        key_id = Stack.of(proxy).resolve(proxy.encryption_key.node.default_child.logical_id)
        fn = _function(t)
        assert fn["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert fn["LoggingConfig"]["LogGroup"] == {"Ref": Stack.of(proxy).resolve(proxy.log_group.node.default_child.logical_id)}
        t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "RetentionInDays": 400})

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
        """The ENI actions have no resource-level scope (AWS managed policy AWSLambdaVPCAccessExecutionRole grants
        them on ``*``); the Deny takes them from the function's own code: Lambda developer guide, "Using source
        function ARN to control function access behavior" — requests from the execution environment carry
        ``lambda:SourceFunctionArn``, Lambda's own "Calls to Amazon EC2 to create elastic network interfaces
        (ENIs) for a VPC-enabled function" do not."""
        _, _, proxy, t = built
        stack = Stack.of(proxy)
        role_id = stack.resolve(proxy.role.node.default_child.logical_id)
        key_id = stack.resolve(proxy.encryption_key.node.default_child.logical_id)
        log_id = stack.resolve(proxy.log_group.node.default_child.logical_id)
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": role_id}]}}).values()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        eni_actions = [
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:UnassignPrivateIpAddresses",
        ]
        assert statements == [
            {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"},
            {"Action": eni_actions, "Effect": "Allow", "Resource": "*", "Sid": "ManageVpcInterfaces"},
            {
                "Action": eni_actions,
                "Condition": {"Null": {"lambda:SourceFunctionArn": "false"}},
                "Effect": "Deny",
                "Resource": "*",
                "Sid": "DenyVpcInterfacesToFunctionCode",
            },
            {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": {"Fn::GetAtt": [log_id, "Arn"]}},
            {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key_id, "Arn"]}},
            {
                "Action": ["kms:Decrypt", "kms:Encrypt"],
                "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "gptoss-reasoning", "kms:EncryptionContext:route": ["gpt-oss-120b", "gpt-oss-20b"]}},
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [stack.resolve(proxy.reasoning_key.node.default_child.logical_id), "Arn"]},
                "Sid": "SealReasoningPerRoute",
            },
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

    def test_the_policy_is_customer_managed_never_inline(self, built):
        """The compliance packs' IAMNoInlinePolicy rule: the role's statements live in one customer-managed
        policy (no AWS::IAM::Policy, no AWS managed policy), and the function waits for it (Lambda checks the
        ENI permissions when it creates a function in a VPC)."""
        _, _, proxy, t = built
        stack = Stack.of(proxy)
        role_id = stack.resolve(proxy.role.node.default_child.logical_id)
        assert not t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
        (policy_id,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": role_id}]}})
        (fn,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.14"}}).values()
        assert policy_id in fn["DependsOn"]
        role = t.to_json()["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role and "Policies" not in role
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
            ({"reserved_concurrent_executions": 0}, "reserved_concurrent_executions must be between 1 and 1000, got 0"),
            ({"escalate_principals": ["alice"]}, "escalate_principals must be '*', 12-digit account ids or IAM role/user ARNs, got 'alice'"),
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

    def test_fails_when_a_buffered_proxy_outlives_the_29_second_integration(self):
        """API Gateway "Integration" reference: TimeoutInMillis is 50 to 29,000 ms unless the account's quota is
        raised (Regional/private REST APIs only); a buffered proxy with a longer timeout would be cut at 29 s."""
        stack, net, proxy = _build(streaming=False)
        with pytest.raises(ValueError, match="timeout of 300 s is longer than the 29 s a buffered"):
            proxy.add_private_api(vpc_endpoint=net.add_interface_endpoint("execute-api"))
        stack, net, proxy = _build(streaming=False, timeout=Duration.seconds(29))
        proxy.add_private_api(vpc_endpoint=net.add_interface_endpoint("execute-api"), configure_account_logging_role=False)

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
        # the reasoning key's ARN is a token in the construct and its CloudFormation reference in the template
        assert Settings.from_env(env) == dataclasses.replace(proxy.settings, reasoning_key_id=env["GPTOSS_REASONING_KEY_ID"])
        assert proxy.settings.routes["gpt-oss-20b"].max_reasoning_effort == "medium"


class TestSurface:
    def test_the_proxy_is_an_iconnectable(self):
        """Issue 15 item 5: CDK APIs that take an IConnectable (``Connections.allow_from``) accept the proxy."""
        from aws_cdk import aws_ec2 as ec2

        stack, net, proxy = _build()
        other = ec2.SecurityGroup(stack, "Other", vpc=net.vpc, allow_all_outbound=False)
        other.connections.allow_from(proxy, ec2.Port.tcp(8443), "from the proxy")
        t = Template.from_stack(stack)
        t.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {"FromPort": 8443, "SourceSecurityGroupId": {"Fn::GetAtt": [stack.resolve(proxy.security_group.node.default_child.logical_id), "GroupId"]}},
        )

    def test_grant_invoke_names_the_routes_and_can_use_a_managed_policy(self):
        from aws_cdk import aws_iam as iam

        stack, net, proxy = _build()
        proxy.add_private_api(vpc_endpoint=net.add_interface_endpoint("execute-api"))
        inline, managed = (iam.Role(stack, n, assumed_by=iam.AccountRootPrincipal()) for n in ("Inline", "Managed"))
        proxy.grant_invoke(inline)
        proxy.grant_invoke(managed, managed_policy=True)
        t = Template.from_stack(stack)
        for name, kind in (("Inline", "AWS::IAM::Policy"), ("Managed", "AWS::IAM::ManagedPolicy")):
            (policy,) = t.find_resources(kind, {"Properties": {"Roles": [{"Ref": Match.string_like_regexp(name)}]}}).values()
            (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
            tails = sorted(r["Fn::Join"][1][-1] for r in statement["Resource"])
            assert tails == [
                "/prod/GET/health", "/prod/GET/v1/models", "/prod/GET/v1/models/gpt-oss-120b", "/prod/GET/v1/models/gpt-oss-20b",
                "/prod/POST/v1/chat/completions", "/prod/POST/v1/completions", "/prod/POST/v1/responses",
            ], name
        assert not t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("Managed")}]}})


def _team_app(tmp_path, managed_policy: bool):
    """A platform team's small app built from our constructs (as from the wheel) with all five nag packs:
    the platform in one stack, the team's own role in another, granted with ``grant_invoke``."""
    from aws_cdk import App
    from aws_cdk import aws_iam as iam

    from stacks.compliance import attach_compliance
    from tests.conftest import project_context

    app = App(outdir=str(tmp_path), context=project_context())
    attach_compliance(app)
    platform = Stack(app, "Platform", env=Environment(region="us-east-1"))
    net = PrivateNetwork(platform, "Net")
    proxy = InvokeProxy(
        platform, "Proxy", vpc=net.vpc, service_endpoints=net, code=CODE,
        routes=[ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))],
    )
    proxy.add_private_api(vpc_endpoint=net.add_interface_endpoint("execute-api"))
    team = Stack(app, "Team", env=Environment(region="us-east-1"))
    role = iam.Role(team, "AppRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    proxy.grant_invoke(role, managed_policy=managed_policy)
    try:
        app.synth()
    except Exception:  # nag errors fail synth; the report is written either way
        pass
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return [
        f"{v['ruleName']} at {c['constructPath']}"
        for p in report["pluginReports"]
        for v in p["violations"]
        for c in v["violatingConstructs"]
        if c["constructPath"].lstrip("/").startswith("Team/")
    ]


def test_a_team_granting_its_own_role_stays_nag_clean_with_a_managed_policy(tmp_path):
    """Issue 16: a 30-line app from the wheel got AwsSolutions-IAM5 on ``stage/*/*`` and the packs'
    IAMNoInlinePolicy on the grant; with exact routes and ``managed_policy=True`` the team's stack has no
    finding at all (all five packs), without acknowledgments."""
    assert _team_app(tmp_path / "managed", managed_policy=True) == []
    inline = _team_app(tmp_path / "inline", managed_policy=False)  # the same grant, inline: the packs object
    assert inline and all("IAMNoInlinePolicy" in f for f in inline)


def test_fails_when_max_body_bytes_is_above_the_lambda_payload_quota():
    """Lambda API reference, "Invoke": "For synchronous invocations, the maximum payload size is 6 MB", so a
    larger limit could never be reached; 1 KiB is the floor of a useful chat request."""
    with pytest.raises(ValueError, match="max_body_bytes must be between 1024 and 6291456, got 7000000"):
        _build(max_body_bytes=7_000_000)
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

    stack, _, proxy = _build(max_body_bytes=65_536, escalate_principals=["arn:aws:iam::111122223333:role/ops"])
    env = _function(Template.from_stack(stack))["Environment"]["Variables"]
    assert (env["GPTOSS_MAX_BODY_BYTES"], env["GPTOSS_ESCALATE_PRINCIPALS"]) == ("65536", "arn:aws:iam::111122223333:role/ops")
    assert Settings.from_env(env) == dataclasses.replace(proxy.settings, reasoning_key_id=env["GPTOSS_REASONING_KEY_ID"])  # the one codec carries both back


def test_reasoning_key_rotates_and_first_batch_setting_travels():
    """Issue 23 items 3 and 8: the reasoning key is the proxy's own with yearly rotation
    (``EnableKeyRotation``, AWS::KMS::Key in cfn-lint's schema), and ``guardrail_first_batch_chars`` reaches the
    Lambda through the one codec (0 = off)."""
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

    stack, _, proxy = _build(guardrail_first_batch_chars=0)
    t = Template.from_stack(stack)
    key = t.find_resources("AWS::KMS::Key")[stack.resolve(proxy.reasoning_key.node.default_child.logical_id)]
    assert key["Properties"]["EnableKeyRotation"] is True
    env = _function(t)["Environment"]["Variables"]
    assert env["GPTOSS_GUARDRAIL_FIRST_BATCH_CHARS"] == "0"
    assert Settings.from_env(env).guardrail_first_batch_chars == 0


def test_fails_when_guardrail_first_batch_chars_is_out_of_range():
    with pytest.raises(ValueError, match="guardrail_first_batch_chars must be between 0 and 25000, got -1"):
        _build(guardrail_first_batch_chars=-1)
