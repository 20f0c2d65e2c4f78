"""InvokeProxy: the OpenAI-compatible, guardrailed Lambda in front of gpt-oss models."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import jsii
from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import encrypted_log_group, new_key
from gptoss_constructs._validation import require_name, require_principals, require_range
from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs._grants import ManagedPolicyGrantee, ManagedPolicyRole
from gptoss_constructs.front_door import BUFFERED_TIMEOUT_QUOTA_SECONDS, PrivateApiFrontDoor, ProxyRoutes
from gptoss_invoke_proxy_asset.gptoss_proxy.core import sealed as core_sealed
from gptoss_invoke_proxy_asset.gptoss_proxy.core import settings as core

def _default_code_path() -> Path:
    """The proxy's code: this repository's ``lambda/invoke_proxy``, or the copy shipped in the wheel."""
    repo = Path(__file__).resolve().parent.parent / "lambda" / "invoke_proxy"
    if repo.is_dir():
        return repo
    import importlib.util

    spec = importlib.util.find_spec("gptoss_invoke_proxy_asset")
    if not spec or not spec.submodule_search_locations:
        return repo
    # run.sh is executable in git, and the wheel keeps the mode (pip restores executable bits on install)
    return Path(list(spec.submodule_search_locations)[0])


DEFAULT_CODE_PATH = _default_code_path()
#: AWS Lambda Web Adapter layer (published by AWS in account 753240598075) that lets a Python HTTP app stream
LWA_LAYER_VERSION = 26
LWA_PORT = "8080"
#: the function's timeout when none is given (long generations stream for minutes)
DEFAULT_TIMEOUT = Duration.minutes(5)
NO_RESERVATION_REASON = (
    "no reserved concurrency by default: a reservation must leave the account's unreserved minimum, and new "
    "accounts can have a concurrency limit of 10, so it can fail the first deploy (Lambda developer guide, "
    "'Configuring reserved concurrency'); the load that reaches the function is bounded before it by the private "
    "API stage's throttling (rate and burst limits on every method); the reserved_concurrent_executions prop "
    "(same context key) sets a cap"
)
#: what Lambda needs to attach a function to its subnets (as in AWSLambdaVPCAccessExecutionRole)
VPC_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class InvokableEndpoint(Protocol):
    """What the proxy needs of a SageMaker endpoint (``GptOssEndpoint`` or one imported by attributes)."""

    @property
    def endpoint_name(self) -> str: ...

    @property
    def inference_component_name(self) -> str | None: ...

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant: ...


class ApplicableGuardrail(Protocol):
    """What the proxy needs of a guardrail (``ModelGuardrail``)."""

    @property
    def guardrail_id(self) -> str: ...

    @property
    def guardrail_version(self) -> str: ...

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant: ...


#: Lambda's function-name rule (botocore ``lambda`` service model, shape ``FunctionName``: ``[a-zA-Z0-9-_]+`` in the
#: name part; CreateFunction's documentation: "If you specify only the function name, it is limited to 64
#: characters in length")
FUNCTION_NAME_PATTERN = r"[a-zA-Z0-9_-]+"
FUNCTION_NAME_MAX_LENGTH = 64


def validate_function_name(function_name: str) -> str:
    """A Lambda function name: 1 to 64 letters, digits, hyphens and underscores (tokens are left to Lambda)."""
    return require_name(
        "function_name", function_name, pattern=FUNCTION_NAME_PATTERN, max_length=FUNCTION_NAME_MAX_LENGTH,
        allowed="letters, digits, hyphens and underscores (Lambda FunctionName)",
    )


def validate_escalate_principals(principals: Sequence[str]) -> None:
    """Who may escalate: ``*``, 12-digit account ids or IAM role/user ARNs (the config names its key on error)."""
    require_principals("escalate_principals", principals, allow_any=True)


def validate_buffered_timeout(*, streaming: bool | None, timeout: Duration | None) -> None:
    """A buffered proxy (``streaming=False``) answers only when the whole completion is done, and a buffered API
    Gateway integration waits at most 29 s unless the account's integration-timeout quota is raised: its
    function ``timeout`` (default 5 minutes) must then be at most 29 s (or ``integration_timeout`` given)."""
    seconds = (timeout or DEFAULT_TIMEOUT).to_seconds()
    if streaming is False and seconds > BUFFERED_TIMEOUT_QUOTA_SECONDS:
        raise ValueError(
            f"timeout of {seconds:g} s is longer than the {BUFFERED_TIMEOUT_QUOTA_SECONDS} s a buffered "
            "(streaming=False) private API integration waits; use streaming=True, a timeout of at most "
            f"{BUFFERED_TIMEOUT_QUOTA_SECONDS} s, or pass integration_timeout (up to 300 s) after raising the "
            "account's 'Maximum integration timeout in milliseconds' quota"
        )


def validate_function_props(
    *, memory_size: int | None = None, timeout: Duration | None = None, reserved_concurrent_executions: int | None = None
) -> None:
    """The function's ranges, written once: ``InvokeProxy`` checks its props with this, and the app's config calls
    it to name the context key of a bad value."""
    if memory_size is not None:
        require_range("memory_size", memory_size, 128, 10240)
    if timeout is not None:
        require_range("timeout (seconds)", timeout.to_seconds(), 10, 900)
    if reserved_concurrent_executions is not None:
        require_range("reserved_concurrent_executions", reserved_concurrent_executions, 1, 1000)


@dataclass(frozen=True)
class ProxyRoute:
    """One model name clients can ask for, and where the proxy sends it.

    Build with ``ProxyRoute.sagemaker(...)`` or ``ProxyRoute.bedrock(...)``.

    :param model: the name clients send as ``model`` (e.g. ``gpt-oss-20b``).
    :param endpoint: the SageMaker endpoint serving it (exactly one of endpoint / bedrock_model).
    :param bedrock_model: the Bedrock model serving it.
    :param fallback: another route's ``model`` used on throttling, capacity errors and timeouts, or when the
        request asks to escalate. Default: - no fallback.
    :param max_tokens: cap on max_tokens / max_completion_tokens (the operator's budget). Default: - no cap.
    :param max_reasoning_effort: cap on ``reasoning_effort``. Default: - no cap (up to ``high``).
    :param handoff: another route's ``model`` this route's model may hand a task to: it is offered a handoff tool
        and, when it calls it, that route answers (seed 002). Default: - no handoff.
    :param max_reasoning_tokens: cap on a request's reasoning budget (``reasoning.max_tokens`` /
        ``thinking.budget_tokens``; larger budgets are lowered to it). Default: - no cap.
    :param reasoning_tokens: the reasoning budget of requests that set none. Default: - no budget.
    :param budget_mode: ``chat`` enforces budgets on the chat stream (stop and re-ask, both backends);
        ``harmony`` forces them exactly on raw harmony prompts over the container's completions interface
        (SageMaker routes; UNCONFIRMED(manual:harmony-completions) on the real endpoint, see the README). Default: - ``chat``.
    """

    model: str
    endpoint: InvokableEndpoint | None = None
    bedrock_model: BedrockFoundationModel | None = None
    fallback: str | None = None
    max_tokens: int | None = None
    max_reasoning_effort: str | None = None
    handoff: str | None = None
    max_reasoning_tokens: int | None = None
    reasoning_tokens: int | None = None
    budget_mode: str | None = None

    @classmethod
    def sagemaker(cls, model: str, endpoint: InvokableEndpoint, **options) -> "ProxyRoute":
        return cls(model=model, endpoint=endpoint, **options)

    @classmethod
    def bedrock(cls, model: str, bedrock_model: BedrockFoundationModel, **options) -> "ProxyRoute":
        return cls(model=model, bedrock_model=bedrock_model, **options)


def _validate_routes(routes: Sequence[ProxyRoute]) -> None:
    if not routes:
        raise ValueError("routes must name at least one model route, got none")
    names = [r.model for r in routes]
    if len(set(names)) != len(names):
        raise ValueError(f"routes must have distinct model names, got {names}")
    for r in routes:
        if (r.endpoint is None) == (r.bedrock_model is None):
            raise ValueError(f"route {r.model!r} must have exactly one of endpoint or bedrock_model")
    # fallbacks, caps and their allowed values are checked once, by the proxy's own Settings (see _settings)


@jsii.implements(ec2.IConnectable)
class InvokeProxy(Construct):
    """The invoke proxy Lambda: OpenAI's chat-completions API over gpt-oss on SageMaker and Bedrock.

    The function runs in the VPC's isolated subnets with its own security group (egress HTTPS only to the
    VPC endpoints), checks every input and output with the guardrail, and holds exactly the grants its routes
    need: ``grant_invoke`` of each endpoint, InvokeModel on each Bedrock model, ``grant_apply`` of the
    guardrail, plus its own log group and key.

    Example::

        proxy = InvokeProxy(self, "Proxy", vpc=net.vpc, service_endpoints=net, guardrail=guardrail,
                            routes=[ProxyRoute.sagemaker("gpt-oss-20b", endpoint, fallback="gpt-oss-120b"),
                                    ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))])
        proxy.add_private_api(vpc_endpoint=net.interface_endpoints["execute-api"])
        proxy.grant_invoke(app_role, managed_policy=True)
        endpoint.connections.allow_from(proxy, ec2.Port.tcp(443))   # the proxy is an IConnectable
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        routes: Sequence[ProxyRoute],
        service_endpoints: ec2.IConnectable,
        guardrail: ApplicableGuardrail | None = None,
        guardrail_stream_mode: str | None = None,
        handoff_daily_cap: int | None = None,
        handoff_on_high_effort: bool | None = None,
        streaming: bool = True,
        vpc_subnets: ec2.SubnetSelection | None = None,
        timeout: Duration | None = None,
        memory_size: int = 1024,
        reserved_concurrent_executions: int | None = None,
        architecture: lambda_.Architecture | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THIRTEEN_MONTHS,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        code: lambda_.Code | None = None,
        max_body_bytes: int | None = None,
        escalate_principals: Sequence[str] = (),
        role: iam.IRole | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        function_name: str | None = None,
        guardrail_first_batch_chars: int | None = None,
    ) -> None:
        """
        :param vpc: the private VPC the function runs in.
        :param routes: the model routes (names clients use, their backends, fallbacks, caps).
        :param service_endpoints: the VPC interface endpoints the function calls (e.g. a ``PrivateNetwork``);
            the function's security group gets egress on 443 to them and nothing else.
        :param guardrail: checks input (source INPUT) and output (source OUTPUT). Default: - no guardrail;
            the proxy says so on /health. A platform should always pass one.
        :param guardrail_stream_mode: ``safe`` releases streamed text only after its ~1,000-character batch
            passed; ``fast`` releases at once and cuts the stream on intervention. Default: - the proxy's
            default (``safe``, set in the proxy's ``core/settings.py``).
        :param handoff_daily_cap: handoffs per consumer per UTC day (counted per execution environment) after
            which the small model's own answer stands. Default: - no cap.
        :param handoff_on_high_effort: ``reasoning_effort: high`` on a route with a handoff goes to the handoff
            route directly. Default: - false (the small model decides).
        :param streaming: run the proxy's HTTP app under the AWS Lambda Web Adapter so responses stream.
            Default: - true. False uses the buffered handler (stream requests still get valid SSE, at once).
        :param vpc_subnets: where the function's interfaces go. Default: - the isolated subnets.
        :param timeout: function timeout. Default: - 5 minutes (long generations stream for minutes).
        :param memory_size: MiB. Default: - 1024.
        :param reserved_concurrent_executions: reserves (and caps) the function's concurrency. Default: - no
            reservation: Lambda keeps an unreserved minimum of the account's concurrency, and a new account's
            limit can be as low as 10, so any reservation can fail the deploy (Lambda developer guide,
            "Configuring reserved concurrency"); set it only after checking the account limit (``make preflight``).
        :param architecture: Default: - ARM_64 (cheaper per GB-second; the code is pure Python).
        :param log_retention: Default: - 400 days (13 months: PCI DSS v4.0 10.5.1 keeps 12 months of audit logs).
        :param encryption_key: encrypts the log group and environment. Default: - a new key with rotation.
        :param removal_policy: for the key and log group. Default: - RETAIN.
        :param code: the proxy code. Default: - this repository's ``lambda/invoke_proxy`` folder.
        :param max_body_bytes: largest request body the proxy accepts (413 above it; 1 KiB to 6 MB, Lambda's
            synchronous payload quota; API Gateway's own payload limit, 10 MB, is not configurable). Default: - the
            proxy's default, 262,144 (256 KiB, set in the proxy's ``core/settings.py``).
        :param escalate_principals: who may send ``escalate`` (or ``x-gptoss-escalate``) to go straight to a
            route's fallback: account ids, IAM role/user ARNs (a role matches its assumed-role sessions), or
            ``*``. Default: - nobody (escalation is refused with 403).
from gptoss_constructs._grants import ManagedPolicyGrantee, ManagedPolicyRole
from gptoss_constructs.front_door import BUFFERED_TIMEOUT_QUOTA_SECONDS, PrivateApiFrontDoor, ProxyRoutes
from gptoss_invoke_proxy_asset.gptoss_proxy.core import sealed as core_sealed
        """
        super().__init__(scope, id)
        _validate_routes(routes)
        validate_escalate_principals(escalate_principals)
        if function_name is not None:
            validate_function_name(function_name)
        if security_groups is not None and not security_groups:
            raise ValueError("security_groups must name at least one security group when given, got none")
        options = {
            "handoff_daily_cap": handoff_daily_cap,
            "handoff_on_high_effort": handoff_on_high_effort,
            "max_body_bytes": max_body_bytes,
            "escalate_principals": tuple(escalate_principals) or None,
            "guardrail_first_batch_chars": guardrail_first_batch_chars,
        }
        self.settings = self._settings(routes, guardrail, guardrail_stream_mode, **{k: v for k, v in options.items() if v is not None})
        timeout = timeout or DEFAULT_TIMEOUT
        validate_function_props(memory_size=memory_size, timeout=timeout, reserved_concurrent_executions=reserved_concurrent_executions)
        architecture = architecture or lambda_.Architecture.ARM_64
        if code is None:
            if not DEFAULT_CODE_PATH.is_dir():
                raise ValueError(f"code must be given: the default proxy code folder {DEFAULT_CODE_PATH} does not exist")
            code = lambda_.Code.from_asset(str(DEFAULT_CODE_PATH), exclude=["tests", "**/__pycache__", "*.pyc"])

        self.routes = tuple(routes)
        self.streaming = streaming
        self.timeout = timeout
        self._reserved = reserved_concurrent_executions
        self.front_doors: list[PrivateApiFrontDoor | ProxyRoutes] = []
        self.encryption_key = encryption_key or new_key(
            self, "Key", description="gpt-oss-platform: invoke proxy logs and environment", removal_policy=removal_policy
        )
        # seals reasoning for the Responses API's `reasoning.encrypted_content` (the proxy's core/sealed.py): only this
        # function's role may use it, and only with an encryption context naming one of its routes
        self.reasoning_key = new_key(
            self, "ReasoningKey", description="gpt-oss-platform: invoke proxy reasoning round trip (encrypted_content)", removal_policy=removal_policy
        )
        self.settings = dataclasses.replace(self.settings, reasoning_key_id=self.reasoning_key.key_arn)
        self.log_group = encrypted_log_group(
            self, "LogGroup", key=self.encryption_key, retention=log_retention, removal_policy=removal_policy
        )
        if security_groups is None:
            self.security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, allow_all_outbound=False, description="gpt-oss invoke proxy: HTTPS to VPC endpoints only"
            )
            self.security_groups = [self.security_group]
        else:
            self.security_groups = list(security_groups)
            self.security_group = self.security_groups[0]
            self._warn_about_open_egress()
        children = [len(sg.node.children) for sg in self.security_groups]
        self._connections = ec2.Connections(security_groups=self.security_groups)
        self.connections.allow_to(service_endpoints, ec2.Port.tcp(443), "HTTPS to the VPC endpoints")
        if security_groups is not None:
            self._warn_about_dropped_egress(children)

        # every statement (grants of the routes, guardrail, logs, key; X-Ray from the function) goes into ONE
        # customer-managed policy (child "Policy" of the role, or "RolePolicy" on a role of yours), never inline
        policy_description = "gpt-oss invoke proxy: its model routes, guardrail, log group, key and VPC interfaces"
        if role is None:
            self.role: iam.IRole = ManagedPolicyRole(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description="gpt-oss invoke proxy: invoke its model routes, apply its guardrail, write its logs",
                policy_description=policy_description,
            )
            self.policy = self.role.managed_policy
            self._grantee: iam.IGrantable = self.role
        else:
            self.role = role
            grantee = ManagedPolicyGrantee(self, "RolePolicy", role, description=policy_description)
            self.policy, self._grantee = grantee.policy, grantee
        environment = self.settings.to_env(dumps=Stack.of(self).to_json_string)
        if streaming:
            environment.update(
                AWS_LAMBDA_EXEC_WRAPPER="/opt/bootstrap",
                AWS_LWA_INVOKE_MODE="response_stream",
                AWS_LWA_PORT=LWA_PORT,
                AWS_LWA_READINESS_CHECK_PATH="/health",
            )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=architecture,
            code=code,
            handler="run.sh" if streaming else "handler.lambda_handler",
            layers=[self._web_adapter_layer(architecture)] if streaming else None,
            role=self.role,
            function_name=function_name,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=self.security_groups,
            # with a role of yours, aws-cdk-lib would write the X-Ray statement inline into it: tracing is then set
            # on the resource below and the statement goes into the proxy's managed policy
            tracing=lambda_.Tracing.ACTIVE if role is None else None,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment=environment,
            environment_encryption=self.encryption_key,
            description="gpt-oss invoke proxy (OpenAI-compatible chat completions)",
        )
        if role is not None:
            self.function.node.default_child.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
            self.function.node.add_dependency(self.policy)  # the grants exist before the first invocation
        self._grant_runtime_permissions(vpc, xray=role is not None)
        grantee = self.function if role is None else self._grantee
        for route in routes:
            if route.endpoint is not None:
                route.endpoint.grant_invoke(grantee)
            else:
                route.bedrock_model.grant_invoke(grantee)
        if guardrail is not None:
            guardrail.grant_apply(grantee)
        self._acknowledge_intrinsic_findings()

    # ---- pieces ---------------------------------------------------------------------------------------

    @staticmethod
    def _settings(
        routes: Sequence[ProxyRoute], guardrail: ApplicableGuardrail | None, guardrail_stream_mode: str | None, **options: Any
    ) -> core.Settings:
        """The proxy's own ``Settings`` for these props (validated there); the function's environment is its
        ``to_env()``, which the Lambda reads back with ``Settings.from_env``."""
        core_routes = {}
        for r in routes:
            component = r.endpoint.inference_component_name if r.endpoint is not None else None
            core_routes[r.model] = core.Route(
                model=r.model,
                backend="sagemaker" if r.endpoint is not None else "bedrock",
                target=r.endpoint.endpoint_name if r.endpoint is not None else r.bedrock_model.model_id,
                inference_component=component or None,  # scale-to-zero endpoints are invoked through it
                fallback=r.fallback,
                max_tokens=r.max_tokens,
                max_reasoning_effort=r.max_reasoning_effort,
                handoff=r.handoff,
                max_reasoning_tokens=r.max_reasoning_tokens,
                reasoning_tokens=r.reasoning_tokens,
                budget_mode=r.budget_mode,
            )
        if guardrail_stream_mode is not None:
            options["guardrail_stream_mode"] = guardrail_stream_mode
        if guardrail is not None:
            options.update(guardrail_id=guardrail.guardrail_id, guardrail_version=guardrail.guardrail_version)
        return core.Settings(routes=core_routes, **options)

    def _web_adapter_layer(self, architecture: lambda_.Architecture) -> lambda_.ILayerVersion:
        name = "LambdaAdapterLayerArm64" if architecture.name == lambda_.Architecture.ARM_64.name else "LambdaAdapterLayerX86"
        stack = Stack.of(self)
        return lambda_.LayerVersion.from_layer_version_arn(
            self,
            "WebAdapterLayer",
            f"arn:{stack.partition}:lambda:{stack.region}:753240598075:layer:{name}:{LWA_LAYER_VERSION}",
        )

    def _warn_about_open_egress(self) -> None:
        for sg in self.security_groups:
            if sg.allow_all_outbound:
                Annotations.of(self).add_warning_v2(
                    "gptoss:proxy-open-egress",
                    f"security_groups: {sg.node.path} allows all outbound traffic, so the proxy's egress is no longer "
                    "limited to HTTPS to the VPC endpoints (the default with no security_groups); pass a group created "
                    "with allow_all_outbound=False to keep that limit",
                )

    def _warn_about_dropped_egress(self, children_before: list[int]) -> None:
        """aws-cdk-lib adds an egress rule to another security group as a child resource of the group; an imported
        group with ``mutable=False`` gets none, silently. Say so, naming the rule to add."""
        for sg, before in zip(self.security_groups, children_before):
            if not sg.allow_all_outbound and len(sg.node.children) == before:
                Annotations.of(self).add_warning_v2(
                    "gptoss:proxy-egress-not-added",
                    f"security_groups: {sg.node.path} did not take the proxy's egress rule (an immutable import?); "
                    "add egress TCP 443 to the VPC endpoints' security group yourself, or the proxy cannot reach them",
                )

    def _grant_runtime_permissions(self, vpc: ec2.IVpc, *, xray: bool = False) -> None:
        # What AWSLambdaVPCAccessExecutionRole and AWSXRayDaemonWriteAccess would give, minus everything else.
        principal = self._grantee.grant_principal
        if xray:  # what lambda.Function adds for active tracing when it may write to the role (ours)
            principal.add_to_principal_policy(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ManageVpcInterfaces",
                actions=list(VPC_INTERFACE_ACTIONS),
                resources=["*"],
            )
        )
        # Lambda creates the function's interfaces with the execution role from OUTSIDE the execution environment,
        # without the source function ARN in the request context; the function's own code always has it (Lambda
        # developer guide, "Using source function ARN to control function access behavior"). So this deny leaves
        # the ENI actions to the Lambda service and takes them from the code that runs in the function.
        # UNCONFIRMED(manual:lambda-eni-condition) until a first deploy: that Lambda's check of these permissions at CreateFunction is also made
        # without the source function ARN (the guide lists ENI creation; preflight can simulate both cases with
        # iam:SimulatePrincipalPolicy and the lambda:SourceFunctionArn context key).
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DenyVpcInterfacesToFunctionCode",
                effect=iam.Effect.DENY,
                actions=list(VPC_INTERFACE_ACTIONS),
                resources=["*"],
                conditions={"Null": {"lambda:SourceFunctionArn": "false"}},
            )
        )
        self.log_group.grant_write(self._grantee)
        self.encryption_key.grant_decrypt(self._grantee)
        # KMS Encrypt/Decrypt with an encryption context (AWS KMS developer guide, "kms:EncryptionContext:context-key":
        # the condition is met only when the request's context has that key with an allowed value); a context without
        # `route`, or with a route this proxy does not serve, is refused by IAM before KMS looks at the ciphertext.
        # No GenerateDataKey: the proxy seals each part with Encrypt directly (no data key in the function's memory).
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SealReasoningPerRoute",
                actions=["kms:Encrypt", "kms:Decrypt"],
                resources=[self.reasoning_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:EncryptionContext:purpose": core_sealed.PURPOSE,
                        "kms:EncryptionContext:route": sorted(r.model for r in self.routes),
                    }
                },
            )
        )

    def _acknowledge_intrinsic_findings(self) -> None:
        policy = self.policy
        skip_scanner_checks(
            policy.node.default_child,
            checkov={
                "CKV_AWS_111": "the only write actions without a resource constraint are the ec2 network-interface "
                "actions Lambda needs to attach the function to its isolated subnets: they do support network-interface, "
                "subnet and security-group ARNs, but Lambda creates the interfaces with ids unknown at synth (as "
                "AWSLambdaVPCAccessExecutionRole grants them on '*'), and a Deny on lambda:SourceFunctionArn keeps them "
                "from the function's own code",
            },
        )
        function_skips = {
            "CKV_AWS_116": "invoked synchronously only (by its private API): no asynchronous event could "
            "land in a dead-letter queue; failures are returned to the caller and logged",
        }
        if self._reserved is None:
            function_skips["CKV_AWS_115"] = NO_RESERVATION_REASON
            acknowledge_in_packs(self.function, "LambdaConcurrency", NO_RESERVATION_REASON, packs=("HIPAA.Security", "NIST.800.53.R5"))
        skip_scanner_checks(
            self.function.node.default_child,
            checkov=function_skips,
            cfn_lint={
                "W3005": "aws-cdk-lib makes the function depend on its role and the role's policy so the grants exist "
                "before the first invocation; the role half of that DependsOn is redundant, not wrong",
            },
        )
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="two Allow statements use Resource '*': the ec2 network-interface actions Lambda uses to "
                "attach the function to its isolated subnets, which support network-interface, subnet and "
                "security-group ARNs but act on interfaces Lambda creates with ids unknown at synth (as "
                "AWSLambdaVPCAccessExecutionRole grants them; ec2:Describe* has no resource-level permissions; a Deny "
                "on lambda:SourceFunctionArn takes them from the function's own code), and "
                "xray:PutTraceSegments/PutTelemetryRecords for active tracing, which have no resource-level "
                "permissions; every model, guardrail, log and key permission is scoped to one ARN",
            )
        )
        acknowledge_in_packs(
            self.function,
            "LambdaDLQ",
            "the proxy is only invoked synchronously (by its private API); there is no asynchronous path "
            "whose events could be lost, so a dead-letter queue would never receive one; failures return an OpenAI "
            "error to the caller and are logged and alarmed",
            packs=("HIPAA.Security", "NIST.800.53.R5", "Serverless"),
        )

    # ---- front doors, grants and metrics ---------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The function's security group (``IConnectable``): ``endpoint.connections.allow_from(proxy, port)``."""
        return self._connections

    def add_private_api(self, *, vpc_endpoint: ec2.IInterfaceVpcEndpoint, **options) -> PrivateApiFrontDoor:
        """Adds a PRIVATE REST API front door (see ``PrivateApiFrontDoor`` for ``options``) and returns it.

        ``vpc_endpoint`` is the endpoint object (not its id as a string), so a cross-stack use is a real reference
        that follows a replaced endpoint.

        A buffered proxy (``streaming=False``) answers only when the whole completion is done, and a buffered
        API Gateway integration waits at most 29 s unless the account's integration-timeout quota is raised:
        a longer function ``timeout`` then needs ``integration_timeout`` given explicitly (after that increase),
        otherwise this raises ValueError.
        """
        if "integration_timeout" not in options:
            validate_buffered_timeout(streaming=self.streaming, timeout=self.timeout)
        options.setdefault("model_ids", [route.model for route in self.routes])
        door = PrivateApiFrontDoor(self, "PrivateApi", handler=self.function, vpc_endpoint=vpc_endpoint, streaming=self.streaming, **options)
        self.front_doors.append(door)
        return door

    def add_routes_to(self, api: apigw.IRestApi, **options: Any) -> ProxyRoutes:
        """Attaches the proxy's routes to a REST API you own (bring your own API Gateway) and returns them.

        The routes, their streaming integration and body validation are ``ProxyRoutes`` (the same helper
        ``add_private_api`` uses); ``options`` are its ``stage_name``, ``integration_timeout``,
        ``api_key_required`` and ``id_prefix``. ``grant_invoke`` on the proxy then covers these routes too.
        A buffered proxy with a function timeout above 29 s needs ``integration_timeout`` (as ``add_private_api``).
        """
        if "integration_timeout" not in options:
            validate_buffered_timeout(streaming=self.streaming, timeout=self.timeout)
        options.setdefault("model_ids", [route.model for route in self.routes])
        routes = ProxyRoutes(api, handler=self.function, streaming=self.streaming, **options)
        self.front_doors.append(routes)
        return routes

    def grant_invoke(self, grantee: iam.IGrantable, *, managed_policy: bool = False) -> iam.Grant:
        """Grants ``grantee`` execute-api:Invoke on exactly the proxy's routes of its front door(s) and of the APIs
        given to ``add_routes_to``, nothing else.

        :param managed_policy: write the grant into a new customer-managed policy attached to the grantee's role
            instead of its inline default policy (nag-clean without acknowledgments). Default: - false.
        """
        if not self.front_doors:
            raise ValueError("grant_invoke needs a front door: call add_private_api or add_routes_to first")
        grant = self.front_doors[0].grant_invoke(grantee, managed_policy=managed_policy)
        for door in self.front_doors[1:]:
            grant = grant.combine(door.grant_invoke(grantee, managed_policy=managed_policy))
        return grant

    def metric_errors(self, **options):
        return self.function.metric_errors(**options)

    def metric_duration(self, **options):
        return self.function.metric_duration(**options)

    def metric_throttles(self, **options):
        return self.function.metric_throttles(**options)

    def metric_invocations(self, **options):
        return self.function.metric_invocations(**options)
