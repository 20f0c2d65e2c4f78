"""Front doors: the PRIVATE REST API (resource policy, IAM auth, validation, logs, throttling, streaming)
and the IAM Function URL."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from gptoss_constructs.front_door import FunctionUrlFrontDoor, PrivateApiFrontDoor
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app


def _stack():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net", interface_endpoints=["execute-api"], flow_logs=False)
    fn = lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.h", code=lambda_.Code.from_inline("h=1")
    )
    return stack, net, fn


@pytest.fixture(scope="module")
def api():
    stack, net, fn = _stack()
    door = PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], require_api_keys=True)
    door.add_consumer("TeamA", rate_limit=3, burst_limit=6, quota_per_day=10000)
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    door.grant_invoke(caller)
    return stack, net, door, Template.from_stack(stack)


class TestPrivateApi:
    def test_private_endpoint_bound_to_the_vpc_endpoint(self, api):
        stack, net, _, t = api
        vpce = stack.resolve(net.interface_endpoints["execute-api"].vpc_endpoint_id)
        t.has_resource_properties(
            "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["PRIVATE"], "VpcEndpointIds": [vpce]}}
        )

    def test_resource_policy_denies_outside_the_vpc_endpoint_and_defers_to_iam(self, api):
        stack, net, _, t = api
        vpce = stack.resolve(net.interface_endpoints["execute-api"].vpc_endpoint_id)
        (rest,) = t.find_resources("AWS::ApiGateway::RestApi").values()
        assert rest["Properties"]["Policy"]["Statement"] == [
            {
                "Action": "execute-api:Invoke",
                "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}},
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Resource": "execute-api:/*",
                "Sid": "DenyOutsideTheVpcEndpoint",
            },
            {
                "Action": "execute-api:Invoke",
                "Condition": {"StringEquals": {"aws:SourceVpce": vpce}},
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}},
                "Resource": "execute-api:/*",
                "Sid": "DeferToCallerIamPolicies",
            },
        ]

    def test_every_method_requires_iam_and_an_api_key(self, api):
        _, _, _, t = api
        methods = t.find_resources("AWS::ApiGateway::Method")
        assert sorted(m["Properties"]["HttpMethod"] for m in methods.values()) == ["GET", "GET", "POST"]
        for m in methods.values():
            assert m["Properties"]["AuthorizationType"] == "AWS_IAM"
            assert m["Properties"]["ApiKeyRequired"] is True

    def test_chat_route_validates_its_body_and_streams_from_the_proxy(self, api):
        _, _, _, t = api
        t.has_resource_properties("AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True})
        (model,) = t.find_resources("AWS::ApiGateway::Model").values()
        assert model["Properties"]["Schema"]["required"] == ["model", "messages"]
        t.has_resource_properties(
            "AWS::ApiGateway::Method",
            {
                "HttpMethod": "POST",
                "RequestValidatorId": {"Ref": Match.string_like_regexp("ApiValidator")},
                "RequestModels": {"application/json": {"Ref": Match.string_like_regexp("ApiChatRequest")}},
                "Integration": {"Type": "AWS_PROXY", "TimeoutInMillis": 300000, "ResponseTransferMode": "STREAM"},
            },
        )

    def test_stage_throttles_traces_and_logs_without_bodies(self, api):
        _, _, door, t = api
        stack = Stack.of(door)
        access = stack.resolve(door.access_log_group.node.default_child.logical_id)
        (stage,) = t.find_resources("AWS::ApiGateway::Stage").values()
        props = stage["Properties"]
        assert props["StageName"] == "prod" and props["TracingEnabled"] is True
        assert props["MethodSettings"] == [
            {"DataTraceEnabled": False, "HttpMethod": "*", "LoggingLevel": "ERROR", "MetricsEnabled": True, "ResourcePath": "/*", "ThrottlingBurstLimit": 40, "ThrottlingRateLimit": 20}
        ]
        assert props["AccessLogSetting"]["DestinationArn"] == {
            "Fn::Join": ["", ["arn:aws:logs:us-east-1:", {"Ref": "AWS::AccountId"}, ":log-group:", {"Ref": access}]]
        }
        fields = json.loads(props["AccessLogSetting"]["Format"])
        assert {"requestId", "caller", "status", "ip", "user"} <= set(fields)

    def test_log_groups_are_encrypted_and_the_execution_group_is_pre_created(self, api):
        _, _, door, t = api
        key = Stack.of(door).resolve(door.encryption_key.node.default_child.logical_id)
        groups = t.find_resources("AWS::Logs::LogGroup", {"Properties": {"KmsKeyId": Match.any_value()}})
        groups = {k: g for k, g in groups.items() if not k.startswith("CustomVpcRestrictDefaultSG")}  # the network's
        assert len(groups) == 2
        for g in groups.values():
            assert g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
            assert g["Properties"]["RetentionInDays"] == 365
        t.has_resource_properties(
            "AWS::Logs::LogGroup",
            {"LogGroupName": {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": Match.string_like_regexp("Api")}, "/prod"]]}},
        )

    def test_account_logging_role_uses_a_customer_managed_policy(self, api):
        _, _, _, t = api
        t.has_resource_properties("AWS::ApiGateway::Account", {"CloudWatchRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("ApiAccountLoggingRole"), "Arn"]}})
        t.has_resource_properties(
            "AWS::IAM::Role",
            {"AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}}]}, "ManagedPolicyArns": Match.absent()},
        )

    def test_grant_invoke_is_execute_api_invoke_on_this_stage_only(self, api):
        _, _, _, t = api
        t.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": "execute-api:Invoke",
                            "Effect": "Allow",
                            "Resource": {
                                "Fn::Join": ["", ["arn:aws:execute-api:us-east-1:", {"Ref": "AWS::AccountId"}, ":", {"Ref": Match.string_like_regexp("Api")}, "/prod/*/*"]]
                            },
                        }
                    ]
                },
            },
        )

    def test_consumer_usage_plan_and_key(self, api):
        _, _, _, t = api
        t.has_resource_properties(
            "AWS::ApiGateway::UsagePlan",
            {"Throttle": {"RateLimit": 3, "BurstLimit": 6}, "Quota": {"Limit": 10000, "Period": "DAY"}},
        )
        t.resource_count_is("AWS::ApiGateway::ApiKey", 1)
        t.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)

    def test_buffered_api_keeps_the_29_second_limit(self):
        stack, net, fn = _stack()
        PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], streaming=False, configure_account_logging_role=False)
        t = Template.from_stack(stack)
        t.has_resource_properties("AWS::ApiGateway::Method", {"Integration": {"TimeoutInMillis": 29000, "ResponseTransferMode": "BUFFERED"}})
        t.resource_count_is("AWS::ApiGateway::Account", 0)

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"streaming": False, "integration_timeout": Duration.seconds(60)}, "integration_timeout (seconds) must be between 1 and 29, got 60"),
            ({"integration_timeout": Duration.minutes(16)}, "integration_timeout (seconds) must be between 1 and 900, got 960"),
            ({"throttling_rate_limit": 0}, "throttling_rate_limit must be between 1 and 10000, got 0"),
        ],
    )
    def test_fails_on_bad_props(self, props, message):
        stack, net, fn = _stack()
        with pytest.raises(ValueError) as err:
            PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], **props)
        assert message in str(err.value)

    def test_fails_when_adding_a_consumer_without_api_keys(self):
        stack, net, fn = _stack()
        door = PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"])
        with pytest.raises(ValueError, match="add_consumer needs require_api_keys=True"):
            door.add_consumer("X")


class TestFunctionUrl:
    def test_iam_auth_streaming_and_a_scoped_grant(self):
        stack, _, fn = _stack()
        door = FunctionUrlFrontDoor(stack, "Url", handler=fn)
        door.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
        t = Template.from_stack(stack)
        t.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"})
        t.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": "lambda:InvokeFunctionUrl",
                            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [Match.string_like_regexp("Fn"), "Arn"]},
                        },
                        {  # Function URLs also need InvokeFunction, allowed only through the URL
                            "Action": "lambda:InvokeFunction",
                            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": True}},
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [Match.string_like_regexp("Fn"), "Arn"]},
                        },
                    ]
                }
            },
        )
