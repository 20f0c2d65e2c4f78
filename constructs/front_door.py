"""The private front door of the invoke proxy: a PRIVATE REST API behind the execute-api VPC endpoint, reached
only with SigV4, streaming responses.

There is deliberately no Function URL front door: Lambda function URLs are reachable only over the public
internet ("Lambda function URLs" in the Lambda developer guide: PrivateLink does not cover them), their
resource policy takes no source-IP condition (only what AddPermission maps), and they have no access log or
per-second throttling of their own."""

from __future__ import annotations

import json
import re
from typing import Sequence

from aws_cdk import Acknowledgment, Duration, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import encrypted_log_group, nag_resource, new_key
from gptoss_constructs._grants import ManagedPolicyGrantee
from gptoss_constructs._validation import require_range

#: the routes the proxy serves, as (path, method); ``GET /v1/models/<model>`` is added per model name
#: (``model_ids``), literal paths rather than a ``{model}`` parameter so every grant stays an exact ARN
PROXY_ROUTES: Sequence[tuple[str, str]] = (
    ("v1/chat/completions", "POST"),
    ("v1/responses", "POST"),
    ("v1/completions", "POST"),  # legacy completions, SageMaker routes (the proxy's core/completions.py)
    ("v1/models", "GET"),
    ("health", "GET"),
)

#: the longest buffered integration timeout API Gateway allows on Regional/private REST APIs once the account's
#: "Maximum integration timeout in milliseconds" quota is raised (29 s without that increase)
BUFFERED_TIMEOUT_QUOTA_SECONDS = 29
BUFFERED_TIMEOUT_MAX_SECONDS = 300

#: the access log: who called (the caller's IAM ARN), from where, what and how it ended; never bodies. Variable
#: names as aws-cdk-lib's ``AccessLogField`` spells them (API Gateway developer guide, "Variables for access
#: logging for API Gateway": ``$context.identity.userArn`` is "the ARN of the effective user identified after
#: authentication")
ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "caller": apigw.AccessLogField.context_identity_caller(),
    "user": apigw.AccessLogField.context_identity_user(),
    "userArn": apigw.AccessLogField.context_identity_user_arn(),
    "accountId": apigw.AccessLogField.context_identity_account_id(),
    "apiKeyId": apigw.AccessLogField.context_identity_api_key_id(),
    "integrationStatus": apigw.AccessLogField.context_integration_status(),
    "errorMessage": apigw.AccessLogField.context_error_message(),
}

#: the smallest body the proxy accepts; everything finer is validated by the proxy with OpenAI's error body
CHAT_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="ChatCompletionRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["model", "messages"],
    properties={
        "model": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=256),
        "messages": apigw.JsonSchema(type=apigw.JsonSchemaType.ARRAY, min_items=1),
    },
)


#: the smallest legacy completions body the proxy accepts (``prompt`` is a string or an array of strings)
COMPLETIONS_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="CompletionRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["model", "prompt"],
    properties={"model": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=256)},
)


#: the smallest Responses body the proxy accepts (``input`` is a string or a list of items)
RESPONSES_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="ResponsesRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["model", "input"],
    properties={"model": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=256)},
)


def validate_throttling(*, throttling_rate_limit: int | None = None, throttling_burst_limit: int | None = None) -> None:
    """The stage's throttling ranges, written once: ``PrivateApiFrontDoor`` checks its props with this, and the
    app's config calls it to name the context key of a bad value."""
    if throttling_rate_limit is not None:
        require_range("throttling_rate_limit", throttling_rate_limit, 1, 10000)
    if throttling_burst_limit is not None:
        require_range("throttling_burst_limit", throttling_burst_limit, 1, 5000)


def proxy_route_list(model_ids: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
    """The proxy's routes as ``(path, method)``: ``PROXY_ROUTES`` plus ``GET v1/models/<model>`` per model name.

    Example::

        proxy_route_list(["gpt-oss-20b"])[-1]   # ("v1/models/gpt-oss-20b", "GET")
    """
    return tuple(PROXY_ROUTES) + tuple((f"v1/models/{model}", "GET") for model in model_ids)


def resolve_integration_timeout(*, streaming: bool, integration_timeout: Duration | None) -> Duration:
    """The integration timeout of a streamed or buffered proxy integration, checked against API Gateway's limits
    (15 minutes streamed; 29 s buffered, up to 300 s after the account's quota increase)."""
    if integration_timeout is None:
        integration_timeout = Duration.minutes(5) if streaming else Duration.seconds(29)
    require_range(
        "integration_timeout (seconds)", integration_timeout.to_seconds(), 1, 900 if streaming else BUFFERED_TIMEOUT_MAX_SECONDS
    )
    return integration_timeout


def _grant_execute(owner: Construct, grantee: iam.IGrantable, resource_arns: list[str], managed_policy: bool) -> iam.Grant:
    """execute-api:Invoke on exactly ``resource_arns`` (inline, or in a managed policy named after ``owner``)."""
    if managed_policy:
        grantee = ManagedPolicyGrantee.for_grant(
            owner, grantee, "InvokePolicy", description="Call the gpt-oss private API (execute-api:Invoke on its routes)"
        )
    return iam.Grant.add_to_principal(grantee=grantee, actions=["execute-api:Invoke"], resource_arns=resource_arns)


#: the construct ids ``ProxyRoutes`` creates on the API (after ``id_prefix``)
_ROUTE_CHILD_IDS = ("Validator", "ChatRequest", "ResponsesRequest", "CompletionsRequest")


class ProxyRoutes:
    """The invoke proxy's routes on a REST API — yours, or ``PrivateApiFrontDoor``'s (one definition for both).

    Adds under the API's root one method per route of ``proxy_route_list(model_ids)``, each with AWS_IAM
    authorization and a Lambda proxy integration that streams (``ResponseTransferMode: STREAM`` and the
    ``2021-11-15/functions/<arn>/response-streaming-invocations`` URI, API Gateway developer guide, "Set up a
    Lambda proxy integration with payload response streaming"), without the console test-invoke permission,
    and body validation of the POST routes (a request validator and the ``ChatCompletionRequest``,
    ``ResponsesRequest`` and ``CompletionsRequest`` models, created on the API). ``grant_invoke`` grants execute-api:Invoke on exactly these
    routes of ``stage_name``.

    The API's own settings (endpoint type, resource policy, stage logging, throttling, WAF) stay yours. The routes
    sit at the API root: the proxy routes by path.

    Example::

        api = apigw.RestApi(self, "TeamApi", ...)                    # your API, stage and policies
        routes = proxy.add_routes_to(api)                            # or ProxyRoutes(api, handler=fn, ...)
        routes.grant_invoke(app_role, managed_policy=True)           # execute-api:Invoke on the routes only
        routes.routes                                                # (("v1/chat/completions", "POST"), ...)
    """

    def __init__(
        self,
        api: apigw.IRestApi,
        *,
        handler: lambda_.IFunction,
        streaming: bool = True,
        integration_timeout: Duration | None = None,
        model_ids: Sequence[str] = (),
        stage_name: str | None = None,
        api_key_required: bool | None = None,
        id_prefix: str = "",
    ) -> None:
        """
        :param api: the REST API the routes go on (a ``RestApi`` of your app, or one imported with
            ``RestApi.from_rest_api_attributes``, which then needs a ``Deployment`` of your own).
        :param handler: the proxy function (``InvokeProxy.function``).
        :param streaming: stream the integration response. Default: - true.
        :param integration_timeout: Default: - 5 minutes streamed (up to 15); 29 s buffered (up to 300 only after
            the account's "Maximum integration timeout in milliseconds" quota is raised).
        :param model_ids: each gets ``GET /v1/models/<model>`` as a literal route. Default: - none.
        :param stage_name: the stage ``grant_invoke`` and ``route_arns`` name. Default: - the API's own deployment
            stage (required for an API without one, e.g. an imported API).
        :param api_key_required: also require an API key on every route. Default: - the API's default method
            options.
        :param id_prefix: prefix of the construct ids of the validator and the two models created on the API (for
            an API that already has children named ``Validator``, ``ChatRequest`` or ``ResponsesRequest``).
            Default: - none.
        """
        integration_timeout = resolve_integration_timeout(streaming=streaming, integration_timeout=integration_timeout)
        if id_prefix and not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", id_prefix):
            raise ValueError(f"id_prefix must be letters and digits starting with a letter, got {id_prefix!r}")
        taken = [id_prefix + c for c in _ROUTE_CHILD_IDS if api.node.try_find_child(id_prefix + c) is not None]
        if taken:
            raise ValueError(f"id_prefix must leave the api's construct ids free, but {taken[0]!r} exists (id_prefix={id_prefix!r})")
        if stage_name is None:
            if api.latest_deployment is None:
                raise ValueError("stage_name must be given for an api without a deployment stage of its own, got None")
            stage_name = api.deployment_stage.stage_name
        self.api = api
        self.handler = handler
        self.stage_name = stage_name
        self.streaming = streaming
        self.integration_timeout = integration_timeout
        #: the routes as ``(path, method)``: ``proxy_route_list(model_ids)``
        self.routes = proxy_route_list(model_ids)

        self.integration = apigw.LambdaIntegration(
            handler,
            proxy=True,
            timeout=integration_timeout,
            allow_test_invoke=False,  # the console's test-invoke path reaches the function without the VPC endpoint
            response_transfer_mode=apigw.ResponseTransferMode.STREAM if streaming else apigw.ResponseTransferMode.BUFFERED,
        )
        # children of the API, exactly where RestApi.add_request_validator / add_model put them
        self.validator = apigw.RequestValidator(
            api, f"{id_prefix}Validator", rest_api=api, validate_request_body=True, validate_request_parameters=True
        )
        body_models = {
            "v1/chat/completions": apigw.Model(
                api, f"{id_prefix}ChatRequest", rest_api=api, content_type="application/json", schema=CHAT_REQUEST_SCHEMA
            ),
            "v1/responses": apigw.Model(
                api, f"{id_prefix}ResponsesRequest", rest_api=api, content_type="application/json", schema=RESPONSES_REQUEST_SCHEMA
            ),
            "v1/completions": apigw.Model(
                api, f"{id_prefix}CompletionsRequest", rest_api=api, content_type="application/json", schema=COMPLETIONS_REQUEST_SCHEMA
            ),
        }
        self.methods: dict[str, apigw.Method] = {}
        for path, method in self.routes:
            options: dict = {"authorization_type": apigw.AuthorizationType.IAM}
            if api_key_required is not None:
                options["api_key_required"] = api_key_required
            if method == "POST":
                options.update(request_validator=self.validator, request_models={"application/json": body_models[path]})
            self.methods[f"{method} /{path}"] = api.root.resource_for_path(path).add_method(method, self.integration, **options)
        for m in self.methods.values():
            Validations.of(m).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-COG4",
                    reason="callers are AWS principals (workloads and roles) authorized with SigV4 against their IAM "
                    "policies (AuthorizationType AWS_IAM); a Cognito user pool would add a second identity store",
                )
            )

    @property
    def route_arns(self) -> list[str]:
        """The execute-api ARN of each route on the stage (``.../<stage>/<METHOD>/<path>``)."""
        return [self.api.arn_for_execute_api(method, f"/{path}", self.stage_name) for path, method in self.routes]

    def grant_invoke(self, grantee: iam.IGrantable, *, managed_policy: bool = False) -> iam.Grant:
        """Grants execute-api:Invoke on exactly these routes of the stage, nothing else.

        :param managed_policy: put the statement in a new customer-managed policy attached to the grantee's role
            (instead of its inline default policy). Default: - false.
        """
        return _grant_execute(self.api, grantee, self.route_arns, managed_policy)


class PrivateApiFrontDoor(Construct):
    """A PRIVATE REST API in front of the proxy, reachable only through one execute-api VPC endpoint.

    IAM (SigV4) authorization on every method, a resource policy that denies any request not coming through
    the VPC endpoint and otherwise defers to the caller's IAM policy (so ``grant_invoke`` is what lets a
    principal in), request validation of the chat body, JSON access logs and execution logs (errors only,
    never bodies) in KMS-encrypted log groups, stage throttling, X-Ray tracing, and response streaming.

    Example::

        door = PrivateApiFrontDoor(self, "Api", handler=proxy.function,
                                   vpc_endpoint=net.interface_endpoints["execute-api"])
        door.grant_invoke(consumer_role)                       # exactly the proxy's routes, on this stage
        door.grant_invoke(app_role, managed_policy=True)       # the same, in a new customer-managed policy
        door.url   # https://<api-id>.execute-api.<region>.amazonaws.com/prod/  (base_url for OpenAI SDK: url + "v1")
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: lambda_.IFunction,
        vpc_endpoint: ec2.IInterfaceVpcEndpoint,
        streaming: bool = True,
        integration_timeout: Duration | None = None,
        stage_name: str = "prod",
        throttling_rate_limit: int = 20,
        throttling_burst_limit: int = 40,
        log_retention: logs.RetentionDays = logs.RetentionDays.THIRTEEN_MONTHS,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        configure_account_logging_role: bool = False,
        require_api_keys: bool = False,
        rest_api_name: str | None = None,
        model_ids: Sequence[str] = (),
    ) -> None:
        """
        :param handler: the proxy function.
        :param model_ids: the model names the proxy serves: each gets ``GET /v1/models/<model>`` (the OpenAI SDK's
            ``models.retrieve``) as a literal route, so ``grant_invoke`` stays exact ARNs. Default: - none (only
            ``GET /v1/models``).
        :param vpc_endpoint: the execute-api interface endpoint the API is reachable through (and only it).
        :param streaming: stream the integration response (REST API response streaming). Default: - true.
        :param integration_timeout: Default: - 5 minutes with streaming (allowed up to 15), 29 seconds buffered.
            Buffered integrations wait at most 29 s unless the account's "Maximum integration timeout in
            milliseconds" quota is raised (Regional and private REST APIs only, up to 300 s); a longer buffered
            value is accepted here but deploys only after that increase (UNCONFIRMED(manual:apigw-integration-timeout-quota) per account: preflight).
        :param stage_name: Default: - ``prod``.
        :param throttling_rate_limit: steady requests per second for the stage. Default: - 20.
        :param throttling_burst_limit: Default: - 40.
        :param log_retention: access and execution logs. Default: - 400 days (13 months: PCI DSS v4.0 10.5.1 keeps 12 months of audit logs).
        :param encryption_key: for both log groups. Default: - a new key with rotation.
        :param removal_policy: for the key and log groups. Default: - RETAIN.
        :param configure_account_logging_role: set this region's API Gateway account CloudWatch role (needed
            once per account and region for execution and access logs). The stage waits for it, and the role,
            its policy and the account setting are RETAINED when the stack is deleted (other APIs of the account
            log through them). Default: - false: an account-wide setting changes only when asked (the last
            writer wins); the account must then already have the role (else the stage fails to deploy).
        :param require_api_keys: also require an API key (usage plans, for chargeback) on top of IAM.
            Default: - false. Add consumers with ``add_consumer``.
        :param rest_api_name: the API's name (also the ``ApiName`` dimension of its CloudWatch metrics).
            Default: - a name unique in the account, derived from the construct path (stack, ids).
        """
        super().__init__(scope, id)
        validate_throttling(throttling_rate_limit=throttling_rate_limit, throttling_burst_limit=throttling_burst_limit)
        integration_timeout = resolve_integration_timeout(streaming=streaming, integration_timeout=integration_timeout)
        self.rest_api_name = rest_api_name or Names.unique_resource_name(self, max_length=128, separator="-")

        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: private API access and execution logs", removal_policy=removal_policy
        )
        self.access_log_group = encrypted_log_group(
            self, "AccessLogs", key=self.encryption_key, retention=log_retention, removal_policy=removal_policy
        )
        account_setting = self._account_logging_role() if configure_account_logging_role else None

        vpce_id = vpc_endpoint.vpc_endpoint_id
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="DenyOutsideTheVpcEndpoint",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["execute-api:Invoke"],
                    resources=["execute-api:/*"],
                    conditions={"StringNotEquals": {"aws:SourceVpce": vpce_id}},
                ),
                iam.PolicyStatement(
                    sid="DeferToCallerIamPolicies",
                    principals=[iam.AccountRootPrincipal()],
                    actions=["execute-api:Invoke"],
                    resources=["execute-api:/*"],
                    conditions={"StringEquals": {"aws:SourceVpce": vpce_id}},
                ),
            ]
        )
        self.api = apigw.RestApi(
            self,
            "Resource",
            rest_api_name=self.rest_api_name,
            description="gpt-oss invoke proxy (private, IAM auth)",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE], vpc_endpoints=[vpc_endpoint]),
            policy=policy,
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttling_rate_limit,
                throttling_burst_limit=throttling_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log request or response bodies (prompts, completions)
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM, api_key_required=require_api_keys
            ),
        )
        if account_setting is not None:
            # aws-cdk issue #10722 / PR #18011: a stage with logging fails ("CloudWatch Logs role ARN must be set in
            # account settings") unless the AWS::ApiGateway::Account resource exists first
            self.api.deployment_stage.node.add_dependency(account_setting)
        # API Gateway writes execution logs to this group name; creating it first makes it encrypted and retained.
        self.execution_log_group = encrypted_log_group(
            self,
            "ExecutionLogs",
            key=self.encryption_key,
            retention=log_retention,
            removal_policy=removal_policy,
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{stage_name}",
        )
        self.api.deployment_stage.node.add_dependency(self.execution_log_group)

        # the routes, their streaming integration and body validation: the same helper a user's own API uses
        self.proxy_routes = ProxyRoutes(
            self.api, handler=handler, streaming=streaming, integration_timeout=integration_timeout, model_ids=model_ids, stage_name=stage_name
        )
        self.routes = self.proxy_routes.routes
        self.methods: dict[str, apigw.Method] = self.proxy_routes.methods

        self.stage_name = stage_name
        self.rest_api_id = self.api.rest_api_id
        self.url = self.api.url
        self._require_api_keys = require_api_keys
        self._acknowledge_intrinsic_findings()

    def _account_logging_role(self) -> apigw.CfnAccount:
        """The region's API Gateway CloudWatch role and the account setting that names it, all RETAINED: the
        setting is account-wide, so deleting this stack must not take logging away from the account's other APIs."""
        stack = Stack.of(self)
        # No aws:SourceAccount / aws:SourceArn on this trust, unlike the SageMaker, CloudWatch and flow-log trusts:
        # API Gateway's guide documents no confused-deputy keys for the account CloudWatch role, and a key the
        # service does not send would stop logging for every API of the account and region (docs/responsibility.md).
        role = iam.Role(
            self,
            "AccountLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway (this account and region) writes execution and access logs",
        )
        policy = iam.ManagedPolicy(
            self,
            "AccountLoggingPolicy",
            roles=[role],
            description="Write API Gateway execution logs and this API's access logs",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:API-Gateway-Execution-Logs_*",
                        self.access_log_group.log_group_arn,
                    ],
                ),
                iam.PolicyStatement(
                    actions=["logs:DescribeLogGroups"],
                    resources=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"],
                ),
            ],
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.node.add_dependency(policy)
        for resource in (role, policy, account):
            resource.apply_removal_policy(RemovalPolicy.RETAIN)
        self._account_policy = policy
        return account

    def _acknowledge_intrinsic_findings(self) -> None:
        stage = self.api.deployment_stage
        skip_scanner_checks(
            stage.node.default_child,
            checkov={
                "CKV_AWS_120": "responses are per-caller, non-deterministic model completions to POST requests; a stage "
                "cache would serve one caller's completion to another",
            },
        )
        for finding in (
            "AwsSolutions::AwsSolutions-APIG3",
            "NIST.800.53.R5::NIST.800.53.R5-APIGWAssociatedWithWAF",
            "PCI.DSS.321::PCI.DSS.321-APIGWAssociatedWithWAF",
        ):
            Validations.of(stage).acknowledge(
                Acknowledgment(
                    id=finding,
                    reason="the API is PRIVATE: it has no internet endpoint, its resource policy denies every request "
                    "not coming through this VPC's execute-api endpoint, and every method requires SigV4; the "
                    "internet threats a WAF web ACL filters cannot reach it",
                )
            )
        acknowledge_in_packs(
            stage,
            "APIGWCacheEnabledAndEncrypted",
            "not applicable: the stage has no cache cluster, so there is no cached data to encrypt; responses are "
            "per-caller, non-deterministic model completions, and a cache would serve one caller's completion to another",
        )
        acknowledge_in_packs(
            stage,
            "APIGWSSLEnabled",
            "a client certificate lets an HTTP backend authenticate API Gateway, and there is none: the only "
            "integration is a Lambda proxy integration that API Gateway invokes through the Lambda API; transport "
            "evidence instead: callers reach the API only through the execute-api interface endpoint (resource "
            "policy) and sign every request with SigV4 (AWS_IAM on every method)",
        )
        policy = getattr(self, "_account_policy", None)
        if policy is not None:
            stack = Stack.of(self)
            logs_arn = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, logs_arn + 'API-Gateway-Execution-Logs_*')}]",
                    reason="API Gateway names execution log groups API-Gateway-Execution-Logs_<api id>/<stage> for "
                    "every API of the account, and this role is the account-wide setting; the prefix is as narrow "
                    "as the service allows",
                )
            )
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, logs_arn + '*')}]",
                    reason="logs:DescribeLogGroups lists log groups by name prefix and takes only the account-wide "
                    "log-group ARN pattern; it returns metadata (names, retention), never log events",
                )
            )

    def grant_invoke(self, grantee: iam.IGrantable, *, managed_policy: bool = False) -> iam.Grant:
        """Grants execute-api:Invoke on exactly the proxy's routes (method + path) of this stage, nothing else.

        :param managed_policy: put the statement in a new customer-managed policy attached to the grantee's role
            (instead of the role's inline default policy), so an app that grants its own role stays clean under
            the compliance packs' ``IAMNoInlinePolicy`` without an acknowledgment. Default: - false.
        """
        return _grant_execute(self, grantee, self.route_arns, managed_policy)

    @property
    def route_arns(self) -> list[str]:
        """The execute-api ARN of each route on this stage (``.../<stage>/<METHOD>/<path>``)."""
        return self.proxy_routes.route_arns

    def add_consumer(
        self, id: str, *, rate_limit: int = 5, burst_limit: int = 10, quota_per_day: int | None = None
    ) -> apigw.IApiKey:
        """Adds a usage plan with its API key for one consumer (chargeback, per-consumer throttling)."""
        if not self._require_api_keys:
            raise ValueError("add_consumer needs require_api_keys=True on the front door")
        plan = self.api.add_usage_plan(
            f"{id}Plan",
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            quota=apigw.QuotaSettings(limit=quota_per_day, period=apigw.Period.DAY) if quota_per_day else None,
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        key = self.api.add_api_key(f"{id}Key")
        plan.add_api_key(key)
        return key

    def metric_count(self, **options):
        return self.api.metric_count(**options)

    def metric_client_error(self, **options):
        return self.api.metric_client_error(**options)

    def metric_server_error(self, **options):
        return self.api.metric_server_error(**options)

    def metric_latency(self, **options):
        return self.api.metric_latency(**options)
