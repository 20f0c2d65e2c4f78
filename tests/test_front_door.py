"""The front door: the PRIVATE REST API (resource policy, IAM auth, validation, logs, throttling, streaming,
the account logging setting, exact-route grants)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from gptoss_constructs.front_door import PrivateApiFrontDoor
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
    door = PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], require_api_keys=True, configure_account_logging_role=True)
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
        assert sorted(m["Properties"]["HttpMethod"] for m in methods.values()) == ["GET", "GET", "POST", "POST", "POST"]
        for m in methods.values():
            assert m["Properties"]["AuthorizationType"] == "AWS_IAM"
            assert m["Properties"]["ApiKeyRequired"] is True

    def test_chat_route_validates_its_body_and_streams_from_the_proxy(self, api):
        _, _, _, t = api
        t.has_resource_properties("AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True})
        models = {m["Properties"]["Schema"]["title"]: m["Properties"]["Schema"] for m in t.find_resources("AWS::ApiGateway::Model").values()}
        assert models["ChatCompletionRequest"]["required"] == ["model", "messages"]
        assert models["ResponsesRequest"]["required"] == ["model", "input"]
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

    def test_access_log_records_the_callers_iam_arn(self, api):
        """API Gateway developer guide, "Variables for access logging for API Gateway"
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html):
        ``$context.identity.userArn`` is the ARN of the effective user identified after authentication."""
        (stage,) = api[3].find_resources("AWS::ApiGateway::Stage").values()
        fields = json.loads(stage["Properties"]["AccessLogSetting"]["Format"])
        assert fields["userArn"] == "$context.identity.userArn"
        assert not [v for v in fields.values() if "body" in v.lower()]  # never request or response bodies

    def test_log_groups_are_encrypted_and_the_execution_group_is_pre_created(self, api):
        _, _, door, t = api
        key = Stack.of(door).resolve(door.encryption_key.node.default_child.logical_id)
        groups = t.find_resources("AWS::Logs::LogGroup", {"Properties": {"KmsKeyId": Match.any_value()}})
        groups = {k: g for k, g in groups.items() if not k.startswith("CustomVpcRestrictDefaultSG")}  # the network's
        assert len(groups) == 2
        for g in groups.values():
            assert g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
            assert g["Properties"]["RetentionInDays"] == 400
        t.has_resource_properties(
            "AWS::Logs::LogGroup",
            {"LogGroupName": {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": Match.string_like_regexp("Api")}, "/prod"]]}},
        )

    def test_stage_waits_for_the_account_logging_setting(self, api):
        """aws-cdk issue #10722 ("race condition between Stage and CfnAccount") and PR #18011: a stage with
        logging fails with "CloudWatch Logs role ARN must be set in account settings to enable logging" unless
        the AWS::ApiGateway::Account resource is created first, so the stage must DependsOn it."""
        t = api[3]
        (account_id,) = t.find_resources("AWS::ApiGateway::Account")
        (stage,) = t.find_resources("AWS::ApiGateway::Stage").values()
        assert account_id in stage["DependsOn"]
        (account,) = t.find_resources("AWS::ApiGateway::Account").values()
        (policy_id,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("ApiAccountLoggingRole")}]}})
        assert policy_id in account["DependsOn"]  # the role can write logs by the time the setting names it

    def test_account_logging_role_policy_and_setting_are_retained(self, api):
        """CloudFormation reference, "AWS::ApiGateway::Account": the resource "specifies the IAM role that Amazon
        API Gateway uses to write API logs" for the whole account and region ("you should only have one ... per
        region per account"), and deleting the stack leaves the setting in place ("API Gateway can still assume the
        provided IAM role"). So the role, its policy and the setting are retained: deleting this stack must not
        leave the account's other APIs pointing at a deleted role."""
        t = api[3].to_json()["Resources"]
        account = [r for r in t.values() if r["Type"] == "AWS::ApiGateway::Account"]
        role_id = account[0]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
        policy = [r for r in t.values() if r["Type"] == "AWS::IAM::ManagedPolicy" and r["Properties"].get("Roles") == [{"Ref": role_id}]]
        for resource in (account[0], t[role_id], policy[0]):
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")

    def test_console_test_invoke_cannot_reach_the_function(self, api):
        """aws-cdk-lib LambdaIntegration ``allowTestInvoke`` (default true) adds a Lambda permission for the
        ``test-invoke-stage`` ARN, a path that reaches the function without the VPC endpoint; it is off, so
        the only invoke permissions are for the deployed stage's methods."""
        perms = api[3].find_resources("AWS::Lambda::Permission")
        arns = [json.dumps(p["Properties"]["SourceArn"]) for p in perms.values()]
        assert len(arns) == 5 and not [a for a in arns if "test-invoke-stage" in a]
        assert all("DeploymentStageprod" in a for a in arns)  # the deployed stage (Ref), never "test-invoke-stage"

    def test_the_api_has_a_distinctive_name_its_metrics_use(self, api):
        stack, _, door, t = api
        (rest,) = t.find_resources("AWS::ApiGateway::RestApi").values()
        assert rest["Properties"]["Name"] == door.rest_api_name != "Resource"
        assert door.rest_api_name.startswith("T-Api")
        assert door.metric_server_error().dimensions == {"ApiName": door.rest_api_name}

    def test_account_logging_role_uses_a_customer_managed_policy(self, api):
        _, _, _, t = api
        t.has_resource_properties("AWS::ApiGateway::Account", {"CloudWatchRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("ApiAccountLoggingRole"), "Arn"]}})
        t.has_resource_properties(
            "AWS::IAM::Role",
            {"AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}}]}, "ManagedPolicyArns": Match.absent()},
        )

    def test_grant_invoke_is_execute_api_invoke_on_exactly_the_routes(self, api):
        """execute-api ARNs are ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>``
        (API Gateway developer guide, "Control access to a REST API with IAM permissions"): one per route,
        never ``<stage>/*/*`` (AwsSolutions-IAM5 in every app that grants a role)."""
        stack, _, door, t = api
        (policy,) = t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("Caller")}]}}).values()
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        api_id = stack.resolve(door.rest_api_id)["Ref"]
        tails = sorted(r["Fn::Join"][1][-1] for r in statement["Resource"])
        assert (statement["Action"], statement["Effect"]) == ("execute-api:Invoke", "Allow")
        assert tails == ["/prod/GET/health", "/prod/GET/v1/models", "/prod/POST/v1/chat/completions", "/prod/POST/v1/completions", "/prod/POST/v1/responses"]
        assert all(r["Fn::Join"][1][:4] == ["arn:aws:execute-api:us-east-1:", {"Ref": "AWS::AccountId"}, ":", {"Ref": api_id}] for r in statement["Resource"])

    def test_grant_invoke_can_write_a_managed_policy(self):
        stack, net, fn = _stack()
        door = PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"])
        role = iam.Role(stack, "App", assumed_by=iam.AccountRootPrincipal())
        door.grant_invoke(role, managed_policy=True)
        door.grant_invoke(role, managed_policy=True)  # granted twice: still one policy, one statement
        t = Template.from_stack(stack)
        assert not t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("App")}]}})
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("App")}]}}).values()
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "execute-api:Invoke" and len(statement["Resource"]) == 5

    def test_consumer_usage_plan_and_key(self, api):
        _, _, _, t = api
        t.has_resource_properties(
            "AWS::ApiGateway::UsagePlan",
            {"Throttle": {"RateLimit": 3, "BurstLimit": 6}, "Quota": {"Limit": 10000, "Period": "DAY"}},
        )
        t.resource_count_is("AWS::ApiGateway::ApiKey", 1)
        t.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)

    def test_buffered_integration_above_29_seconds_only_when_asked(self):
        """API Gateway "Integration" reference (TimeoutInMillis: 50 to 29,000 ms by default; "You can increase
        the default value to longer than 29 seconds for Regional or private APIs only") and the 2024-06 launch
        note "Amazon API Gateway integration timeout limit increase beyond 29 seconds": buffered integrations
        above 29 s need the account's quota raised, so only an explicit integration_timeout goes there."""
        stack, net, fn = _stack()
        PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], streaming=False, integration_timeout=Duration.seconds(120))
        Template.from_stack(stack).has_resource_properties("AWS::ApiGateway::Method", {"Integration": {"TimeoutInMillis": 120000, "ResponseTransferMode": "BUFFERED"}})

    def test_buffered_api_keeps_the_29_second_limit(self):
        stack, net, fn = _stack()
        PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], streaming=False, configure_account_logging_role=False)
        t = Template.from_stack(stack)
        t.has_resource_properties("AWS::ApiGateway::Method", {"Integration": {"TimeoutInMillis": 29000, "ResponseTransferMode": "BUFFERED"}})
        t.resource_count_is("AWS::ApiGateway::Account", 0)

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"streaming": False, "integration_timeout": Duration.seconds(301)}, "integration_timeout (seconds) must be between 1 and 300, got 301"),
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


@pytest.mark.parametrize("mode", ["strong", "weak"])
def test_the_vpc_endpoint_is_a_reference_across_stacks(mode):
    """Issue 13 item 12: the API takes the endpoint OBJECT, so in another stack its id is a cross-stack
    reference (``Fn::ImportValue`` when references are strong, the platform's choice) that follows a replaced
    endpoint, never an id copied into a string."""
    from aws_cdk import App

    from tests.conftest import project_context

    app = App(context=project_context(**{"@aws-cdk/core:defaultCrossStackReferences": mode}))
    net_stack = Stack(app, "Net", env=Environment(region="us-east-1"))
    net = PrivateNetwork(net_stack, "Net", interface_endpoints=["execute-api"], flow_logs=False)
    api_stack = Stack(app, "Api", env=Environment(region="us-east-1"))
    fn = lambda_.Function(api_stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.h", code=lambda_.Code.from_inline("h=1"))
    PrivateApiFrontDoor(api_stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"])
    (rest,) = Template.from_stack(api_stack).find_resources("AWS::ApiGateway::RestApi").values()
    ids = rest["Properties"]["EndpointConfiguration"]["VpcEndpointIds"] + [
        s["Condition"][op]["aws:SourceVpce"] for s in rest["Properties"]["Policy"]["Statement"] for op in s["Condition"]
    ]
    kind = "Fn::ImportValue" if mode == "strong" else "Fn::GetStackOutput"
    assert len(ids) == 3 and all(isinstance(i, dict) and set(i) == {kind} for i in ids)


def test_responses_and_model_retrieve_are_routes_with_exact_grants():
    """The proxy serves ``POST /v1/responses`` and ``GET /v1/models/{id}`` (the OpenAI SDK's ``models.retrieve``);
    a private REST API answers only the resources it has (API Gateway developer guide, "Set up REST API
    resources"), so each is a method here, and each model is a literal path so ``grant_invoke`` never needs a
    ``*`` in the execute-api ARN (AwsSolutions-IAM5)."""
    stack, net, fn = _stack()
    door = PrivateApiFrontDoor(stack, "Api", handler=fn, vpc_endpoint=net.interface_endpoints["execute-api"], model_ids=["gpt-oss-20b", "gpt-oss-120b"])
    door.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
    t = Template.from_stack(stack)
    assert {"GET /v1/models/gpt-oss-20b", "GET /v1/models/gpt-oss-120b", "POST /v1/responses", "POST /v1/completions"} <= set(door.methods)
    t.has_resource_properties("AWS::ApiGateway::Model", {"Schema": Match.object_like({"title": "ResponsesRequest", "required": ["model", "input"]})})
    (policy,) = t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("Caller")}]}}).values()
    tails = sorted(r["Fn::Join"][1][-1] for r in policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"])
    assert "/prod/GET/v1/models/gpt-oss-20b" in tails and "/prod/GET/v1/models/gpt-oss-120b" in tails
    assert not any("*" in tail for tail in tails)


# ---- bring your own API Gateway (issue 24 item 3) -------------------------------------------------------------


def _own_api(stack, **props):
    from aws_cdk import aws_apigateway as apigw

    return apigw.RestApi(stack, "TeamApi", deploy_options=apigw.StageOptions(stage_name="v2"), cloud_watch_role=False, **props)


@pytest.fixture(scope="module")
def own_api():
    from gptoss_constructs.front_door import ProxyRoutes

    stack, _, fn = _stack()
    api = _own_api(stack)
    routes = ProxyRoutes(api, handler=fn, model_ids=["gpt-oss-20b"])
    routes.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()), managed_policy=True)
    return stack, api, routes, Template.from_stack(stack)


class TestProxyRoutesOnYourOwnApi:
    def test_the_route_list_is_exported(self, own_api):
        from gptoss_constructs.front_door import PROXY_ROUTES, proxy_route_list

        assert ("v1/chat/completions", "POST") in PROXY_ROUTES and ("v1/responses", "POST") in PROXY_ROUTES
        assert own_api[2].routes == proxy_route_list(["gpt-oss-20b"]) == tuple(PROXY_ROUTES) + (("v1/models/gpt-oss-20b", "GET"),)
        assert set(own_api[2].methods) == {f"{m} /{p}" for p, m in own_api[2].routes}

    def test_every_route_streams_from_the_response_streaming_invocations_uri(self, own_api):
        """API Gateway developer guide, "Set up a Lambda proxy integration with payload response streaming"
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html): streaming
        invokes the function with InvokeWithResponseStream, whose integration URI is
        ``arn:aws:apigateway:<region>:lambda:path/2021-11-15/functions/<arn>/response-streaming-invocations``, and
        the integration's response transfer mode is ``STREAM`` (only for AWS_PROXY / HTTP_PROXY)."""
        t = own_api[3]
        methods = t.find_resources("AWS::ApiGateway::Method")
        assert len(methods) == 6
        for m in methods.values():
            integration = m["Properties"]["Integration"]
            assert (integration["Type"], integration["ResponseTransferMode"], integration["TimeoutInMillis"]) == ("AWS_PROXY", "STREAM", 300000)
            uri = json.dumps(integration["Uri"])
            assert "2021-11-15/functions/" in uri and uri.endswith('"/response-streaming-invocations"]]}')
            assert m["Properties"]["AuthorizationType"] == "AWS_IAM"

    def test_post_routes_are_validated_on_your_api(self, own_api):
        stack, api, _, t = own_api
        api_ref = {"Ref": stack.resolve(api.node.default_child.logical_id)}
        t.has_resource_properties("AWS::ApiGateway::RequestValidator", {"RestApiId": api_ref, "ValidateRequestBody": True})
        titles = sorted(m["Properties"]["Schema"]["title"] for m in t.find_resources("AWS::ApiGateway::Model").values())
        assert titles == ["ChatCompletionRequest", "CompletionRequest", "ResponsesRequest"]
        posts = [m for m in t.find_resources("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] == "POST"]
        assert len(posts) == 3 and all(m["Properties"]["RestApiId"] == api_ref and "RequestValidatorId" in m["Properties"] for m in posts)

    def test_grant_invoke_names_the_routes_of_your_stage(self, own_api):
        """execute-api ARNs are ``<api-id>/<stage>/<METHOD>/<path>`` (API Gateway developer guide, "Control access
        to a REST API with IAM permissions"): the grant is on this API's own deployment stage (a reference to it,
        so it follows the stage), route by route."""
        stack, api, _, t = own_api
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("Caller")}]}}).values()
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        stage = {"Ref": stack.resolve(api.deployment_stage.node.default_child.logical_id)}
        assert all(r["Fn::Join"][1][3:6] == [{"Ref": stack.resolve(api.node.default_child.logical_id)}, "/", stage] for r in statement["Resource"])
        tails = sorted(r["Fn::Join"][1][-1] for r in statement["Resource"])
        assert tails == ["/GET/health", "/GET/v1/models", "/GET/v1/models/gpt-oss-20b", "/POST/v1/chat/completions", "/POST/v1/completions", "/POST/v1/responses"]

    def test_an_imported_api_takes_an_explicit_stage(self):
        from aws_cdk import aws_apigateway as apigw

        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        api = apigw.RestApi.from_rest_api_attributes(stack, "Theirs", rest_api_id="a1b2c3", root_resource_id="r00t")
        routes = ProxyRoutes(api, handler=fn, stage_name="live", streaming=False)
        routes.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
        t = Template.from_stack(stack)
        t.has_resource_properties("AWS::ApiGateway::Method", {"RestApiId": "a1b2c3", "Integration": {"ResponseTransferMode": "BUFFERED", "TimeoutInMillis": 29000}})
        (policy,) = t.find_resources("AWS::IAM::Policy").values()
        assert "a1b2c3/live/POST/v1/chat/completions" in json.dumps(policy)

    def test_fails_when_an_api_without_a_stage_gets_no_stage_name(self):
        from aws_cdk import aws_apigateway as apigw

        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        api = apigw.RestApi.from_rest_api_attributes(stack, "Theirs", rest_api_id="a1b2c3", root_resource_id="r00t")
        with pytest.raises(ValueError, match="stage_name must be given for an api without a deployment stage of its own, got None"):
            ProxyRoutes(api, handler=fn)

    def test_fails_when_the_api_already_has_a_validator_child(self):
        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        api = _own_api(stack)
        api.add_request_validator("Validator", validate_request_body=True)
        with pytest.raises(ValueError, match=r"id_prefix must leave the api's construct ids free, but 'Validator' exists \(id_prefix=''\)"):
            ProxyRoutes(api, handler=fn)
        ProxyRoutes(api, handler=fn, id_prefix="GptOss")  # the way out the message names
        assert api.node.try_find_child("GptOssValidator") is not None

    def test_fails_when_id_prefix_is_not_an_identifier(self):
        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        with pytest.raises(ValueError, match=r"id_prefix must be letters and digits starting with a letter, got '9-x'"):
            ProxyRoutes(_own_api(stack), handler=fn, id_prefix="9-x")

    def test_api_keys_can_be_required_on_every_route(self):
        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        ProxyRoutes(_own_api(stack), handler=fn, api_key_required=True)
        methods = Template.from_stack(stack).find_resources("AWS::ApiGateway::Method")
        assert len(methods) == 5 and all(m["Properties"]["ApiKeyRequired"] is True for m in methods.values())

    def test_fails_when_the_integration_timeout_is_out_of_range(self):
        from gptoss_constructs.front_door import ProxyRoutes

        stack, _, fn = _stack()
        with pytest.raises(ValueError, match=r"integration_timeout \(seconds\) must be between 1 and 900, got 960"):
            ProxyRoutes(_own_api(stack), handler=fn, integration_timeout=Duration.minutes(16))


def test_the_private_front_door_is_built_on_the_same_helper(api):
    from gptoss_constructs.front_door import ProxyRoutes

    door = api[2]
    assert isinstance(door.proxy_routes, ProxyRoutes) and door.proxy_routes.api is door.api
    assert door.routes == door.proxy_routes.routes and door.methods is door.proxy_routes.methods
    assert door.route_arns == door.proxy_routes.route_arns


def test_the_proxy_attaches_to_your_api_and_grant_invoke_covers_it():
    """``InvokeProxy.add_routes_to(api)``: the proxy's routes (one per model) on a user's API, and the proxy's own
    ``grant_invoke`` names them (with those of any private front door)."""
    from gptoss_constructs.bedrock_model import BedrockFoundationModel
    from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute

    stack, net, _ = _stack()
    proxy = InvokeProxy(stack, "Proxy", vpc=net.vpc, service_endpoints=net, code=lambda_.Code.from_inline("h=1"),
                        routes=[ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))])
    routes = proxy.add_routes_to(_own_api(stack))
    assert proxy.front_doors == [routes] and ("v1/models/gpt-oss-120b", "GET") in routes.routes
    proxy.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
    t = Template.from_stack(stack)
    (policy,) = t.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("Caller")}]}}).values()
    tails = sorted(r["Fn::Join"][1][-1] for r in policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"])
    assert tails == ["/GET/health", "/GET/v1/models", "/GET/v1/models/gpt-oss-120b", "/POST/v1/chat/completions", "/POST/v1/completions", "/POST/v1/responses"]
    fn = stack.resolve(proxy.function.node.default_child.logical_id)
    for m in t.find_resources("AWS::ApiGateway::Method").values():
        assert fn in json.dumps(m["Properties"]["Integration"]["Uri"])
