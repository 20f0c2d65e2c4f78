"""Private front doors for the invoke proxy: a PRIVATE REST API behind the execute-api VPC endpoint, or a
Lambda Function URL with IAM auth. Both stream responses and both are reached only with SigV4."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import encrypted_log_group, nag_resource, new_key
from gptoss_constructs._validation import require_range

#: the routes the proxy serves, as (path, method)
PROXY_ROUTES: Sequence[tuple[str, str]] = (("v1/chat/completions", "POST"), ("v1/models", "GET"), ("health", "GET"))

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


def validate_throttling(*, throttling_rate_limit: int | None = None, throttling_burst_limit: int | None = None) -> None:
    """The stage's throttling ranges, written once: ``PrivateApiFrontDoor`` checks its props with this, and the
    app's config calls it to name the context key of a bad value."""
    if throttling_rate_limit is not None:
        require_range("throttling_rate_limit", throttling_rate_limit, 1, 10000)
    if throttling_burst_limit is not None:
        require_range("throttling_burst_limit", throttling_burst_limit, 1, 5000)


class PrivateApiFrontDoor(Construct):
    """A PRIVATE REST API in front of the proxy, reachable only through one execute-api VPC endpoint.

    IAM (SigV4) authorization on every method, a resource policy that denies any request not coming through
    the VPC endpoint and otherwise defers to the caller's IAM policy (so ``grant_invoke`` is what lets a
    principal in), request validation of the chat body, JSON access logs and execution logs (errors only,
    never bodies) in KMS-encrypted log groups, stage throttling, X-Ray tracing, and response streaming.

    Example::

        door = PrivateApiFrontDoor(self, "Api", handler=proxy.function,
                                   vpc_endpoint=net.interface_endpoints["execute-api"])
        door.grant_invoke(consumer_role)
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
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        configure_account_logging_role: bool = True,
        require_api_keys: bool = False,
    ) -> None:
        """
        :param handler: the proxy function.
        :param vpc_endpoint: the execute-api interface endpoint the API is reachable through (and only it).
        :param streaming: stream the integration response (REST API response streaming). Default: - true.
        :param integration_timeout: Default: - 5 minutes with streaming (allowed up to 15), 29 seconds buffered.
            A buffered timeout above 29 s needs the Regional/private integration-timeout quota raised first.
        :param stage_name: Default: - ``prod``.
        :param throttling_rate_limit: steady requests per second for the stage. Default: - 20.
        :param throttling_burst_limit: Default: - 40.
        :param log_retention: access and execution logs. Default: - one year.
        :param encryption_key: for both log groups. Default: - a new key with rotation.
        :param removal_policy: for the key and log groups. Default: - RETAIN.
        :param configure_account_logging_role: set this region's API Gateway account CloudWatch role (needed
            once per account and region for execution and access logs). Default: - true; set false where the
            account already has one (it is a per-region account setting: the last writer wins).
        :param require_api_keys: also require an API key (usage plans, for chargeback) on top of IAM.
            Default: - false. Add consumers with ``add_consumer``.
        """
        super().__init__(scope, id)
        validate_throttling(throttling_rate_limit=throttling_rate_limit, throttling_burst_limit=throttling_burst_limit)
        if integration_timeout is None:
            integration_timeout = Duration.minutes(5) if streaming else Duration.seconds(29)
        require_range("integration_timeout (seconds)", integration_timeout.to_seconds(), 1, 900 if streaming else 29)

        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: private API access and execution logs", removal_policy=removal_policy
        )
        self.access_log_group = encrypted_log_group(
            self, "AccessLogs", key=self.encryption_key, retention=log_retention, removal_policy=removal_policy
        )
        account_role = self._account_logging_role() if configure_account_logging_role else None

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
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True,
                ),
            ),
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM, api_key_required=require_api_keys
            ),
        )
        if account_role is not None:
            self.api.deployment_stage.node.add_dependency(account_role)
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

        integration = apigw.LambdaIntegration(
            handler,
            proxy=True,
            timeout=integration_timeout,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM if streaming else apigw.ResponseTransferMode.BUFFERED,
        )
        validator = self.api.add_request_validator("Validator", validate_request_body=True, validate_request_parameters=True)
        chat_model = self.api.add_model("ChatRequest", content_type="application/json", schema=CHAT_REQUEST_SCHEMA)
        self.methods: dict[str, apigw.Method] = {}
        for path, method in PROXY_ROUTES:
            resource = self.api.root.resource_for_path(path)
            options = {}
            if method == "POST":
                options = {"request_validator": validator, "request_models": {"application/json": chat_model}}
            self.methods[f"{method} /{path}"] = resource.add_method(method, integration, **options)

        self.stage_name = stage_name
        self.rest_api_id = self.api.rest_api_id
        self.url = self.api.url
        self._require_api_keys = require_api_keys
        self._acknowledge_intrinsic_findings()

    def _account_logging_role(self) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "AccountLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway (this account and region) writes execution and access logs",
        )
        iam.ManagedPolicy(
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
        apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        self._account_policy = self.node.find_child("AccountLoggingPolicy")
        return role

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
            "responses are per-caller, non-deterministic model completions to POST requests; caching them would serve "
            "one caller's completion to another, so the stage cache stays off",
        )
        acknowledge_in_packs(
            stage,
            "APIGWSSLEnabled",
            "the only integration is a Lambda proxy integration invoked over the AWS API; there is no HTTP backend that "
            "could verify an API Gateway client certificate",
        )
        for method in self.methods.values():
            Validations.of(method).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-COG4",
                    reason="callers are AWS principals (workloads and roles) authorized with SigV4 against their IAM "
                    "policies (AuthorizationType AWS_IAM); a Cognito user pool would add a second identity store",
                )
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

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants execute-api:Invoke on this API's stage (all proxy routes) and nothing else."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api(stage=self.stage_name)],
        )

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


class FunctionUrlFrontDoor(Construct):
    """A Lambda Function URL with AWS_IAM auth and response streaming (simplest private-ish front door:
    reachable only with SigV4 for principals granted ``lambda:InvokeFunctionUrl``)."""

    def __init__(self, scope: Construct, id: str, *, handler: lambda_.IFunction, streaming: bool = True) -> None:
        super().__init__(scope, id)
        self.function_url = lambda_.FunctionUrl(
            self,
            "Resource",
            function=handler,
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM if streaming else lambda_.InvokeMode.BUFFERED,
        )
        self.url = self.function_url.url

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants lambda:InvokeFunctionUrl (IAM auth type only) on this function."""
        return self.function_url.grant_invoke_url(grantee)
